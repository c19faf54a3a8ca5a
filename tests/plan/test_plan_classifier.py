"""Issue 14 item 3: routing on prompt features (code, questions, script) and a complexity classifier trained
from bench outcomes, used by ``plan`` as a segment and reproduced by ``estimate``.

The local server's 'cheap' model greets people correctly but fails every proof; 'strong' passes both.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from bench_fake_llm import Behavior, serve

Cli = Callable[..., Any]
NAMES = ["Ada", "Bob", "Cyd", "Dee", "Eve", "Fay", "Gus", "Hal", "Ivy", "Jon", "Kim", "Lou"]
THEOREMS = ["primes", "graphs", "groups", "limits", "series", "fields", "rings", "knots", "lattices", "sets",
            "matrices", "spaces"]
SUITE = {"name": "cls", "prompts": [
    {"id": "greet", "task": "chat", "prompt": "Say hello to {{who}} in a friendly way.",
     "vars": [{"who": n} for n in NAMES], "max_tokens": 10, "assert": [{"icontains": "{{who}}"}]},
    {"id": "prove", "task": "chat",
     "prompt": "Prove step by step the hard theorem about {{topic}} with a rigorous argument.",
     "vars": [{"topic": t} for t in THEOREMS], "max_tokens": 10, "assert": [{"icontains": "{{topic}}"}]},
]}


def reply(model: str) -> Callable[[str], str]:
    def answer(prompt: str) -> str:
        for word in NAMES + THEOREMS:
            if word in prompt:
                return "I cannot." if model == "cheap" and word in THEOREMS else f"Sure: {word}."
        return "?"

    return answer


def catalog_doc(url: str) -> dict[str, Any]:
    return {"source": "cls-test", "as_of": "2026-11-01", "models": [
        {"id": m, "provider": "openai", "input_mtok": p, "output_mtok": 4 * p,
         "endpoint": {"base_url": url + "/v1", "api": "openai", "api_key_env": "CLS_KEY"}}
        for m, p in (("cheap", 0.1), ("strong", 5.0))]}


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Path]]:
    from typer.testing import CliRunner

    from llmcost.cli.main import app

    root = tmp_path_factory.mktemp("cls")
    suite = root / "suite.yaml"
    suite.write_text(yaml.safe_dump(SUITE, sort_keys=False))
    results = root / "results.jsonl"
    catalog = root / "catalog.yaml"
    with serve({m: Behavior(reply=reply(m)) for m in ("cheap", "strong")}) as fake:
        catalog.write_text(yaml.safe_dump(catalog_doc(fake.url)))
        out = CliRunner().invoke(app, ["bench", str(suite), "-c", str(catalog), "--models", "cheap,strong",
                                       "--results", str(results), "--concurrency", "4"],
                                 env={"CLS_KEY": "sk-x"}, catch_exceptions=False)
    assert out.exit_code == 0, out.stderr
    yield results, suite, catalog


def write_log(path: Path, prompts: list[str]) -> Path:
    path.write_text("".join(json.dumps({
        "timestamp": f"2026-11-01T00:{i // 60:02d}:{i % 60:02d}Z", "model": "strong", "task": "chat",
        "input_tokens": 300 + i, "output_tokens": 50, "prompt": p}) + "\n" for i, p in enumerate(prompts)))
    return path


def test_classifier_segment_routes_easy_prompts_to_the_cheap_model(cli: Cli, bench: tuple[Path, Path, Path],
                                                                  tmp_path: Path) -> None:
    results, suite, catalog = bench
    prompts = [f"Say hello to {n} in a friendly way." for n in ["Max", "Ned", "Oli", "Pam"] * 5] + \
        [f"Prove step by step the hard theorem about {t} with a rigorous argument." for t in ["norms", "tori"] * 5]
    log = write_log(tmp_path / "log.jsonl", prompts)
    scenario = tmp_path / "plan.yaml"
    out = cli("plan", log, "--bench", results, "-c", catalog, "--classifier", suite, "--segments",
              "task,classifier", "--min-quality", "0.95", "--optimistic", "-f", "json", "--write-scenario", scenario)
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    c = doc["classifier"]
    assert c["model"] == "cheap" and c["prompts"] == 24 and c["held_out"] == 6
    assert c["held_out_accuracy"] == 1.0 and c["majority_baseline_accuracy"] == 0.5
    models = {s["segment"]: (s["model"], s["requests"]) for s in doc["policy"]["segments"]}
    assert models == {"chat · any size · predicted pass": ("cheap", 20.0),
                      "chat · any size · predicted fail": ("strong", 10.0)}
    est = cli("estimate", log, "-c", catalog, "--scenarios", scenario, "-f", "json")
    assert est.exit_code == 0, est.stderr
    by_name = {s["name"]: s for s in json.loads(est.stdout)["scenarios"]}
    assert by_name["planned-routing"]["monthly_cost_usd"] == doc["policy"]["monthly_cost_usd"]
    written = yaml.safe_load(scenario.read_text())["scenarios"][0]["routing"]["rules"]
    assert [r["when"]["classifier"]["predicts"] for r in written[:2]] == ["pass", "fail"]


def test_classifier_needs_per_request_results_and_its_suite(cli: Cli, bench: tuple[Path, Path, Path],
                                                            tmp_path: Path) -> None:
    results, _suite, catalog = bench
    log = write_log(tmp_path / "log.jsonl", ["Say hello to Max in a friendly way."] * 3)
    out = cli("plan", log, "--bench", results, "-c", catalog, "--segments", "task,classifier")
    assert out.exit_code == 2 and "--classifier SUITE" in out.stderr
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"name": "x", "prompts": [{"id": "q", "prompt": "hi"}]}))
    out = cli("plan", log, "--bench", results, "-c", catalog, "--classifier", other)
    assert out.exit_code == 2 and "not in the --classifier suite" in out.stderr and "prompt_id" in out.stderr


def test_prompt_feature_conditions(cli: Cli, tmp_path: Path) -> None:
    """has_code, questions and script select rows by the logged prompt text; no prompt text, no match."""
    prompts = ["Fix this:\n```python\nprint(1)\n```", "def f(x):\n    return x", "What? Why? How?", "Why?",
               "Привет, как дела", "你好世界", "plain words"]
    log = write_log(tmp_path / "log.jsonl", prompts)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump({"source": "t", "as_of": "2026-11-01", "models": [
        {"id": m, "provider": "openai", "input_mtok": 1, "output_mtok": 1} for m in ("a", "b", "c", "d", "strong")]}))
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text(yaml.safe_dump({"scenarios": [{"name": "features", "routing": {"rules": [
        {"when": {"has_code": True}, "to": "a"},
        {"when": {"questions": {"min": 2}}, "to": "b"},
        {"when": {"script": ["cyrillic", "cjk"]}, "to": "c"},
        {"when": {"has_code": False, "questions": {"max": 0}, "script": "latin"}, "to": "d"}]}}]}))
    out = cli("estimate", log, "-c", catalog, "--scenarios", scenarios, "-f", "json")
    assert out.exit_code == 0, out.stderr
    scenario = next(s for s in json.loads(out.stdout)["scenarios"] if s["name"] == "features")
    routed = [r["routed"] for r in scenario["details"]["routing"]["rules"]]
    assert routed == [2, 1, 2, 1]  # "Why?" has one question mark: no rule takes it
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"scenarios": [{"name": "x", "routing": {"rules": [
        {"when": {"script": "klingon"}, "to": "a"}]}}]}))
    out = cli("estimate", log, "-c", catalog, "--scenarios", bad)
    assert out.exit_code == 2 and "script" in out.stderr
