"""Scenario replays on a real Dask cluster (a scheduler and two worker processes over TCP on 127.0.0.1,
started here): the log's time partitions are read and replayed in the workers, each after its halo, and
the result equals the local replay to the cent (the whole JSON, details included) for every strategy
that partitions; the others run on the client and the command says so."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine_logs import local_cluster

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent
STRATEGIES = """
scenarios:
  - name: exact-24h
    exact_cache: {ttl: 24h, hit_cost_usd: 0.00001}
  - name: exact-lru
    exact_cache: {ttl: 6h, max_entries: 40, per_model: false}
  - name: prompt-5m
    prompt_cache: {ttl: 5m, min_tokens: 1024, prefix_tokens: {default: 1200, by_task: {classify: 1100}}}
  - name: prompt-1h
    prompt_cache: {ttl: 1h, min_tokens: 512, block_tokens: 512}
  - name: routing
    routing:
      keep_cheaper: true
      rules:
        - {when: {input_tokens: {max: 2000}}, to: "tiers[0]"}
        - {when: {share: 0.3}, to: gpt-4o}
  - name: cascade
    cascade:
      steps:
        - {model: gpt-4o-mini, accept: 0.7, latency_ms: 600}
        - {model: gpt-4o, accept: 1.0, latency_ms: 1400}
  - name: compress-batch-retry
    compression: {threshold_tokens: 4000, ratio: 0.6, compressor: gpt-4o-mini}
    batch: {share: 0.5}
    retries: {error_rate: {default: 0.02}, max_retries: 1, fallback: [claude-sonnet-4]}
  - name: failover
    failover: {target: gpt-4o-mini, threshold_ms: 900, percentile: 90, window: 10m, min_requests: 5}
  - name: coalesce
    coalesce: {window_ms: 20000, max_batch: 4}
  - name: prompt-reused
    prompt_cache: {ttl: 5m, writes: reused}
  - name: chained
    exact_cache: {ttl: 24h}
    routing: {rules: [{when: {input_tokens: {max: 3000}}, to: "tiers[0]"}]}
    prompt_cache: {ttl: 5m, min_tokens: 1024, prefix_tokens: {default: 1024}}
    batch: {share: 0.2}
"""


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with local_cluster() as address:
        yield address


@pytest.fixture(autouse=True)
def small_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test-sized partitions (the real ones are a million rows): 2,000 rows, about 3.6 hours each, so a
    24-hour halo reaches back over several partitions and row groups, and across the two files."""
    from llmcost.engines import dask_replays

    monkeypatch.setattr(dask_replays, "PARTITION_ROWS", 2000)


def _table(rows: int = 40_000) -> pa.Table:
    """The benchmark's generated traffic squeezed into three days (cache hits within 5 minutes), with a
    quarter of the rows without prefix_hashes (the prompt cache's stand-in) and latencies (failover)."""
    spec = importlib.util.spec_from_file_location("generate", ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    table = generate.generate(rows)
    stamps = table.column("timestamp").cast("int64").to_numpy()
    squeezed = stamps[0] + (stamps - stamps[0]) // 10
    table = table.set_column(0, "timestamp", pa.array(squeezed, pa.int64()).cast(pa.timestamp("ms", tz="UTC")))
    prefixes = table.column("prefix_hashes").to_pylist()
    prefixes = [None if i % 4 == 0 else p for i, p in enumerate(prefixes)]
    at = table.column_names.index("prefix_hashes")
    table = table.set_column(at, "prefix_hashes", pa.array(prefixes, table.schema.field(at).type))
    latency = np.random.default_rng(5).gamma(2.0, 300.0, rows).astype(np.int64)
    return table.append_column("latency_ms", pa.array(latency))


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    where = tmp_path_factory.mktemp("replays")
    table = _table()
    first, second = where / "a.parquet", where / "b.parquet"
    pq.write_table(table.slice(0, 15_000), first, row_group_size=1000)
    pq.write_table(table.slice(15_000), second, row_group_size=1000)
    scenarios = where / "scenarios.yaml"
    scenarios.write_text(STRATEGIES)
    return {"files": [str(first), str(second)], "scenarios": str(scenarios), "dir": where}


# Scenarios whose token counts stay integers: equal to the last digit. The others bill expected (fractional)
# counts, summed per partition in another order: equal to a billionth of a dollar (as streamed runs are).
INTEGER_TOKENS = ("baseline", "exact-24h", "exact-lru", "prompt-5m", "prompt-1h", "routing", "failover",
                  "coalesce", "prompt-reused")


def assert_same_json(got: dict[str, Any], want: dict[str, Any], exact: tuple[str, ...] = ()) -> None:
    from test_streaming import same_details

    assert [s["name"] for s in got["scenarios"]] == [s["name"] for s in want["scenarios"]]
    for a, b in zip(got["scenarios"], want["scenarios"], strict=True):
        for money in ("observed_cost_usd", "monthly_cost_usd"):
            if a["name"] in exact:
                assert a[money] == b[money], (a["name"], money)
            else:
                assert abs(Decimal(str(a[money])) - Decimal(str(b[money]))) < Decimal("1e-9"), (a["name"], money)
        assert same_details(a, b), a["name"]
    assert same_details({k: v for k, v in got.items() if k != "scenarios"},
                        {k: v for k, v in want.items() if k != "scenarios"})


def _json(result: Any) -> dict[str, Any]:
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_every_strategy_on_two_workers_equals_the_local_replay(cli: Any, logs: dict[str, Any], scheduler: str) -> None:
    args = ["estimate", *logs["files"], "--catalog", "frontier", "--scenarios", logs["scenarios"], "--format", "json"]
    ran = cli(*args, "--engine", "dask", "--scheduler", scheduler)
    on_dask = _json(ran)
    assert_same_json(on_dask, _json(cli(*args)), exact=INTEGER_TOKENS)
    outcomes = {s["name"]: s for s in on_dask["scenarios"]}
    base = outcomes["baseline"]["observed_cost_usd"]
    for name in ("exact-24h", "exact-lru", "prompt-5m", "prompt-1h", "routing", "cascade", "chained"):
        assert outcomes[name]["observed_cost_usd"] != base, name  # each strategy changed something
    lines = ran.stderr.splitlines()
    for name in ("failover", "coalesce", "prompt-reused"):  # not bounded by a TTL: on the client, said so
        assert any(f"scenario '{name}' replays on this machine" in line for line in lines), ran.stderr
    assert not any("'chained'" in line or "'exact-lru'" in line for line in lines)


@pytest.mark.parametrize("chunk", [[], ["--chunk-rows", "700"]])
def test_the_default_set_on_the_cluster_equals_local(cli: Any, logs: dict[str, Any], scheduler: str,
                                                     chunk: list[str]) -> None:
    args = ["estimate", *logs["files"], "--catalog", "frontier", "--format", "json"]
    on_dask = cli(*args, *chunk, "--engine", "dask", "--scheduler", scheduler)
    assert_same_json(_json(on_dask), _json(cli(*args)), exact=("baseline", "exact-cache-24h", "prompt-caching",
                                                               "tiered-routing", "all-combined"))
    assert "replays on this machine" not in on_dask.stderr  # the default set runs whole on the cluster


def test_without_the_halo_the_replay_would_differ(cli: Any, logs: dict[str, Any], scheduler: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: partitions replayed without the rows before them lose hits."""
    from llmcost.engines import dask_replays

    args = ["estimate", *logs["files"], "--catalog", "frontier", "--format", "json"]
    local = _json(cli(*args))
    monkeypatch.setattr(dask_replays, "horizon_ns", lambda scenario: 0)
    cut = _json(cli(*args, "--engine", "dask", "--scheduler", scheduler))
    costs = {s["name"]: s["observed_cost_usd"] for s in local["scenarios"]}
    assert {s["name"]: s["observed_cost_usd"] for s in cut["scenarios"]} != costs


def test_halos_reach_back_over_row_groups_and_files(logs: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from llmcost.engines import dask_replays
    from llmcost.engines.dask_replays import plan_partitions

    plan = plan_partitions(logs["files"], 86_700 * 10**9, rows=2000)  # 24 h + 5 min
    assert plan is not None and len(plan) == 21  # 20, and the file boundary cuts one in two
    assert [p.first_row for p in plan] == [0, *np.cumsum([p.rows for p in plan])[:-1]]  # they tile the log
    assert sum(p.rows for p in plan) == 40_000 and {p.rows for p in plan} <= {1000, 2000}
    assert plan[0].halo == ()
    second = next(p for p in plan if p.own.path == logs["files"][1] and p.own.row_groups[0] > 0)
    assert second.own.row_groups == (1, 2)  # the second file's second partition: its halo starts in the first
    assert [h.path for h in second.halo] == logs["files"] and second.halo[1].row_groups == (0,)
    assert second.since_ns == second.start_ns - 86_700 * 10**9
    monkeypatch.setattr(dask_replays, "PARTITION_ROWS", None)
    even = plan_partitions(logs["files"], 0, parts=2)  # by default: the cluster's threads, whole row groups
    a, b = logs["files"]  # halves at row 20,000; the file boundary at 15,000 cuts too
    assert even is not None and [(p.own.path, p.rows) for p in even] == [(a, 15_000), (b, 5000), (b, 20_000)]
    assert all(p.halo == () for p in even)  # no cache, no halo
    three = plan_partitions(logs["files"][1:], 0, parts=3)
    assert three is not None and [p.rows for p in three] == [8000, 9000, 8000]


def test_a_halo_after_the_cache_is_cut_to_the_later_strategies_ttls(logs: dict[str, Any],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A halo is replayed only to fill the carried tails: the exact cache sees all of it, the strategies
    after it only the rows within their own TTLs of the partition's start (``Shared.warm_after``). The
    partitions, replayed here one by one, still add up to the whole log's replay; cut one TTL further
    (nothing after the cache) they would not."""
    from llmcost.catalog import load_catalog
    from llmcost.engines import dask_replays, replay_task
    from llmcost.estimate import run_estimate, with_baseline
    from llmcost.logs import read_logs
    from llmcost.scenarios import select_scenarios

    catalog = load_catalog("frontier")
    scenarios = [s for s in select_scenarios(logs["scenarios"], baseline_only=False, catalog=catalog)
                 if s.name in ("exact-24h", "prompt-5m", "chained")]
    chosen = with_baseline(scenarios)
    plan = dask_replays.plan_partitions(logs["files"], max(replay_task.horizon_ns(s) for s in chosen))
    assert plan is not None and sum(bool(p.halo) for p in plan) > 10

    def costs(estimate: Any) -> dict[str, Decimal]:
        return {s.name: s.observed_cost for s in estimate.scenarios}

    def partitioned() -> dict[str, Decimal]:
        results = [replay_task.replay_partition(p, chosen, catalog) for p in plan]
        return costs(dask_replays.merge(results, chosen, catalog, 30, None))

    local = costs(run_estimate(read_logs(logs["files"]).frame, catalog, scenarios))
    assert partitioned() == local
    monkeypatch.setattr(replay_task, "_exact_ttl_ns", replay_task.horizon_ns)  # warm_after = the start
    cut = partitioned()
    assert cut["chained"] != local["chained"] and cut["exact-24h"] == local["exact-24h"]


def test_a_log_out_of_time_order_replays_here_and_says_so(cli: Any, tmp_path: Path, scheduler: str) -> None:
    table = _table(6000)
    shuffled = table.take(np.random.default_rng(1).permutation(6000))
    path = tmp_path / "unsorted.parquet"
    pq.write_table(shuffled.slice(0, 6000), path, row_group_size=500)
    args = ["estimate", str(path), "--catalog", "frontier", "--format", "json"]
    on_dask = cli(*args, "--engine", "dask", "--scheduler", scheduler)
    assert on_dask.stdout == cli(*args).stdout, on_dask.stderr
    assert "scenario replays run on this machine's cores" in on_dask.stderr


def test_rows_out_of_order_inside_a_row_group_are_found_by_the_workers(cli: Any, tmp_path: Path,
                                                                       scheduler: str) -> None:
    """Row-group statistics in order, rows inside one not: the worker notices, the client replays."""
    table = _table(6000)
    order = np.arange(6000)
    order[2100:2200] = order[2100:2200][::-1]
    path = tmp_path / "inside.parquet"
    pq.write_table(table.take(order), path, row_group_size=1000)
    args = ["estimate", str(path), "--catalog", "frontier", "--format", "json"]
    on_dask = cli(*args, "--engine", "dask", "--scheduler", scheduler)
    assert on_dask.stdout == cli(*args).stdout
    assert "scenario replays run on this machine's cores" in on_dask.stderr


def test_an_unreachable_scheduler_is_one_line_and_no_file(cli: Any, logs: dict[str, Any]) -> None:
    out = logs["dir"] / "never.json"
    result = cli("estimate", *logs["files"], "--catalog", "frontier", "--engine", "dask", "--scheduler",
                 "tcp://127.0.0.1:9", "--format", "json", "--output", str(out))
    assert result.exit_code == 2
    assert result.stderr.startswith("llmcost: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_a_corrupt_row_group_read_in_a_worker_is_one_line_naming_the_file(cli: Any, tmp_path: Path,
                                                                         scheduler: str) -> None:
    from engine_logs import corrupt_parquet

    path = corrupt_parquet(tmp_path / "broken.parquet")
    out = tmp_path / "never.json"
    result = cli("estimate", path, "--catalog", "frontier", "--engine", "dask", "--scheduler", scheduler,
                 "--format", "json", "--output", str(out))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"llmcost: error: {path}: cannot read Parquet (row group ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_a_bad_row_is_named_by_its_line_in_the_file(cli: Any, tmp_path: Path, scheduler: str) -> None:
    table = _table(6000)
    tokens = table.column("output_tokens").to_numpy().copy()
    tokens[[1234, 4321]] = -5  # bad rows in the first and last partitions: the first is named, as locally
    table = table.set_column(table.column_names.index("output_tokens"), "output_tokens", pa.array(tokens))
    path = tmp_path / "bad.parquet"
    pq.write_table(table, path, row_group_size=1000)
    args = ["estimate", str(path), "--catalog", "frontier", "--format", "json"]
    on_dask, local = cli(*args, "--engine", "dask", "--scheduler", scheduler), cli(*args)
    assert on_dask.exit_code == local.exit_code == 2
    assert on_dask.stderr == local.stderr and ":1235:" in on_dask.stderr  # the same line as the local reader
    assert len(on_dask.stderr.strip().splitlines()) == 1


def test_a_worker_that_dies_is_one_line_and_no_file(cli: Any, logs: dict[str, Any], tmp_path: Path) -> None:
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0",
            protocol="tcp") as cluster, distributed.Client(cluster) as client:
        cloudpickle.register_pickle_by_value(sys.modules[__name__])
        try:
            client.run(_crash_on_replay)  # the worker process exits in its first replay task
        finally:
            cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
        out = tmp_path / "never.json"
        result = cli("estimate", *logs["files"], "--catalog", "frontier", "--engine", "dask", "--scheduler",
                     cluster.scheduler_address, "--format", "json", "--output", str(out))
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("llmcost: error: the Dask cluster at tcp://127.0.0.1:")
    assert "failed during the scenario replays (" in result.stderr  # KilledWorker, or its lost futures
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


cloudpickle: Any = importlib.import_module("cloudpickle")  # untyped; ships this module's helpers by value


def _crash_on_replay() -> None:
    import os

    from llmcost.engines import replay_task

    def crash(*args: Any, **kwargs: Any) -> None:
        os._exit(1)

    replay_task.replay_partition = crash  # type: ignore[assignment]


def test_a_task_uses_the_worker_thread_count(scheduler: str) -> None:
    with distributed.Client(scheduler) as client:
        cloudpickle.register_pickle_by_value(sys.modules[__name__])
        try:
            inside, outside = client.submit(_threads_in_task, pure=False).result()
        finally:
            cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert inside == (1, 1, 1)  # threads_per_worker=1: Arrow's pool and the replay threads
    assert outside >= 1


def _threads_in_task() -> tuple[tuple[int, int, int], int]:
    import pyarrow

    from llmcost.engines.replay_task import worker_threads
    from llmcost.engines.threads import current_workers

    with worker_threads() as n:
        inside = (n, pyarrow.cpu_count(), current_workers())
    return inside, pyarrow.cpu_count()


def test_strategies_without_a_ttl_bound_say_why_they_run_here() -> None:
    from llmcost.engines.dask_replays import client_reason
    from llmcost.scenarios.engine import ComposedScenario
    from llmcost.scenarios.interface import Baseline
    from llmcost.scenarios.schema import ScenarioSpec

    def spec(**fields: Any) -> ComposedScenario:
        return ComposedScenario(ScenarioSpec.model_validate({"name": "s", **fields}))

    assert client_reason(Baseline()) is None
    assert client_reason(spec(exact_cache={"ttl": "1h", "max_entries": 10})) is None
    assert client_reason(spec(prompt_cache={"ttl": "5m"}, routing={"rules": [{"to": "gpt-4o"}]})) is None
    semantic = client_reason(spec(semantic_cache={"threshold": 0.9}))
    assert semantic is not None and "semantic cache" in semantic
    assert "looks ahead" in str(client_reason(spec(prompt_cache={"ttl": "5m", "writes": "reused"})))

    class Tallying:  # a wrapper (as --bench evidence wraps every scenario, the baseline too): its state stays here
        name = "baseline"

    assert client_reason(Tallying()) is not None  # type: ignore[arg-type]


def test_check_on_dask_says_its_replays_run_here(cli: Any, scheduler: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """check's rules read the gated scenario's replayed rows, so it replays on the client: it says so, and
    its verdicts are the local ones."""
    monkeypatch.chdir(Path(__file__).resolve().parent.parent)  # the example policy's logs are relative
    local = cli("check", "--policy", "examples/llmcost.yaml", "--format", "json")
    on_dask = cli("check", "--policy", "examples/llmcost.yaml", "--format", "json", "--engine", "dask",
                  "--scheduler", scheduler)
    assert on_dask.exit_code == local.exit_code == 0, on_dask.stderr
    assert "check replays its scenarios on this machine" in on_dask.stderr
    assert on_dask.stdout == local.stdout
