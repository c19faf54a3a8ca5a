"""Grouped rows of the Arrow breakdowns (billing keys × breakdown keys, token sums) → token groups per key.

Each grouped row counts under the baseline's total and under one key per breakdown table (one per tag
when a table splits by tag). The rows' billing groups are resolved once per distinct billing tuple (by
``arrow_baseline._token_groups``, the baseline's own rule), each row's key labels are built once per
distinct value, and the token sums are added per (table, key, billing group) in one numpy pass
(``np.add.at`` on the rows' integer sums); ``TokenSums`` are built only for the sums that come out,
not added one row at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcost.breakdowns.keys import _MONDAY_SHIFT_NS, _NS, NONE_LABEL, TIME_DIMENSIONS, _parse_tags, _time_label
from llmcost.frame import TOKEN_COLUMNS
from llmcost.token_groups import BillingKey, TokenGroups, TokenSums

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    import pyarrow as pa

    from llmcost.catalog import Catalog

Summed = list[dict[tuple[str, ...], TokenGroups]]
BILLING = ("model", "provider", "service_tier", "batch", "_long", "_period")
_Slot = tuple[BillingKey | None, str]  # a known billing group, or (None, the unknown model's name)


def to_groups(grouped: pa.Table, catalog: Catalog, start_ns: int, dims: Sequence[tuple[str, ...]]
              ) -> tuple[TokenGroups, Summed]:
    """The baseline's token groups and, per entry of ``dims``, each key's token groups."""
    import numpy as np

    sums = _sum_matrix(grouped)
    keyed = [c for c in grouped.column_names if not c.endswith("_sum") and c != "count_all"]
    rows = grouped.select(keyed).to_pylist()
    slots: dict[tuple[Any, ...], _Slot | None] = {}
    labels: dict[tuple[str, Any], str] = {}
    tags: dict[str | None, list[str]] = {}
    targets: dict[tuple[int, tuple[str, ...], _Slot], int] = {}  # (table: -1 = total, key, slot) → index
    at_row: list[int] = []
    at_target: list[int] = []
    for i, row in enumerate(rows):
        billing = tuple(row.get(c) for c in BILLING)
        if billing not in slots:
            slots[billing] = _slot(row, catalog, start_ns)
        slot = slots[billing]
        if slot is None:
            continue  # no requests (never, as the rows come from a count): as _token_groups skips them
        cell = row.get("tags")
        if cell not in tags:
            tags[cell] = _parse_tags(cell) if cell is not None else []
        for table, row_dims in enumerate(dims):
            for key in _keys(row, row_dims, tags[cell], labels):
                at_row.append(i)
                at_target.append(targets.setdefault((table, key, slot), len(targets)))
        at_row.append(i)
        at_target.append(targets.setdefault((-1, (), slot), len(targets)))
    added = np.zeros((len(targets), sums.shape[1]), dtype=np.int64)
    np.add.at(added, np.asarray(at_target, dtype=np.int64), sums[np.asarray(at_row, dtype=np.int64)])
    total = TokenGroups()
    per_table: Summed = [{} for _ in dims]
    for (table, key, (billing_key, name)), values in zip(targets, added.tolist(), strict=True):
        groups = total if table < 0 else per_table[table].setdefault(key, TokenGroups())
        if billing_key is not None:
            groups.known[billing_key] = TokenSums(*values)
        else:
            groups.unknown[name] = TokenSums(*values)
    return total, per_table


def _sum_matrix(grouped: pa.Table) -> np.ndarray:
    """Rows × (requests, *TOKEN_COLUMNS), as ``TokenSums`` takes them (absent sums are 0)."""
    import numpy as np

    from llmcost.engines.time_pages import int64_values

    names = grouped.column_names
    out = np.zeros((grouped.num_rows, 1 + len(TOKEN_COLUMNS)), dtype=np.int64)
    columns = ["weight_sum" if "weight_sum" in names else "count_all", *(f"{c}_sum" for c in TOKEN_COLUMNS)]
    for j, name in enumerate(columns):
        if name in names:
            column = grouped.column(name)
            if column.type != "int64":  # a sum of integers is int64: never, but not assumed
                column = column.cast("int64")
            at = 0
            for chunk in column.chunks:  # a sum is null only if all its values were (never: validated)
                out[at:at + len(chunk), j] = int64_values(chunk) if not chunk.null_count else _zero_nulls(chunk)
                at += len(chunk)
    return out


def _zero_nulls(chunk: pa.Array) -> np.ndarray:
    """An int64 array's values with its nulls as 0, through the validity bitmap (``fill_null`` imports
    pandas)."""
    import numpy as np

    bits = np.unpackbits(np.frombuffer(chunk.buffers()[0], dtype=np.uint8), bitorder="little")
    valid = bits[chunk.offset:chunk.offset + len(chunk)].astype(bool)
    values = np.frombuffer(chunk.buffers()[1], dtype=np.int64, count=len(chunk), offset=chunk.offset * 8)
    return np.where(valid, values, 0)


def _slot(row: dict[str, Any], catalog: Catalog, start_ns: int) -> _Slot | None:
    """The billing group of a grouped row's billing columns, by the baseline's own rule."""
    from llmcost.engines.arrow_baseline import _token_groups

    one = _token_groups([{**row, "count_all": 1}], catalog, start_ns)
    if one.known:
        return next(iter(one.known)), ""
    if one.unknown:
        return None, next(iter(one.unknown))
    return None


def _keys(row: dict[str, Any], row_dims: tuple[str, ...], tags: list[str], labels: dict[tuple[str, Any], str]
          ) -> list[tuple[str, ...]]:
    """The keys a grouped row counts under: one, or one per tag when the table splits by tag."""
    fixed: list[str | None] = []
    for dim in row_dims:
        if dim in TIME_DIMENSIONS:
            bucket = row[f"_{dim}"]
            label = labels.get((dim, bucket))
            if label is None:
                shift = _MONDAY_SHIFT_NS if dim == "week" else 0
                label = labels[(dim, bucket)] = _time_label(dim, int(bucket) * _NS[dim] - shift)
            fixed.append(label)
        elif dim in ("task", "user"):
            value = row.get(dim)
            fixed.append(NONE_LABEL if value is None else str(value))
        elif dim == "tagset":
            fixed.append(",".join(sorted(tags)))
        else:
            fixed.append(None)  # the tag: filled per tag below
    if "tag" not in row_dims:
        return [tuple(v or "" for v in fixed)]
    at = row_dims.index("tag")
    return [tuple(tag if i == at else (v or "") for i, v in enumerate(fixed)) for tag in (tags or [NONE_LABEL])]
