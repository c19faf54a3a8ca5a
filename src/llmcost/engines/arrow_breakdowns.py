"""Breakdowns (``--by``) on the Arrow baseline path: the breakdown keys join the billing keys of the group-by.

A baseline-only run with ``--by`` on a Parquet log is summed like the plain baseline (``arrow_baseline``):
only the needed columns are read and Arrow's multi-threaded group-by sums the tokens, here per (billing
group, time bucket in UTC, task, user, tag cell). The grouped rows, a few thousand, are then turned into
the same ``TokenGroups`` per breakdown key that ``llmcost.breakdowns`` sums from a pandas frame (tags
exploded one entry per tag, parsed once per distinct cell), and priced by the same code. Anything this path
does not cover (a value the full reader would reject or skip, a key column that is not text, list-typed
tags, an engine other than ``local``) returns None before any sum is kept, and the caller reads the log the
ordinary way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from llmcost.breakdowns import ordered_groups
from llmcost.breakdowns.keys import _MONDAY_SHIFT_NS, _NS, TIME_DIMENSIONS
from llmcost.engines.arrow_baseline import _NS_PER, PartialBaseline
from llmcost.engines.breakdown_rows import BILLING, Summed, to_groups
from llmcost.token_groups import TokenGroups

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from llmcost.breakdowns import Breakdowns
    from llmcost.catalog import Catalog
    from llmcost.engines.interface import Engine, Partition
    from llmcost.engines.time_pages import Run
    from llmcost.estimate import Estimate
    from llmcost.scenarios.interface import Scenario

KEY_COLUMNS = ("task", "user", "tags")
_Got = tuple[PartialBaseline, Summed] | None  # a partition's sums (None: it needs the full reader)
_KEY_OF = {"task": "task", "user": "user", "tag": "tags", "tagset": "tags"}  # dimension → the column it reads
MAX_GROUPED_ROWS = 20_000  # a Python pass over the grouped rows costs ~30 µs each: past this, the full reader


def breakdown_estimate(engine: Engine, files: list[str], tables: Breakdowns, scenarios: Sequence[Scenario], *,
                       log_format: str | None = None, default_model: str | None = None,
                       projection_days: int = 30, window_days: float | None = None) -> Estimate | None:
    """The baseline-only estimate of ``files`` with ``tables`` summed on the Arrow path; None (and
    ``tables`` untouched) when a file or a value needs the full reader."""
    from decimal import Decimal

    from llmcost.engines import lean_summing
    from llmcost.engines.memory import small_pages
    from llmcost.engines.partitions import parquet_partitions

    if engine.name != "local":
        return None
    with lean_summing():
        from llmcost.estimate import assemble, with_baseline
        from llmcost.projection import window_of_ns

        partitions = parquet_partitions(files, log_format=log_format, default_model=default_model)
        if not partitions:
            return None
        with small_pages():  # as the baseline's (engines.memory)
            summed = _sum_all(partitions, tables, engine.jobs)
    if summed is None:
        return None
    baseline, per_table = summed
    tables.merge_summed(per_table, baseline.groups)
    window = window_of_ns(baseline.start_ns, baseline.end_ns, baseline.requests, window_days)  # no pandas
    return assemble(window, with_baseline(scenarios), [(baseline.groups, Decimal(0), {})], tables.catalog,
                    projection_days)


def _sum_all(partitions: Sequence[Partition], tables: Breakdowns, jobs: int) -> tuple[PartialBaseline, Summed] | None:
    """Every partition summed, side by side as the baseline's local engine sums them (``engines.local``:
    up to ``IN_FLIGHT`` partitions on as many threads, Arrow's pool sized to ``jobs``); None as soon as one
    needs the full reader (nothing is merged into ``tables`` before every partition has been summed)."""
    from functools import partial

    import pyarrow as pa

    from llmcost.engines.local import IN_FLIGHT

    dims = [t.row_dims for t in tables.tables]
    wanted = {d for ds in dims for d in ds}
    names: dict[str, list[str]] = {}
    for part in partitions:
        if part.path not in names:
            names[part.path] = _file_columns(part.path)
    plans = [_with_key_columns(part, names[part.path], wanted) for part in partitions]
    side_by_side = min(jobs, len(plans), IN_FLIGHT)
    timed = [d for d in TIME_DIMENSIONS if d in wanted]
    footers = _footers(plans) if timed else {}
    work = partial(_sum_plan, catalog=tables.catalog, dims=dims, threads=jobs > side_by_side, timed=timed,
                   footers=footers)
    before = pa.cpu_count()
    pa.set_cpu_count(jobs)
    try:
        total: PartialBaseline | None = None
        per_table: Summed = [{} for _ in dims]  # this module's own dicts and groups, added to in place
        for got in _in_order(work, plans, side_by_side):
            if got is None:
                return None
            total = got[0] if total is None else total.merge(got[0])
            for mine, more in zip(per_table, got[1], strict=True):
                _merge(mine, more)
        if total is None:
            return None
        ordered = [{key: ordered_groups(groups) for key, groups in summed.items()} for summed in per_table]
        return replace(total, groups=ordered_groups(total.groups)), ordered
    finally:
        pa.set_cpu_count(before)


def _in_order(work: Callable[[Partition], _Got], plans: list[Partition], threads: int) -> Iterator[_Got]:
    """``work`` of each plan, in order, at most ``threads`` at once (memory: a partition each); the ones not
    started yet are cancelled when the caller stops early."""
    if threads <= 1:
        yield from map(work, plans)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads, thread_name_prefix="llmcost-breakdowns") as pool:
        pending = deque(pool.submit(work, plan) for plan in plans[:threads])
        try:
            for plan in plans[threads:]:
                yield pending.popleft().result()
                pending.append(pool.submit(work, plan))
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _with_key_columns(part: Partition, file_columns: list[str], wanted: set[str]) -> Partition:
    """The partition to read with the key columns its tables need: timestamps only when the statistics did
    not give the first and last, or for a time bucket that the pages' statistics do not give cheaply
    (``time_pages``), or, later, when a model changed price inside it."""
    extra = tuple(c for dim, c in _KEY_OF.items() if dim in wanted and c in file_columns)
    timed = part.stamps is None or (bool(wanted & set(TIME_DIMENSIONS)) and not _paged(part, wanted))
    base = tuple(c for c in part.columns if c != "timestamp")
    return replace(part, columns=tuple(dict.fromkeys((*base, *(("timestamp",) if timed else ()), *extra))))


def _paged(part: Partition, wanted: set[str]) -> bool:
    """Whether ``part``'s time buckets come from its timestamp pages' statistics (``time_pages``): a local
    file whose buckets change seldom enough that most pages lie inside one (``PAGE_ROWS`` rows a page, as
    Arrow writes them: past ``DECODE_SHARE`` of the rows in crossed pages, Arrow decodes the column)."""
    from llmcost.engines.time_pages import DECODE_SHARE, PAGE_ROWS, steps
    from llmcost.logs.remote import is_url

    if part.stamps is None or is_url(part.path):
        return False
    low, high = part.stamps
    crossings = max((high + s.shift) // s.size - (low + s.shift) // s.size
                    for s in steps([d for d in TIME_DIMENSIONS if d in wanted], 1))
    return crossings * PAGE_ROWS <= DECODE_SHARE * part.rows


def _footers(plans: Sequence[Partition]) -> dict[str, pq.FileMetaData]:
    """Each file's footer, read once for the time buckets of all its partitions (not once a partition)."""
    import pyarrow.parquet as pq

    from llmcost.engines.partitions import _open

    footers: dict[str, pq.FileMetaData] = {}
    for plan in plans:
        if "timestamp" not in plan.columns and plan.path not in footers:
            with _open(plan.path) as where:
                footers[plan.path] = pq.ParquetFile(where).metadata
    return footers


def _sum_plan(plan: Partition, *, catalog: Catalog, dims: Sequence[tuple[str, ...]], threads: bool,
              timed: list[str], footers: dict[str, pq.FileMetaData]) -> _Got:
    """Read a partition and sum it, with its time buckets from the pages' statistics when its timestamps
    are not read."""
    from llmcost.engines.partitions import read_partition
    from llmcost.engines.time_pages import partition_runs

    paged = bool(timed) and "timestamp" not in plan.columns
    runs = partition_runs(plan.path, plan.row_groups, timed, footers.get(plan.path)) if paged else None
    return _sum_read(read_partition(plan, threads=threads), plan, catalog, dims, threads, runs)


def _sum_read(table: pa.Table, plan: Partition, catalog: Catalog, dims: Sequence[tuple[str, ...]],
              threads: bool, runs: list[Run] | None) -> _Got:
    """A partition's sums; read again with its timestamps when a model in it changed price inside it."""
    from llmcost.engines.arrow_baseline import NeedsTimestamps
    from llmcost.engines.partitions import read_partition

    bounds = {c: (low, high) for c, low, high in plan.bounds}
    try:
        return breakdowns_of_table(table, catalog, dims, plan.stamps, runs, threads=threads, bounds=bounds)
    except NeedsTimestamps:
        with_stamps = read_partition(replace(plan, columns=(*plan.columns, "timestamp")), threads=threads)
        return breakdowns_of_table(with_stamps, catalog, dims, plan.stamps, runs, threads=threads,
                                   bounds=bounds)


def _file_columns(path: str) -> list[str]:
    import pyarrow.parquet as pq

    from llmcost.engines.partitions import _open

    with _open(path) as where:
        return list(pq.ParquetFile(where).schema_arrow.names)


def breakdowns_of_table(table: pa.Table, catalog: Catalog, dims: Sequence[tuple[str, ...]],
                        stamps: tuple[int, int] | None = None, runs: list[Run] | None = None, *,
                        threads: bool = True, bounds: Mapping[str, tuple[int, int]] | None = None
                        ) -> tuple[PartialBaseline, Summed] | None:
    """``table``'s baseline and, per entry of ``dims`` (a table's row dimensions), its token groups per key;
    None when a value or a column needs the full reader. ``stamps``: the first and last timestamp (ns) from
    the file's statistics; ``runs``: the rows' time buckets when the timestamp column was not read (from
    ``time_pages``: each run summed on its own, a run inside one bucket without a bucket column).
    ``threads`` and ``bounds``: as ``arrow_baseline.baseline_of_table``'s (the group-by on Arrow's pool;
    count columns' statistics settling the checks)."""
    from llmcost.engines.arrow_baseline import _dictionary, _fn, _valid, _with_row_flags, group_sums
    from llmcost.engines.time_pages import int64_values

    if table.num_rows == 0 or not _valid(table, bounds) or not _keys_ok(table):
        return None
    raw, unit = None, 1
    if "timestamp" in table.column_names:
        unit = _NS_PER[table.schema.field("timestamp").type.unit]
        raw = table.column("timestamp")  # its int64 values in the column's own unit: no 10M-row product
        if stamps is None:
            values = [int64_values(c) for c in raw.chunks if len(c)]
            stamps = (min(int(v.min()) for v in values) * unit, max(int(v.max()) for v in values) * unit)
    if stamps is None:
        return None
    if stamps[0] < 0:
        return None  # before 1970: Arrow's integer division truncates where the breakdowns' floors
    table = _encoded(table, "model")
    names = _dictionary(table.column("model"))
    if any(not n.strip() for n in names):
        return None
    flagged = _with_row_flags(table, names, catalog, stamps, (bounds or {}).get("input_tokens"))
    if flagged is None:
        return None
    wanted = {d for ds in dims for d in ds}
    paged = runs is not None and any(d in wanted for d in TIME_DIMENSIONS)
    keys, table = _key_columns(flagged, None if paged else raw, unit, wanted)
    billing = [c for c in BILLING if c in table.column_names]
    sums = [c for c in table.column_names if c.endswith("_tokens") or c == "weight"]
    if runs is not None and paged:
        grouped = _run_sums(table, runs, billing + keys, sums, threads)
    else:
        grouped = group_sums(table, billing + keys, sums, threads=threads)  # not pyarrow.acero: imports pandas
    if grouped.num_rows > MAX_GROUPED_ROWS:
        return None  # many users x hours...: the full reader's bincounts beat a Python pass over the groups
    requests = int(_fn("sum", table.column("weight")).as_py()) if "weight" in sums else table.num_rows
    total, per_table = to_groups(grouped, catalog, stamps[0], dims)
    return PartialBaseline(total, stamps[0], stamps[1], requests), per_table


def _keys_ok(table: pa.Table) -> bool:
    """Task, user and tags as text (plain or dictionary) only: other types are left to the full reader."""
    from llmcost.engines.arrow_baseline import _is_text

    return all(_is_text(table.schema.field(c).type) for c in KEY_COLUMNS if c in table.column_names)


def _encoded(table: pa.Table, column: str) -> pa.Table:
    import pyarrow as pa

    if not pa.types.is_dictionary(table.schema.field(column).type):
        table = table.set_column(table.column_names.index(column), column, table.column(column).dictionary_encode())
    return table.unify_dictionaries()


def _key_columns(table: pa.Table, raw: pa.ChunkedArray | None, unit: int, wanted: set[str]
                 ) -> tuple[list[str], pa.Table]:
    """The breakdown key columns appended to ``table``: ``_hour``/``_day``/``_week`` (bucket numbers since
    the epoch, UTC; weeks from a Monday: divided from ``raw``, when given) and task, user and tags as they
    are."""
    import pyarrow as pa

    from llmcost.engines.time_pages import int64_values

    keys: list[str] = []
    for dim in TIME_DIMENSIONS:
        if dim in wanted and raw is not None:
            shift = _MONDAY_SHIFT_NS if dim == "week" else 0
            step, at = _NS[dim] // unit, shift // unit
            # numpy's floor division on each chunk's values (zero-copy: no nulls): a quarter of pc.divide's time
            divided = [_from_numpy((int64_values(c) + at if at else int64_values(c)) // step) for c in raw.chunks]
            table = table.append_column(f"_{dim}", pa.chunked_array(divided, pa.int64()))
            keys.append(f"_{dim}")
    for dim, column in (("task", "task"), ("user", "user"), ("tag", "tags"), ("tagset", "tags")):
        if dim in wanted and column in table.column_names and column not in keys:
            keys.append(column)
    return keys, table


def _run_sums(table: pa.Table, runs: Sequence[Run], keys: list[str], sums: list[str], threads: bool) -> pa.Table:
    """``group_sums`` of ``table`` by ``keys`` and each row's time buckets (columns ``_hour``/``_day``/
    ``_week``), run by run: a run inside one bucket is grouped by ``keys`` alone and its buckets added to its
    few grouped rows, so the bucket costs the group-by nothing; a run of crossed pages is grouped with its
    rows' buckets. A key may come out in several grouped rows (one per run): their sums add up."""
    import numpy as np
    import pyarrow as pa

    from llmcost.engines.arrow_baseline import group_sums

    parts: list[pa.Table] = []
    order: list[str] | None = None
    for run in runs:
        part = table.slice(run.start, run.end - run.start)
        names = [f"_{d}" for d in run.buckets]
        if run.constant:
            grouped = group_sums(part, keys, sums, threads=threads)
            for name, bucket in zip(names, run.buckets.values(), strict=True):
                grouped = grouped.append_column(name, _from_numpy(np.full(grouped.num_rows, bucket, np.int32)))
        else:
            for name, values in zip(names, run.arrays().values(), strict=True):
                part = part.append_column(name, _from_numpy(values))
            grouped = group_sums(part, keys + names, sums, threads=threads)
        order = order or grouped.column_names
        parts.append(grouped.select(order))
    together = pa.concat_tables(parts)
    if len(parts) == 1:
        return together
    # the runs' grouped rows summed once more by key: fewer rows for the Python pass of ``to_groups``
    added = [c for c in together.column_names if c.endswith("_sum") or c == "count_all"]
    again = group_sums(together, [c for c in together.column_names if c not in added], added, threads=False)
    summed_again = {f"{a}_sum": a for a in added}  # "input_tokens_sum_sum" -> "input_tokens_sum", ...
    kept = again.drop_columns(["count_all"])  # the count of grouped rows, not of requests
    return kept.rename_columns([summed_again.get(n, n) for n in kept.column_names])


def _from_numpy(values: np.ndarray) -> pa.Array:
    """An int32/int64 numpy array as an Arrow array, zero-copy (``pa.array`` would first ask whether it is a
    pandas object, importing pandas: 0.3 s that a baseline-only run otherwise never spends)."""
    import pyarrow as pa

    kind = pa.int32() if values.dtype.itemsize == 4 else pa.int64()
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def _merge(into: dict[tuple[str, ...], TokenGroups], more: dict[tuple[str, ...], TokenGroups]) -> None:
    for key, groups in more.items():
        _add(into.setdefault(key, TokenGroups()), groups)


def _add(into: TokenGroups, more: TokenGroups) -> None:
    """Add ``more``'s sums to ``into`` in place (``into`` is this module's own: no dict copied per group)."""
    for key, sums in more.known.items():
        have = into.known.get(key)
        into.known[key] = sums if have is None else have + sums
    for name, sums in more.unknown.items():
        have_name = into.unknown.get(name)
        into.unknown[name] = sums if have_name is None else have_name + sums

