"""Each row's breakdown key as an integer code, vectorized: time buckets (UTC), task, user and tags.

A key is one code per row plus the labels the codes stand for. Tags are the one many-valued dimension: a
request with several tags has one entry per tag, so a key also says which rows its entries come from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

NONE_LABEL = "(none)"
TIME_DIMENSIONS = ("hour", "day", "week")
# Decided per row (model and provider come from pricing); "tagset" (a row's tags as one value) is the FOCUS key.
ROW_DIMENSIONS = (*TIME_DIMENSIONS, "task", "user", "tag", "tagset")
_NS = {"hour": 3_600 * 10**9, "day": 86_400 * 10**9, "week": 7 * 86_400 * 10**9}
_MONDAY_SHIFT_NS = 3 * 86_400 * 10**9  # 1970-01-01 was a Thursday: shift so that weeks start on Monday (ISO)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNIT_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_COMPACT_ABOVE = 1 << 22  # more combined keys than this: renumber the ones that occur


@dataclass(frozen=True)
class RowKeys:
    """``codes[i]`` is the key of entry i, which belongs to row ``rows[i]`` (``rows`` None: entry i = row i).

    ``labels(code)`` gives the key's value per dimension."""

    codes: np.ndarray
    n_keys: int
    rows: np.ndarray | None
    decode: Any  # code -> tuple[str, ...]


def row_keys(frame: pd.DataFrame, dims: tuple[str, ...]) -> RowKeys:
    """The combined key of ``dims`` (row dimensions only) for every row of ``frame``."""
    import numpy as np
    import pandas as pd

    rows: np.ndarray | None = None
    parts: list[tuple[np.ndarray, list[str]]] = []
    for dim in dims:
        if dim == "tag":
            rows, codes, labels = _tags(frame)
            parts = [(p[0][rows], p[1]) for p in parts]
        else:
            codes, labels = (_time(frame, dim) if dim in TIME_DIMENSIONS else _tag_sets(frame) if dim == "tagset"
                             else _category(frame, dim))
            if rows is not None:
                codes = codes[rows]
        parts.append((codes, labels))
    if not parts:
        return RowKeys(np.zeros(len(frame), dtype=np.int64), 1, None, lambda _code: ())
    combined, n = parts[0][0].astype(np.int64, copy=True), len(parts[0][1])
    for codes, labels in parts[1:]:
        combined *= len(labels)
        combined += codes
        n *= len(labels)
    sizes = [len(labels) for _, labels in parts]
    names = [labels for _, labels in parts]

    def split(code: int) -> tuple[str, ...]:
        out = []
        for size, labels in zip(reversed(sizes), reversed(names), strict=True):
            code, index = divmod(code, size)
            out.append(labels[index])
        return tuple(reversed(out))

    if n > _COMPACT_ABOVE:
        compact, seen = pd.factorize(combined)
        values = np.asarray(seen, dtype=np.int64)
        return RowKeys(np.asarray(compact, dtype=np.int64), len(values), rows, lambda c: split(int(values[c])))
    return RowKeys(combined, n, rows, split)


def _time(frame: pd.DataFrame, dim: str) -> tuple[np.ndarray, list[str]]:
    import numpy as np

    times = frame["timestamp"].array  # tz-aware: its integers count from the epoch in UTC, in its own unit
    unit_ns = _UNIT_NS[getattr(times, "unit", "ns")]
    stamps = np.asarray(times.asi8, dtype=np.int64)  # no copy in ns: no 10M-row temporary
    shift = _MONDAY_SHIFT_NS if dim == "week" else 0
    bucket = (stamps + shift // unit_ns if shift else stamps) // (_NS[dim] // unit_ns)
    if not len(bucket):
        return bucket, []
    first = int(bucket.min())
    count = int(bucket.max()) - first + 1
    labels = [_time_label(dim, (first + i) * _NS[dim] - shift) for i in range(count)]
    return bucket - first, labels


def _time_label(dim: str, start_ns: int) -> str:
    start = _EPOCH + timedelta(microseconds=start_ns // 1000)
    if dim == "hour":
        return start.strftime("%Y-%m-%dT%H:00Z")
    return start.date().isoformat()  # a week is named by its Monday


def _category(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, list[str]]:
    """Codes of a text column: a categorical's own codes, else one hash pass (``factorize``); missing values
    get the "(none)" label."""
    import numpy as np
    import pandas as pd

    if column not in frame.columns:
        return np.zeros(len(frame), dtype=np.int64), [NONE_LABEL]
    values = frame[column]
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
        labels = [str(c) for c in values.cat.categories]
    else:
        raw, uniques = pd.factorize(values, use_na_sentinel=True)
        codes, labels = np.asarray(raw, dtype=np.int64), [str(u) for u in uniques]
    if (codes < 0).any():
        codes[codes < 0] = len(labels)
        labels.append(NONE_LABEL)
    return codes, labels


def _tags(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One entry per (row, tag); a row without tags has one entry, tagged "(none)"."""
    import numpy as np

    n = len(frame)
    if "tags" not in frame.columns:
        return np.arange(n, dtype=np.int64), np.zeros(n, dtype=np.int64), [NONE_LABEL]
    codes, per_cell_tags = _tag_cells(frame["tags"])
    vocabulary: dict[str, int] = {}
    per_cell = [[vocabulary.setdefault(t, len(vocabulary)) for t in tags] for tags in per_cell_tags]
    none = len(vocabulary)
    per_cell = [ids or [none] for ids in per_cell]
    lengths = np.array([len(ids) for ids in per_cell], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    flat = np.array([i for ids in per_cell for i in ids], dtype=np.int64)
    counts = lengths[codes]
    rows = np.repeat(np.arange(n, dtype=np.int64), counts)
    starts = np.repeat(offsets[codes], counts)
    within = np.arange(len(rows), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows, flat[starts + within], [*vocabulary, NONE_LABEL]


def _tag_sets(frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Each row's tags as one value (sorted, comma-joined; "" without tags): a key that splits no request."""
    import numpy as np

    if "tags" not in frame.columns:
        return np.zeros(len(frame), dtype=np.int64), [""]
    codes, per_cell_tags = _tag_cells(frame["tags"])
    names = [",".join(sorted(tags)) for tags in per_cell_tags]
    distinct = sorted(set(names))
    position = {name: i for i, name in enumerate(distinct)}
    lookup = np.array([position[name] for name in names], dtype=np.int64)
    return lookup[codes], distinct


def _tag_cells(column: pd.Series) -> tuple[np.ndarray, list[list[str]]]:
    """Codes into the distinct cells of a tags column (the last: a missing cell) and each one's tags; cells
    are parsed once per distinct value (a list, a JSON array, or comma-separated text)."""
    import numpy as np
    import pandas as pd

    cells = column.to_numpy(dtype=object)
    listed = isinstance(column.dtype, pd.ArrowDtype) and "list" in str(column.dtype.pyarrow_dtype)  # Parquet lists
    if (column.dtype == object or listed) and _has_lists(cells):  # list cells are made hashable, to be parsed once each
        cells = pd.Series([tuple(c) if isinstance(c, list | tuple | np.ndarray) else c for c in cells],
                          dtype=object).to_numpy()
    cell_codes, distinct = pd.factorize(pd.Series(cells, dtype=object), use_na_sentinel=True)
    per_cell = [_parse_tags(v) for v in distinct] + [[]]
    codes = np.asarray(cell_codes, dtype=np.int64)
    return np.where(codes < 0, len(distinct), codes), per_cell


def _has_lists(cells: np.ndarray) -> bool:
    import numpy as np

    return any(isinstance(c, list | tuple | np.ndarray) for c in cells)


def _parse_tags(value: Any) -> list[str]:
    """A cell's tags: a list, a JSON array in text, or comma-separated text; blanks dropped."""
    if isinstance(value, tuple | list):
        items = [str(v) for v in value if v is not None]
    elif isinstance(value, str):
        text = value.strip()
        items = []
        if text.startswith("["):
            try:
                parsed = json.loads(text)
                items = [str(v) for v in parsed if v is not None] if isinstance(parsed, list) else []
            except ValueError:
                items = text.strip("[]").split(",")
        else:
            items = text.split(",")
    else:
        items = []
    seen: dict[str, None] = {}
    for item in items:
        tag = item.strip()
        if tag:
            seen.setdefault(tag, None)
    return list(seen)  # a tag repeated in one cell counts once
