"""Offline token counting with tiktoken encodings shipped inside the llmcost package.

``tiktoken.get_encoding`` downloads its ``.tiktoken`` rank files on first use, which fails on machines
without internet. llmcost ships ``o200k_base`` and ``cl100k_base`` as package data
(``llmcost/encodings/*.tiktoken``, byte-identical to OpenAI's published files), checks each file's
sha256 against the hash tiktoken itself expects, parses the ranks here and builds ``tiktoken.Encoding``
objects directly — so neither the network, nor tiktoken's download cache, nor any environment variable
is involved. Encodings are built once per process.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmcost.errors import InputError, UsageError

if TYPE_CHECKING:
    from llmcost.catalog import Catalog

DEFAULT_ENCODING = "o200k_base"

_O200K_PAT = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_CL100K_PAT = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|"""
    r"""\s+(?!\S)|\s"""
)


@dataclass(frozen=True)
class EncodingSpec:
    """What defines an encoding besides its rank file: tiktoken's expected sha256, split regex, specials."""

    sha256: str
    pat_str: str
    special_tokens: dict[str, int]


SPECS: dict[str, EncodingSpec] = {
    "o200k_base": EncodingSpec(
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str=_O200K_PAT,
        special_tokens={"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    ),
    "cl100k_base": EncodingSpec(
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str=_CL100K_PAT,
        special_tokens={"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                        "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276},
    ),
}


@dataclass(frozen=True)
class TokenizerChoice:
    """The encoding used for a model, and whether the count is only an approximation."""

    encoding: str
    approximate: bool
    reason: str


def bundled_encoding_dir() -> Path:
    return Path(str(resources.files("llmcost") / "encodings"))


def encoding_path(name: str, directory: Path | None = None) -> Path:
    if name not in SPECS:
        raise UsageError(f"unknown encoding '{name}' (available offline: {', '.join(sorted(SPECS))})")
    return (directory or bundled_encoding_dir()) / f"{name}.tiktoken"


def load_ranks(name: str, directory: Path | None = None) -> dict[bytes, int]:
    """Read and verify an encoding's rank file (sha256 as tiktoken expects), then parse it."""
    path = encoding_path(name, directory)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read encoding file: {exc.strerror or exc} (reinstall llmcost)",
                         source=str(path)) from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != SPECS[name].sha256:
        raise InputError(f"encoding file is corrupted: sha256 {actual[:12]}…, expected "
                         f"{SPECS[name].sha256[:12]}… (reinstall llmcost)", source=str(path))
    ranks: dict[bytes, int] = {}
    for number, line in enumerate(data.splitlines(), start=1):
        if not line:
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token, validate=True)] = int(rank)
        except (ValueError, binascii.Error):
            raise InputError("malformed encoding line", source=str(path), line=number) from None
    return ranks


@functools.lru_cache(maxsize=8)
def get_encoding(name: str = DEFAULT_ENCODING, directory: Path | None = None) -> Any:
    """A ``tiktoken.Encoding`` for ``name`` built from the bundled file (once per process)."""
    import tiktoken

    spec = SPECS.get(name)
    ranks = load_ranks(name, directory)
    assert spec is not None
    return tiktoken.Encoding(name=name, pat_str=spec.pat_str, mergeable_ranks=ranks,
                             special_tokens=dict(spec.special_tokens))


def encoding_for(model_id: str | None, catalog: Catalog | None) -> TokenizerChoice:
    """The encoding for a model: the catalog's ``tokenizer`` when llmcost ships it, else o200k_base
    flagged as approximate (other providers' tokenizers differ from OpenAI's)."""
    if model_id is None:
        return TokenizerChoice(DEFAULT_ENCODING, True, "no model given")
    resolved = catalog.family(model_id) if catalog is not None else None
    if resolved is None or catalog is None:
        return TokenizerChoice(DEFAULT_ENCODING, True, f"model '{model_id}' is not in the catalog")
    tokenizer = catalog.model(resolved).tokenizer
    if tokenizer in SPECS:
        assert tokenizer is not None
        return TokenizerChoice(tokenizer, False, f"catalog tokenizer of '{resolved}'")
    why = f"tokenizer '{tokenizer}' is not available offline" if tokenizer else "catalog names no tokenizer"
    return TokenizerChoice(DEFAULT_ENCODING, True, f"'{resolved}': {why}")


def count_tokens(texts: Sequence[str], encoding: str = DEFAULT_ENCODING) -> list[int]:
    """Token count of each text (special-token text counted as ordinary text), in one batch call."""
    if not texts:
        return []
    enc = get_encoding(encoding)
    return [len(ids) for ids in enc.encode_ordinary_batch(list(texts))]
