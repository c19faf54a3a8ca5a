"""Token counts of embedded texts, cached on disk like the vectors (``disk_cache``), so a second run over
the same log counts nothing: ``$LLMCOST_CACHE_DIR/tokens/<encoding>/<n>.keys.npy`` + ``<n>.counts.npy``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from llmcost.embedders.disk_cache import cache_root, text_keys

if TYPE_CHECKING:
    import numpy as np

ENCODING = "o200k_base"


def token_counts(texts: list[str], root: Path | None = None) -> np.ndarray:
    """int64 tokens of each (distinct) text, counted offline with o200k_base once per text ever."""
    import uuid

    import numpy as np
    import pandas as pd

    from llmcost.tokens import count_tokens

    folder = (root or cache_root()) / "tokens" / ENCODING
    keys = text_keys(texts)
    out = np.full(len(texts), -1, dtype=np.int64)
    wanted = pd.MultiIndex.from_arrays([keys[:, 0], keys[:, 1]])
    for keys_file in sorted(folder.glob("*.keys.npy")) if folder.is_dir() else []:
        try:
            shard = np.load(keys_file)
            counts = np.load(keys_file.with_name(keys_file.name.replace(".keys.npy", ".counts.npy")))
        except (OSError, ValueError):
            continue
        if len(shard) != len(counts):
            continue
        at = pd.MultiIndex.from_arrays([shard[:, 0], shard[:, 1]]).get_indexer(wanted)
        hit = (at >= 0) & (out < 0)
        out[hit] = counts[at[hit]]
    missing = np.flatnonzero(out < 0)
    if len(missing):
        out[missing] = count_tokens([texts[i] for i in missing])
        folder.mkdir(parents=True, exist_ok=True)
        stem = uuid.uuid4().hex
        for suffix, data in ((".counts.npy", out[missing]), (".keys.npy", keys[missing])):
            tmp = folder / f".{stem}{suffix}.tmp"
            with open(tmp, "wb") as handle:
                np.save(handle, np.ascontiguousarray(data))
            os.replace(tmp, folder / f"{stem}{suffix}")
    return out
