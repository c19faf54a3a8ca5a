"""``check`` rules on quality and latency: pass and fail through the CLI, and never pass unmeasured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from evidence_support import BenchRun

from llmcost.evidence import wilson

SCENARIOS = {"scenarios": [{"name": "cheap-classify", "routing": {"rules": [{"when": {"task": "classify"},
                                                                            "to": "cheap"}]}}]}


def check(cli: Any, run: BenchRun, tmp_path: Path, rules: list[dict[str, Any]], *, bench: bool = True,
          scenario: str = "cheap-classify") -> tuple[int, dict[str, Any] | None, str]:
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text(yaml.safe_dump(SCENARIOS))
    inputs: dict[str, Any] = {"logs": [str(run.log)], "catalog": str(run.catalog), "scenarios": str(scenarios),
                              "scenario": scenario}
    if bench:
        inputs["bench"] = str(run.summary)
    policy = tmp_path / "llmcost.yaml"
    policy.write_text(yaml.safe_dump({"version": 1, "inputs": inputs, "rules": rules}, sort_keys=False))
    result = cli("check", "--policy", policy, "--format", "json")
    data = json.loads(result.stdout) if result.exit_code in (0, 1) else None
    return result.exit_code, data, result.stderr


def verdicts(data: dict[str, Any] | None) -> list[tuple[str, str, str, float | None]]:
    assert data is not None
    return [(v["subject"], v["metric"], v["status"], v["actual"]) for v in data["verdicts"]]


def test_min_quality_passes_and_fails_on_the_traffic_weighted_rate(cli: Any, bench_run: BenchRun,
                                                                   tmp_path: Path) -> None:
    point = (40 * 0.75 + 20 * 1.0) / 60
    code, data, _ = check(cli, bench_run, tmp_path, [
        {"name": "q80", "kind": "quality", "min_quality": 0.8, "max_unmeasured_share": 0.2}])
    assert code == 0
    [(subject, metric, status, actual)] = verdicts(data)
    assert (subject, metric, status) == ("scenario cheap-classify", "pass rate", "pass")
    assert actual == pytest.approx(point, abs=1e-6)
    code, data, _ = check(cli, bench_run, tmp_path, [
        {"kind": "quality", "min_quality": 0.8, "max_unmeasured_share": 0.2, "use": "low"}])
    assert code == 1
    low = (40 * wilson(6, 8)[0] + 20 * wilson(8, 8)[0]) / 60
    [(_, metric, status, actual)] = verdicts(data)
    assert (metric, status) == ("pass rate (95% lower bound)", "fail") and actual == pytest.approx(low, abs=1e-6)


def test_unmeasured_traffic_fails_closed_unless_allowed(cli: Any, bench_run: BenchRun, tmp_path: Path) -> None:
    code, data, _ = check(cli, bench_run, tmp_path, [{"kind": "quality", "min_quality": 0.5}])
    assert code == 1  # 10 of 70 requests are 'summarize', which the bench never ran
    assert data is not None
    [v] = data["verdicts"]
    assert v["status"] == "fail" and v["actual"] is None and "never scored" in v["note"]


def test_per_task_and_one_task(cli: Any, bench_run: BenchRun, tmp_path: Path) -> None:
    code, data, _ = check(cli, bench_run, tmp_path, [{"kind": "quality", "min_quality": 0.7, "per": "task"}])
    found = {s: (st, a) for s, _, st, a in verdicts(data)}
    assert found["scenario cheap-classify, task classify"] == ("pass", 0.75)
    assert found["scenario cheap-classify, task extract"] == ("pass", 1.0)
    assert found["scenario cheap-classify, task summarize"] == ("fail", None)
    assert code == 1
    code, data, _ = check(cli, bench_run, tmp_path, [{"kind": "quality", "min_quality": 0.8, "task": "classify"}])
    assert code == 1 and verdicts(data) == [("scenario cheap-classify, task classify", "pass rate", "fail", 0.75)]
    code, data, _ = check(cli, bench_run, tmp_path, [{"kind": "quality", "min_quality": 0.9, "task": "extract",
                                                      "scenario": "baseline"}])
    assert code == 0 and verdicts(data) == [("scenario baseline, task extract", "pass rate", "pass", 1.0)]


def test_a_task_without_bench_data_is_a_policy_error_naming_the_field(cli: Any, bench_run: BenchRun,
                                                                       tmp_path: Path) -> None:
    code, _, err = check(cli, bench_run, tmp_path, [{"kind": "quality", "min_quality": 0.5, "task": "summarize"}])
    assert code == 2
    assert "rules[0].task" in err and "summarize" in err and len(err.strip().splitlines()) == 1
    code, _, err = check(cli, bench_run, tmp_path, [{"kind": "quality", "min_quality": 0.5, "task": "poetry"}])
    assert code == 2 and "rules[0].task" in err and "no traffic for task 'poetry'" in err


def test_quality_rule_without_bench_results_is_an_error_never_a_pass(cli: Any, bench_run: BenchRun,
                                                                      tmp_path: Path) -> None:
    code, _, err = check(cli, bench_run, tmp_path, [{"kind": "quality", "min_quality": 0.1}], bench=False)
    assert code == 2 and "inputs.bench" in err and len(err.strip().splitlines()) == 1


def test_latency_rules_on_logged_latency(cli: Any, bench_run: BenchRun, tmp_path: Path) -> None:
    logged = np.array([1000 + 10 * i for i in range(0, 70, 2)], dtype=float)
    p95 = float(np.percentile(logged, 95, method="inverted_cdf"))
    rules = [{"name": "slo", "kind": "latency", "max_p95_latency_ms": 2000, "max_p99_latency_ms": p95 - 50}]
    code, data, _ = check(cli, bench_run, tmp_path, rules, scenario="baseline")
    assert code == 1
    assert data is not None
    p95_v, p99_v = data["verdicts"]
    assert p95_v["status"] == "pass" and p95_v["actual"] == pytest.approx(p95, rel=2e-3) and p95_v["note"] == "from log"
    assert p99_v["status"] == "fail" and p99_v["metric"] == "p99 latency"


def test_latency_of_the_routed_scenario_mixes_log_and_bench(cli: Any, bench_run: BenchRun, tmp_path: Path) -> None:
    code, data, _ = check(cli, bench_run, tmp_path, [{"kind": "latency", "max_p95_ttft_ms": 60000}])
    assert code == 0
    assert data is not None and data["verdicts"][0]["note"] == "from mixed"


def test_latency_rule_needs_a_limit(cli: Any, bench_run: BenchRun, tmp_path: Path) -> None:
    code, _, err = check(cli, bench_run, tmp_path, [{"kind": "latency"}])
    assert code == 2 and "rules[0]" in err and "max_p95_latency_ms" in err


def test_the_documented_policy_rules_are_valid() -> None:
    from llmcost.budget.policy import LatencyRule, QualityRule, _rule

    doc = (Path(__file__).resolve().parents[2] / "docs" / "ci.md").read_text()
    block = doc.split("`quality` and `latency` rules judge", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    rules = [_rule(raw, i, "ci.md") for i, raw in enumerate(yaml.safe_load(block)["rules"])]
    assert [type(r) for r in rules] == [QualityRule, QualityRule, LatencyRule]
