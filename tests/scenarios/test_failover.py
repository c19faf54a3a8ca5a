"""Latency-aware failover: the vectorized replay against a row-by-row reference, streaming, money, errors."""

from __future__ import annotations

import gzip
import json
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scenario_helpers import T0, apply, cost, frame, tiny, usd

from llmcost.estimate import run_estimate, run_estimate_chunked
from llmcost.frame import conform
from llmcost.scenarios.engine import ComposedScenario
from llmcost.scenarios.failover import percentile_ms
from llmcost.scenarios.schema import ScenarioSpec

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_logs" / "support_workload.jsonl.gz"


def random_log(seed: int, n: int = 1500) -> pd.DataFrame:
    """Several models and regions (some rows without one), bursts of slow requests, missing latencies, ties
    in time, a model the catalog does not know, and rows on the target itself."""
    rng = np.random.default_rng(seed)
    gaps = rng.choice([0, 0, 250, 1000, 4000, 20000], size=n)  # ms; zeros give ties
    at_ms = np.cumsum(gaps)
    models = rng.choice(["big", "small", "mid", "mystery"], size=n, p=[0.4, 0.3, 0.2, 0.1])
    regions = rng.choice(["eu", "us", None], size=n)
    slow = (np.sin(at_ms / 4e5 + rng.uniform(0, 6, size=n) * 0.1) > 0.6) & (models == "big")
    latency = np.rint(rng.lognormal(6.5, 0.6, size=n) * np.where(slow, 6, 1)).astype(float)
    latency[rng.random(n) < 0.05] = np.nan
    df = pd.DataFrame({
        "timestamp": T0 + pd.to_timedelta(at_ms, unit="ms"), "model": models, "region": regions,
        "input_tokens": rng.integers(100, 5000, size=n), "output_tokens": rng.integers(10, 500, size=n),
        "cache_read_tokens": 0, "latency_ms": latency, "prompt_hash": [f"p{k}" for k in rng.zipf(1.5, size=n) % 200],
    })
    return conform(df, source="<random>").frame


def reference(df: pd.DataFrame, target: str, cfg: dict[str, Any]) -> tuple[np.ndarray, dict[str, int], int]:
    """Row by row: moved mask, time shed (ns) per source, shed intervals. Sources are (catalog model,
    region); the window holds the source's latencies completed in (t - window, t]; nearest-rank percentile."""
    ids = df["model_id"].astype(object).where(df["model_id"].notna(), None).tolist()
    regions = [r if isinstance(r, str) else "" for r in df["region"].astype(object).tolist()]
    t = df["timestamp"].dt.as_unit("ns").astype("int64").tolist()
    lat = df["latency_ms"].astype(float).tolist()
    window, cooldown = int(cfg["window"] * 1e9), int(cfg.get("cooldown", 0) * 1e9)
    p, threshold, minimum = Fraction(str(cfg.get("percentile", 99))), cfg["threshold_ms"], cfg.get("min_requests", 20)
    moved = np.zeros(len(df), dtype=bool)
    last_breach: dict[tuple[str, str], int] = {}
    state: dict[tuple[str, str], tuple[int, bool]] = {}
    shed_ns: dict[str, int] = {}
    intervals = 0
    for i in sorted(range(len(df)), key=lambda k: (t[k], k)):
        if ids[i] is None or ids[i] == target:
            continue
        src = (ids[i], regions[i])
        seen = sorted(lat[j] for j in range(len(df)) if ids[j] == ids[i] and regions[j] == regions[i]
                      and not math.isnan(lat[j]) and t[i] - window < t[j] + round(lat[j] * 1e6) <= t[i])
        breach = len(seen) >= minimum and seen[math.ceil(p * len(seen) / 100) - 1] > threshold
        if breach:
            last_breach[src] = t[i]
        shed = breach or (src in last_breach and t[i] - last_breach[src] < cooldown)
        prev = state.get(src)
        if prev is not None and prev[1]:
            key = f"{src[0]} ({src[1]})" if src[1] else src[0]
            shed_ns[key] = shed_ns.get(key, 0) + t[i] - prev[0]
        intervals += shed and not (prev is not None and prev[1])
        state[src] = (t[i], shed)
        moved[i] = shed
    return moved, shed_ns, intervals


CONFIGS = [
    {"threshold_ms": 2000, "window": 900},
    {"threshold_ms": 2500, "window": 300, "cooldown": 120, "min_requests": 5},
    {"threshold_ms": 1500, "window": 30, "percentile": 90, "min_requests": 3},
    {"threshold_ms": 4000, "window": 600, "percentile": 99.9, "cooldown": 30},
]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("cfg", CONFIGS)
def test_vectorized_replay_decides_like_a_row_by_row_replay(seed: int, cfg: dict[str, Any]) -> None:
    df = random_log(seed)
    applied = apply({"failover": {"target": "mid", **cfg}}, df)
    out = applied.frame
    ids = out["model_id"].astype(object)
    logged = pd.Series(df["model"].astype(str))
    moved = ((ids == "mid") & (logged != "mid")).to_numpy(dtype=bool)
    from llmcost.scenarios.common import with_model_ids

    want_moved, want_shed, want_intervals = reference(with_model_ids(df, tiny()), "mid", cfg)
    assert moved.tolist() == want_moved.tolist()
    info = applied.details["failover"]
    assert info["moved_requests"] == want_moved.sum()
    assert info["shed_intervals"] == want_intervals
    assert info["time_shed_s"] == Decimal(sum(want_shed.values())) / Decimal(10**9)
    got = {k: v["time_shed_s"] for k, v in info["sources"].items() if v["time_shed_s"]}
    assert got == {k: Decimal(v) / Decimal(10**9) for k, v in want_shed.items() if v}
    assert not (moved & (logged == "mystery").to_numpy()).any()  # unknown models are never moved


def test_the_random_logs_do_shed_and_recover() -> None:
    """The reference comparison is not vacuous: sources are shed, come back and are shed again."""
    df = random_log(1)
    info = apply({"failover": {"target": "mid", **CONFIGS[0]}}, df).details["failover"]
    assert info["shed_intervals"] >= 3
    assert 0 < info["moved_requests"] < 0.5 * info["requests"]


@pytest.mark.parametrize("seed", [4, 5])
def test_percentile_is_nearest_rank_like_numpy_inverted_cdf(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.rint(rng.lognormal(6, 1, size=int(rng.integers(1, 400))))
    histogram: dict[int, float] = {}
    for v in values.astype(int).tolist():
        histogram[v] = histogram.get(v, 0) + 1
    for p in (50, 90, 99, 99.9, 100):
        assert percentile_ms(histogram, p) == np.percentile(values, p, method="inverted_cdf")


def test_a_breach_moves_requests_to_the_target_at_its_price_and_back_after_the_cooldown() -> None:
    # big is slow at t=0..19 (5 s each), fast from t=100; small (the target) answers in 300 ms from t=0
    rows = [{"at": i, "latency_ms": 5000} for i in range(20)]
    rows += [{"at": 100 + i * 10, "latency_ms": 100} for i in range(12)]
    rows += [{"at": i * 20, "model": "small", "latency_ms": 300} for i in range(10)]
    df = frame(rows)
    spec = {"failover": {"target": "small", "threshold_ms": 2500, "window": 60, "cooldown": 30, "min_requests": 1}}
    applied = apply(spec, df)
    info = applied.details["failover"]
    moved = ((applied.frame["model_id"].astype(str) == "small") & (df["model"].astype(str) == "big")).to_numpy()
    at = (df["timestamp"] - T0).dt.total_seconds().to_numpy()
    # The first 5 s latency completes at t=5 (seen by the request arriving then): breaches at t=5..19. At
    # t=100 the window (40, 100] holds no completion of big: no verdict, and the cooldown (30 s after t=19)
    # is over, so big is back.
    assert at[moved].tolist() == [float(s) for s in range(5, 20)]
    assert info["moved_requests"] == 15 and info["shed_intervals"] == 1
    assert info["time_shed_s"] == Decimal(100 - 5)  # from t=5 to big's next request, t=100
    assert info["sources"] == {"big": {"moved_requests": 15.0, "time_shed_s": Decimal(95), "shed_intervals": 1}}
    # 15 requests of 1000 in / 100 out move from big ($10/$20 per Mtok) to small ($1/$2): $0.012 → $0.0012 each
    assert info["cost_before_usd"] == usd(15 * 12_000) and info["cost_after_usd"] == usd(15 * 1_200)
    assert info["cost_change_usd"] == usd(-15 * 10_800)
    assert cost(applied) == cost(apply({}, df)) + info["cost_change_usd"]
    # after: the moved requests take small's latest latency (300 ms); 5 slow requests of 42 remain (> 1 %)
    assert info["latency_p99_before_ms"] == 5000 and info["latency_p99_after_ms"] == 5000
    assert info["moved_latency_unknown"] == 0


def test_without_a_cooldown_the_source_comes_back_at_the_first_healthy_verdict() -> None:
    rows = [{"at": i, "latency_ms": 5000 if i < 3 else 10} for i in range(20)]
    df = frame(rows)
    spec = {"failover": {"target": "small", "threshold_ms": 1000, "window": 4, "min_requests": 1}}
    info = apply(spec, df).details["failover"]
    # slow completions at 5, 6, 7 are in the window (t-4, t] for t=5..10; the max is the p99 of so few
    assert info["moved_requests"] == 6 and info["shed_intervals"] == 1
    assert info["time_shed_s"] == 6  # t=5 to t=11, the first request that finds big healthy
    assert info["moved_latency_unknown"] == 6  # small has no logged latency and no bench results


def test_moved_requests_take_the_bench_p50_before_the_target_has_a_logged_latency() -> None:
    from llmcost.bench.summary import parse_bench_summary

    bench = parse_bench_summary({"kind": "bench", "models": [
        {"model": "small", "requests": 10, "quality_pass_rate": 1.0, "latency_ms": {"p50": 9000}}]})
    rows = [{"at": i, "latency_ms": 5000 if i < 3 else 10} for i in range(20)]
    spec = {"failover": {"target": "small", "threshold_ms": 1000, "window": 4, "min_requests": 1}}
    info = apply(spec, frame(rows), bench=bench).details["failover"]
    assert info["moved_requests"] == 6 and info["moved_latency_unknown"] == 0  # t=5..10, as without bench
    assert info["latency_p99_before_ms"] == 5000 and info["latency_p99_after_ms"] == 9000  # the bench p50
    # once the target has logged a latency (t=4: 250 ms), moved requests take it instead
    later = apply(spec, frame([*rows, {"at": 4, "model": "small", "latency_ms": 250}]), bench=bench)
    assert later.details["failover"]["latency_p99_after_ms"] == 5000


def test_a_log_without_latency_ms_exits_2_naming_the_field(cli: Any, tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps({"timestamp": f"2026-11-0{d}T00:00:00Z", "model": "gpt-4o",
                                       "input_tokens": 10, "output_tokens": 5}) + "\n" for d in (2, 3)))
    spec = tmp_path / "s.yaml"
    spec.write_text("scenarios:\n  - name: f\n    failover: {target: gpt-4o-mini, threshold_ms: 2500}\n")
    for extra in ([], ["--chunk-rows", "1"]):
        result = cli("estimate", log, "--scenarios", spec, *extra)
        assert result.exit_code == 2
        assert "field 'scenarios[0].failover'" in result.stderr and "latency_ms" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("body", "field", "why"),
    [
        ("failover: {target: gpt-4o-mini, threshold_ms: -1}", "scenarios[0].failover.threshold_ms", "greater than 0"),
        ("failover: {target: gpt-4o-mini, threshold_ms: 10, window: soon}", "scenarios[0].failover.window",
         "duration"),
        ("failover: {target: nope, threshold_ms: 10}", "scenarios[0].failover.target", "neither a model"),
        ("failover: {target: gpt-4o-mini, threshold_ms: 10}\n    routing: {rules: [{to: gpt-4o-mini}]}",
         "scenarios[0]", "cannot be combined"),
    ],
)
def test_bad_failover_settings_exit_2_naming_the_field(cli: Any, tmp_path: Path, body: str, field: str,
                                                       why: str) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(f"scenarios:\n  - name: f\n    {body}\n")
    result = cli("estimate", SAMPLE, "--scenarios", spec)
    assert result.exit_code == 2
    assert f"field '{field}'" in result.stderr and why in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def rounded(value: Any) -> Any:
    """Numbers to nine places (expected requests are float sums; their order differs by chunk)."""
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return value.quantize(Decimal("1e-9"))
    return round(value, 9) if isinstance(value, float) else value


def _chunks(df: pd.DataFrame, size: int) -> Any:
    for start in range(0, len(df), size):
        yield df.iloc[start:start + size].reset_index(drop=True)


@pytest.mark.parametrize(("size", "rows"), [(1, 150), (13, 1200), (97, 1200), (500, 1200)])
def test_streamed_chunks_equal_the_whole_log(size: int, rows: int) -> None:
    df = random_log(7, n=rows)
    specs = [ScenarioSpec.model_validate({"name": f"f{i}", "failover": {"target": "mid", **cfg}})
             for i, cfg in enumerate(CONFIGS)]
    specs.append(ScenarioSpec.model_validate({  # with the strategies before and after it
        "name": "combined", "exact_cache": {"ttl": "10m", "assumed_semantic_hit_rate": 0.1},
        "failover": {"target": "mid", **CONFIGS[1]}, "compression": {"threshold_tokens": 3000, "ratio": 0.5},
        "batch": {"share": 0.5}, "retries": {"error_rate": {"default": 0.02}, "fallback": ["small"]}}))
    scenarios = [ComposedScenario(s, "<test>", None, i) for i, s in enumerate(specs)]
    whole = run_estimate(df, tiny(), scenarios)
    streamed = run_estimate_chunked(_chunks(df, size), tiny(), scenarios)
    for a, b in zip(whole.scenarios, streamed.scenarios, strict=True):
        if a.name == "combined":  # expected (fractional) requests: float sums in another order
            assert abs(a.observed_cost - b.observed_cost) < Decimal("1e-9")
            assert rounded(a.details["failover"]) == rounded(b.details["failover"])
            continue
        assert a.observed_cost == b.observed_cost
        assert a.details == b.details
    assert sum(bool(s.details["failover"]["moved_requests"]) for s in whole.scenarios[1:]) >= 2
    assert whole.scenarios[-1].details["exact_cache"]["hits"] > 0


def test_cli_on_the_sample_streams_to_the_whole_file_result(cli: Any, tmp_path: Path) -> None:
    if not SAMPLE.exists():
        pytest.skip("sample log not present")
    spec = tmp_path / "s.yaml"
    spec.write_text("scenarios:\n  - name: f\n    failover: {target: gpt-4o-mini, threshold_ms: 15000, "
                    "window: 1h, cooldown: 10m}\n")
    whole = cli("estimate", SAMPLE, "--scenarios", spec, "--format", "json")
    chunked = cli("estimate", SAMPLE, "--scenarios", spec, "--format", "json", "--chunk-rows", "333")
    assert whole.exit_code == chunked.exit_code == 0, whole.stderr
    a, b = (json.loads(r.stdout)["scenarios"][1] for r in (whole, chunked))
    assert a == b
    info = a["details"]["failover"]
    assert info["moved_requests"] > 0 and info["cost_change_usd"] < 0
    assert info["latency_p99_after_ms"] <= info["latency_p99_before_ms"]
    with gzip.open(SAMPLE, "rt") as fh:
        logged = sorted(json.loads(line)["latency_ms"] for line in fh)
    assert info["latency_p99_before_ms"] == logged[math.ceil(0.99 * len(logged)) - 1]
    table = cli("estimate", SAMPLE, "--scenarios", spec)
    assert "failover (p99 > 15,000 ms over 1 h, cooldown 10 min) → gpt-4o-mini: " in " ".join(table.stdout.split())
