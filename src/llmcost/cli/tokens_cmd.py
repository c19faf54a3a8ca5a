"""``llmcost tokens``: count tokens offline with the model's encoding."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from llmcost.cli.common import info, speaks_errors, write_output
from llmcost.cli.estimate_cmd import CatalogOpt


@speaks_errors
def tokens(
    file: Annotated[str, typer.Argument(help="Text file to count, or - for stdin.")] = "-",
    model: Annotated[str | None, typer.Option("--model", "-m", help="Use this model's encoding.")] = None,
    encoding: Annotated[str | None, typer.Option("--encoding", "-e",
                                                 help="Encoding name (o200k_base, cl100k_base).")] = None,
    catalog: CatalogOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print {tokens, encoding, approximate} as JSON.")]
    = False,
) -> None:
    """Count the tokens of a text with the model's tiktoken encoding, offline (bundled encoding files).

    Models whose catalog entry names no shipped tokenizer (non-OpenAI models) are counted with o200k_base
    and flagged as approximate.
    """
    import json

    from llmcost.tokens import TokenizerChoice, count_tokens, encoding_for, get_encoding

    text = _read_text(file)
    if encoding is not None:
        get_encoding(encoding)  # unknown names fail here with the list of available encodings
        choice = TokenizerChoice(encoding, False, "chosen with --encoding")
    else:
        from llmcost.catalog import load_catalog

        choice = encoding_for(model, load_catalog(catalog) if model is not None else None)
    count = count_tokens([text], choice.encoding)[0]
    if choice.approximate and model is not None:
        info(f"approximate count with {choice.encoding}: {choice.reason}")
    if as_json:
        payload = {"tokens": count, "encoding": choice.encoding, "approximate": choice.approximate}
        write_output(json.dumps(payload) + "\n", None)
    else:
        write_output(f"{count}\n", None)


def _read_text(file: str) -> str:
    from pathlib import Path

    from llmcost.errors import InputError

    source = "<stdin>" if file == "-" else file
    try:
        raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", source=source) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", source=source) from None
