"""Embeddings kept on disk, keyed by (embedder kind, model, dimensions, hash of the text), so a second
run over the same log embeds nothing and costs nothing.

Layout: ``$LLMCOST_CACHE_DIR`` (default ``~/.cache/llmcost``) ``/embeddings/<kind>--<model>--<d>/``
holds shards, each a pair ``<n>.keys.npy`` (two uint64 per text: a 128-bit BLAKE2b of its UTF-8) and
``<n>.vecs.npy`` (float32, one row per text). A shard is written to a temporary name and renamed, so a
run that stops half way leaves whole shards only, and two runs can share the directory. Vectors are read
memory-mapped: only the rows asked for are touched.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from llmcost.embedders.interface import DimensionError
from llmcost.errors import InputError

if TYPE_CHECKING:
    import numpy as np

    from llmcost.embedders.interface import EmbedCalls, Embedder

PIECE = 8192  # texts embedded between two shard writes (what a failure mid-run can lose)


def cache_root() -> Path:
    configured = os.environ.get("LLMCOST_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "llmcost"


def text_keys(texts: list[str]) -> np.ndarray:
    """(n, 2) uint64: the 128-bit BLAKE2b digest of each text."""
    import hashlib

    import numpy as np

    raw = b"".join(hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=16).digest() for t in texts)
    return np.frombuffer(raw, dtype=np.uint64).reshape(-1, 2) if texts else np.zeros((0, 2), dtype=np.uint64)


class CachedEmbedder:
    """``inner`` with its vectors cached on disk; ``source`` and ``field`` name the scenario's embedder
    for errors."""

    def __init__(self, inner: Embedder, source: str, field: str, root: Path | None = None) -> None:
        self.inner = inner
        self.source = source
        self.field = field
        self.name = inner.name
        self.model = inner.model
        self.root = root or cache_root()
        self.from_cache = 0
        self._shards: list[tuple[np.ndarray, np.ndarray]] | None = None

    @property
    def calls(self) -> EmbedCalls:
        return self.inner.calls

    @property
    def dimensions(self) -> int | None:
        return self.inner.dimensions

    def folder(self, dims: int | None) -> Path:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{self.name}--{self.model}--{dims or 'any'}")
        return self.root / "embeddings" / slug

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors of ``texts``, each distinct text looked up or embedded once."""
        import pandas as pd

        codes, uniques = pd.factorize(pd.Series(texts, dtype=object))
        if len(uniques) == len(texts):
            return self._embed_distinct(texts)
        vectors = self._embed_distinct([str(u) for u in uniques])
        return vectors[codes]

    def _embed_distinct(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        keys = text_keys(texts)
        out, found = self._lookup(keys)
        missing = np.flatnonzero(~found)
        self.from_cache += int(found.sum())
        for lo in range(0, len(missing), PIECE):
            rows = missing[lo:lo + PIECE]
            try:
                vectors = self.inner.embed([texts[i] for i in rows])
            except DimensionError as exc:
                raise InputError(exc.detail, source=self.source, field=f"{self.field}.dimensions") from None
            vectors = self._checked(vectors, out)
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
            self._write(keys[rows], vectors)
        if out is None:
            out = np.zeros((0, self.dimensions or 0), dtype=np.float32)
        return out

    def _checked(self, vectors: np.ndarray, out: np.ndarray | None) -> np.ndarray:
        want = out.shape[1] if out is not None else self.dimensions
        got = vectors.shape[1] if vectors.ndim == 2 else 0
        if want is not None and got != want:
            raise InputError(f"the {self.name} embedder ({self.model}) returned {got}-dimension vectors, "
                             f"expected {want}", source=self.source, field=f"{self.field}.dimensions")
        return vectors

    def _lookup(self, keys: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """Vectors of the keys found in the cache (rows of the rest are zero) and a found mask."""
        import numpy as np
        import pandas as pd

        found = np.zeros(len(keys), dtype=bool)
        out = None
        for shard_keys, vecs in self._load_shards():
            if self.dimensions is not None and vecs.shape[1] != self.dimensions:
                continue
            index = pd.MultiIndex.from_arrays([shard_keys[:, 0], shard_keys[:, 1]])
            at = index.get_indexer(pd.MultiIndex.from_arrays([keys[:, 0], keys[:, 1]]))
            hit = (at >= 0) & ~found
            if not hit.any():
                continue
            if out is None:
                out = np.zeros((len(keys), vecs.shape[1]), dtype=np.float32)
            elif vecs.shape[1] != out.shape[1]:
                continue
            out[hit] = vecs[at[hit]]
            found |= hit
        return out, found

    def _load_shards(self) -> list[tuple[np.ndarray, np.ndarray]]:
        import numpy as np

        if self._shards is None:
            self._shards = []
            base = self.root / "embeddings"
            prefix = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{self.name}--{self.model}--")
            folders = sorted(base.glob(prefix + "*")) if base.is_dir() else []
            for folder in folders:
                for keys_file in sorted(folder.glob("*.keys.npy")):
                    vecs_file = keys_file.with_name(keys_file.name.replace(".keys.npy", ".vecs.npy"))
                    try:
                        keys = np.load(keys_file)
                        vecs = np.load(vecs_file, mmap_mode="r")
                    except (OSError, ValueError):
                        continue  # a shard being written by another run, or damaged: embed again
                    if len(keys) == len(vecs) and keys.ndim == 2 and vecs.ndim == 2:
                        self._shards.append((keys, vecs))
        return self._shards

    def _write(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        import uuid

        import numpy as np

        folder = self.folder(vectors.shape[1])
        folder.mkdir(parents=True, exist_ok=True)
        stem = uuid.uuid4().hex
        for suffix, data in ((".vecs.npy", vectors), (".keys.npy", keys)):  # keys last: they mark it whole
            tmp = folder / f".{stem}{suffix}.tmp"
            with open(tmp, "wb") as handle:
                np.save(handle, np.ascontiguousarray(data))
            os.replace(tmp, folder / f"{stem}{suffix}")
        if self._shards is not None:
            self._shards.append((keys, vectors))
