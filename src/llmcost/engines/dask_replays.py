"""Scenario replays on a Dask cluster: time partitions replayed in the workers, priced once on the client.

The cache replays use sliding expiration: whether a request hits depends only on the requests less than a
TTL before it. So a log in time order splits into **time partitions** (whole Parquet row groups) that
replay apart, each after a warm-up on the rows just before it that can still matter (its *halo*: the
scenario's horizon, the sum of the TTLs of the caches it chains; see ``replay_task``). Each worker reads
its own row groups and its halo, runs every scenario on them with the streamed replay (the carried tails
of ``scenarios.carry``) and returns token sums per billing group; the client adds them, merges the details
in log order and prices once in ``Decimal`` — the same as one replay of the whole log, to the cent.

Strategies whose state is not bounded by a TTL run on the client (``client_reason``): failover (latency
percentiles over everything before), coalescing (groups chain across the log), the semantic cache (its
embeddings and a cache bounded over all keys), ``writes: reused`` (it looks ahead) and bench figures
(shares of the whole log).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmcost.engines.replay_task import Piece, TimePartition, horizon_ns

if TYPE_CHECKING:
    from llmcost.catalog import Catalog
    from llmcost.engines.interface import Engine
    from llmcost.engines.replay_task import Replayed
    from llmcost.estimate import Estimate
    from llmcost.pipeline import LogRead
    from llmcost.scenarios.interface import Scenario

# Rows per partition; None: the log split evenly over the cluster's threads (whole row groups, at least
# one). Each halo is replayed twice, so fewer, longer partitions cost less; a worker streams its partition
# a row group (at most SLICE_ROWS) at a time, so its memory does not grow with the partition.
PARTITION_ROWS: int | None = None
SLICE_ROWS = 500_000  # as the local replays' slices (estimate.IN_MEMORY_SLICE): 1M-row slices ran slower
NOT_PARTITIONED = ("--engine dask: scenario replays run on this machine's cores (the cluster replays Parquet logs "
                   "in llmcost's columns, in time order, with timestamp statistics, without --skip-bad, --by, "
                   "--since/--until or --format focus)")


def client_reason(scenario: Scenario) -> str | None:
    """Why ``scenario`` must replay on the client (None: it runs on the cluster's time partitions)."""
    from llmcost.scenarios.engine import ComposedScenario
    from llmcost.scenarios.interface import Baseline

    if isinstance(scenario, Baseline):
        return None
    if not isinstance(scenario, ComposedScenario):  # e.g. wrapped to tally --bench evidence as it replays
        return "it tallies what it replays in this process"
    spec = scenario.spec
    if scenario.bench is not None:
        return "its bench figures are shares of the whole log"
    if spec.semantic_cache is not None:
        return "the semantic cache embeds every request and its cache is bounded over all keys"
    if spec.failover is not None:
        return "failover watches latency percentiles over everything before"
    if spec.coalesce is not None:
        return "coalescing groups chain across the log in time order"
    if spec.prompt_cache is not None and spec.prompt_cache.writes != "all":
        return "prompt cache 'writes: reused' looks ahead"
    return None


def placement_notes(scenarios: Sequence[Scenario]) -> list[str]:
    """One line per scenario that the cluster leaves to the client, saying why."""
    return [f"--engine dask: scenario '{s.name}' replays on this machine ({why})" for s in scenarios
            if (why := client_reason(s)) is not None]


def replay_estimate(engine: Engine, files: list[str], catalog: Catalog, scenarios: Sequence[Scenario],
                    run_here: Callable[[Sequence[Scenario]], tuple[Estimate, LogRead]], *,
                    skip_bad: bool = False, chunk_rows: int | None = None, log_format: str | None = None,
                    default_model: str | None = None, projection_days: int = 30,
                    window_days: float | None = None, partitionable: bool = True) -> tuple[Estimate, LogRead]:
    """The estimate with the partitionable scenarios replayed on the cluster and the rest by ``run_here``
    (the ordinary reader and replays on this machine), in the scenarios' order. Not ``partitionable``
    (--by, --since/--until, a database, a FOCUS export): every replay runs here."""
    from llmcost.estimate import with_baseline

    cluster: Any = engine  # a DaskEngine (its client, address and notes)
    chosen = with_baseline(scenarios)
    remote = [s for s in chosen if client_reason(s) is None]
    if len(remote) < 2 or remote[0] is not chosen[0]:  # nothing to replay there, or a baseline kept here
        return run_here(scenarios)
    plan = None if skip_bad or not partitionable else plan_partitions(
        files, max(horizon_ns(s) for s in remote), log_format=log_format, default_model=default_model,
        parts=cluster.jobs)
    if plan is None:
        cluster.notes.append(NOT_PARTITIONED)
        return run_here(scenarios)
    futures = _submit(cluster, plan, remote, catalog, min(chunk_rows or SLICE_ROWS, SLICE_ROWS))
    rest = [chosen[0], *(s for s in chosen[1:] if client_reason(s) is not None)]
    here = run_here(rest) if len(rest) > 1 else None  # while the cluster works
    results = _gather(cluster, futures)
    if any(r.unsorted for r in results):
        cluster.notes.append(NOT_PARTITIONED)
        return run_here(scenarios)
    merged = merge(results, remote, catalog, projection_days, window_days)
    if here is None:
        from llmcost.pipeline import LogRead

        return merged, LogRead({}, chunk_rows)
    return _combined(chosen, remote, merged, rest, here[0]), here[1]


def plan_partitions(files: list[str], horizon: int, *, log_format: str | None = None,
                    default_model: str | None = None, parts: int = 1,
                    rows: int | None = None) -> list[TimePartition] | None:
    """Time partitions of ``files`` (in the order given) of about ``rows`` rows each (default: the log over
    ``parts`` partitions; a partition never spans two files), each with the row groups of its halo; None
    when a file is not a Parquet log in llmcost's columns, a row group has no timestamp statistics, or the
    row groups are not in time order."""
    import pyarrow.parquet as pq

    from llmcost.engines.partitions import _open, _stamps
    from llmcost.logs.native import NativeReader
    from llmcost.logs.registry import detect
    from llmcost.logs.source import open_source

    if default_model is not None or "-" in files or len(set(files)) != len(files):
        return None
    groups: list[tuple[str, int, int, int, int, int]] = []  # path, group, rows, first line, low, high ns
    for name in files:
        source = open_source(name)
        if source.container != "parquet" or source.gzip or source.data is not None:
            return None
        if not isinstance(detect(source, log_format), NativeReader):
            return None
        with _open(name) as where:
            meta = pq.ParquetFile(where).metadata
        line = 1
        for i in range(meta.num_row_groups):
            stamps, size = _stamps(meta, i), meta.row_group(i).num_rows
            if stamps is None:
                return None
            if size:
                groups.append((name, i, size, line, *stamps))
            line += size
    if not groups or any(groups[k][4] < groups[k - 1][5] for k in range(1, len(groups))):
        return None
    total = sum(g[2] for g in groups)
    size = rows or PARTITION_ROWS
    return _cut(groups, horizon, -(-total // size) if size else max(parts, 1), total)


def _cut(groups: list[tuple[str, int, int, int, int, int]], horizon: int, parts: int,
         total: int) -> list[TimePartition]:
    """Row groups into ``parts`` runs of about equal rows (a row group goes to the part its middle row falls
    in; a file boundary also cuts), each with its halo."""
    slot, before = [], 0
    for g in groups:
        slot.append((before + g[2] // 2) * parts // total)
        before += g[2]
    out: list[TimePartition] = []
    first_row = 0
    k = 0
    while k < len(groups):
        end, count = k + 1, groups[k][2]
        while end < len(groups) and groups[end][0] == groups[k][0] and slot[end] == slot[k]:
            count += groups[end][2]
            end += 1
        since = groups[k][4] - horizon
        back = k
        while horizon and back > 0 and groups[back - 1][5] >= since:
            back -= 1
        own = Piece(groups[k][0], tuple(g[1] for g in groups[k:end]), groups[k][3])
        out.append(TimePartition(own, _pieces(groups[back:k]), groups[k][4], since, first_row, count))
        first_row += count
        k = end
    return out


def _pieces(groups: list[tuple[str, int, int, int, int, int]]) -> tuple[Piece, ...]:
    pieces: list[Piece] = []
    for path, group, _, line, _, _ in groups:
        if pieces and pieces[-1].path == path:
            pieces[-1] = replace(pieces[-1], row_groups=(*pieces[-1].row_groups, group))
        else:
            pieces.append(Piece(path, (group,), line))
    return tuple(pieces)


def _submit(engine: Any, plan: list[TimePartition], remote: list[Scenario], catalog: Catalog,
            slice_rows: int) -> list[Any]:
    from llmcost.engines.replay_task import replay_partition

    shipped_catalog, shipped_scenarios = engine.client.scatter([catalog, remote], broadcast=True)
    return list(engine.client.map(replay_partition, plan, scenarios=shipped_scenarios, catalog=shipped_catalog,
                                  slice_rows=slice_rows, pure=False))


def _gather(engine: Any, futures: list[Any]) -> list[Replayed]:
    """The partitions' results in log order (so a bad row named is the log's first); a worker lost or a
    cluster gone is one line (exit 2)."""
    from llmcost.engines.dask_engine import _first_line
    from llmcost.errors import LlmcostError, UsageError

    try:
        return [future.result() for future in futures]
    except LlmcostError:
        raise
    except Exception as exc:  # KilledWorker, a lost future, CommClosedError, a timeout: the cluster failed
        name = type(exc).__name__
        if type(exc).__module__.startswith("distributed") or isinstance(exc, (OSError, TimeoutError)):
            raise UsageError(f"the Dask cluster at {engine.address} failed during the scenario replays "
                             f"({name}: {_first_line(exc)})") from None
        raise


def merge(results: list[Replayed], remote: list[Scenario], catalog: Catalog, projection_days: int,
          window_days: float | None) -> Estimate:
    """The partitions' sums added (details merged in log order) and priced once."""
    from llmcost.estimate import BucketModels, assemble
    from llmcost.pricing import TokenGroups
    from llmcost.projection import WindowBounds
    from llmcost.scenarios.details import merge_details

    parts: list[tuple[TokenGroups, Decimal, dict[str, Any]]] = [(TokenGroups(), Decimal(0), {}) for _ in remote]
    seen = [False for _ in remote]
    bounds, buckets = WindowBounds(), BucketModels()
    for got in results:
        for i, summed in enumerate(got.parts):
            if summed is None:
                continue
            have = parts[i]
            parts[i] = summed if not seen[i] else (have[0].merge(summed[0]), have[1] + summed[1],
                                                   merge_details(have[2], summed[2]))
            seen[i] = True
        if got.start is not None and got.end is not None:
            bounds.start = got.start if bounds.start is None else min(bounds.start, got.start)
            bounds.end = got.end if bounds.end is None else max(bounds.end, got.end)
        bounds.requests += got.requests
        buckets.models |= got.bucket_models
        buckets.has_buckets = buckets.has_buckets or got.has_buckets
    estimate = assemble(bounds.window(window_days), remote, parts, catalog, projection_days)
    return replace(estimate, warnings=buckets.warnings())


def _combined(chosen: list[Scenario], remote: list[Scenario], merged: Estimate, rest: list[Scenario],
              here: Estimate) -> Estimate:
    """The cluster's outcomes and the client's, in the order the scenarios were given."""
    outcomes = []
    for scenario in chosen:
        if any(scenario is s for s in remote):
            outcomes.append(merged.scenarios[next(i for i, s in enumerate(remote) if s is scenario)])
        else:
            outcomes.append(here.scenarios[next(i for i, s in enumerate(rest) if s is scenario)])
    warnings = (*here.warnings, *(w for w in merged.warnings if w not in here.warnings))
    return replace(here, scenarios=tuple(outcomes), warnings=warnings)
