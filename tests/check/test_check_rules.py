"""Every rule kind, passing and failing, with dollar figures computed by hand (see data/README.md)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from check_support import CATALOG, HEAD, ROOT, SCENARIOS, PolicyWriter, check_json, statuses


def _bench(tmp_path: Path, **overrides: Any) -> Path:
    model = {"model": "small", "requests": 20, "errors": 1, "error_rate": 0.05, "quality_pass_rate": 0.9,
             "cost_per_1k_usd": 0.5, "ttft_ms": {"p50": 120.0, "p95": 300.0, "p99": 410.0},
             "latency_ms": {"p50": 900.0, "p95": 1500.0, "p99": 1800.0}}
    model.update(overrides)
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"kind": "bench", "schema_version": 1, "suite": "t", "models": [model]}))
    return path


def test_all_rules_pass_exit_0(cli: Any, write_policy: PolicyWriter) -> None:
    policy = write_policy([
        {"kind": "monthly_spend", "max_usd": 153},
        {"kind": "monthly_spend", "model": "big", "max_usd": 72},
        {"kind": "monthly_spend", "task": "summarize", "max_usd": 75},
        {"kind": "cost_per_1k_requests", "max_usd": 1020},
    ])
    code, report = check_json(cli, policy)
    assert code == 0
    assert report["passed"] is True
    assert [v["actual"] for v in report["verdicts"]] == [153.0, 72.0, 75.0, 1020.0]
    assert report["summary"] == {"failed": 0, "warnings": 0, "skipped": 0, "passed": 4}
    assert report["monthly_cost_usd"] == 153.0


def test_table_output_and_exit_code(cli: Any, write_policy: PolicyWriter) -> None:
    policy = write_policy([{"kind": "monthly_spend", "max_usd": 100, "name": "total-budget"}])
    result = cli("check", "--policy", policy)
    assert result.exit_code == 1
    row = next(line for line in result.stdout.splitlines() if "total-budget" in line)
    assert "FAIL" in row and "$153.00" in row and "max $100.00" in row and "$53.00 over" in row
    assert "Budget check FAILED: 1 failed, 0 warnings, 0 passed" in result.stdout


def test_warnings_only_exit_0(cli: Any, write_policy: PolicyWriter) -> None:
    policy = write_policy([
        {"kind": "monthly_spend", "max_usd": 150, "severity": "warn"},
        {"kind": "monthly_spend", "per": "model", "max_usd": 80, "severity": "warn"},
    ])
    code, report = check_json(cli, policy)
    assert code == 0
    assert statuses(report) == [("total", "monthly cost", "warn"), ("model small", "monthly cost", "warn"),
                                ("model big", "monthly cost", "pass")]
    assert report["verdicts"][0]["excess"] == 3.0
    assert report["verdicts"][1]["excess"] == 1.0


def test_monthly_total_fails(cli: Any, write_policy: PolicyWriter) -> None:
    code, report = check_json(cli, write_policy([{"kind": "monthly_spend", "max_usd": "152.99"}]))
    assert code == 1
    v = report["verdicts"][0]
    assert (v["status"], v["actual"], v["limit"], v["excess"]) == ("fail", 153.0, 152.99, 0.01)
    assert v["message"] == "total: monthly cost $153.00 (limit max $152.99), $0.01 over (0.0%)"


def test_per_model_limit_resolves_logged_names(cli: Any, write_policy: PolicyWriter) -> None:
    policy = write_policy([{"kind": "monthly_spend", "model": "acme/Small", "max_usd": 80}])
    code, report = check_json(cli, policy)
    assert code == 1
    assert (report["verdicts"][0]["subject"], report["verdicts"][0]["actual"]) == ("model small", 81.0)


def test_model_absent_from_traffic_spends_nothing(cli: Any, write_policy: PolicyWriter) -> None:
    code, report = check_json(cli, write_policy([{"kind": "monthly_spend", "model": "old", "max_usd": 0}]))
    assert code == 0
    assert report["verdicts"][0]["actual"] == 0.0


def test_per_task_each_and_single(cli: Any, write_policy: PolicyWriter) -> None:
    policy = write_policy([
        {"kind": "monthly_spend", "per": "task", "max_usd": 76},
        {"kind": "monthly_spend", "task": "chat", "max_usd": 77.99},
    ])
    code, report = check_json(cli, policy)
    assert code == 1
    assert statuses(report) == [("task chat", "monthly cost", "fail"), ("task summarize", "monthly cost", "pass"),
                                ("task chat", "monthly cost", "fail")]
    assert [v["actual"] for v in report["verdicts"]] == [78.0, 75.0, 78.0]


def test_tag_limit(cli: Any, write_policy: PolicyWriter) -> None:
    code, report = check_json(cli, write_policy([{"kind": "monthly_spend", "tag": "prod", "max_usd": 50}]))
    assert code == 1
    assert (report["verdicts"][0]["subject"], report["verdicts"][0]["actual"]) == ("tag prod", 78.0)


def test_cost_per_1k_requests(cli: Any, write_policy: PolicyWriter) -> None:
    policy = write_policy([
        {"kind": "cost_per_1k_requests", "max_usd": 1000},
        {"kind": "cost_per_1k_requests", "per": "model", "max_usd": 1000},
    ])
    code, report = check_json(cli, policy)
    assert code == 1
    # total $5.10 / 5 requests; small $2.70 / 3; big $2.40 / 2
    assert [(v["subject"], v["actual"], v["status"]) for v in report["verdicts"]] == [
        ("total", 1020.0, "fail"), ("model small", 900.0, "pass"), ("model big", 1200.0, "fail")]


def test_increase_vs_baseline(cli: Any, write_policy: PolicyWriter, baseline_json: Path) -> None:
    policy = write_policy([
        {"kind": "increase_vs_baseline", "max_usd": 50, "max_pct": 50},
        {"kind": "increase_vs_baseline", "model": "big", "max_usd": 0, "max_pct": 0},
        {"kind": "increase_vs_baseline", "model": "small", "max_pct": 1000, "severity": "warn"},
    ], baseline=str(baseline_json))
    code, report = check_json(cli, policy)
    assert code == 1
    got = [(v["subject"], v["metric"], v["actual"], v["status"]) for v in report["verdicts"]]
    assert got == [
        ("total", "increase vs baseline", 51.0, "fail"),       # $102.00 → $153.00
        ("total", "increase vs baseline %", 50.0, "pass"),
        ("model big", "increase vs baseline", 0.0, "pass"),
        ("model big", "increase vs baseline %", 0.0, "pass"),
        ("model small", "increase vs baseline %", None, "warn"),  # new spend: no percentage exists
    ]
    assert report["verdicts"][4]["note"] == "new spend: the baseline had none"
    change = report["change_vs_baseline"]["scenarios"][0]
    assert (change["before_usd"], change["after_usd"], change["change_pct"]) == (102.0, 153.0, 50.0)


def test_baseline_option_overrides_policy(cli: Any, write_policy: PolicyWriter, baseline_json: Path) -> None:
    policy = write_policy([{"kind": "increase_vs_baseline", "max_pct": 49}])
    code, report = check_json(cli, policy, "--baseline", baseline_json)
    assert code == 1
    assert report["verdicts"][0]["actual"] == 50.0


def test_scenario_savings_and_gating_on_a_scenario(cli: Any, write_policy: PolicyWriter) -> None:
    policy = write_policy([
        {"kind": "scenario_savings", "scenario": "chat-to-small", "min_usd": 60, "min_pct": 50},
        {"kind": "monthly_spend", "task": "chat", "max_usd": 20},
    ], scenarios=str(SCENARIOS), scenario="chat-to-small")
    code, report = check_json(cli, policy)
    assert code == 1
    saved, pct, chat = report["verdicts"]
    assert (saved["actual"], saved["status"]) == (62.4, "pass")          # $153.00 − $90.60
    expected_pct = Decimal("62.40") / Decimal(153) * 100
    assert pct["actual"] == pytest.approx(float(expected_pct), abs=1e-6)
    assert pct["status"] == "fail"
    # the per-task figure is priced on the gated scenario's traffic: $0.12 + $0.20 + $0.20 per day
    assert (chat["actual"], chat["status"]) == (15.6, "pass")
    assert report["scenario"] == "chat-to-small" and report["monthly_cost_usd"] == 90.6


@pytest.mark.parametrize(
    ("limits", "metric", "actual"),
    [
        ({"min_quality_pass_rate": 0.95}, "quality pass rate", 0.9),
        ({"max_p95_latency_ms": 1000}, "p95 latency", 1500.0),
        ({"max_p95_ttft_ms": 250}, "p95 TTFT", 300.0),
        ({"max_error_rate": 0.01}, "error rate", 0.05),
    ],
)
def test_bench_gate_fails(cli: Any, write_policy: PolicyWriter, tmp_path: Path, limits: dict[str, float],
                          metric: str, actual: float) -> None:
    policy = write_policy([{"kind": "bench", "model": "small", **limits}], bench=str(_bench(tmp_path)))
    code, report = check_json(cli, policy)
    assert code == 1
    assert statuses(report) == [("model small", metric, "fail")]
    assert report["verdicts"][0]["actual"] == actual


def test_bench_gates_pass(cli: Any, write_policy: PolicyWriter, tmp_path: Path) -> None:
    rule = {"kind": "bench", "model": "small", "min_quality_pass_rate": 0.9, "max_p95_latency_ms": 1500,
            "max_p95_ttft_ms": 300, "max_error_rate": 0.05}
    policy = write_policy([rule], bench=str(_bench(tmp_path)))
    code, report = check_json(cli, policy)
    assert code == 0
    assert len(report["verdicts"]) == 4


def test_bench_model_missing_fails_closed(cli: Any, write_policy: PolicyWriter, tmp_path: Path) -> None:
    policy = write_policy([{"kind": "bench", "model": "big", "max_error_rate": 0.5}], bench=str(_bench(tmp_path)))
    code, report = check_json(cli, policy)
    assert code == 1
    assert report["verdicts"][0]["actual"] is None
    assert report["verdicts"][0]["note"] == "not in the bench results"


def test_bench_option_overrides_policy(cli: Any, write_policy: PolicyWriter, tmp_path: Path) -> None:
    policy = write_policy([{"kind": "bench", "model": "small", "max_p95_ttft_ms": 250}])
    code, report = check_json(cli, policy, "--bench", _bench(tmp_path, ttft_ms={"p95": 200.0}))
    assert code == 0
    assert report["verdicts"][0]["actual"] == 200.0


def test_relative_paths_resolve_against_the_policy_file(cli: Any, tmp_path: Path, monkeypatch: Any) -> None:
    project = tmp_path / "project"
    (project / "logs").mkdir(parents=True)
    (project / "logs" / "head.jsonl").write_bytes(HEAD.read_bytes())
    (project / "prices.yaml").write_bytes(CATALOG.read_bytes())
    (project / "llmcost.yaml").write_text(
        "inputs:\n  logs: ['logs/*.jsonl']\n  catalog: prices.yaml\n"
        "rules:\n  - {kind: monthly_spend, max_usd: 153}\n")
    monkeypatch.chdir(tmp_path)
    code, report = check_json(cli, project / "llmcost.yaml")
    assert code == 0 and report["monthly_cost_usd"] == 153.0
    monkeypatch.chdir(project)  # and the default policy is ./llmcost.yaml
    result = cli("check")
    assert result.exit_code == 0, result.stderr


def test_increase_rule_skips_without_baseline_when_not_required(cli: Any, write_policy: PolicyWriter,
                                                                 tmp_path: Path) -> None:
    policy = write_policy([{"kind": "increase_vs_baseline", "max_usd": 10, "max_pct": 5},
                           {"kind": "monthly_spend", "max_usd": 200}],
                          baseline=str(tmp_path / "not-there.json"), baseline_required=False)
    code, report = check_json(cli, policy)
    assert code == 0
    assert statuses(report)[:2] == [("total", "increase vs baseline", "skip"),
                                    ("total", "increase vs baseline %", "skip")]
    assert report["verdicts"][0]["note"] == "skipped: no baseline"
    assert report["summary"] == {"failed": 0, "warnings": 0, "skipped": 2, "passed": 1}
    assert "change_vs_baseline" not in report
    junit = cli("check", "--policy", policy, "--format", "junit").stdout
    assert junit.count("<skipped ") == 2 and 'skipped="2"' in junit


def test_per_task_spend_keeps_every_billing_rule(cli: Any, write_policy: PolicyWriter, tmp_path: Path) -> None:
    """Per-task figures price the same groups as the total: price periods, service tiers and audio too
    (the per-task slice once dropped those columns and billed priority traffic at standard rates)."""
    log = tmp_path / "tiers.jsonl"
    rows = [{"timestamp": "2024-09-30T00:00:00Z", "model": "repriced", "task": "a", "input_tokens": 1_000_000,
             "output_tokens": 0},  # before the price change: $5
            {"timestamp": "2024-10-30T00:00:00Z", "model": "tiered", "task": "b", "input_tokens": 1_000_000,
             "output_tokens": 0, "service_tier": "priority"}]  # priority: $3.50
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    catalog = ROOT / "tests" / "catalog" / "billing_catalog.yaml"
    policy = write_policy([{"kind": "monthly_spend", "per": "task", "max_usd": 1000}], logs=[str(log)],
                          catalog=str(catalog), projection_days=30, window_days=30)
    code, report = check_json(cli, policy)
    assert code == 0
    assert [(v["subject"], v["actual"]) for v in report["verdicts"]] == [("task a", 5.0), ("task b", 3.5)]
