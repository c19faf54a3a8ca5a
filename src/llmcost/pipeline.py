"""Logs → Estimate in one call: reads whole logs, or streams them in chunks when they are big.

Used by ``estimate`` and ``check`` so both read logs the same way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from llmcost.breakdowns import COLUMNS as BREAKDOWN_COLUMNS
from llmcost.breakdowns import Breakdowns, BreakdownSpec, estimate_from_breakdowns, stands_for_baseline
from llmcost.estimate import Estimate, run_estimate, run_estimate_chunked
from llmcost.frame import BASELINE_EXTRA
from llmcost.scenarios.interface import Baseline, Scenario

if TYPE_CHECKING:
    import pandas as pd

    from llmcost.catalog import Catalog
    from llmcost.engines.interface import Engine
    from llmcost.logs.timerange import TimeRange

AUTO_CHUNK_ROWS = 2_000_000
# Logs whose (estimated, uncompressed) size passes this share of physical memory are streamed.
AUTO_STREAM_MEMORY_SHARE = 0.25
GZIP_EXPANSION = 6


@dataclass(frozen=True)
class LogRead:
    """How the logs were read: per-file skipped rows (path → reason → count) and the chunking used."""

    skipped: dict[str, dict[str, int]]
    chunk_rows: int | None


def estimate_logs(
    paths: list[str],
    catalog: Catalog,
    scenarios: Sequence[Scenario],
    *,
    log_format: str | None = None,
    default_model: str | None = None,
    skip_bad: bool = False,
    chunk_rows: int | None = None,
    projection_days: int = 30,
    window_days: float | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_scenario: Callable[[str], None] | None = None,
    breakdowns: Sequence[BreakdownSpec] = (),
    engine: Engine | None = None,
    on_frame: Callable[[pd.DataFrame], None] | None = None,
    window: TimeRange | None = None,
) -> tuple[Estimate, LogRead]:
    """Read ``paths`` and run the estimate; stream in chunks when asked to or when the logs are big.
    ``breakdowns`` (``--by``) are summed from the same frames or chunks as the baseline, and ``on_frame``
    (the FOCUS export) sees each of them too, with the task, user and tags columns read."""
    from llmcost.logs import read_logs
    from llmcost.logs.chunks import iter_chunks
    from llmcost.logs.remote import is_database
    from llmcost.logs.source import expand

    baseline_only = all(isinstance(s, Baseline) for s in scenarios)
    columns = BASELINE_EXTRA if baseline_only else None
    tables = Breakdowns(breakdowns, catalog, total=baseline_only) if breakdowns else None
    if columns is not None and (tables is not None or on_frame is not None):
        columns = columns | BREAKDOWN_COLUMNS
    taps = [t for t in (tables.add if tables is not None else None, on_frame) if t is not None]
    files = expand(paths)
    ranged = window is not None and window.given  # --since/--until: rows are filtered by the readers
    if baseline_only and not taps and not ranged and not any(is_database(f) for f in files):
        # summed partition by partition on the engine's cores or workers
        from llmcost.engines import baseline_estimate, make_engine

        summed = baseline_estimate(engine or make_engine(), files, catalog, scenarios, log_format=log_format,
                                   default_model=default_model, projection_days=projection_days,
                                   window_days=window_days)
        if summed is not None:
            return summed, LogRead({}, chunk_rows)
    if baseline_only and tables is not None and on_frame is None and not ranged and not any(
            is_database(f) for f in files):
        # --by on Parquet: the breakdown keys summed by the same Arrow group-by as the baseline
        from llmcost.engines import make_engine
        from llmcost.engines.arrow_breakdowns import breakdown_estimate

        by_arrow = breakdown_estimate(engine or make_engine(), files, tables, scenarios, log_format=log_format,
                                      default_model=default_model, projection_days=projection_days,
                                      window_days=window_days)
        if by_arrow is not None:
            return _with_breakdowns(by_arrow, tables), LogRead({}, chunk_rows)
    if not baseline_only and engine is not None and engine.name == "dask":
        # scenario replays on the cluster's time partitions; what cannot partition runs here (run_here)
        from llmcost.engines.dask_replays import replay_estimate

        def run_here(rest: Sequence[Scenario]) -> tuple[Estimate, LogRead]:
            return estimate_logs(paths, catalog, rest, log_format=log_format, default_model=default_model,
                                 skip_bad=skip_bad, chunk_rows=chunk_rows, projection_days=projection_days,
                                 window_days=window_days, on_progress=on_progress, on_scenario=on_scenario,
                                 breakdowns=breakdowns, on_frame=on_frame, window=window)

        return replay_estimate(engine, files, catalog, scenarios, run_here,
                               skip_bad=skip_bad, chunk_rows=chunk_rows, log_format=log_format,
                               default_model=default_model, projection_days=projection_days,
                               window_days=window_days,
                               partitionable=not taps and not ranged and not any(is_database(f) for f in files))
    if chunk_rows is None and "-" not in files and too_big_for_memory(files):
        chunk_rows = AUTO_CHUNK_ROWS
    if chunk_rows is None:
        logset = read_logs(files, log_format=log_format, default_model=default_model, skip_bad=skip_bad,
                           columns=columns, window=window)
        if on_progress:  # rows, as the chunked path counts (a count of files beside it read as rows)
            on_progress(len(logset.frame))
        read = LogRead({f.path: dict(f.skipped) for f in logset.files if f.skipped}, None)
        # Hand the frame over without keeping a reference, so run_estimate can free what it replaces
        # (the prefix_hashes list column: hundreds of MB on a 10M-row log).
        holder = [logset.frame]
        del logset
        for tap in taps:
            tap(holder[0])
        if tables is not None and baseline_only and stands_for_baseline(holder[0]):
            # the breakdowns summed every row per billing group already: price those, do not sum twice
            derived = estimate_from_breakdowns(tables, holder.pop(), scenarios, projection_days=projection_days,
                                               window_days=window_days)
            return _with_breakdowns(derived, tables), read
        return _with_breakdowns(run_estimate(holder.pop(), catalog, scenarios, projection_days=projection_days,
                                             window_days=window_days, on_scenario=on_scenario), tables), read

    skipped: dict[str, dict[str, int]] = {}

    def frames() -> Iterator[pd.DataFrame]:
        for chunk in iter_chunks(files, chunk_rows, log_format=log_format, default_model=default_model,
                                 skip_bad=skip_bad, columns=columns, window=window):
            for why, n in chunk.skipped.items():
                per_file = skipped.setdefault(chunk.path, {})
                per_file[why] = per_file.get(why, 0) + n
            if on_progress:
                on_progress(len(chunk.frame))
            for tap in taps:
                tap(chunk.frame)
            yield chunk.frame

    result = run_estimate_chunked(frames(), catalog, scenarios, projection_days=projection_days,
                                  window_days=window_days)
    return _with_breakdowns(result, tables), LogRead(skipped, chunk_rows)


def _with_breakdowns(estimate: Estimate, tables: Breakdowns | None) -> Estimate:
    """Price the breakdowns once, after the last chunk; the baseline's unpriced models stay unpriced."""
    if tables is None:
        return estimate
    return replace(estimate, breakdowns=tables.finish(m.model for m in estimate.baseline.priced.unpriced))


def too_big_for_memory(files: list[str]) -> bool:
    """True when the logs would likely not fit comfortably in memory as a frame."""
    from llmcost.logs.source import path_size

    total = 0
    for name in files:
        size = path_size(name)  # local or remote (0 for a database: it is read in chunks anyway)
        total += size * GZIP_EXPANSION if name.endswith(".gz") else size
    return total > AUTO_STREAM_MEMORY_SHARE * physical_memory()


def physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 << 30
