"""Quality, latency and the plan frontier in the HTML reports: the estimate's cost-against-quality and p95
latency charts (estimate --bench) and a plan's frontier chart (llmcost report PLAN.json, plan --format html)
carry exactly the JSON result's numbers, and draw in headless Chromium with no console error or request."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

import pytest
from report_support import SAMPLE, specs, values
from typer.testing import CliRunner

from llmcost.cli.main import app
from llmcost.report.html import section_for

SCENARIOS = """scenarios:
  - name: all-mini
    routing:
      rules:
        - to: gpt-4o-mini
  - name: cache-6h
    exact_cache:
      ttl: 6h
"""


def _cli(*args: Any) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def bench_file(tmp: Path) -> Path:
    """A bench summary for the sample's three tasks (pass counts and latency samples, as bench writes them)."""
    passed = {"gpt-4o-mini": (24, 16, 8), "gpt-4o": (24, 24, 20), "claude-sonnet-4-0": (24, 24, 24)}
    models = [{"model": m, "requests": 72, "quality_passed": sum(p), "quality_scored": 72,
               "latency_samples_ms": [100.0 * (i + 1) * (j + 1) for j in range(8)],
               "by_task": [{"task": t, "requests": 24, "quality_passed": n, "quality_scored": 24}
                           for t, n in zip(("classify", "support", "summarize"), p, strict=True)]}
              for i, (m, p) in enumerate(passed.items())]
    path = tmp / "bench.json"
    path.write_text(json.dumps({"kind": "bench", "models": models}))
    return path


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """estimate.json (with --bench), plan.json (a met bar) and plan-miss.json (no policy meets the bar)."""
    tmp = tmp_path_factory.mktemp("quality")
    bench = bench_file(tmp)
    (tmp / "scenarios.yaml").write_text(SCENARIOS)
    out = {"estimate": tmp / "estimate.json", "plan": tmp / "plan.json", "miss": tmp / "plan-miss.json",
           "bench": bench}
    done = _cli("estimate", SAMPLE, "--scenarios", tmp / "scenarios.yaml", "--bench", bench, "-f", "json",
                "-o", out["estimate"])
    assert done.exit_code == 0, done.stderr
    out["plain"] = tmp / "plain.json"
    done = _cli("estimate", SAMPLE, "--scenarios", tmp / "scenarios.yaml", "-f", "json", "-o", out["plain"])
    assert done.exit_code == 0, done.stderr
    done = _cli("plan", SAMPLE, "--bench", bench, "--min-quality", "0.8", "-f", "json", "-o", out["plan"])
    assert done.exit_code == 0, done.stderr
    done = _cli("plan", SAMPLE, "--bench", bench, "--min-quality", "0.99", "-f", "json", "-o", out["miss"])
    assert done.exit_code == 1, done.stderr
    return out


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def _page(cli: Any, tmp_path: Path, *results: Path) -> str:
    out = tmp_path / "report.html"
    done = cli("report", *results, "-o", out)
    assert done.exit_code == 0, done.stderr
    return out.read_text()


def test_estimate_quality_chart_is_the_json(cli: Any, tmp_path: Path, saved: dict[str, Path]) -> None:
    est = _load(saved["estimate"])
    charts = specs(_page(cli, tmp_path, saved["estimate"]))
    points = {r["scenario"]: r for r in values(charts["estimate-cost-quality"])}
    assert list(points) == [s["name"] for s in est["scenarios"]] == ["baseline", "all-mini", "cache-6h"]
    for s in est["scenarios"]:
        p, q = points[s["name"]], s["quality"]
        assert round(p["monthly_cost"], 2) == round(s["monthly_cost_usd"], 2)
        assert (p["pass_rate"], p["low"], p["high"]) == pytest.approx((q["pass_rate"] * 100, q["low"] * 100,
                                                                       q["high"] * 100), abs=1e-9)
        assert p["low"] <= p["pass_rate"] <= p["high"]
    assert points["all-mini"]["pass_rate"] < points["baseline"]["pass_rate"]  # the cheap route costs quality
    latency = {r["scenario"]: r for r in values(charts["estimate-latency-p95"])}
    assert {k: v["p95_ms"] for k, v in latency.items()} == {
        s["name"]: s["latency"]["latency_ms"]["p95"] for s in est["scenarios"]}


def test_estimate_quality_table(cli: Any, tmp_path: Path, saved: dict[str, Path]) -> None:
    html = _page(cli, tmp_path, saved["estimate"])
    est = _load(saved["estimate"])
    assert "<h3>Quality and latency (pass rate: 95% interval" in html
    assert "<h3>Quality by task</h3>" in html
    mini = next(s for s in est["scenarios"] if s["name"] == "all-mini")
    q = mini["quality"]
    assert f"<td class=\"num\">{q['pass_rate'] * 100:.1f}%</td>" in html
    assert f"{q['low'] * 100:.1f}–{q['high'] * 100:.1f}%" in html
    assert f"{mini['latency']['latency_ms']['p95']:,.0f} ms" in html


def test_estimate_without_bench_has_no_quality_charts(saved: dict[str, Path]) -> None:
    section = section_for(_load(saved["plain"]), "estimate.json")
    assert not {"estimate-cost-quality", "estimate-latency-p95"} & {c.key for c in section.charts}
    assert not any("Quality" in t.title for t in section.tables)


def test_unmeasured_latency_and_quality_are_left_out_with_a_note(saved: dict[str, Path]) -> None:
    est = _load(saved["estimate"])
    for s in est["scenarios"]:
        s["latency"]["latency_ms"]["p95"] = None
    est["scenarios"][2]["quality"]["pass_rate"] = None
    section = section_for(est, "estimate.json")
    keys = {c.key for c in section.charts}
    assert "estimate-latency-p95" not in keys and "estimate-cost-quality" in keys
    assert any(n.startswith("p95 latency leaves out baseline, all-mini, cache-6h") for n in section.notes)
    assert any(n.startswith("Cost against quality leaves out cache-6h") for n in section.notes)
    chart = next(c for c in section.charts if c.key == "estimate-cost-quality")
    assert [r["scenario"] for r in values(chart.spec)] == ["baseline", "all-mini"]


def test_plan_frontier_chart_is_the_json(cli: Any, tmp_path: Path, saved: dict[str, Path]) -> None:
    plan = _load(saved["plan"])
    rows = values(specs(_page(cli, tmp_path, saved["plan"]))["plan-frontier"])
    front = [r for r in rows if r["policy"] == "frontier"]
    assert len(front) == len(plan["frontier"]) >= 3
    for r, level in zip(front, plan["frontier"], strict=True):
        assert round(r["monthly_cost"], 2) == round(level["monthly_cost_usd"], 2)
        assert (r["quality"], r["low"], r["high"]) == pytest.approx(
            tuple(level["quality"][k] * 100 for k in ("point", "low", "high")), abs=1e-9)
    (chosen,) = [r for r in rows if r["policy"] == "chosen"]
    assert round(chosen["monthly_cost"], 2) == round(plan["policy"]["monthly_cost_usd"], 2)
    assert chosen["quality"] == pytest.approx(plan["policy"]["quality"]["point"] * 100, abs=1e-9)
    assert chosen["low"] >= 80.0  # the bar holds on the lower bound
    assert [r["quality"] for r in rows if r["policy"] == "quality bar"] == [80.0]
    assert [r["monthly_cost"] for r in rows if r["policy"] == "as logged"] == [plan["baseline_monthly_cost_usd"]]


def test_plan_tables_and_facts(cli: Any, tmp_path: Path, saved: dict[str, Path]) -> None:
    plan = _load(saved["plan"])
    html = _page(cli, tmp_path, saved["plan"])
    assert "<h3>Chosen policy per segment</h3>" in html and "<h3>Cost–quality frontier" in html
    for s in plan["policy"]["segments"]:
        assert f"<td>{escape(s['segment'])}</td>" in html
        assert f"{s['quality']['passed']}/{s['quality']['trials']}" in html
    assert "quality ≥ 80.0% (lower 95% bound)" in html
    assert f"${plan['policy']['monthly_cost_usd']:,.2f} per 30 days" in html


def test_plan_not_met_marks_the_closest_policy(saved: dict[str, Path]) -> None:
    plan = _load(saved["miss"])
    assert plan["met"] is False
    section = section_for(plan, "plan-miss.json")
    rows = values(section.charts[0].spec)
    assert [r["policy"] for r in rows if r["policy"] not in ("frontier", "quality bar", "as logged")] == [
        "closest (misses the bars)"]
    assert section.tables[0].title == "Closest policy per segment (misses the bars)"
    assert any("no policy meets the bars" in v and "99.0%" in v for _, v in section.facts)


def test_plan_format_html_is_the_report_of_its_json(cli: Any, tmp_path: Path, saved: dict[str, Path]) -> None:
    out = tmp_path / "plan.html"
    done = cli("plan", SAMPLE, "--bench", saved["bench"], "--min-quality", "0.8", "--format", "html", "--output", out)
    assert done.exit_code == 0, done.stderr
    assert specs(out.read_text()) == specs(_page(cli, tmp_path, saved["plan"]))


def test_plan_result_missing_a_field_is_one_line(cli: Any, tmp_path: Path, saved: dict[str, Path]) -> None:
    broken = _load(saved["plan"])
    del broken["policy"]
    path = tmp_path / "broken-plan.json"
    path.write_text(json.dumps(broken))
    out = tmp_path / "never.html"
    done = cli("report", path, "-o", out)
    assert done.exit_code == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "plan" in lines[0] and "'policy'" in lines[0]
    assert "Traceback" not in done.stderr and not out.exists()


def test_quality_and_frontier_charts_draw_in_chromium(cli: Any, tmp_path: Path, saved: dict[str, Path]) -> None:
    from test_report_browser import assert_renders

    out = tmp_path / "quality.html"
    done = cli("report", saved["estimate"], saved["plan"], "-o", out)
    assert done.exit_code == 0, done.stderr
    assert {"estimate-cost-quality", "estimate-latency-p95", "plan-frontier"} <= set(specs(out.read_text()))
    assert_renders(out, tmp_path / "quality.png", at_least=6)
    miss = tmp_path / "miss.html"
    done = cli("report", saved["miss"], "-o", miss)
    assert done.exit_code == 0, done.stderr
    assert_renders(miss, tmp_path / "miss.png", at_least=1)


def test_a_cascade_segment_names_both_models(saved: dict[str, Path]) -> None:
    plan = _load(saved["plan"])
    plan["policy"]["segments"][0]["cascade"] = {"first": "gpt-4o-mini", "then": "gpt-4o", "accept_share": 0.75}
    row = section_for(plan, "plan.json").tables[0].rows[0]
    assert row[2] == "gpt-4o-mini (75% accepted) → gpt-4o"


def test_example_scenarios_render_as_html(cli: Any, tmp_path: Path, saved: dict[str, Path]) -> None:
    """Every scenario of examples/scenarios.yaml, failover included (its summary line read back from the JSON
    dict, where money is a number, not a Decimal), with quality and latency from the bench."""
    out = tmp_path / "examples.html"
    done = cli("estimate", SAMPLE, "--scenarios", SAMPLE.parents[1] / "examples" / "scenarios.yaml", "--bench",
               saved["bench"], "--format", "html", "--output", out)
    assert done.exit_code == 0, done.stderr
    html = out.read_text()
    assert "cost of the moved requests $" in html
    assert len(values(specs(html)["estimate-cost-quality"])) == 8
