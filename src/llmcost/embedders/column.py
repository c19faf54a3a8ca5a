"""Embeddings already in the log: a list column (JSON lines, Parquet) or a JSON array per CSV cell.

Identical vectors are one cache group (keyed by a hash of their bytes). A row without a vector is not
eligible (it never reaches the cache); vectors of different lengths are an error naming the row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.errors import ScenarioError


def column_vectors(frame: pd.DataFrame, column: str, error: Callable[[str, str], ScenarioError],
                   where: str) -> tuple[np.ndarray, pd.Series]:
    """(n, d) float32 unit vectors (zero rows where missing) and a key per row (NA where missing)."""
    import hashlib

    import numpy as np
    import pandas as pd

    from llmcost.embedders.interface import normalized

    if column not in frame.columns:
        raise error(f"the logs have no '{column}' column (embedder.kind: column reads the vectors from it)", where)
    values = frame[column].reset_index(drop=True)
    parsed = [_vector(v) for v in values.tolist()]
    lengths = {len(v) for v in parsed if v is not None}
    if len(lengths) > 1:
        first = next(len(v) for v in parsed if v is not None)
        bad = next(i for i, v in enumerate(parsed) if v is not None and len(v) != first)
        raise error(f"log row {bad + 1}: a {len(parsed[bad] or [])}-dimension vector in '{column}' after "
                    f"{first}-dimension ones", where)
    dims = lengths.pop() if lengths else 0
    out = np.zeros((len(parsed), dims), dtype=np.float32)
    present = np.asarray([v is not None and len(v) > 0 for v in parsed], dtype=bool)
    if present.any():
        out[present] = np.asarray([v for v in parsed if v], dtype=np.float32)
    out = normalized(out)
    keys = pd.Series([hashlib.blake2b(out[i].tobytes(), digest_size=16).hexdigest() if present[i] else None
                      for i in range(len(out))], dtype="string")
    return out, keys


def _vector(value: object) -> list[float] | None:
    import json

    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
    try:
        return [float(x) for x in value]  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return None
