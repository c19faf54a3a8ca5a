"""Replays partitioned by key across threads give exactly the one-thread replay: the exact cache by
key (model and prompt), the prompt cache by (model, block) with each request's prefix run regrouped."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from llmcost.engines.threads import current_workers, parallel_map, workers
from llmcost.scenarios import prefix_index, replay
from llmcost.scenarios.prefix_index import PrefixIndex

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def small_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Partition test-sized replays (the real thresholds are a million rows)."""
    monkeypatch.setattr(replay, "PARTITION_MIN", 64)
    monkeypatch.setattr(prefix_index, "_PIECE_MIN", 64)


def test_workers_are_scoped_to_the_run() -> None:
    assert current_workers() == 1
    with workers(3):
        assert current_workers() == 3
        assert parallel_map(lambda x: x * 2, [1, 2, 3]) == [2, 4, 6]
    assert current_workers() == 1


@pytest.mark.parametrize("jobs", [2, 3, 4])
def test_exact_cache_replay_partitioned_by_key_equals_one_replay(jobs: int) -> None:
    rng = np.random.default_rng(jobs)
    n = 20_000
    keys = rng.integers(-1, 300, n)  # -1: uncacheable
    times = rng.integers(0, 5_000, n)  # many ties, not in order
    ttl = 700
    one = replay.replay_ttl_reuse(keys, times, ttl)
    with workers(jobs):
        many = replay.replay_ttl_reuse(keys, times, ttl)
    assert one[0].any() and one[1].any()
    assert np.array_equal(one[0], many[0]) and np.array_equal(one[1], many[1])


@pytest.mark.parametrize("models", [3, 12])  # few models: a pass per model; many: one sort by model
def test_prompt_cache_replay_partitioned_by_block_equals_one_replay(models: int) -> None:
    rng = np.random.default_rng(models)
    rows = 6_000
    counts = rng.integers(0, 9, rows)
    offsets = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    codes = rng.integers(0, 40, int(offsets[-1])).astype(np.int32)  # shared blocks across requests
    times = np.sort(rng.integers(0, 10**12, rows))
    model_codes = rng.integers(0, models, rows)
    touching = rng.random(rows) < 0.9
    base = np.arange(rows, dtype=np.int64)

    def run() -> tuple[np.ndarray, ...]:
        index = PrefixIndex(codes, offsets, np.ones(rows, dtype=bool), times)
        return index.replay(base, model_codes, touching, 300 * 10**9)

    one = run()
    with workers(4):
        many = run()
    assert one[0].any() and one[1].any()
    assert all(np.array_equal(a, b) for a, b in zip(one, many, strict=True))


@pytest.fixture(scope="module")
def generated_log(tmp_path_factory: pytest.TempPathFactory) -> str:
    spec = importlib.util.spec_from_file_location("generate", ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    path = tmp_path_factory.mktemp("log") / "log.parquet"
    pq.write_table(generate.generate(40_000), path)
    return str(path)


@pytest.mark.parametrize("chunk", [[], ["--chunk-rows", "15000"]])
def test_default_scenarios_on_two_cores_equal_one_core(cli: Any, generated_log: str, chunk: list[str]) -> None:
    args = ["estimate", generated_log, "--catalog", "frontier", "--format", "json", *chunk]
    one = cli(*args, "--jobs", "1")
    two = cli(*args, "--jobs", "2")
    assert one.exit_code == 0 and two.exit_code == 0, one.stderr + two.stderr
    assert one.stdout == two.stdout
    result = json.loads(two.stdout)
    caches = {s["name"]: s for s in result["scenarios"]}
    assert caches["exact-cache-24h"]["observed_cost_usd"] < caches["baseline"]["observed_cost_usd"]
