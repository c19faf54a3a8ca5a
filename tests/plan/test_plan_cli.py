"""``llmcost plan`` through the CLI, on bench results measured against a real server on 127.0.0.1 whose
models have known pass rates per task:

    task   | cheap ($0.10/$0.40) | mid ($1/$4) | strong ($5/$20)
    easy   | 8/8                 | 8/8         | 8/8
    hard   | 2/8                 | 6/8         | 8/8

The log sends 70% easy and 30% hard requests (all logged on 'strong'), half of them above 1,000 input
tokens. So with point estimates (--optimistic) a 90% bar needs hard ≥ 66.7% (mid), a 95% bar needs hard
≥ 83.3% on average over its segments, and easy always goes to cheap.
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
WORDS = [f"w{i}" for i in range(8)]
PASSES = {"cheap": {"easy": 8, "hard": 2}, "mid": {"easy": 8, "hard": 6}, "strong": {"easy": 8, "hard": 8}}
PRICES = {"cheap": (0.10, 0.40), "mid": (1.0, 4.0), "strong": (5.0, 20.0)}


def replier(model: str) -> Callable[[str], str]:
    def reply(prompt: str) -> str:
        task = "hard" if "hard task" in prompt else "easy"
        word = next(w for w in WORDS if f"word {w}." in prompt)
        return word if int(word[1:]) < PASSES[model][task] else "no idea"

    return reply


def catalog_doc(url: str | None) -> dict[str, Any]:
    models = []
    for mid, (inp, out) in PRICES.items():
        entry: dict[str, Any] = {"id": mid, "provider": "openai", "input_mtok": inp, "output_mtok": out}
        if url is not None:
            entry["endpoint"] = {"base_url": url + "/v1", "api": "openai", "api_key_env": "PLAN_TEST_KEY"}
        models.append(entry)
    return {"source": "plan-test", "as_of": "2026-11-01", "models": models}


SUITE = {"name": "plan", "prompts": [
    {"id": task, "task": task, "prompt": f"This is a {task} task. Reply with the word {{{{word}}}}.",
     "vars": [{"word": w} for w in WORDS], "max_tokens": 5, "assert": [{"icontains": "{{word}}"}]}
    for task in ("easy", "hard")]}


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """Bench results (per-request JSONL) for the three models, and a catalog without endpoints."""
    from typer.testing import CliRunner

    from llmcost.cli.main import app

    root = tmp_path_factory.mktemp("plan")
    suite = root / "suite.yaml"
    suite.write_text(yaml.safe_dump(SUITE, sort_keys=False))
    results = root / "results.jsonl"
    with serve({m: Behavior(reply=replier(m), ttft_s=0.005 * (i + 1)) for i, m in enumerate(PRICES)}) as fake:
        bench_catalog = root / "bench-catalog.yaml"
        bench_catalog.write_text(yaml.safe_dump(catalog_doc(fake.url)))
        out = CliRunner().invoke(app, ["bench", str(suite), "-c", str(bench_catalog), "--models", "cheap,mid,strong",
                                       "--results", str(results), "--concurrency", "4", "-f", "json"],
                                 env={"PLAN_TEST_KEY": "sk-test"}, catch_exceptions=False)
    assert out.exit_code == 0, out.stderr
    catalog = root / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(catalog_doc(fake.url)))
    yield results, catalog


@pytest.fixture
def log(tmp_path: Path) -> Path:
    rows = []
    for i in range(200):
        task = "hard" if i % 10 < 3 else "easy"
        rows.append({"timestamp": f"2026-11-01T{i // 60:02d}:{i % 60:02d}:00Z", "model": "strong", "task": task,
                     "input_tokens": 400 + (i % 2) * 2000 + i, "output_tokens": 100 + i % 7})
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def plan_json(cli: Cli, log: Path, measured: tuple[Path, Path], *args: str) -> tuple[int, dict[str, Any], str]:
    results, catalog = measured
    out = cli("plan", log, "--bench", results, "-c", catalog, "-f", "json", *args)
    return out.exit_code, json.loads(out.stdout) if out.stdout.strip() else {}, out.stderr


def chosen(doc: dict[str, Any]) -> dict[str, str]:
    return {s["segment"]: s["model"] for s in doc["policy"]["segments"]}


def test_bench_measured_the_known_pass_rates(measured: tuple[Path, Path]) -> None:
    from llmcost.evidence import load_bench_evidence

    evidence = load_bench_evidence(measured[0])
    for model, tasks in PASSES.items():
        for task, passed in tasks.items():
            rate = evidence.pass_rate(model, task)
            assert rate is not None and (rate.passed, rate.trials) == (passed, 8)


@pytest.mark.parametrize(("bar", "hard"), [
    ("0.9", ("mid", "mid")),
    # 95% needs hard at 83.3% on average: strong on the 40 short hard requests and mid on the 20 long
    # ones (91.7%) is cheaper than strong on all, or than strong on the long ones only (exactly 95%)
    ("0.95", ("strong", "mid")),
])
def test_cheapest_policy_meeting_the_bar(cli: Cli, log: Path, measured: tuple[Path, Path], bar: str,
                                         hard: tuple[str, str]) -> None:
    code, doc, err = plan_json(cli, log, measured, "--min-quality", bar, "--optimistic")
    assert code == 0, err
    assert doc["met"] is True and doc["misses"] == []
    assert chosen(doc) == {"easy · ≤1,000": "cheap", "easy · 1,001–8,000": "cheap",
                           "hard · ≤1,000": hard[0], "hard · 1,001–8,000": hard[1]}
    assert doc["policy"]["quality"]["point"] >= float(bar)
    assert doc["frontier"], "a frontier is computed by default"
    costs = [f["monthly_cost_usd"] for f in doc["frontier"]]
    assert costs == sorted(costs)  # higher quality levels never cost less


def test_scenario_file_reproduces_the_plan_to_the_cent(cli: Cli, log: Path, measured: tuple[Path, Path],
                                                       tmp_path: Path) -> None:
    scenario, litellm, rules = tmp_path / "plan.yaml", tmp_path / "litellm.yaml", tmp_path / "rules.json"
    code, doc, err = plan_json(cli, log, measured, "--min-quality", "0.9", "--optimistic", "--write-scenario",
                               str(scenario), "--write-litellm", str(litellm), "--write-rules", str(rules))
    assert code == 0, err
    est = cli("estimate", log, "-c", measured[1], "--scenarios", scenario, "-f", "json")
    assert est.exit_code == 0, est.stderr
    by_name = {s["name"]: s for s in json.loads(est.stdout)["scenarios"]}
    assert by_name["planned-routing"]["monthly_cost_usd"] == doc["policy"]["monthly_cost_usd"]
    assert by_name["baseline"]["monthly_cost_usd"] == doc["baseline_monthly_cost_usd"]
    # without caching the policy's cost is the sum of its segments' costs (the search's objective)
    assert round(sum(s["monthly_cost_usd"] for s in doc["policy"]["segments"]), 2) == \
        round(doc["policy"]["monthly_cost_usd"], 2)
    config = yaml.safe_load(litellm.read_text())
    assert config["router_settings"] == {"enable_tag_filtering": True}
    deployments = {e["litellm_params"]["model"]: e["litellm_params"]["tags"] for e in config["model_list"]}
    assert set(deployments) == {"openai/cheap", "openai/mid"}
    assert {"easy.le1000", "easy.1001-8000"} <= set(deployments["openai/cheap"])
    assert {e["model_name"] for e in config["model_list"]} == {"llmcost-plan"}
    doc_rules = json.loads(rules.read_text())
    assert doc_rules["kind"] == "llmcost-routing-rules" and doc_rules["match"] == "first"
    assert [(r["when"], r["model"]) for r in doc_rules["rules"]] == [
        ({"task": "easy", "input_tokens": {"max": 1000}}, "cheap"),
        ({"task": "easy", "input_tokens": {"max": 8000}}, "cheap"),
        ({"task": "hard", "input_tokens": {"max": 1000}}, "mid"),
        ({"task": "hard", "input_tokens": {"max": 8000}}, "mid")]


def test_no_policy_meets_the_bar_exit_1_with_the_closest(cli: Cli, log: Path, measured: tuple[Path, Path],
                                                         tmp_path: Path) -> None:
    """8/8 has a Wilson lower bound of 67.6%: no policy reaches 90% by the default (lower) bound."""
    scenario = tmp_path / "plan.yaml"
    code, doc, err = plan_json(cli, log, measured, "--min-quality", "0.9", "--write-scenario", str(scenario))
    assert code == 1
    assert doc["met"] is False and doc["misses"] and "quality" in doc["misses"][0]
    assert "< 90.0%" in err and "no files written" in err
    # the closest policy reaches the best quality there is (strong on hard), and is the cheapest that does
    # (every model passed 8/8 easy prompts: easy stays on cheap)
    assert chosen(doc) == {"easy · ≤1,000": "cheap", "easy · 1,001–8,000": "cheap", "hard · ≤1,000": "strong",
                           "hard · 1,001–8,000": "strong"}
    assert not scenario.exists()


def test_latency_limit_nobody_meets(cli: Cli, log: Path, measured: tuple[Path, Path]) -> None:
    code, doc, err = plan_json(cli, log, measured, "--max-p95-latency-ms", "0.001")
    assert code == 1
    assert any("p95 latency" in m for m in doc["misses"]), doc["misses"]
    assert "within 0 ms" in err or "within" in err


def test_table_and_markdown(cli: Cli, log: Path, measured: tuple[Path, Path]) -> None:
    results, catalog = measured
    table = cli("plan", log, "--bench", results, "-c", catalog, "--min-quality", "0.9", "--optimistic")
    assert table.exit_code == 0, table.stderr
    assert "Chosen policy per segment" in table.stdout and "Cost–quality frontier" in table.stdout
    md = cli("plan", log, "--bench", results, "-c", catalog, "--min-quality", "0.9", "--optimistic", "-f", "markdown")
    assert md.exit_code == 0 and "| Segment |" in md.stdout and "| hard · 1,001–8,000 |" in md.stdout


def test_candidate_not_in_the_catalog(cli: Cli, log: Path, measured: tuple[Path, Path]) -> None:
    code, _, err = plan_json(cli, log, measured, "--candidates", "cheap,gpt-nope")
    assert code == 2
    assert "--candidates" in err and "gpt-nope" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_task_without_bench_data(cli: Cli, tmp_path: Path, measured: tuple[Path, Path]) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps({"timestamp": f"2026-11-01T00:0{i}:00Z", "model": "strong",
                                        "task": "translate" if i else "easy", "input_tokens": 10,
                                        "output_tokens": 5}) + "\n" for i in range(3)))
    code, _, err = plan_json(cli, path, measured)
    assert code == 2
    assert "task 'translate'" in err and "by_task" in err and len(err.strip().splitlines()) == 1


def test_bench_results_for_another_catalog(cli: Cli, log: Path, measured: tuple[Path, Path], tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"source": "other", "as_of": "2026-11-01", "models": [
        {"id": "strong", "provider": "openai", "input_mtok": 5, "output_mtok": 20}]}))
    out = cli("plan", log, "--bench", measured[0], "-c", other)
    assert out.exit_code == 2
    assert "models[0].model" in out.stderr and "another catalog" in out.stderr
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"kind": "bench", "catalog": "some other catalog", "models": [
        {"model": "cheap", "requests": 2, "quality_passed": 1, "quality_scored": 2}]}))
    out = cli("plan", log, "--bench", summary, "-c", measured[1])
    assert out.exit_code == 2 and "field 'catalog'" in out.stderr


@pytest.mark.parametrize(("args", "needle"), [
    (("--size-buckets", "8000,1000"), "--size-buckets"),
    (("--segments", "task,colour"), "--segments"),
    (("--per-task-min-quality",), "--per-task-min-quality needs --min-quality"),
    (("--min-quality", "1.5"), "--min-quality"),
])
def test_bad_options(cli: Cli, log: Path, measured: tuple[Path, Path], args: tuple[str, ...], needle: str) -> None:
    code, _, err = plan_json(cli, log, measured, *args)
    assert code == 2 and needle in err


def test_per_task_bar(cli: Cli, log: Path, measured: tuple[Path, Path]) -> None:
    """Every task on its own: hard needs 75% → mid at 6/8 is enough; easy stays on cheap."""
    code, doc, err = plan_json(cli, log, measured, "--min-quality", "0.75", "--per-task-min-quality", "--optimistic")
    assert code == 0, err
    assert set(chosen(doc).values()) == {"cheap", "mid"}
    code, doc, _ = plan_json(cli, log, measured, "--min-quality", "0.76", "--per-task-min-quality", "--optimistic")
    assert code == 0
    # 76% on hard: strong on the 40 short requests, mid on the 20 long ones (83.3%) is the cheapest way
    assert chosen(doc) == {"easy · ≤1,000": "cheap", "easy · 1,001–8,000": "cheap", "hard · ≤1,000": "strong",
                           "hard · 1,001–8,000": "mid"}


SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs" / "support_workload.jsonl.gz"


def sample_bench(tmp_path: Path) -> Path:
    """A bench summary for the sample's three tasks (pass counts and latency samples, as bench writes them)."""
    passed = {"gpt-4o-mini": (24, 16, 8), "gpt-4o": (24, 24, 20), "claude-sonnet-4-0": (24, 24, 24)}
    models = [{"model": m, "requests": 72, "quality_passed": sum(p), "quality_scored": 72,
               "latency_samples_ms": [100.0 * (i + 1) * (j + 1) for j in range(8)],
               "by_task": [{"task": t, "requests": 24, "quality_passed": n, "quality_scored": 24}
                           for t, n in zip(("classify", "support", "summarize"), p, strict=True)]}
              for i, (m, p) in enumerate(passed.items())]
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"kind": "bench", "models": models}))
    return path


def test_with_caching_the_scenario_still_reproduces(cli: Cli, tmp_path: Path) -> None:
    """Caching replays (24 h response cache, prompt caching) are in every candidate's run and in the written
    scenario; the plan's cost is the engine's run of that scenario, so estimate gives the same figure."""
    scenario = tmp_path / "plan.yaml"
    out = cli("plan", SAMPLE, "--bench", sample_bench(tmp_path), "--min-quality", "0.8", "--with-caching",
              "--frontier", "0", "--write-scenario", scenario, "-f", "json")
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc["scenario"]) >= {"exact_cache", "prompt_cache", "routing"}
    est = cli("estimate", SAMPLE, "--scenarios", scenario, "-f", "json")
    by_name = {s["name"]: s for s in json.loads(est.stdout)["scenarios"]}
    assert by_name["planned-routing"]["monthly_cost_usd"] == doc["policy"]["monthly_cost_usd"]
    plain = cli("plan", SAMPLE, "--bench", sample_bench(tmp_path), "--min-quality", "0.8", "--frontier", "0",
                "-f", "json")
    assert json.loads(plain.stdout)["policy"]["monthly_cost_usd"] > doc["policy"]["monthly_cost_usd"]
