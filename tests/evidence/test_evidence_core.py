"""The evidence core on hand-made frames: Wilson intervals, traffic-weighted quality, unmeasured
traffic, and latency percentiles against numpy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from llmcost.bench.results import Record
from llmcost.errors import InputError
from llmcost.evidence import scenario_latency, scenario_quality, wilson
from llmcost.evidence.bench import BenchEvidence, LatencySample, from_records, from_summary


def test_wilson_known_values() -> None:
    low, high = wilson(8, 10)
    assert (round(low, 3), round(high, 3)) == (0.490, 0.943)
    low, high = wilson(5, 5)
    assert (round(low, 3), high) == (0.566, 1.0)
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(50, 100)
    assert (round(low, 4), round(high, 4)) == (0.4038, 0.5962)
    with pytest.raises(ValueError):
        wilson(3, 2)


def _evidence() -> BenchEvidence:
    counts = {("cheap", "classify"): (9, 10), ("cheap", "extract"): (2, 10), ("big", "extract"): (19, 20),
              ("big", "classify"): (10, 10), ("cheap", None): (11, 20), ("big", None): (29, 30)}
    samples = {"cheap": LatencySample("cheap", np.array([50.0, 60.0]), np.array([100.0, 200.0, 300.0, 400.0])),
               "big": LatencySample("big", np.array([250.0]), np.array([1000.0, 2000.0]))}
    return BenchEvidence(counts, samples)


def _frame(models: list[str], tasks: list[str | None], weights: list[float], **extra: list[float]) -> pd.DataFrame:
    data = {"model_id": pd.Categorical(models), "task": pd.array(tasks, dtype="string"),
            "weight": np.asarray(weights, dtype=np.float64), **{k: np.asarray(v, dtype=np.float64)
                                                                  for k, v in extra.items()}}
    return pd.DataFrame(data)


def test_quality_is_traffic_weighted_by_task() -> None:
    frame = _frame(["cheap", "cheap", "big", "cheap"], ["classify", "extract", "extract", "classify"],
                   [30, 10, 10, 10])
    q = scenario_quality(frame, _evidence())
    # classify: 40 requests all on cheap (0.9); extract: 10 on cheap (0.2), 10 on big (0.95)
    assert q.task("classify").point == pytest.approx(0.9)
    assert q.task("extract").point == pytest.approx((10 * 0.2 + 10 * 0.95) / 20)
    assert q.overall.point == pytest.approx((40 * 0.9 + 10 * 0.2 + 10 * 0.95) / 60)
    lows = {k: wilson(*v)[0] for k, v in _evidence().counts.items()}
    expected_low = (40 * lows[("cheap", "classify")] + 10 * lows[("cheap", "extract")]
                    + 10 * lows[("big", "extract")]) / 60
    assert q.overall.low == pytest.approx(expected_low)
    assert q.overall.unmeasured_share == 0.0


def test_unmeasured_traffic_is_counted_apart_never_assumed() -> None:
    frame = _frame(["cheap", "big", "other"], ["summarize", "extract", "extract"], [25, 50, 25])
    q = scenario_quality(frame, _evidence())
    # cheap/summarize: the bench has cheap but never scored summarize; 'other' was never benched
    assert q.overall.unmeasured_share == 0.5
    assert q.overall.point == pytest.approx(0.95)
    assert {(m, t) for m, t, _ in q.unmeasured} == {("cheap", "summarize"), ("other", "extract")}
    assert q.task("summarize").point is None
    assert q.task("summarize").unmeasured_share == 1.0


def test_rows_without_task_are_unmeasured_when_the_log_has_tasks() -> None:
    q = scenario_quality(_frame(["cheap", "cheap"], ["classify", None], [1, 1]), _evidence())
    assert q.overall.unmeasured_share == 0.5


def test_no_task_column_uses_the_models_overall_rate() -> None:
    frame = _frame(["cheap", "big"], ["x", "y"], [1, 3]).drop(columns="task")
    q = scenario_quality(frame, _evidence())
    assert q.overall.point == pytest.approx((11 / 20 + 3 * 29 / 30) / 4)
    assert q.by_task == () and "note" in q.to_json()


def test_latency_percentiles_from_the_log_match_numpy() -> None:
    rng = np.random.default_rng(7)
    n = 5000
    latency = rng.lognormal(6, 0.8, n)
    ttft = latency * 0.2
    weights = rng.integers(1, 4, n)
    models = rng.choice(["cheap", "big"], n)
    frame = _frame(list(models), ["classify"] * n, list(weights), latency_ms=list(latency), ttft_ms=list(ttft))
    lat = scenario_latency(frame, _evidence())
    expanded = np.repeat(latency, weights)
    for q, got in ((50, lat.e2e_ms.p50), (95, lat.e2e_ms.p95), (99, lat.e2e_ms.p99)):
        want = np.percentile(expanded, q, method="inverted_cdf")
        assert got == pytest.approx(want, rel=1.5e-3)
    assert lat.ttft_ms.p95 == pytest.approx(np.percentile(np.repeat(ttft, weights), 95, method="inverted_cdf"),
                                           rel=1.5e-3)
    assert lat.e2e_ms.source == "log" and lat.e2e_ms.shares == {"log": 1.0}


def test_latency_falls_back_to_bench_per_model() -> None:
    # the log times 'cheap' only; 'big' comes from the bench: mixed
    frame = _frame(["cheap", "cheap", "big"], ["a", "a", "a"], [1, 1, 2], latency_ms=[10.0, 20.0, np.nan])
    lat = scenario_latency(frame, _evidence())
    assert lat.e2e_ms.source == "mixed"
    assert lat.e2e_ms.shares == {"bench": 0.5, "log": 0.5}
    # mixture: 10 (.25), 20 (.25), 1000 (.25), 2000 (.25)
    assert lat.e2e_ms.p50 == pytest.approx(20.0, rel=2e-3)
    assert lat.e2e_ms.p95 == pytest.approx(2000.0, rel=2e-3)
    # TTFT: the log has none at all, so all from the bench
    assert lat.ttft_ms.source == "bench"


def test_bench_only_when_the_log_has_no_latency() -> None:
    lat = scenario_latency(_frame(["cheap"], ["a"], [1]), _evidence())
    assert lat.e2e_ms.source == "bench"
    want = np.percentile([100.0, 200.0, 300.0, 400.0], [50, 95], method="inverted_cdf")
    assert [lat.e2e_ms.p50, lat.e2e_ms.p95] == pytest.approx(list(want), rel=2e-3)


def test_cache_hits_answer_at_the_hit_latency() -> None:
    frame = _frame(["cheap"], ["a"], [1], latency_ms=[500.0])
    lat = scenario_latency(frame, _evidence(), 5.0, details={"exact_cache": {"requests": 4, "hits": 3}})
    assert lat.e2e_ms.p50 == pytest.approx(5.0, rel=2e-3)
    assert lat.e2e_ms.p99 == pytest.approx(500.0, rel=2e-3)
    assert lat.e2e_ms.shares == {"hit": 0.75, "log": 0.25}


def test_unmeasured_model_latency_is_reported_not_assumed() -> None:
    lat = scenario_latency(_frame(["nobody", "cheap"], ["a", "a"], [1, 1]), _evidence())
    assert lat.unmeasured_models == ("nobody",)
    assert lat.e2e_ms.shares == {"bench": 0.5, "unmeasured": 0.5}


def test_cascade_paths_add_the_latency_of_earlier_steps() -> None:
    ev = BenchEvidence({}, {"a": LatencySample("a", np.array([10.0]), np.array([100.0])),
                            "b": LatencySample("b", np.array([30.0]), np.array([1000.0]))})
    frame = _frame(["a", "b"], ["t", "t"], [1, 0.5], cascade_step=[0, 1], served_share=[0.5, 1.0])
    details = {"cascade": {"steps": [{"model": "a", "answered": 0.5}, {"model": "b", "answered": 0.5}]}}
    lat = scenario_latency(frame, ev, details=details)
    assert lat.e2e_ms.p50 == pytest.approx(100.0, rel=2e-3)
    assert lat.e2e_ms.p95 == pytest.approx(1100.0, rel=2e-3)  # a's attempt, then b
    assert lat.ttft_ms.p95 == pytest.approx(130.0, rel=2e-3)  # a's whole attempt, then b's first token


def test_evidence_from_records_counts_scored_requests() -> None:
    records = [Record("p1", "m", 0, task="t", ok=True, passed=True, latency_ms=10.0, ttft_ms=1.0),
               Record("p2", "m", 0, task="t", ok=False, passed=False),
               Record("p3", "m", 0, task="u", ok=True, passed=None, latency_ms=30.0)]
    ev = from_records(records)
    rate = ev.pass_rate("m", "t")
    assert (rate.passed, rate.trials) == (1, 2)
    assert ev.pass_rate("m", "u") is None
    assert list(ev.latency("m").e2e_ms) == [10.0, 30.0]
    assert ev.tasks == ("t",)


def test_summary_errors_name_the_field() -> None:
    with pytest.raises(InputError) as err:
        from_summary({"kind": "bench", "models": [{"model": "m", "quality_passed": 3, "quality_scored": 2}]}, "b.json")
    assert err.value.field == "models[0].quality_passed"
    with pytest.raises(InputError) as err:
        from_summary({"kind": "bench", "models": [{"model": "m", "latency_samples_ms": ["x"]}]}, "b.json")
    assert err.value.field == "models[0].latency_samples_ms"
    with pytest.raises(InputError) as err:
        from_summary({"kind": "nope"}, "b.json")
    assert err.value.field == "kind"


def test_categorical_and_string_tasks_give_the_same_quality() -> None:
    frame = _frame(["cheap", "cheap", "big", "cheap"], ["classify", "extract", "extract", None], [30, 10, 10, 10])
    as_category = frame.assign(task=frame["task"].astype("category").cat.add_categories(["unused"]))
    assert scenario_quality(as_category, _evidence()) == scenario_quality(frame, _evidence())
    assert scenario_quality(frame, _evidence()).overall.unmeasured_share == pytest.approx(10 / 60, abs=1e-6)
