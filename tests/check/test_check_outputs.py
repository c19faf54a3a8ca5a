"""Outputs of ``llmcost check``: JUnit XML, Markdown, --output/--markdown files, GitHub annotations."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from check_support import CATALOG, HEAD, PolicyWriter

from llmcost.budget.verdict import CheckResult, Verdict
from llmcost.report import check_view

RULES = [
    {"kind": "monthly_spend", "max_usd": 100, "name": "total-budget"},
    {"kind": "monthly_spend", "per": "model", "max_usd": 80, "severity": "warn", "name": "per-model"},
    {"kind": "monthly_spend", "task": "summarize", "max_usd": 75, "name": "summarize-budget"},
]

POLICY_TEXT = """inputs:
  logs: ['{head}']
  catalog: '{catalog}'
rules:
  - kind: monthly_spend            # line 5
    max_usd: 100
    name: total-budget
  - {{kind: monthly_spend, per: model, max_usd: 80, severity: warn, name: per-model}}
"""


def test_junit_parses_with_failures_and_warnings(cli: Any, write_policy: PolicyWriter, tmp_path: Path) -> None:
    out = tmp_path / "check.xml"
    result = cli("check", "--policy", write_policy(RULES), "--format", "junit", "--output", out)
    assert result.exit_code == 1
    assert result.stdout == ""
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "0")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "total-budget: total monthly cost", "per-model: model small monthly cost",
        "per-model: model big monthly cost", "summarize-budget: task summarize monthly cost"]
    assert cases[0].get("classname") == "llmcost.monthly_spend"
    failure = cases[0].find("failure")
    assert failure is not None
    assert failure.get("message") == "total: monthly cost $153.00 (limit max $100.00), $53.00 over (53.0%)"
    assert cases[1].find("failure") is None
    assert cases[1].findtext("system-out") == ("warning: model small: monthly cost $81.00 (limit max $80.00), "
                                               "$1.00 over (1.2%)")
    assert all(c.find("failure") is None for c in cases[2:])
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props == {"scenario": "baseline", "monthly_cost_usd": "153.0"}


def test_markdown_summary_file(cli: Any, write_policy: PolicyWriter, tmp_path: Path, baseline_json: Path) -> None:
    md = tmp_path / "comment.md"
    result = cli("check", "--policy", write_policy(RULES), "--markdown", md, "--baseline", baseline_json)
    assert result.exit_code == 1
    text = md.read_text()
    assert text.startswith("## ❌ llmcost budget check\n")
    assert "**Budget check FAILED: 1 failed, 1 warning, 2 passed" in text
    # what failed, by how much
    assert "| ❌ | total-budget | total — monthly cost | $153.00 | max $100.00 | $53.00 over |" in text
    assert "| ⚠️ | per-model | model small — monthly cost | $81.00 | max $80.00 | $1.00 over |" in text
    # the change vs baseline
    assert "| **total** | $102.00 | $153.00 | +$51.00 | +50.0% |" in text
    assert "| small | — | $81.00 | +$81.00 | added |" in text
    assert "| old | $30.00 | — | -$30.00 | removed |" in text
    # the top cost drivers
    assert "| model | small | 3 | $81.00 | 52.9% |" in text
    assert "| task | chat | 3 | $78.00 | 51.0% |" in text
    assert f"wrote {md}" in result.stderr


def test_markdown_format_passing(cli: Any, write_policy: PolicyWriter) -> None:
    result = cli("check", "--policy", write_policy([{"kind": "monthly_spend", "max_usd": 200}]), "-f", "markdown")
    assert result.exit_code == 0
    assert result.stdout.startswith("## ✅ llmcost budget check")
    assert "What needs attention" not in result.stdout


def test_output_file_table(cli: Any, write_policy: PolicyWriter, tmp_path: Path) -> None:
    out = tmp_path / "check.txt"
    result = cli("check", "--policy", write_policy(RULES), "--output", out)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "total-budget" in out.read_text()
    assert "Budget check FAILED" in result.stderr
    assert list(tmp_path.glob(".check.txt.*")) == []  # atomic write leaves no temp file


def test_github_annotations_and_step_summary(cli: Any, write_policy: PolicyWriter, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("# earlier step\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY_TEXT.format(head=HEAD, catalog=CATALOG))
    result = cli("check", "--policy", policy)
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith("::")]
    where = str(policy).replace(":", "%3A").replace(",", "%2C")
    assert lines == [
        f"::error file={where},line=5,title=llmcost budget%3A total-budget::"
        "total: monthly cost $153.00 (limit max $100.00), $53.00 over (53.0%25)",
        f"::warning file={where},line=8,title=llmcost budget%3A per-model::"
        "model small: monthly cost $81.00 (limit max $80.00), $1.00 over (1.2%25)",
    ]
    text = summary.read_text()
    assert text.startswith("# earlier step\n## ❌ llmcost budget check\n")
    assert "$53.00 over" in text


def test_annotations_keep_json_stdout_clean(cli: Any, write_policy: PolicyWriter, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = cli("check", "--policy", write_policy(RULES), "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"]["failed"] == 1
    assert "::error file=" in result.stderr


def test_no_annotations_outside_github(cli: Any, write_policy: PolicyWriter) -> None:
    result = cli("check", "--policy", write_policy(RULES))
    assert "::error" not in result.stdout + result.stderr


def test_save_estimate_writes_the_estimate_contract(cli: Any, write_policy: PolicyWriter, tmp_path: Path) -> None:
    out = tmp_path / "estimate.json"
    result = cli("check", "--policy", write_policy(RULES[:1]), "--save-estimate", out, "-f", "json")
    assert result.exit_code == 1
    data = json.loads(out.read_text())
    assert data["kind"] == "estimate"
    assert data["scenarios"][0]["monthly_cost_usd"] == 153.0


def test_escaping_of_workflow_commands() -> None:
    assert check_view.escape_data("50% a\r\nb") == "50%25 a%0D%0Ab"
    assert check_view.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    verdict = Verdict("r,1:x", "monthly_spend", "task a\nb", "monthly cost", "error", "max", Decimal(1),
                      Decimal(2), "usd")
    result = CheckResult("p.yaml", "baseline", Decimal(1), 1, 30, Decimal(2), (verdict,))
    assert check_view.render_annotations(result) == (
        "::error file=p.yaml,title=llmcost budget%3A r%2C1%3Ax::"
        "task a%0Ab: monthly cost $2.00 (limit max $1.00), $1.00 over (100.0%25)\n")


def test_annotation_path_is_relative_to_the_workspace(cli: Any, write_policy: PolicyWriter, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    result = cli("check", "--policy", write_policy(RULES[:1]))
    assert result.stdout.startswith("::error file=llmcost.yaml,line=")


def test_increase_needs_the_gated_scenario_in_the_baseline(cli: Any, write_policy: PolicyWriter,
                                                           baseline_json: Path) -> None:
    from check_support import SCENARIOS

    policy = write_policy([{"kind": "increase_vs_baseline", "max_pct": 10}], scenarios=str(SCENARIOS),
                          scenario="chat-to-small", baseline=str(baseline_json))
    result = cli("check", "--policy", policy)
    assert result.exit_code == 2
    assert f"{baseline_json}: field 'scenarios': the baseline has no scenario 'chat-to-small'" in result.stderr
