"""`llmcost estimate --scenarios`: the example file end to end, the built-in set, and file errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "scenarios.yaml"


def write_log(path: Path) -> Path:
    """Two days of traffic on the default catalog's models, with repeated prompts and prefixes."""
    rows = []
    for i in range(200):
        model = ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4")[i % 3]
        rows.append({
            "timestamp": f"2026-11-0{2 + i // 100}T{(i % 100) // 5:02d}:{(i * 7) % 60:02d}:00Z",
            "model": model, "task": ("classify", "summarize", "chat", "extract")[i % 4],
            "input_tokens": 500 + (i * 397) % 12000, "output_tokens": 50 + (i * 31) % 700,
            "prompt_hash": f"h{i % 12}", "prefix_hashes": [0, 1 + i % 5, 100 + i % 11],
            "latency_ms": 900 + (i * 613) % 4000,
        })
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_example_scenario_file_end_to_end(cli: Any, tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl")
    result = cli("estimate", log, "--scenarios", EXAMPLE, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    names = [s["name"] for s in data["scenarios"]]
    assert names == ["baseline", "route-small-to-mini", "response-cache-6h", "prompt-caching-1h",
                     "mini-then-4o", "compress-batch-retry", "failover-to-mini", "coalesce-2s"]
    by_name = {s["name"]: s for s in data["scenarios"]}
    base = by_name["baseline"]
    for s in data["scenarios"]:  # the DESIGN.md contract holds for every scenario
        assert {"name", "observed_cost_usd", "monthly_cost_usd", "savings_vs_baseline_pct", "by_model"} <= set(s)
        expected_pct = (base["monthly_cost_usd"] - s["monthly_cost_usd"]) / base["monthly_cost_usd"] * 100
        assert s["savings_vs_baseline_pct"] == pytest.approx(expected_pct, abs=1e-3)
    cache = by_name["response-cache-6h"]["details"]["exact_cache"]
    assert cache["hits"] > 0 and 0 < cache["hit_rate"] < 1
    assert by_name["mini-then-4o"]["details"]["cascade"]["steps"][0]["model"] == "gpt-4o-mini"
    assert "prompt_cache" in by_name["prompt-caching-1h"]["details"]
    assert by_name["failover-to-mini"]["details"]["failover"]["requests"] == 200  # too sparse to shed
    assert by_name["coalesce-2s"]["details"]["coalesce"]["eligible_requests"] == 100  # classify and extract
    table = cli("estimate", log, "--scenarios", EXAMPLE)
    assert table.exit_code == 0
    assert "exact cache (TTL 6 h" in table.stdout
    assert "Requests and monthly cost by model (tier)" in table.stdout


def test_builtin_default_set_runs_without_scenarios(cli: Any, tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl")
    data = json.loads(cli("estimate", log, "--format", "json").stdout)
    names = [s["name"] for s in data["scenarios"]]
    assert names[0] == "baseline"
    assert {"exact-cache-24h", "prompt-caching", "all-combined"} <= set(names)
    only = json.loads(cli("estimate", log, "--baseline-only", "--format", "json").stdout)
    assert [s["name"] for s in only["scenarios"]] == ["baseline"]


@pytest.mark.parametrize(
    ("text", "field", "why"),
    [
        ("scenarios:\n  - name: x\n    exact_cache: {ttl: soon}\n", "scenarios[0].exact_cache.ttl", "duration"),
        ("scenarios:\n  - name: x\n    routing: {rules: [{to: gpt-4o, wen: {}}]}\n",
         "scenarios[0].routing.rules[0].wen", "unknown field"),
        ("scenarios:\n  - name: x\n    routing: {rules: [{to: no-such-model}]}\n",
         "scenarios[0].routing.rules[0].to", "neither a model nor a tier"),
        ("scenarios:\n  - name: x\n    cascade: {steps: [{model: gpt-4o-mini, accept: 1.5}, "
         "{model: gpt-4o, accept: 1}]}\n",
         "scenarios[0].cascade.steps[0].accept", "from 0 to 1"),
    ],
)
def test_scenario_file_errors_exit_2_naming_the_field(cli: Any, tmp_path: Path, text: str, field: str,
                                                      why: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    result = cli("estimate", write_log(tmp_path / "log.jsonl"), "--scenarios", bad)
    assert result.exit_code == 2
    assert str(bad) in result.stderr
    assert f"field '{field}'" in result.stderr
    assert why in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_scenario_file(cli: Any, tmp_path: Path) -> None:
    result = cli("estimate", write_log(tmp_path / "log.jsonl"), "--scenarios", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert "no such scenario file" in result.stderr


def test_bench_results_feed_a_measured_cascade_and_the_quality_table(cli: Any, tmp_path: Path) -> None:
    bench = {"kind": "bench", "schema_version": 1, "suite": "s", "models": [
        {"model": "gpt-4o-mini", "requests": 20, "quality_pass_rate": 0.8, "error_rate": 0.05,
         "latency_ms": {"p50": 500, "p95": 900}, "ttft_ms": {"p50": 200},
         "by_task": [{"task": "classify", "requests": 10, "quality_pass_rate": 1.0}]},
        {"model": "gpt-4o", "requests": 20, "quality_pass_rate": 0.95, "latency_ms": {"p50": 1500, "p95": 2500}},
    ]}
    (tmp_path / "bench.json").write_text(json.dumps(bench), encoding="utf-8")
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "bench_results: bench.json\n"
        "scenarios:\n"
        "  - name: cascade\n"
        "    cascade: {steps: [{model: gpt-4o-mini, accept: measured}, {model: gpt-4o, accept: 1}]}\n"
        "    retries: {error_rate: {default: measured}, max_retries: 0}\n",
        encoding="utf-8",
    )
    log = write_log(tmp_path / "log.jsonl")
    data = json.loads(cli("estimate", log, "--scenarios", spec, "--format", "json").stdout)
    details = data["scenarios"][1]["details"]
    steps = details["cascade"]["steps"]
    # classify (a quarter of the log) passes at 1.0, the rest at 0.8 (requests too long for a step aside)
    assert steps[0]["answered_share"] == pytest.approx(0.25 * 1.0 + 0.75 * 0.8, abs=0.02)
    assert details["cascade"]["expected_latency_ms"] > 500
    assert details["retries"]["error_rates"]["gpt-4o-mini"] == 0.05
    assert {m["model"] for m in details["measured"]} == {"gpt-4o-mini", "gpt-4o"}
    table = cli("estimate", log, "--scenarios", spec).stdout
    assert "Measured quality and latency" in table
