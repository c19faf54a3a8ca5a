"""Scenario groups on forked processes give the one-process estimate exactly; a child's error reaches the
parent whole; carried replays key categorical columns by code and block ids of any kind."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from llmcost import estimate as estimate_module
from llmcost import scenario_split
from llmcost.catalog import load_catalog
from llmcost.engines import processes
from llmcost.engines.memory import freed_memory_kept
from llmcost.engines.threads import workers
from llmcost.errors import InputError, LlmcostError
from llmcost.estimate import run_estimate, run_estimate_chunked
from llmcost.logs import read_logs
from llmcost.scenarios import select_scenarios

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_logs" / "support_workload.jsonl.gz"
EVERY_STRATEGY = """
scenarios:
  - name: lru-and-stand-in
    exact_cache: {ttl: 2h, max_entries: 40, assumed_semantic_hit_rate: 0.1}
    routing:
      rules:
        - when: {share: 0.3}
          to: claude-sonnet-4
    prompt_cache: {ttl: 5m, min_tokens: 600, prefix_tokens: {default: 900, by_task: {classify: 700}}}
  - name: cache-compress-batch
    exact_cache: {ttl: 24h}
    compression: {threshold_tokens: 2000, ratio: 0.6}
    prompt_cache: {ttl: 1h, min_tokens: 1024}
    batch: {share: 0.5}
  - name: coalesce-and-retries
    coalesce: {window_ms: 400, max_batch: 4}
    retries: {error_rate: {default: 0.02}, fallback: [gpt-4o-mini]}
  - name: cascade
    cascade:
      steps:
        - {model: gpt-4o-mini, accept: 0.7}
        - {model: gpt-4o, accept: 1.0}
"""

pytestmark = pytest.mark.skipif(not processes.can_fork(), reason="forks only on Linux")


# --- run_forked ------------------------------------------------------------------------------------------


def test_results_come_back_in_order_from_each_process() -> None:
    parent = os.getpid()
    out = processes.run_forked([lambda: (os.getpid(), np.arange(3)), lambda: (os.getpid(), {"a": [1, 2]}),
                                lambda: (os.getpid(), "third")])
    pids = [pid for pid, _ in out]
    assert pids[0] == parent and len(set(pids)) == 3  # the first here, the others in two children
    assert np.array_equal(out[0][1], np.arange(3)) and out[1][1] == {"a": [1, 2]} and out[2][1] == "third"


def _raise_input_error() -> None:
    raise InputError("expected a number", source="logs.csv", line=7, field="input_tokens")


def test_a_childs_error_is_raised_here_with_its_class_and_location(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(InputError) as caught:
        processes.run_forked([lambda: 1, _raise_input_error])
    assert str(caught.value) == "logs.csv:7: field 'input_tokens': expected a number"
    assert (caught.value.source, caught.value.line, caught.value.field) == ("logs.csv", 7, "input_tokens")
    assert list(tmp_path.iterdir()) == []  # the child's result file is gone


def test_a_child_that_dies_is_an_error_not_a_missing_result(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(LlmcostError, match=r"ended without a result \(signal 9\).*--jobs 1"):
        processes.run_forked([lambda: 1, lambda: os.kill(os.getpid(), signal.SIGKILL)])
    assert list(tmp_path.iterdir()) == []


def test_a_failure_here_stops_the_children_and_leaves_no_file(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    forked: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    started = time.monotonic()

    def fail() -> None:
        raise ValueError("parent side")

    with pytest.raises(ValueError, match="parent side"):
        processes.run_forked([fail, lambda: time.sleep(60)])
    assert time.monotonic() - started < 30  # the sleeping child was killed, not waited for
    assert list(tmp_path.iterdir()) == []
    assert len(forked) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forked[0], os.WNOHANG)  # the child is gone, reaped: not even a zombie


def test_the_allocator_is_tuned_on_glibc_for_the_replays_only() -> None:
    with freed_memory_kept() as took:
        assert took is (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")


def test_arrow_allocates_from_jemalloc_inside_the_block_and_as_before_after() -> None:
    import pyarrow as pa

    from llmcost.engines.memory import arrow_jemalloc

    before = pa.default_memory_pool().backend_name
    with arrow_jemalloc() as took:
        inside = pa.default_memory_pool().backend_name
        buffer = pa.array(list(range(1000))).buffers()[1]
    assert pa.default_memory_pool().backend_name == before
    assert buffer is not None and len(buffer) == 8000  # a buffer made inside outlives the block
    try:
        pa.jemalloc_memory_pool()
        has = True
    except NotImplementedError:
        has = False
    assert took is has and (inside == "jemalloc") is has


STATUS = Path("/proc/self/status")


def _thp() -> str:
    return next(line.split()[1] for line in STATUS.read_text().splitlines() if line.startswith("THP_enabled"))


@pytest.mark.skipif(not STATUS.exists() or "THP_enabled" not in STATUS.read_text(),
                    reason="no transparent huge page status on this system")
def test_forked_groups_run_on_small_pages_and_this_process_gets_its_setting_back(
        sample_frame: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Copy-on-write faults on huge pages cost the groups' processes seconds of system time: every group
    (here and in the children) runs without them, and this process has its own setting back afterwards."""
    before = _thp()
    forked = _splits(monkeypatch, slices=None)
    real = estimate_module._group_parts

    def noting(*args: Any, **kwargs: Any) -> Any:
        (tmp_path / f"thp-{os.getpid()}").write_text(_thp())
        return real(*args, **kwargs)

    monkeypatch.setattr(estimate_module, "_group_parts", noting)
    with workers(2):
        run_estimate(sample_frame, load_catalog(), select_scenarios(None, baseline_only=False, catalog=load_catalog()))
    seen = {p.name: p.read_text() for p in tmp_path.glob("thp-*")}
    assert forked == [2] and len(seen) == 2 and set(seen.values()) == {"0"}
    assert _thp() == before


# --- the estimate split across processes ----------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_frame() -> pd.DataFrame:
    return read_logs([str(SAMPLE)]).frame


def _bucketed(frame: pd.DataFrame) -> pd.DataFrame:
    """Some rows stand for several requests (weight > 1), on a model with a long-context tier."""
    out = frame.copy()
    rows = out.index % 5 == 0
    out.loc[rows, "weight"] = 3
    out["model"] = out["model"].astype(str).where(~rows, "gemini-2.5-pro").astype("category")
    return out


def _splits(monkeypatch: pytest.MonkeyPatch, *, slices: int | None) -> list[int]:
    """Let test-sized logs fork (and be sliced when ``slices``); return the number of tasks each run forked."""
    monkeypatch.setattr(scenario_split, "PROCESS_MIN_ROWS", 100)
    if slices is not None:
        monkeypatch.setattr(estimate_module, "IN_MEMORY_SLICE", slices)
    seen: list[int] = []
    real = processes.run_forked

    def counting(tasks: Any) -> Any:
        seen.append(len(tasks))
        return real(tasks)

    monkeypatch.setattr(processes, "run_forked", counting)
    return seen


@pytest.mark.parametrize("slices", [None, 700])  # the whole frame, and time-ordered slices of it
@pytest.mark.parametrize("which", ["default", "every"])
def test_scenarios_on_two_processes_equal_one_process(sample_frame: pd.DataFrame, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch, slices: int | None,
                                                      which: str) -> None:
    catalog = load_catalog()
    path = None
    if which == "every":
        path = tmp_path / "every.yaml"
        path.write_text(EVERY_STRATEGY)
    frame = _bucketed(sample_frame)
    scenarios = select_scenarios(None if path is None else str(path), baseline_only=False, catalog=catalog)
    forked = _splits(monkeypatch, slices=slices)
    one = run_estimate(frame, catalog, scenarios)  # one core: one process
    assert forked in ([], [1])  # sliced or not, nothing forks
    forked.clear()
    encoded: list[object] = []
    real_encode = estimate_module._encoded_slices
    monkeypatch.setattr(estimate_module, "_encoded_slices", lambda f: encoded.append(real_encode(f)) or encoded[-1])
    with workers(2):
        two = run_estimate(frame, catalog, scenarios)
    assert forked == [2]
    assert len(encoded) == (1 if slices else 0)  # sliced: each slice's blocks encoded once, before the fork
    assert all(e is not None for e in encoded)
    assert one.warnings and two.warnings == one.warnings  # the bucket note, from whichever process saw it
    assert one.window == two.window
    for a, b in zip(one.scenarios, two.scenarios, strict=True):
        assert (a.name, a.observed_cost, a.monthly_cost, a.priced, a.extra_cost) == \
            (b.name, b.observed_cost, b.monthly_cost, b.priced, b.extra_cost)
        assert a.details == b.details, a.name


def test_the_cli_forks_with_jobs_and_prints_the_same(cli: Any, sample_frame: pd.DataFrame, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log.parquet"
    sample_frame.assign(model=sample_frame["model"].astype(str), task=sample_frame["task"].astype(str)).to_parquet(log)
    args = ["estimate", str(log), "--format", "json"]
    one = cli(*args, "--jobs", "1")
    forked = _splits(monkeypatch, slices=None)
    two = cli(*args, "--jobs", "2")
    assert one.exit_code == two.exit_code == 0, two.stderr
    assert forked == [2] and one.stdout == two.stdout


def test_a_row_error_in_a_forked_group_names_the_row(sample_frame: pd.DataFrame,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A log out of time order fails in whichever process slices it, with the same message as one process."""
    catalog = load_catalog()
    frame = sample_frame.copy()
    frame.loc[3000, "timestamp"] = frame["timestamp"].iloc[0]
    scenarios = select_scenarios(None, baseline_only=False, catalog=catalog)
    _splits(monkeypatch, slices=700)
    monkeypatch.setattr(estimate_module, "_slices_pay_off", lambda frame, chosen: True)
    with pytest.raises(LlmcostError, match="row 3001 is earlier than a row before it"), workers(2):
        run_estimate(frame, catalog, scenarios)


def test_one_core_small_logs_and_stateful_scenarios_stay_in_this_process(sample_frame: pd.DataFrame) -> None:
    catalog = load_catalog()
    scenarios = select_scenarios(None, baseline_only=False, catalog=catalog)
    assert scenario_split.split_scenarios(sample_frame, scenarios) == [list(range(len(scenarios)))]  # 1 core
    with workers(2):
        assert len(scenario_split.split_scenarios(sample_frame, scenarios)) == 1  # 4,200 rows: not worth it
        big = pd.DataFrame(index=range(scenario_split.PROCESS_MIN_ROWS))
        groups = scenario_split.split_scenarios(big, scenarios)
        assert len(groups) == 2 and sorted(i for g in groups for i in g) == list(range(len(scenarios)))


def test_groups_are_balanced_better_than_greedy_for_a_few_units() -> None:
    """The default set's units on 10M rows (in baseline sums): LPT puts the two big ones apart and the
    4.5 with the 13.8 (heaviest group 18.3); the best split is 13.8 + 1 | 13.0 + 4.5 (17.5)."""
    weights = [1.0, 4.5, 13.0, 13.8]
    groups = scenario_split.balanced(weights, 2)
    assert sorted(sorted(g) for g in groups) == [[0, 3], [1, 2]]
    chosen = estimate_module.with_baseline(select_scenarios(None, baseline_only=False, catalog=load_catalog()))
    big = pd.DataFrame({"prefix_hashes": [None]}).reindex(range(scenario_split.PROCESS_MIN_ROWS))
    with workers(2):
        split = scenario_split.split_scenarios(big, chosen)

    def weight(group: list[int]) -> float:
        return sum(scenario_split._weight(chosen[i], True) for i in group) + scenario_split.REPLAY_WEIGHT * any(
            scenario_split._cache_of(chosen[i]) is not None for i in group)

    assert [[chosen[i].name for i in g] for g in split] == [["tiered-routing", "exact-cache-24h", "all-combined"],
                                                            ["baseline", "prompt-caching"]]
    assert weight(split[0]) >= weight(split[1])  # the heaviest runs in this process (no pages to copy)
    many = [float(w % 7 + 1) for w in range(30)]  # past EXHAUSTIVE_UNITS: heaviest first to the lightest
    lpt = scenario_split.balanced(many, 3)
    assert sorted(u for g in lpt for u in g) == list(range(30))
    loads = [sum(many[u] for u in g) for g in lpt]
    assert max(loads) - min(loads) <= max(many)


# --- carried replays: model codes and block ids across chunks ------------------------------------------


def _in_chunks(frame: pd.DataFrame, size: int) -> Any:
    for start in range(0, len(frame), size):
        yield frame.iloc[start:start + size].reset_index(drop=True)


BLOCK_IDS: dict[str, Callable[[int], object]] = {
    "small ints": lambda b: b,
    "64-bit hashes": lambda b: (b * 0x9E3779B97F4A7C15) % (1 << 62),  # far beyond a 2**31 range
    "strings": lambda b: f"blk-{b:x}",
}


@pytest.mark.parametrize("kind", list(BLOCK_IDS))
@pytest.mark.parametrize("size", [97, 1000])
def test_streamed_prompt_cache_equals_whole_for_any_block_ids(sample_frame: pd.DataFrame, kind: str,
                                                              size: int) -> None:
    to_id = BLOCK_IDS[kind]
    frame = sample_frame.copy()
    frame["prefix_hashes"] = [None if blocks is None else [to_id(int(b)) for b in blocks]
                              for blocks in frame["prefix_hashes"].tolist()]
    catalog = load_catalog()
    scenarios = select_scenarios(None, baseline_only=False, catalog=catalog)
    whole = run_estimate(frame, catalog, scenarios)
    streamed = run_estimate_chunked(_in_chunks(frame, size), catalog, scenarios)
    cached = {s.name: s for s in whole.scenarios}["prompt-caching"].details["prompt_cache"]
    assert cached["hit_requests"] > 0
    for a, b in zip(whole.scenarios, streamed.scenarios, strict=True):
        assert (a.observed_cost, a.priced) == (b.observed_cost, b.priced), (kind, a.name)


def test_a_key_column_categorical_in_one_chunk_and_text_in_the_next(sample_frame: pd.DataFrame) -> None:
    """The stand-in prefix keys on task and model: a chunk whose task column is text (a reader that did
    not make it categorical) must carry on from a chunk whose task was categorical, and the other way."""
    from llmcost.scenarios.carry import Tail, carried_hits

    frame = sample_frame.iloc[:600].reset_index(drop=True)
    times = frame["timestamp"].astype("int64").to_numpy()
    ttl = 3600 * 10**9
    whole, _ = carried_hits({}, "x", [frame["task"].astype(str).astype("string"), frame["model"]], times, ttl)
    tails: dict[str, Tail] = {}
    got = []
    for i, start in enumerate(range(0, 600, 150)):
        part = frame.iloc[start:start + 150]
        task = part["task"] if i % 2 == 0 else part["task"].astype(str).astype("string")
        hits, _ = carried_hits(tails, "x", [task, part["model"]], times[start:start + 150], ttl)
        got.append(hits)
    assert whole.any() and np.array_equal(np.concatenate(got), whole)


@pytest.mark.parametrize("sort", ["counting", "composite"])
@pytest.mark.parametrize("ordered", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_leading_hits_equal_the_prefix_index_replay(ordered: bool, seed: int, sort: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The carried replay's one-sort kernel against PrefixIndex.replay: ties in time, requests that touch a
    block twice, rows out of time order, models sharing blocks; keys ordered by the counting sort (runs
    from its counts) or by the composite sort (runs from comparing neighbours)."""
    from llmcost.scenarios import prefix_index
    from llmcost.scenarios.carry import leading_hits
    from llmcost.scenarios.prefix_index import PrefixIndex

    if sort == "composite":
        monkeypatch.setattr(prefix_index, "_counting_groups", lambda codes: None)

    rng = np.random.default_rng(seed)
    rows = 3_000
    counts = rng.integers(0, 7, rows)
    offsets = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    codes = rng.integers(0, 25, int(offsets[-1])).astype(np.int64)
    times = rng.integers(0, 2_000, rows) * 10**9
    if ordered:
        times = np.sort(times)
    models = rng.integers(0, 3, rows)
    ttl = 300 * 10**9
    index = PrefixIndex(codes.astype(np.int32), offsets, np.ones(rows, dtype=bool), times)
    expected, _, _ = index.replay(np.arange(rows), models, np.ones(rows, dtype=bool), ttl, reuse=False)
    got = leading_hits(codes, offsets, models, times, ttl)
    assert 0 < int((expected > 0).sum()) < rows
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("spread", ["hours apart", "years apart"])  # counted by offset, or sorted
def test_hits_per_hour_equal_a_group_by(spread: str) -> None:
    from llmcost.scenarios.hit_series import hits_per_hour

    rng = np.random.default_rng(7)
    n = 5_000
    seconds = rng.integers(0, 72 * 3600, n)
    if spread == "years apart":
        seconds[::50] += 10 * 365 * 86400
    frame = pd.DataFrame({"timestamp": pd.to_datetime(1_790_000_000 + seconds, unit="s", utc=True),
                          "weight": rng.integers(1, 4, n)})
    hits = rng.random(n) < 0.4
    got = hits_per_hour(frame, hits)
    hour = frame["timestamp"].dt.floor("h").dt.strftime("%Y-%m-%dT%H:%MZ")
    expected = pd.DataFrame({"hour": hour, "requests": frame["weight"].astype(float),
                             "hits": np.where(hits, frame["weight"], 0).astype(float)}).groupby("hour").sum()
    assert got == {h: {"requests": r, "hits": x} for h, r, x in expected.itertuples()}
    assert len(got) > 72


def test_overlapping_blocks_keep_freed_memory_until_the_last_one_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads of one process (a Dask worker's tasks) may overlap their blocks: malloc's limits are set on
    entry and put back only when the last block ends."""
    from llmcost.engines import memory

    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(memory, "_mallopt", lambda: lambda option, value: calls.append((option, value)) or 1)
    first, second = memory.freed_memory_kept(), memory.freed_memory_kept()
    first.__enter__()
    second.__enter__()
    assert calls[-1] == (memory.M_TRIM_THRESHOLD, memory.KEEP_BYTES)
    first.__exit__(None, None, None)
    assert all(value == memory.KEEP_BYTES for _, value in calls)  # the second block still keeps
    second.__exit__(None, None, None)
    settled = [(memory.M_MMAP_THRESHOLD, memory.SETTLED_MMAP), (memory.M_TRIM_THRESHOLD, memory.SETTLED_TRIM)]
    assert calls[-2:] == settled


def test_a_dask_task_keeps_freed_memory_and_gives_it_back_at_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536: a replay task sets malloc to keep
    what it frees (else every freed array is faulted in again) and trims the heap when it ends."""
    from llmcost.engines import memory
    from llmcost.engines.replay_task import worker_threads

    calls: list[object] = []
    monkeypatch.setattr(memory, "_mallopt", lambda: lambda option, value: calls.append((option, value)) or 1)
    monkeypatch.setattr(memory, "release_free_memory", lambda: calls.append("trim"))
    with worker_threads():
        assert calls == [(memory.M_MMAP_THRESHOLD, memory.KEEP_BYTES), (memory.M_TRIM_THRESHOLD, memory.KEEP_BYTES)]
    assert calls[-1] == "trim" and (memory.M_TRIM_THRESHOLD, memory.SETTLED_TRIM) in calls
