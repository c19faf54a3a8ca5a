# ruff: noqa: F811  (the fixtures of test_plan_cli are imported, then named as parameters)
"""``llmcost plan --cascades``: two-model cascades as options per segment (the bench server, catalog and
log of test_plan_cli: hard prompts pass 2/8 on cheap, 8/8 on strong; 40 short and 20 long hard requests).

With only cheap and strong and point estimates, a 93% bar needs the hard traffic at ≥ 76.7%. The
cascade cheap→strong scores 0.25·0.25 + 0.75·1 = 81.25% at 0.75 of strong's price plus cheap's; strong
on the short hard requests with cheap on the long ones scores only 75%, and strong with a cascade on the
long ones costs more: the cascade on both hard segments is the cheapest policy meeting the bar.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_plan_cli import Cli, chosen, log, measured, plan_json  # noqa: F401  (fixtures)

BAR = ("--candidates", "cheap,strong", "--min-quality", "0.93", "--optimistic")


def test_a_cascade_is_the_cheapest_option_meeting_the_bar(cli: Cli, log: Path, measured: tuple[Path, Path]) -> None:
    code, without, err = plan_json(cli, log, measured, *BAR)
    assert code == 0, err
    code, doc, err = plan_json(cli, log, measured, *BAR, "--cascades")
    assert code == 0, err
    assert chosen(without)["hard · ≤1,000"] == "strong"
    hard = [s for s in doc["policy"]["segments"] if s["task"] == "hard"]
    assert [s["cascade"] for s in hard] == [{"first": "cheap", "then": "strong", "accept_share": 0.25}] * 2
    assert doc["policy"]["monthly_cost_usd"] < without["policy"]["monthly_cost_usd"]
    # quality: accepted requests get cheap's pass rate, escalated ones strong's
    assert hard[0]["quality"]["point"] == pytest.approx(0.25 * 0.25 + 0.75 * 1.0)
    assert doc["policy"]["quality"]["point"] >= 0.93
    assert doc["policy"]["share_by_model"]["cheap"] == pytest.approx(0.7 + 0.3 * 0.25)


def test_scenario_file_with_a_cascade_reproduces_to_the_cent(cli: Cli, log: Path, measured: tuple[Path, Path],
                                                           tmp_path: Path) -> None:
    scenario, litellm, rules = tmp_path / "plan.yaml", tmp_path / "litellm.yaml", tmp_path / "rules.json"
    code, doc, err = plan_json(cli, log, measured, *BAR, "--cascades", "--write-scenario", str(scenario),
                               "--write-litellm", str(litellm), "--write-rules", str(rules))
    assert code == 0, err
    written = yaml.safe_load(scenario.read_text())["scenarios"][0]["routing"]["rules"]
    assert [r.get("try_first") for r in written if r["when"].get("task") == "hard"] == \
        [[{"model": "cheap", "accept": 0.25}]] * 2
    est = cli("estimate", log, "-c", measured[1], "--scenarios", scenario, "-f", "json")
    assert est.exit_code == 0, est.stderr
    by_name = {s["name"]: s for s in json.loads(est.stdout)["scenarios"]}
    assert by_name["planned-routing"]["monthly_cost_usd"] == doc["policy"]["monthly_cost_usd"]
    assert round(sum(s["monthly_cost_usd"] for s in doc["policy"]["segments"]), 2) == \
        round(doc["policy"]["monthly_cost_usd"], 2)
    doc_rules = json.loads(rules.read_text())
    hard_rules = [r for r in doc_rules["rules"] if r["when"].get("task") == "hard"]
    assert [(r["model"], r["try_first"][0]["model"]) for r in hard_rules] == [("strong", "cheap")] * 2
    config = yaml.safe_load(litellm.read_text())
    groups: dict[str, Any] = {}
    for e in config["model_list"]:
        groups.setdefault(e["model_name"], {})[e["litellm_params"]["model"]] = e["litellm_params"]["tags"]
    assert "hard.le1000" in groups["llmcost-plan"]["openai/cheap"]
    assert groups["llmcost-plan-escalate"] == {"openai/strong": ["hard.le1000", "hard.1001-8000"]}


def test_search_equals_brute_force_with_cascades(log: Path, measured: tuple[Path, Path]) -> None:
    """The real problem with cascade options (3 models + 3 cascades on 4 segments: 1,296 policies), with a
    quality bar alone and with a p95 latency bar: the search finds brute force's cost."""
    from llmcost.catalog import load_catalog
    from llmcost.evidence import load_bench_evidence
    from llmcost.logs import read_logs
    from llmcost.plan import run
    from llmcost.plan.search import brute_force, solve

    results, catalog_path = measured
    frame = read_logs([str(log)]).frame
    catalog = load_catalog(str(catalog_path))
    evidence = load_bench_evidence([str(results)])
    seen: list[Any] = []
    real = run.build_problem

    def spy(*args: Any) -> Any:
        out = real(*args)
        seen.append(out[0])
        return out

    checked = 0
    for bars in (run.Bars(0.85, optimistic=True), run.Bars(0.93, optimistic=True), run.Bars(0.6),
                 run.Bars(0.9, max_p95_ms=40.0, optimistic=True)):
        seen.clear()
        run.build_problem = spy  # type: ignore[assignment]
        try:
            run.make_plan(frame, catalog, evidence, run.PlanOptions(bars, cascades=True, frontier_levels=0))
        finally:
            run.build_problem = real  # type: ignore[assignment]
        problem = seen[0]
        assert [len(o) for o in problem.options] == [6, 6, 6, 6]
        found, truth = solve(problem), brute_force(problem)
        assert (found.choice is None) == (truth.choice is None)
        if truth.choice is not None:
            checked += 1
            assert found.cost == pytest.approx(truth.cost, rel=1e-12)
    assert checked >= 3


def test_cascades_with_caching_is_refused(cli: Cli, log: Path, measured: tuple[Path, Path]) -> None:
    code, _, err = plan_json(cli, log, measured, "--cascades", "--with-caching")
    assert code == 2
    assert err.strip().count("\n") == 0 and "--cascades cannot be combined with --with-caching" in err


def test_escalated_requests_add_both_latencies() -> None:
    import numpy as np

    from llmcost.plan import cascades
    from llmcost.plan.measures import Latency, mixture_percentiles

    first = Latency("cheap", np.full(50, 100.0), "bench")
    then = Latency("strong", np.sort(np.array([300.0] * 30 + [500.0] * 10)), "log")
    both = cascades.summed(first, then)
    assert both.samples.min() == 400 and both.samples.max() == 600
    assert both.share_within(400) == pytest.approx(0.75)
    mixed = cascades.latency(first, both, 0.25)
    assert mixed.share_within(100) == pytest.approx(0.25)
    assert mixed.share_within(400) == pytest.approx(0.25 + 0.75 * 0.75)
    assert mixture_percentiles([(mixed, 1.0)]) == [400.0, 600.0, 600.0]
    assert mixture_percentiles([(cascades.latency(first, both, 0.6), 1.0)])[0] == 100.0


def test_estimate_with_bench_scores_the_written_cascade_as_the_plan(cli: Cli, log: Path, measured: tuple[Path, Path],
                                                                   tmp_path: Path) -> None:
    """``estimate --bench`` on the written scenario: the same quality as the plan's (accepted on cheap,
    escalated on strong), a latency that counts both calls, and --chunk-rows equal to the whole log."""
    scenario = tmp_path / "plan.yaml"
    code, doc, err = plan_json(cli, log, measured, *BAR, "--cascades", "--write-scenario", str(scenario))
    assert code == 0, err
    runs = []
    for chunk in ((), ("--chunk-rows", "7")):
        est = cli("estimate", log, "-c", measured[1], "--scenarios", scenario, "--bench", measured[0], "-f", "json",
                  *chunk)
        assert est.exit_code == 0, est.stderr
        runs.append({s["name"]: s for s in json.loads(est.stdout)["scenarios"]}["planned-routing"])
    whole, chunked = runs
    assert chunked["monthly_cost_usd"] == whole["monthly_cost_usd"] == doc["policy"]["monthly_cost_usd"]
    assert whole["quality"]["pass_rate"] == pytest.approx(doc["policy"]["quality"]["point"], abs=1e-6)
    assert whole["quality"]["low"] == pytest.approx(doc["policy"]["quality"]["low"], abs=1e-6)
    assert whole.get("quality") == chunked.get("quality")
    assert whole.get("latency") == chunked.get("latency")
