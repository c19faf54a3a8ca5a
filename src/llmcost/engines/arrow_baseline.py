"""The baseline on Arrow: a table's tokens summed per billing group by Arrow's multi-threaded group-by.

The kernel every engine runs on a partition of a log (a file, or some of its row groups): it returns the
same ``TokenGroups`` that ``token_groups.aggregate`` computes from the conformed pandas frame, without
building that frame. It covers the common shape of a Parquet log in llmcost's own columns; anything it
does not cover, or any value the full reader would reject or skip, makes it return ``None`` and the
caller reads the partition the ordinary way (which then names the bad row, or skips it with
``--skip-bad``). Sums are integers (exact); pricing happens once, on the client, in ``Decimal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmcost.frame import TOKEN_COLUMNS
from llmcost.token_groups import BillingKey, TokenGroups, TokenSums

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy as np
    import pyarrow as pa

    from llmcost.catalog import Catalog, ModelPrice

# Columns the kernel reads; a file with any other known column that changes the baseline falls back.
KEY_COLUMNS = ("model", "provider", "service_tier", "batch")
READ_COLUMNS = ("timestamp", *KEY_COLUMNS, *TOKEN_COLUMNS, "weight")
# Present in a file, these need the full reader (estimated tokens, bucket ends, logged costs, audio rates).
FALLBACK_COLUMNS = frozenset({"prompt", "tokens_estimated", "period_end", "cost_logged", "audio_input_tokens",
                              "audio_output_tokens", "audio_cache_read_tokens"})


class NeedsTimestamps(Exception):
    """The partition was read without its timestamps (statistics gave its first and last), but a model in
    it changed price in between: its rows need their own price period."""


@dataclass(frozen=True)
class PartialBaseline:
    """A partition's token groups, its first and last timestamp (ns since the epoch, UTC) and requests."""

    groups: TokenGroups
    start_ns: int
    end_ns: int
    requests: int

    def merge(self, other: PartialBaseline) -> PartialBaseline:
        """Both partitions' sums, billing groups in ``token_groups.aggregate``'s order (a merge appends the
        other's new groups last; pricing names the first tier without a card, so the order shows)."""
        from dataclasses import replace

        merged = self.groups.merge(other.groups)
        merged = replace(merged, known={k: merged.known[k] for k in sorted(merged.known, key=billing_order)})
        return PartialBaseline(merged, min(self.start_ns, other.start_ns), max(self.end_ns, other.end_ns),
                               self.requests + other.requests)


def billing_order(key: BillingKey) -> tuple[str, int, bool, str, bool, bool]:
    """The order ``token_groups.aggregate`` gives billing groups."""
    return (key.model, key.period, key.service_tier is not None, key.service_tier or "", key.batch,
            key.long_context)


def covers(columns: tuple[str, ...]) -> bool:
    """Whether a file with these columns can be summed by the kernel (else: the full reader)."""
    return {"timestamp", "model", "input_tokens", "output_tokens"} <= set(columns) and not FALLBACK_COLUMNS & set(
        columns)


def baseline_of_table(table: pa.Table, catalog: Catalog, stamps: tuple[int, int] | None = None, *,
                      threads: bool = True, bounds: Mapping[str, tuple[int, int]] | None = None
                      ) -> PartialBaseline | None:
    """Sum ``table`` per billing group, or None when a value needs the full reader's checks. ``stamps`` are
    the first and last timestamp (ns) when the file's statistics gave them and the column was not read.
    ``threads``: the group-by on Arrow's thread pool (else in this thread). ``bounds``: the lowest and
    highest value of count columns from the file's statistics (``Partition.bounds``)."""
    import pyarrow as pa

    if table.num_rows == 0 or not _valid(table, bounds):
        return None
    if stamps is None:
        if "timestamp" not in table.column_names:
            return None
        import pyarrow.compute as pc

        unit = _NS_PER[table.schema.field("timestamp").type.unit]
        low_high = pc.min_max(table.column("timestamp").cast("int64"))
        stamps = (int(low_high["min"].as_py()) * unit, int(low_high["max"].as_py()) * unit)
    if not pa.types.is_dictionary(table.schema.field("model").type):
        table = table.set_column(table.column_names.index("model"), "model",
                                 table.column("model").dictionary_encode())
    table = table.unify_dictionaries()
    names = _dictionary(table.column("model"))
    if any(not n.strip() for n in names):
        return None
    keys = [c for c in KEY_COLUMNS if c in table.column_names]
    flagged = _with_row_flags(table, names, catalog, stamps, (bounds or {}).get("input_tokens"))
    if flagged is None:
        return None
    table = flagged
    flags = [c for c in ("_long", "_period") if c in table.column_names]
    sums = [c for c in (*TOKEN_COLUMNS, "weight") if c in table.column_names]
    grouped = group_sums(table, keys + flags, sums, threads=threads)
    requests = int(_fn("sum", table.column("weight")).as_py()) if "weight" in sums else table.num_rows
    groups = _token_groups(grouped.to_pylist(), catalog, stamps[0])
    return PartialBaseline(groups, stamps[0], stamps[1], requests)


_NS_PER = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def _fn(name: str, *args: Any) -> Any:
    """Arrow compute function ``name`` (default options) through ``pyarrow._compute``, which Arrow's
    group-by loads anyway: importing ``pyarrow.compute`` builds ~300 Python wrappers and scrapes their
    docstrings (20-30 ms of a baseline run that calls five of them)."""
    from pyarrow._compute import call_function

    return call_function(name, list(args))


def group_sums(table: pa.Table, keys: list[str], sums: list[str], *, threads: bool = True) -> pa.Table:
    """``table.group_by(keys).aggregate([(c, "sum") for c in sums] + [([], "count_all")])`` (columns
    ``{c}_sum`` and ``count_all``), run as the same Acero plan that ``TableGroupBy`` builds but through
    ``pyarrow._acero``: ``pyarrow.acero`` imports ``pyarrow.dataset``, which imports pandas (0.3 s of a
    baseline run that never needs it)."""
    try:
        from pyarrow._acero import AggregateNodeOptions, Declaration, TableSourceNodeOptions
    except ImportError:  # pragma: no cover - the private module moved in some pyarrow: the public route
        return table.group_by(keys, use_threads=threads).aggregate([(c, "sum") for c in sums] + [([], "count_all")])
    aggregates = [([c], "hash_sum", None, f"{c}_sum") for c in sums] + [([], "hash_count_all", None, "count_all")]
    plan = Declaration.from_sequence([Declaration("table_source", TableSourceNodeOptions(table)),
                                      Declaration("aggregate", AggregateNodeOptions(aggregates, keys=keys))])
    return plan.to_table(use_threads=threads)


def _valid(table: pa.Table, bounds: Mapping[str, tuple[int, int]] | None = None) -> bool:
    """The checks ``frame.conform`` makes, as whole-column reductions: any doubt means the full reader.
    ``bounds``: a column's lowest and highest value from the file's statistics, which settle a check
    without a pass over the column when they can (no count below 0, cache reads at most the input)."""
    import pyarrow as pa

    known = bounds or {}

    def lowest(name: str) -> int:
        return known[name][0] if name in known else _fn("min", table.column(name)).as_py()

    def highest(name: str) -> int:
        return known[name][1] if name in known else _fn("max", table.column(name)).as_py()

    schema = table.schema
    if "timestamp" in schema.names and (not pa.types.is_timestamp(schema.field("timestamp").type)
                                        or table.column("timestamp").null_count):
        return False
    if table.column("model").null_count or not _is_text(schema.field("model").type):
        return False
    for name in ("provider", "service_tier"):
        if name in schema.names and not _is_text(schema.field(name).type):
            return False
    if "batch" in schema.names and (not pa.types.is_boolean(schema.field("batch").type)
                                    or table.column("batch").null_count):
        return False
    counts = [c for c in (*TOKEN_COLUMNS, "weight") if c in schema.names]
    for name in counts:
        column = table.column(name)
        if not pa.types.is_integer(schema.field(name).type) or column.null_count:
            return False
        low = lowest(name)
        if low is not None and low < (1 if name == "weight" else 0):
            return False
    if "weight" in counts and highest("weight") > 1:
        return False  # bucket rows: long context by average input, and a warning (the full path)
    names = [c for c in ("cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens") if c in counts]
    if names and not _at_most(known, names, "input_tokens"):
        cached = table.column(names[0])
        for more in names[1:]:
            cached = _fn("add", cached, table.column(more))
        if _fn("any", _fn("greater", cached, table.column("input_tokens"))).as_py():
            return False
    reasoning = "reasoning_tokens" in counts and not _at_most(known, ["reasoning_tokens"], "output_tokens") and _fn(
        "any", _fn("greater", table.column("reasoning_tokens"), table.column("output_tokens"))).as_py()
    return not reasoning


def _at_most(bounds: Mapping[str, tuple[int, int]], parts: Sequence[str], whole: str) -> bool:
    """Whether the statistics alone show ``sum(parts) <= whole`` in every row."""
    return whole in bounds and all(p in bounds for p in parts) and sum(bounds[p][1] for p in parts) <= bounds[
        whole][0]


def _is_text(kind: pa.DataType) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _dictionary(column: pa.ChunkedArray) -> list[str]:
    """The model column's distinct names (dictionary values, the same in every chunk after unification)."""
    return [str(v) for v in column.chunk(0).dictionary.to_pylist()] if column.num_chunks else []


def _with_row_flags(table: pa.Table, names: list[str], catalog: Catalog, stamps: tuple[int, int],
                    input_bounds: tuple[int, int] | None = None) -> pa.Table | None:
    """Add ``_long`` (input over the model's long-context threshold) and ``_period`` (the price period of the
    row's timestamp) when some row needs them. Usually none does: no input reaches the lowest threshold
    of the table's models, and no model's price changed between the first and the last timestamp (then
    ``_token_groups`` takes each model's one period). Models resolve per dictionary value; a log naming
    its serving provider resolves per (provider, model) pair, so there the whole catalog's lowest
    threshold is the bar, and per-row flags are left to the full reader."""
    import numpy as np
    import pyarrow as pa

    models: list[ModelPrice | None] = []
    for name in names:
        mid = catalog.resolve(name)
        models.append(catalog.model(mid) if mid is not None else None)
    providers = "provider" in table.column_names and table.column("provider").null_count < table.num_rows
    per_row_period = any(m is not None and period_changes(m, *stamps) for m in models)
    limits = _limits(models)
    lowest = float(limits.min(initial=np.inf)) if not providers else lowest_threshold(catalog)
    top = input_bounds[1] if input_bounds is not None else _fn("max", table.column("input_tokens")).as_py()
    long = top is not None and top > lowest
    if not (long or per_row_period):
        return table
    if per_row_period and "timestamp" not in table.column_names:
        raise NeedsTimestamps  # a model of this partition changed price inside it: read them after all
    if providers:
        return None
    import pyarrow.compute as pc

    codes = pa.chunked_array([c.indices.cast(pa.int64()) for c in table.column("model").chunks], pa.int64())
    period = None
    if per_row_period:
        period = _periods(table, codes, models)
        table = table.append_column("_period", period)
    if long:
        n_periods = limits.shape[1]
        flat = pa.array(limits.ravel(), pa.float64())  # (model, period) → threshold
        where = pc.multiply(codes, n_periods)
        if period is not None:
            where = pc.add(where, period)
        row_limits = pc.take(flat, where)
        table = table.append_column("_long", pc.greater(pc.cast(table.column("input_tokens"), pa.float64()),
                                                        row_limits))
    return table


def period_changes(model: ModelPrice, start_ns: int, end_ns: int) -> bool:
    """Whether one of the model's price periods ends between two instants (then rows need their own)."""
    from llmcost.token_groups import _ns

    return any(start_ns < _ns(p.until_utc) <= end_ns for p in model.price_history)


def period_at(model: ModelPrice, instant_ns: int) -> int:
    """The price period at an instant: 0 = current prices, k = price_history[k - 1]."""
    import bisect

    from llmcost.token_groups import _ns

    untils = [_ns(p.until_utc) for p in model.price_history]
    index = bisect.bisect_right(untils, instant_ns)
    return index + 1 if index < len(untils) else 0


def lowest_threshold(catalog: Catalog) -> float:
    """The lowest long-context threshold of any model of the catalog, in any period."""
    lowest = float("inf")
    for model in catalog.by_id.values():
        for p in range(1 + len(model.price_history)):
            lc = model.long_context_of(p)
            if lc is not None:
                lowest = min(lowest, float(lc.threshold_tokens) - 1)
    return lowest


def _periods(table: pa.Table, codes: pa.ChunkedArray, models: list[ModelPrice | None]) -> pa.ChunkedArray:
    """Each row's price period (0 = current prices, k = price_history[k - 1]), as ``token_groups`` does:
    k counts the period ends at or before the row's timestamp (in Arrow: no pandas, no row loop)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from llmcost.token_groups import _ns

    unit = _NS_PER[table.schema.field("timestamp").type.unit]
    stamps = pc.multiply(table.column("timestamp").cast(pa.int64()), unit)
    period = pc.multiply(codes, 0)
    for code, model in enumerate(models):
        if model is None or not model.price_history:
            continue
        untils = [_ns(p.until_utc) for p in model.price_history]
        passed = pc.multiply(codes, 0)
        for until in untils:
            passed = pc.add(passed, pc.cast(pc.greater_equal(stamps, until), pa.int64()))
        mine = pc.if_else(pc.less(passed, len(untils)), pc.add(passed, 1), 0)
        period = pc.if_else(pc.equal(codes, code), mine, period)
    return period


def _limits(models: list[ModelPrice | None]) -> np.ndarray:
    """Long-context thresholds per (model, period); "at or above" T is "above" the float just below T."""
    import numpy as np

    n_periods = 1 + max((len(m.price_history) for m in models if m is not None), default=0)
    limits = np.full((len(models), n_periods), np.inf)
    for code, model in enumerate(models):
        if model is None:
            continue
        for p in range(1 + len(model.price_history)):
            lc = model.long_context_of(p)
            if lc is not None:
                limit = float(lc.threshold_tokens)
                limits[code, p] = np.nextafter(limit, -np.inf) if lc.inclusive else limit
    return limits


def _token_groups(rows: list[dict[str, Any]], catalog: Catalog, start_ns: int) -> TokenGroups:
    """Grouped rows → TokenGroups keyed and ordered as ``token_groups.aggregate`` keys and orders them."""
    from llmcost.catalog.cards import STANDARD_SERVICE_TIERS

    known: dict[BillingKey, TokenSums] = {}
    unknown: dict[str, TokenSums] = {}
    for row in rows:
        tokens = TokenSums(row.get("weight_sum", row["count_all"]),
                           *(row.get(f"{c}_sum") or 0 for c in TOKEN_COLUMNS))
        if not tokens.requests:
            continue
        name = str(row["model"])
        provider = row.get("provider")
        mid = catalog.resolve(name, str(provider) if provider is not None else None)
        if mid is None:
            unknown[name] = unknown[name] + tokens if name in unknown else tokens
            continue
        tier = str(row.get("service_tier") or "").strip().lower()
        batch = bool(row.get("batch")) or tier == "batch"
        period = int(row["_period"]) if "_period" in row else period_at(catalog.model(mid), start_ns)
        key = BillingKey(mid, batch, bool(row.get("_long")),
                         None if tier in STANDARD_SERVICE_TIERS or tier == "batch" else tier, period)
        known[key] = known[key] + tokens if key in known else tokens
    order = sorted(known, key=billing_order)
    return TokenGroups({k: known[k] for k in order}, {n: unknown[n] for n in sorted(unknown)}, None)
