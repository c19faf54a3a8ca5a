"""Invalid input is exit 2 with one line naming the file and the field; never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from check_support import CATALOG, HEAD, PolicyWriter


def _fails(result: Any, *needles: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def _policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "llmcost.yaml"
    path.write_text(text)
    return path


GOOD_INPUTS = f"inputs:\n  logs: ['{HEAD}']\n  catalog: '{CATALOG}'\n"


@pytest.mark.parametrize(
    ("rules", "field", "message"),
    [
        ("  - {kind: monthly_spend, max_usd: -5}", "rules[0].max_usd", "greater than or equal to 0"),
        ("  - {kind: monthly_spend, max_usd: 5, budget: 3}", "rules[0].budget", "unknown field"),
        ("  - {kind: monthly_spend}", "rules[0].max_usd", "Field required"),
        ("  - {kind: spend, max_usd: 5}", "rules[0].kind", "unknown rule kind 'spend'"),
        ("  - {max_usd: 5}", "rules[0].kind", "missing"),
        ("  - {kind: monthly_spend, max_usd: 5, severity: fatal}", "rules[0].severity", "'error' or 'warn'"),
        ("  - {kind: monthly_spend, max_usd: 5, model: big, task: chat}", "rules[0]", "at most one of"),
        ("  - {kind: increase_vs_baseline}", "rules[0]", "give max_usd, max_pct or both"),
        ("  - {kind: bench, model: small}", "rules[0]", "at least one of"),
        ("  - {kind: bench, model: small, max_error_rate: 2}", "rules[0].max_error_rate", "less than or equal to 1"),
        ("  - {kind: monthly_spend, max_usd: 1, name: a}\n  - {kind: monthly_spend, max_usd: 2, name: a}",
         "rules[1].name", "duplicate rule name 'a'"),
    ],
)
def test_bad_rule_names_the_field(cli: Any, tmp_path: Path, rules: str, field: str, message: str) -> None:
    policy = _policy(tmp_path, GOOD_INPUTS + "rules:\n" + rules + "\n")
    _fails(cli("check", "--policy", policy), str(policy), f"field '{field}'", message)


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("rules:\n  - {kind: monthly_spend, max_usd: 1}\n", "inputs", "Field required"),
        (GOOD_INPUTS + "  windows: 3\nrules:\n  - {kind: monthly_spend, max_usd: 1}\n", "inputs.windows",
         "unknown field"),
        (GOOD_INPUTS + "  projection_days: 0\nrules:\n  - {kind: monthly_spend, max_usd: 1}\n",
         "inputs.projection_days", "greater than 0"),
        (GOOD_INPUTS + "rules: []\n", "rules", "at least 1 item"),
        (GOOD_INPUTS + "version: 2\nrules:\n  - {kind: monthly_spend, max_usd: 1}\n", "version", "1"),
    ],
)
def test_bad_policy_structure(cli: Any, tmp_path: Path, text: str, field: str, message: str) -> None:
    policy = _policy(tmp_path, text)
    _fails(cli("check", "--policy", policy), str(policy), f"field '{field}'", message)


def test_invalid_yaml_names_the_line(cli: Any, tmp_path: Path) -> None:
    policy = _policy(tmp_path, GOOD_INPUTS + "rules:\n  - {kind: monthly_spend, max_usd: [1\n")
    _fails(cli("check", "--policy", policy), f"{policy}:6", "invalid YAML")


def test_missing_policy_file(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _fails(cli("check"), "llmcost.yaml: no such policy file", "examples/llmcost.yaml")
    _fails(cli("check", "--policy", tmp_path / "nope.yaml"), "nope.yaml: no such policy file")


def test_unreadable_log(cli: Any, write_policy: PolicyWriter, tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    _fails(cli("check", "--policy", write_policy([{"kind": "monthly_spend", "max_usd": 1}], logs=[str(missing)])),
           str(missing), "no such file")


def test_malformed_log_row(cli: Any, write_policy: PolicyWriter, tmp_path: Path) -> None:
    log = tmp_path / "bad.jsonl"
    log.write_text(HEAD.read_text().splitlines()[0] + "\n"
                   '{"timestamp": "2026-11-01T01:00:00Z", "model": "big", "input_tokens": -3, "output_tokens": 1}\n')
    result = cli("check", "--policy", write_policy([{"kind": "monthly_spend", "max_usd": 1}], logs=[str(log)]))
    _fails(result, f"{log}:2", "input_tokens")


def test_unknown_model_with_strict(cli: Any, write_policy: PolicyWriter, tmp_path: Path) -> None:
    log = tmp_path / "mystery.jsonl"
    log.write_text(HEAD.read_text() + '{"timestamp": "2026-11-01T03:00:00Z", "model": "mystery-9", '
                   '"input_tokens": 10, "output_tokens": 1}\n')
    rules = [{"kind": "monthly_spend", "max_usd": 1000}]
    loose = cli("check", "--policy", write_policy(rules, logs=[str(log)]))
    assert loose.exit_code == 0
    assert "unpriced models, left out of the totals: mystery-9 (1 requests)" in loose.stderr
    _fails(cli("check", "--policy", write_policy(rules, logs=[str(log)]), "--strict"), "mystery-9", "--strict")
    _fails(cli("check", "--policy", write_policy(rules, logs=[str(log)], strict=True)), "mystery-9")


def test_rule_naming_an_unknown_model(cli: Any, write_policy: PolicyWriter) -> None:
    policy = write_policy([{"kind": "monthly_spend", "max_usd": 1}, {"kind": "monthly_spend", "model": "gpt-9",
                                                                       "max_usd": 1}])
    _fails(cli("check", "--policy", policy), str(policy), "field 'rules[1].model'", "unknown model 'gpt-9'")


def test_task_rule_without_task_column(cli: Any, write_policy: PolicyWriter, tmp_path: Path) -> None:
    log = tmp_path / "notask.jsonl"
    log.write_text('{"timestamp": "2026-11-01T00:00:00Z", "model": "big", "input_tokens": 1, "output_tokens": 1}\n'
                   '{"timestamp": "2026-11-02T00:00:00Z", "model": "big", "input_tokens": 1, "output_tokens": 1}\n')
    policy = write_policy([{"kind": "monthly_spend", "per": "task", "max_usd": 1}], logs=[str(log)])
    _fails(cli("check", "--policy", policy), "field 'rules[0].per'", "no 'task' column")


def test_gated_scenario_must_exist(cli: Any, write_policy: PolicyWriter) -> None:
    from check_support import SCENARIOS

    policy = write_policy([{"kind": "monthly_spend", "max_usd": 1}], scenarios=str(SCENARIOS), scenario="nope")
    _fails(cli("check", "--policy", policy), "field 'inputs.scenario'", "no scenario 'nope'",
           "baseline, chat-to-small")


def test_savings_scenario_must_exist(cli: Any, write_policy: PolicyWriter) -> None:
    from check_support import SCENARIOS

    policy = write_policy([{"kind": "scenario_savings", "scenario": "nope", "min_pct": 1}], scenarios=str(SCENARIOS))
    _fails(cli("check", "--policy", policy), "field 'rules[0].scenario'", "no scenario 'nope'")


def test_increase_rule_needs_a_baseline(cli: Any, write_policy: PolicyWriter) -> None:
    policy = write_policy([{"kind": "increase_vs_baseline", "max_pct": 10}])
    _fails(cli("check", "--policy", policy), "field 'inputs.baseline'", "needs a baseline estimate")


def test_baseline_must_be_an_estimate(cli: Any, write_policy: PolicyWriter, tmp_path: Path) -> None:
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"kind": "bench", "models": []}))
    policy = write_policy([{"kind": "increase_vs_baseline", "max_pct": 10}], baseline=str(bench))
    _fails(cli("check", "--policy", policy), str(bench), "must be an estimate")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    _fails(cli("check", "--policy", policy, "--baseline", broken), f"{broken}:1", "invalid JSON")


def test_bench_rule_needs_bench_results(cli: Any, write_policy: PolicyWriter, tmp_path: Path) -> None:
    policy = write_policy([{"kind": "bench", "model": "small", "max_error_rate": 0.1}])
    _fails(cli("check", "--policy", policy), "field 'inputs.bench'", "needs bench results")
    _fails(cli("check", "--policy", policy, "--bench", tmp_path / "none.json"), "none.json", "cannot read")


def test_output_directory_missing(cli: Any, write_policy: PolicyWriter, tmp_path: Path) -> None:
    policy = write_policy([{"kind": "monthly_spend", "max_usd": 1000}])
    _fails(cli("check", "--policy", policy, "--output", tmp_path / "no" / "x.json"), "output directory does not exist")
