"""Bench results read back: ``diff`` takes the ``--results`` JSONL that ``check`` takes and warns when two
results come from different suites; ``check`` runs a policy of bench gates without logs. The results come
from real runs against the fake server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from bench_fake_llm import Behavior, serve

Cli = Callable[..., Any]


def prompts(*ids: str) -> list[dict[str, Any]]:
    return [{"id": i, "task": "qa", "prompt": f"What is the capital of France? ({i})", "max_tokens": 20,
             "assert": [{"icontains": "paris"}]} for i in ids]


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def runs(cli: Cli, tmp_path: Path) -> dict[str, Path]:
    """Four bench runs: suite 'alpha' twice (the second with a model that fails), 'beta' once, and 'alpha'
    with other prompts; each as a results JSONL and a summary JSON."""
    out: dict[str, Path] = {}
    with serve({"good": Behavior(), "flaky": Behavior(fail_first=1)}) as fake:
        models = [{"id": m, "provider": "openai", "input_mtok": 1, "output_mtok": 2,
                   "endpoint": {"base_url": fake.url + "/v1", "api": "openai"}} for m in ("good", "flaky")]
        catalog = write(tmp_path / "catalog.yaml", {"source": "t", "as_of": "2026-11-01", "models": models})
        for name, suite, model in (("base", "alpha", "good"), ("head", "alpha", "flaky"), ("beta", "beta", "good"),
                                   ("other", "alpha", "good")):
            ids = ("a", "b", "c") if name == "other" else ("a", "b")
            suite_file = write(tmp_path / f"{name}.yaml", {"name": suite, "prompts": prompts(*ids)})
            results, summary = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.json"
            ran = cli("bench", suite_file, "-c", catalog, "--models", model, "--retries", "0", "--results", results,
                      "-f", "json", "-o", summary)
            assert ran.exit_code == 0, ran.stderr
            out[name], out[f"{name}.json"] = results, summary
    out["catalog"] = catalog
    return out


def test_diff_accepts_results_jsonl_like_check(cli: Cli, runs: dict[str, Path]) -> None:
    # 'good' in base, 'flaky' (one of two requests failed) in head: the JSONL files are summarized
    jsonl = cli("diff", runs["base"], runs["head"], "-f", "json")
    assert jsonl.exit_code == 0, jsonl.stderr
    data = json.loads(jsonl.stdout)
    status = {m["model"]: m["status"] for m in data["models"]}
    assert status == {"good": "removed", "flaky": "added"}
    flaky = next(m for m in data["models"] if m["model"] == "flaky")
    assert flaky["error_rate"]["after"] == 0.5
    assert data["warnings"] == [] and "warning" not in jsonl.stderr
    mixed = cli("diff", runs["base.json"], runs["base"], "-f", "json")  # a summary against its own JSONL
    assert mixed.exit_code == 0, mixed.stderr
    assert [m["status"] for m in json.loads(mixed.stdout)["models"]] == ["unchanged"]
    assert "warning" not in mixed.stderr


def test_diff_warns_on_different_suites(cli: Cli, runs: dict[str, Path]) -> None:
    by_name = cli("diff", runs["base.json"], runs["beta.json"])
    assert by_name.exit_code == 0, by_name.stderr
    assert "different suites ('alpha' and 'beta')" in " ".join(by_name.stderr.split())
    by_prompts = cli("diff", runs["base"], runs["other"], "-f", "markdown")
    assert by_prompts.exit_code == 0, by_prompts.stderr
    assert "different prompts (0 only in base, 1 only in head)" in " ".join(by_prompts.stderr.split())
    assert "> **Warning:** base and head ran different prompts" in by_prompts.stdout
    same = cli("diff", runs["base.json"], runs["head.json"])
    assert same.exit_code == 0 and "warning" not in same.stderr


def bench_policy(tmp_path: Path, runs: dict[str, Path], rules: list[dict[str, Any]]) -> Path:
    return write(tmp_path / "llmcost.yaml", {"version": 1, "inputs": {"bench": str(runs["head"]),
                                                                       "catalog": str(runs["catalog"])},
                                            "rules": rules})


def test_check_with_only_bench_gates_needs_no_logs(cli: Cli, runs: dict[str, Path], tmp_path: Path) -> None:
    gate = {"name": "flaky-ok", "kind": "bench", "model": "flaky", "max_error_rate": 0.6}
    ok = cli("check", "--policy", bench_policy(tmp_path, runs, [gate]))
    assert ok.exit_code == 0, ok.stderr
    assert "bench gates only, no logs" in ok.stdout and "PASS" in ok.stdout
    strict = cli("check", "--policy", bench_policy(tmp_path, runs, [{**gate, "max_error_rate": 0.1}]), "-f", "json")
    assert strict.exit_code == 1, strict.stderr
    data = json.loads(strict.stdout)
    assert (data["window"], data["monthly_cost_usd"]) == (None, None)
    assert [(v["rule"], v["status"], v["actual"]) for v in data["verdicts"]] == [("flaky-ok", "fail", 0.5)]


def test_check_without_logs_names_the_rules_that_need_them(cli: Cli, runs: dict[str, Path], tmp_path: Path) -> None:
    rules = [{"kind": "bench", "model": "flaky", "max_error_rate": 0.6},
             {"name": "cap", "kind": "monthly_spend", "max_usd": 100}]
    out = cli("check", "--policy", bench_policy(tmp_path, runs, rules))
    assert out.exit_code == 2
    assert "field 'inputs.logs'" in out.stderr and "'cap' (monthly_spend)" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    save = cli("check", "--policy", bench_policy(tmp_path, runs, rules[:1]), "--save-estimate", tmp_path / "e.json")
    assert save.exit_code == 2 and "--save-estimate needs inputs.logs" in save.stderr
