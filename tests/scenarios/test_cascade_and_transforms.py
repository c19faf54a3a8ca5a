"""Cascade expected cost, compression, batch, retries with fallback, growth, measured bench values."""

from __future__ import annotations

from decimal import Decimal

import pytest
from scenario_helpers import apply, cost, frame, tiny, usd

from llmcost.bench.summary import parse_bench_summary
from llmcost.errors import ScenarioError
from llmcost.estimate import run_estimate
from llmcost.scenarios.engine import ComposedScenario
from llmcost.scenarios.schema import ScenarioSpec

CASCADE = {"cascade": {"steps": [
    {"model": "small", "accept": 0.6, "latency_ms": 100},
    {"model": "mid", "accept": 0.5, "latency_ms": 300},
    {"model": "big", "accept": 1, "latency_ms": 1000},
]}}


def test_cascade_expected_cost_equals_the_hand_sum() -> None:
    df = frame([
        {"at": 0},                         # fits every step
        {"at": 1, "input_tokens": 20000},  # too long for small (10k window): starts at mid
    ])
    applied = apply(CASCADE, df)
    # row 0: small 1 × (1000×1 + 100×2) = 1200; mid 0.4 × 4800 = 1920; big 0.2 × 12000 = 2400 → 5520 µ$
    # row 1: mid 1 × (20000×4 + 100×8) = 80800; big 0.5 × (20000×10 + 100×20) = 101000 → 181800 µ$
    assert cost(applied) == usd(5520 + 181800)
    steps = applied.details["cascade"]["steps"]
    assert [s["answered_share"] for s in steps] == [0.3, 0.35, 0.35]
    assert [s["attempted"] for s in steps] == pytest.approx([1, 1.4, 0.7])
    assert steps[0]["context_window_refusals"] == 1
    # expected latency (100×1 + 300×1.4 + 1000×0.7) / 2 = 610 ms, 390 less than... big alone: 1000
    assert applied.details["cascade"]["expected_latency_ms"] == pytest.approx(610)
    assert applied.details["cascade"]["extra_latency_ms_vs_last_step"] == pytest.approx(-390)


BENCH = parse_bench_summary({"kind": "bench", "models": [
    {"model": "small", "requests": 10, "quality_pass_rate": 0.5, "error_rate": 0.1,
     "latency_ms": {"p50": 200}, "by_task": [{"task": "easy", "requests": 5, "quality_pass_rate": 0.9}]},
    {"model": "big", "requests": 10, "quality_pass_rate": 0.95, "latency_ms": {"p50": 900}},
]})


def test_cascade_with_measured_pass_rates_per_task() -> None:
    df = frame([{"task": "easy"}, {"task": "hard"}])
    spec = {"cascade": {"steps": [{"model": "small", "accept": "measured"}, {"model": "big", "accept": 1}]}}
    applied = apply(spec, df, bench=BENCH)
    # easy: small 1200 + big 0.1 × 12000; hard (overall 0.5): 1200 + 0.5 × 12000
    assert cost(applied) == usd(1200 + 1200 + 1200 + 6000)
    assert applied.details["cascade"]["expected_latency_ms"] == pytest.approx(200 + 900 * 0.6 / 2 * 1)
    measured = {m["model"]: m for m in applied.details["measured"]}
    assert measured["big"]["quality_pass_rate"] == 0.95


def test_measured_without_bench_results_names_the_field() -> None:
    spec = {"cascade": {"steps": [{"model": "small", "accept": "measured"}, {"model": "big", "accept": 1}]}}
    with pytest.raises(ScenarioError) as err:
        apply(spec, frame([{}]))
    assert err.value.field == "scenarios[0].cascade.steps[0].accept"


def test_compression_charges_the_compressor() -> None:
    df = frame([{"input_tokens": 4000}, {"input_tokens": 800}])
    applied = apply({"compression": {"threshold_tokens": 1000, "ratio": 0.5, "compressor": "small"}}, df)
    # row 0: big 2000×10 + 100×20 = 22000; compressor small reads 4000×1, writes 2000×2 = 8000
    # row 1 (under threshold): 800×10 + 2000 = 10000
    assert cost(applied) == usd(40_000)
    assert applied.details["compression"]["compressed_requests"] == 1
    assert applied.details["compression"]["input_tokens_removed"] == 2000


def test_batch_moves_selected_traffic_to_batch_rates() -> None:
    df = frame([{"task": "nightly"}, {"task": "live"}, {"task": "nightly", "model": "mid"}])
    applied = apply({"batch": {"when": {"task": "nightly"}}}, df)
    # big at −50%: 6000; live: 12000; mid has no batch price: 4800
    assert cost(applied) == usd(6000 + 12000 + 4800)
    assert applied.details["batch"]["models_without_batch_pricing"] == ["mid"]
    assert applied.details["batch"]["moved_requests"] == 2


def test_retries_and_fallback_add_paid_attempts() -> None:
    spec = {"retries": {"error_rate": {"big": 0.1}, "max_retries": 1, "fallback": ["small"]}}
    applied = apply(spec, frame([{}]))
    # big: 1 + 0.1 attempts × 12000 = 13200; fallback reached with 0.1² = 0.01: 0.01 × 1200 = 12
    assert cost(applied) == usd(13_212)
    assert applied.details["retries"]["expected_billed_attempts"] == pytest.approx(1.11)


def test_retries_unbilled_failures_only_shift_to_fallback() -> None:
    spec = {"retries": {"error_rate": {"default": 0.5}, "max_retries": 0, "fallback": ["small"],
                        "bill_failed": False}}
    applied = apply(spec, frame([{}]))
    # big succeeds half the time: 6000; small gets 0.5 and succeeds half of that: 0.25 × 1200 = 300
    assert cost(applied) == usd(6300)
    assert applied.details["retries"]["failed_after_fallback"] == pytest.approx(0.25)


def test_monthly_growth_scales_the_projection() -> None:
    df = frame([{"at": 0}, {"at": 86400}])
    spec = ScenarioSpec.model_validate({"name": "grow", "monthly_growth": "0.1"})
    est = run_estimate(df, tiny(), [ComposedScenario(spec)], projection_days=30)
    base, grown = est.scenarios
    assert base.monthly_cost == Decimal("0.72")
    assert grown.monthly_cost_with_growth == Decimal("0.792")
    assert grown.monthly_cost == Decimal("0.72")  # scenarios are compared at the observed volume
    assert est.savings(grown) == (0, 0)
