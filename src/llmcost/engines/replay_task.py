"""One time partition of a log replayed in a Dask worker (``dask_replays`` plans and merges them).

The worker reads its own row groups and, first, the rows just before them that can still matter (the
**halo**: every row less than the scenarios' horizon earlier). The halo goes through the same streamed
replay as the rest (``scenarios.carry``) but only to fill the carried tails; its results are dropped. With
sliding expiration a request's fate depends only on requests less than a TTL before it, so the partition's
own rows come out exactly as in one replay of the whole log. What comes back is integers and floats per
billing group (``TokenGroups``), the extra costs in ``Decimal``, the details to merge, and the window.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from llmcost.catalog import Catalog
    from llmcost.pricing import TokenGroups
    from llmcost.scenarios.interface import Scenario


@dataclass(frozen=True)
class Piece:
    """Some row groups of one Parquet file; ``first_line`` is the file row (1-based) of the first one."""

    path: str
    row_groups: tuple[int, ...]
    first_line: int


@dataclass(frozen=True)
class TimePartition:
    """A partition's own row groups (the first row at ``start_ns``), the row groups of its halo (rows at or
    after ``since_ns`` matter), and the log row number of its first own row."""

    own: Piece
    halo: tuple[Piece, ...]
    start_ns: int
    since_ns: int
    first_row: int
    rows: int


@dataclass
class Replayed:
    """What a worker sends back: per scenario (token groups, extra cost, details), and the window."""

    parts: list[tuple[TokenGroups, Decimal, dict[str, Any]] | None]
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    requests: int = 0
    bucket_models: set[str] = field(default_factory=set)
    has_buckets: bool = False
    unsorted: bool = False  # a row earlier than one before it: the caller replays on the client instead


def replay_partition(part: TimePartition, scenarios: Sequence[Scenario], catalog: Catalog, *,
                     slice_rows: int = 500_000) -> Replayed:
    """Runs in a worker: replay the halo (results dropped), then the partition's rows slice by slice."""
    from llmcost.estimate import BucketModels
    from llmcost.projection import WindowBounds

    out = Replayed([None for _ in scenarios])
    tails: dict[str, Any] = {}
    bounds = WindowBounds()
    buckets = BucketModels()
    starts = halo_starts(scenarios, part.start_ns)
    latest: int | None = None
    with worker_threads():
        for own, frame, row in _frames(part, slice_rows):
            times = _times(frame)
            if (latest is not None and int(times.min()) < latest) or bool((times[1:] < times[:-1]).any()):
                out.unsorted = True
                return out
            latest = int(times.max())
            if own:
                bounds.add(frame)
                _apply_own(frame, row, scenarios, catalog, tails, out, buckets)
            else:
                _apply_halo(frame, times, row, starts, scenarios, catalog, tails, part.start_ns)
    out.start, out.end, out.requests = bounds.start, bounds.end, bounds.requests
    out.bucket_models, out.has_buckets = buckets.models, buckets.has_buckets
    return out


def horizon_ns(scenario: Scenario) -> int:
    """How far back a request's fate can depend on earlier requests: the TTLs of the caches it chains."""
    spec: Any = getattr(scenario, "spec", None)
    if spec is None:
        return 0
    total = 0
    if spec.exact_cache is not None:
        total += round(spec.exact_cache.ttl * 1e9)
    if spec.prompt_cache is not None:
        total += round(spec.prompt_cache.ttl_seconds * 1e9)
    return total


def halo_starts(scenarios: Sequence[Scenario], start_ns: int) -> list[int | None]:
    """Per scenario, the earliest halo time it needs (None: no state, no halo). Scenarios with the same
    exact cache share its carried tail (``exact_cache``), so they see the same halo: the longest."""
    starts: list[int | None] = [start_ns - h if (h := horizon_ns(s)) else None for s in scenarios]
    shared: dict[str, int] = {}
    for scenario, begin in zip(scenarios, starts, strict=True):
        cache = _exact_cache(scenario)
        if cache is not None and begin is not None:
            shared[cache] = min(shared.get(cache, begin), begin)
    return [shared.get(_exact_cache(s) or "", b) if b is not None else None for s, b in zip(scenarios, starts,
                                                                                          strict=True)]


def _exact_ttl_ns(scenario: Scenario) -> int:
    spec: Any = getattr(scenario, "spec", None)
    return 0 if spec is None or spec.exact_cache is None else round(spec.exact_cache.ttl * 1e9)


def _exact_cache(scenario: Scenario) -> str | None:
    spec: Any = getattr(scenario, "spec", None)
    return None if spec is None or spec.exact_cache is None else str(spec.exact_cache.model_dump_json())


def _apply_own(frame: pd.DataFrame, row: int, scenarios: Sequence[Scenario], catalog: Catalog,
               tails: dict[str, Any], out: Replayed, buckets: Any) -> None:
    from llmcost.scenarios.details import merge_details
    from llmcost.scenarios.interface import summed
    from llmcost.scenarios.prefix_index import prepare

    prepared, shared = prepare(frame, row)
    shared.streaming, shared.tails = True, tails
    for i, scenario in enumerate(scenarios):
        applied = scenario.apply(prepared, catalog, shared)
        buckets.add(applied.frame, catalog, logged=i == 0)
        groups, have = summed(applied, catalog), out.parts[i]
        out.parts[i] = (groups, applied.extra_cost, applied.details) if have is None else (
            have[0].merge(groups), have[1] + applied.extra_cost, merge_details(have[2], applied.details))


def _apply_halo(frame: pd.DataFrame, times: Any, row: int, starts: list[int | None], scenarios: Sequence[Scenario],
                catalog: Catalog, tails: dict[str, Any], start_ns: int) -> None:
    """The halo's rows each scenario needs, replayed only to fill the carried tails (results dropped): the
    caches see all of them, the strategies after the caches only those within their own TTLs of the
    partition's start (``Shared.warm_after``)."""
    import numpy as np

    from llmcost.scenarios.prefix_index import prepare

    views: dict[int, Any] = {}
    for scenario, begin in zip(scenarios, starts, strict=True):
        if begin is None:
            continue
        k = int(np.searchsorted(times, begin, side="left"))
        if k == len(frame):
            continue
        if k not in views:
            views[k] = prepare(frame.iloc[k:], row + k)
            views[k][1].streaming, views[k][1].tails = True, tails
        views[k][1].warm_after = start_ns - (horizon_ns(scenario) - _exact_ttl_ns(scenario))
        scenario.apply(views[k][0], catalog, views[k][1])


def _times(frame: pd.DataFrame) -> Any:
    from llmcost.scenarios.common import times_ns

    return times_ns(frame)


def _frames(part: TimePartition, slice_rows: int) -> Iterator[tuple[bool, pd.DataFrame, int]]:
    """(own?, conformed frame, log row number of its first row): the halo's rows at or after ``since_ns``,
    then the own row groups, ``slice_rows`` at a time. Rows keep their number in the whole log, which
    splits that draw a share of requests (``common.hash_share``) use; one row group is held at a time."""
    halo = [(piece, *found) for piece in part.halo for found in _halo_groups(piece, part.since_ns)]
    row = part.first_row - sum(size - skip for _, _, _, skip, size in halo)
    for piece, group, line, skip, _ in halo:
        for frame, rows in _conformed(piece.path, line + skip, _group(piece.path, group).slice(skip), slice_rows):
            yield False, frame, row
            row += rows
    row, line = part.first_row, part.own.first_line
    for group in part.own.row_groups:
        table = _group(part.own.path, group)
        for frame, rows in _conformed(part.own.path, line, table, slice_rows):
            yield True, frame, row
            row, line = row + rows, line + rows


def _halo_groups(piece: Piece, since_ns: int) -> Iterator[tuple[int, int, int, int]]:
    """(row group, file line of its first row, rows before ``since_ns``, rows) of the piece's row groups
    that hold rows at or after ``since_ns``, from their timestamp column alone (the file is in time order)."""
    line = piece.first_line
    for group in piece.row_groups:
        stamps = _group(piece.path, group, ["timestamp"])
        skip, size = _first_at_or_after(stamps, since_ns), stamps.num_rows
        if skip < size:
            yield group, line, skip, size
        line += size


def _group(path: str, group: int, columns: list[str] | None = None) -> Any:
    """One row group (its column chunks fetched in coalesced reads, released when the file closes)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from llmcost.engines.partitions import _open
    from llmcost.errors import InputError

    try:
        with _open(path) as where:
            return pq.ParquetFile(where, pre_buffer=True).read_row_group(group, columns=columns)
    except (pa.ArrowException, OSError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read Parquet (row group {group}): {text}", source=path) from None


def _conformed(path: str, line: int, table: Any, slice_rows: int) -> Iterator[tuple[pd.DataFrame, int]]:
    from llmcost.frame import conform
    from llmcost.logs.native import table_to_pandas
    from llmcost.scenarios.common import in_ns

    frame = table_to_pandas(table)  # converted whole: it frees the table's buffers as it goes (self_destruct)
    for lo in range(0, len(frame), slice_rows):
        part = frame if len(frame) <= slice_rows else frame.iloc[lo:lo + slice_rows].reset_index(drop=True)
        yield in_ns(conform(part, source=path, first_line=line + lo).frame), len(part)  # ns once per slice


def _first_at_or_after(table: Any, since_ns: int) -> int:
    """Index of the first row at or after ``since_ns`` (rows in time order; the column is a timestamp)."""
    import numpy as np

    column = table.column("timestamp").combine_chunks()
    unit = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}[column.type.unit]
    values = column.cast("int64").to_numpy(zero_copy_only=False)
    return int(np.searchsorted(values, -(-since_ns // unit), side="left"))  # in the column's unit, rounded up


@contextlib.contextmanager
def worker_threads() -> Iterator[int]:
    """Inside a Dask task: Arrow's thread pool, the replay threads (``engines.threads``) and BLAS sized to
    the worker's own thread count, as Dask sizes a worker (``--nthreads``); outside a worker, all cores.
    Arrow allocates from its jemalloc pool meanwhile, as in the ``llmcost`` command, and malloc keeps what
    is freed until the task ends (``engines.memory``): Dask's nanny starts workers with
    ``MALLOC_TRIM_THRESHOLD_=65536``, which hands every freed array back to the kernel, and a 10M-row
    replay then spent a third more time faulting the same memory in again. It is given back afterwards."""
    import pyarrow as pa

    from llmcost.engines.local import all_cores
    from llmcost.engines.memory import arrow_jemalloc, freed_memory_kept, release_free_memory
    from llmcost.engines.threads import workers

    n = _worker_nthreads() or all_cores()
    before = pa.cpu_count()
    pa.set_cpu_count(n)
    try:
        with _blas_limit(n), workers(n), arrow_jemalloc(), freed_memory_kept():
            yield n
    finally:
        pa.set_cpu_count(before)
        release_free_memory()


def _worker_nthreads() -> int | None:
    try:
        from distributed import get_worker

        worker: Any = get_worker()
    except (ImportError, ValueError):  # not in a worker
        return None
    return int(getattr(getattr(worker, "state", worker), "nthreads", 1))


def _blas_limit(n: int) -> contextlib.AbstractContextManager[Any]:
    import importlib

    try:
        limits: Any = importlib.import_module("threadpoolctl").threadpool_limits  # untyped library
    except ImportError:  # pragma: no cover - threadpoolctl is not a dependency; without it BLAS is left alone
        return contextlib.nullcontext()
    limited: contextlib.AbstractContextManager[Any] = limits(n)
    return limited
