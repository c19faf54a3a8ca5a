"""Breakdowns of the baseline's cost by time bucket, task, user, tag, provider and model (``--by``).

Computed on the traffic as logged with the same billing groups and the same Decimal pricing as the totals:
tokens are summed per (breakdown key, billing group) with one ``bincount`` per column, chunk by chunk, and
each key's groups are priced once with ``pricing.price_groups``. So the rows of a breakdown add up to the
baseline's observed cost exactly (tag rows excepted: a request with several tags counts in each).
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmcost.breakdowns.keys import ROW_DIMENSIONS, TIME_DIMENSIONS, RowKeys, row_keys
from llmcost.errors import UsageError
from llmcost.token_groups import ZERO, TokenGroups, TokenSums

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.catalog import Catalog
    from llmcost.estimate import Estimate
    from llmcost.scenarios.interface import Scenario

__all__ = ["DIMENSIONS", "Breakdown", "BreakdownRow", "BreakdownSpec", "Breakdowns", "parse_by"]

DIMENSIONS = ("day", "week", "hour", "task", "user", "tag", "provider", "model")
RANKED = frozenset({"task", "user", "tag"})  # many values: top N by cost plus "other"
DEFAULT_TOP = 20
OTHER_LABEL = "other"
UNKNOWN_PROVIDER = "(unknown)"
# Columns breakdowns read beyond what the baseline reads.
COLUMNS = frozenset({"task", "user", "tags"})


@dataclass(frozen=True)
class BreakdownSpec:
    """One ``--by`` table: its dimensions (a compound key groups by all of them) and its row limit."""

    dims: tuple[str, ...]
    top_n: int | None  # None: every row (time, model and provider tables)


def parse_by(values: Sequence[str], top: int | None = None) -> tuple[BreakdownSpec, ...]:
    """``--by`` values (``day``, ``day,model``...) → specs; ``top`` is ``--top`` (default 20 when ranked)."""
    specs: list[BreakdownSpec] = []
    for value in values:
        dims = tuple(part.strip().lower() for part in value.split(","))
        for dim in dims:
            if dim not in DIMENSIONS:
                raise UsageError(f"--by: unknown dimension '{dim}' (expected one of {', '.join(DIMENSIONS)}, "
                                 "or several joined by commas, e.g. day,model)")
        if len(set(dims)) != len(dims):
            raise UsageError(f"--by: '{value}' names a dimension twice")
        if sum(d in TIME_DIMENSIONS for d in dims) > 1:
            raise UsageError(f"--by: '{value}' names two time buckets (choose one of hour, day, week)")
        ranked = any(d in RANKED for d in dims)
        spec = BreakdownSpec(dims, (DEFAULT_TOP if top is None else top) if ranked else None)
        if spec not in specs:
            specs.append(spec)
    return tuple(specs)


@dataclass(frozen=True)
class BreakdownRow:
    """One row: the key's value per dimension, its tokens, its cost and its unpriced requests."""

    key: tuple[str, ...]
    tokens: TokenSums
    cost: Decimal
    unpriced_requests: float

    def __add__(self, other: BreakdownRow) -> BreakdownRow:
        return BreakdownRow(self.key, self.tokens + other.tokens, self.cost + other.cost,
                            self.unpriced_requests + other.unpriced_requests)


@dataclass(frozen=True)
class Breakdown:
    """A table of the baseline's cost by ``dims``: ``rows`` (top N by cost, or all in key order) plus
    ``other`` (the rows past the top N summed; None when nothing was left out)."""

    dims: tuple[str, ...]
    rows: tuple[BreakdownRow, ...]
    other: BreakdownRow | None
    top_n: int | None

    @property
    def overlapping(self) -> bool:
        """Whether a request can count in several rows (tags), so rows do not add up to the total."""
        return "tag" in self.dims

    @property
    def total_cost(self) -> Decimal:
        rows = (*self.rows, self.other) if self.other is not None else self.rows
        return sum((r.cost for r in rows), Decimal(0))


@dataclass
class _Table:
    spec: BreakdownSpec
    row_dims: tuple[str, ...]
    groups: dict[tuple[str, ...], TokenGroups] = field(default_factory=dict)


class Breakdowns:
    """Sums the logged traffic per breakdown key chunk by chunk (``add``), then prices it once (``finish``)."""

    def __init__(self, specs: Iterable[BreakdownSpec], catalog: Catalog, *, total: bool = False) -> None:
        self.catalog = catalog
        self.tables = [_Table(s, tuple(d for d in s.dims if d in ROW_DIMENSIONS)) for s in specs]
        # ``total``: the whole traffic's groups too, summed in the same pass (one more projection of the shared
        # sums), so a baseline-only estimate is priced from them instead of summing the log a second time.
        self.total = _Table(BreakdownSpec((), None), ())
        self._all = [*self.tables, self.total] if total else self.tables

    def add(self, frame: pd.DataFrame) -> None:
        """Sum one chunk of the logged traffic (the whole log, or one ``--chunk-rows`` chunk), a slice of
        rows at a time: a slice's per-row temporaries stay small and reuse the same memory, where
        frame-sized ones would each cost fresh memory (what big logs spend their time on)."""
        if not self.tables:
            return
        for lo in range(0, len(frame), ROWS_PER_PASS):
            self._add(frame.iloc[lo:lo + ROWS_PER_PASS])

    def _add(self, frame: pd.DataFrame) -> None:
        from llmcost.token_groups import billing_codes, model_ids

        if frame.empty:
            return
        ids = model_ids(frame, self.catalog)
        known = ids.notna().to_numpy()
        codes = billing_codes(frame, ids, known, self.catalog) if known.any() else None
        names = None if known.all() else _unknown_names(frame, known)
        for table in self._add_shared(frame, codes, names):
            _merge_into(table, _sum_by_key(frame, row_keys(frame, table.row_dims), codes, names))

    def _add_shared(self, frame: pd.DataFrame, codes: object, names: tuple[np.ndarray, list[str]] | None
                    ) -> list[_Table]:
        """One pass for every table without tags: sums per key of all their dimensions together (few keys,
        e.g. day x task), each table's keys then summed from those. Returns the tables left to do."""
        plain = [t for t in self._all if "tag" not in t.row_dims]
        if len(plain) < 2:
            return self._all
        union = tuple(d for d in ROW_DIMENSIONS if any(d in t.row_dims for t in plain))
        keys = row_keys(frame, union)
        if keys.n_keys > SHARED_KEYS_MAX:
            return self._all
        summed = _sum_by_key(frame, keys, codes, names)
        for table in plain:
            at = [union.index(d) for d in table.row_dims]
            projected: dict[tuple[str, ...], TokenGroups] = {}
            for key, groups in summed.items():
                sub = tuple(key[i] for i in at)
                have = projected.get(sub)
                projected[sub] = groups if have is None else have.merge(groups)
            _merge_into(table, projected)
        return [t for t in self._all if "tag" in t.row_dims]

    def merge_summed(self, per_table: Sequence[dict[tuple[str, ...], TokenGroups]], total: TokenGroups) -> None:
        """Add token groups summed elsewhere (the Arrow path, ``llmcost.engines.arrow_breakdowns``): per table,
        per row key, in the order of ``self.tables``; ``total`` is the whole traffic's."""
        for table, summed in zip(self.tables, per_table, strict=True):
            _merge_into(table, summed)
        _merge_into(self.total, {(): total})

    def total_groups(self) -> TokenGroups:
        """Every row's tokens per billing group: what ``token_groups.aggregate`` returns for the same rows
        (without ``cost_logged`` sums)."""
        return ordered_groups(self.total.groups.get((), TokenGroups()))

    def key_groups(self, i: int) -> dict[tuple[str, ...], TokenGroups]:
        """The token groups summed so far for table ``i``, per row key (before pricing)."""
        return self.tables[i].groups

    def finish(self, unpriced_models: Iterable[str] = ()) -> tuple[Breakdown, ...]:
        """Price every key once. ``unpriced_models``: models the baseline leaves unpriced, so unpriced in
        every row (a row's part of such a model may lack the rate the whole needs)."""
        unpriced = frozenset(unpriced_models)
        return tuple(self._table(t, unpriced) for t in self.tables)

    def _table(self, table: _Table, unpriced: frozenset[str]) -> Breakdown:
        rows: dict[tuple[str, ...], BreakdownRow] = {}
        for key, groups in table.groups.items():
            for row in _price_key(key, groups, table, self.catalog, unpriced):
                have = rows.get(row.key)
                rows[row.key] = row if have is None else have + row
        return _ranked(table.spec, list(rows.values()))


ROWS_PER_PASS = 1 << 20


def ordered_groups(groups: TokenGroups) -> TokenGroups:
    """``groups`` in ``token_groups.aggregate``'s order, whatever order they were summed in: pricing names an
    unpriced model's reason after the first group it meets, so the same traffic must meet the same group."""
    order = sorted(groups.known, key=lambda k: (k.model, k.period, k.service_tier is not None, k.service_tier or "",
                                                k.batch, k.long_context))
    return TokenGroups({k: groups.known[k] for k in order}, {n: groups.unknown[n] for n in sorted(groups.unknown)},
                       groups.logged)


SHARED_KEYS_MAX = 5_000  # keys of the one-pass sums (beyond: a pass per table, no Python merge of many keys)


def _merge_into(table: _Table, summed: dict[tuple[str, ...], TokenGroups]) -> None:
    for key, groups in summed.items():
        have = table.groups.get(key)
        table.groups[key] = groups if have is None else have.merge(groups)


def _unknown_names(frame: pd.DataFrame, known: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Codes (-1 on known rows) into the logged names of models the catalog does not know."""
    import numpy as np

    from llmcost.token_groups import _categorical

    names = _categorical(frame["model"])
    codes = names.cat.codes.to_numpy().astype(np.int64)
    codes[known] = -1
    return codes, [str(v) for v in names.cat.categories]


def _sum_by_key(frame: pd.DataFrame, keys: RowKeys, codes: object, names: tuple[np.ndarray, list[str]] | None
                ) -> dict[tuple[str, ...], TokenGroups]:
    """Token sums per (key, billing group) and per (key, unknown model), one bincount per column."""
    import numpy as np

    from llmcost.token_groups import BillingCodes, _sum_columns

    columns = _sum_columns(frame)
    rows = keys.rows
    values = {c: frame[c].to_numpy() if rows is None else frame[c].to_numpy()[rows] for c in columns}
    out: dict[tuple[str, ...], TokenGroups] = {}
    if isinstance(codes, BillingCodes):
        group = codes.group if rows is None else codes.group[rows]
        n = codes.n_groups + 1  # the last: rows of unknown models
        for b, sums in _bin_sums(keys.codes * n + group, keys.n_keys * n, values, columns):
            key, g = divmod(b, n)
            if g < codes.n_groups:
                _put(out.setdefault(keys.decode(key), TokenGroups()).known, codes.key(g), sums)
    if names is not None:
        name_codes, labels = names
        unknown = name_codes if rows is None else name_codes[rows]
        n = len(labels) + 1
        for b, sums in _bin_sums(keys.codes * n + np.where(unknown < 0, len(labels), unknown),
                                 keys.n_keys * n, values, columns):
            key, u = divmod(b, n)
            if u < len(labels):
                _put(out.setdefault(keys.decode(key), TokenGroups()).unknown, labels[u], sums)
    return out


def _put(sums: MutableMapping[Any, TokenSums], key: Any, add: TokenSums) -> None:
    """Add ``add`` under ``key`` (two codes may name the same value, e.g. 1 and "1" in a text column)."""
    sums[key] = sums[key] + add if key in sums else add


def _bin_sums(bins: np.ndarray, n_bins: int, values: dict[str, np.ndarray], columns: tuple[str, ...]
              ) -> Iterable[tuple[int, TokenSums]]:
    """(bin, its sums) for every bin with requests; bins past a few million are renumbered to those used."""
    import numpy as np
    import pandas as pd

    from llmcost.token_groups import _bincount, _sums

    used: np.ndarray | None = None
    if n_bins > 1 << 22:
        compact, seen = pd.factorize(bins)
        bins, used, n_bins = np.asarray(compact, dtype=np.int64), np.asarray(seen, dtype=np.int64), len(seen)
    # A column of zeros (no cache writes, no reasoning...) sums to zeros without a pass over the rows.
    sums = {c: _bincount(bins, values[c], n_bins) if values[c].any() else [0] * n_bins for c in columns}
    for b in np.flatnonzero(np.asarray(sums["weight"]) != 0).tolist():
        yield (int(used[b]) if used is not None else b), _sums(sums, columns, b)


def _price_key(key: tuple[str, ...], groups: TokenGroups, table: _Table, catalog: Catalog,
               unpriced: frozenset[str]) -> list[BreakdownRow]:
    """The rows of one row-key: one per model (or provider) when the table splits by them, else one."""
    from llmcost.pricing import price_groups

    spec = table.spec
    parts: list[tuple[str, str, TokenSums, Decimal | None]] = []
    if groups.known:
        for m in price_groups(TokenGroups(known=groups.known), catalog).by_model:
            cost = None if m.model in unpriced else m.cost
            parts.append((m.model, m.provider or UNKNOWN_PROVIDER, m.tokens, cost))
    for name, tokens in groups.unknown.items():
        parts.append((name, UNKNOWN_PROVIDER, tokens, None))
    rows = []
    for model, provider, tokens, cost in parts:
        values = dict(zip(table.row_dims, key, strict=True)) | {"model": model, "provider": provider}
        full = tuple(values[d] for d in spec.dims)
        rows.append(BreakdownRow(full, tokens, cost if cost is not None else Decimal(0),
                                 tokens.requests if cost is None else 0))
    return rows


def _ranked(spec: BreakdownSpec, rows: list[BreakdownRow]) -> Breakdown:
    """Time tables in time order (then by cost); ranked tables: the top N by cost, the rest as "other"."""
    def by_cost(r: BreakdownRow) -> tuple[object, ...]:
        return (-r.cost, -r.unpriced_requests, r.key)

    time_dims = [i for i, d in enumerate(spec.dims) if d in TIME_DIMENSIONS]
    if time_dims and spec.top_n is None:
        t = time_dims[0]
        rows.sort(key=lambda r: (r.key[t], *by_cost(r)))
        return Breakdown(spec.dims, tuple(rows), None, None)
    rows.sort(key=by_cost)
    if spec.top_n is None or len(rows) <= spec.top_n:
        return Breakdown(spec.dims, tuple(rows), None, spec.top_n)
    rest = rows[spec.top_n:]
    other = BreakdownRow(tuple(OTHER_LABEL for _ in spec.dims), ZERO, Decimal(0), 0)
    for row in rest:
        other = other + row
    return Breakdown(spec.dims, tuple(rows[:spec.top_n]), other, spec.top_n)



def stands_for_baseline(frame: pd.DataFrame) -> bool:
    """Whether the breakdowns' total of ``frame`` is all a baseline estimate needs: no logged costs to sum
    and no bucket rows (whose long-context split the estimate warns about)."""
    return bool(len(frame)) and "cost_logged" not in frame.columns and int(frame["weight"].max()) <= 1


def estimate_from_breakdowns(tables: Breakdowns, frame: pd.DataFrame, scenarios: Sequence[Scenario], *,
                      projection_days: int, window_days: float | None) -> Estimate:
    """The baseline-only estimate of ``frame`` priced from the breakdowns' total (``tables`` made with
    ``total=True`` and fed ``frame``): the same groups ``run_estimate`` would sum, priced by the same code."""
    from llmcost.estimate import assemble, with_baseline
    from llmcost.projection import observed_window

    return assemble(observed_window(frame, window_days), with_baseline(scenarios),
                    [(tables.total_groups(), Decimal(0), {})], tables.catalog, projection_days)
