"""The HTML report's charts carry the JSON result's numbers (to the cent), chart images are written
offline, and bad input is one line and exit 2."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from report_support import POLICY, ROOT, SAMPLE, specs, values

from llmcost.report.html.charts_bench import frontier

Cli = Any
CENT = Decimal("0.01")


def cents(x: float) -> Decimal:
    return Decimal(str(x)).quantize(CENT, ROUND_HALF_UP)


def page(cli: Cli, tmp_path: Path, *paths: Path) -> tuple[str, dict[str, dict[str, Any]]]:
    out = tmp_path / "report.html"
    done = cli("report", *paths, "-o", out)
    assert done.exit_code == 0, done.stderr
    html = out.read_text()
    return html, specs(html)


def test_estimate_charts_equal_the_json_to_the_cent(cli: Cli, tmp_path: Path, results: dict[str, Path]) -> None:
    result = json.loads(results["estimate"].read_text())
    _, charts = page(cli, tmp_path, results["estimate"])
    projection = {r["scenario"]: r["monthly"] for r in values(charts["estimate-projection"])}
    assert {k: cents(v) for k, v in projection.items()} == {
        s["name"]: cents(s["monthly_cost_usd"]) for s in result["scenarios"]}
    saves = {r["scenario"]: r["savings"] for r in values(charts["estimate-projection"])}
    for s in result["scenarios"][1:]:
        assert cents(saves[s["name"]]) == cents(s["savings_vs_baseline_usd"])
    mix = values(charts["estimate-token-mix"])
    base = result["scenarios"][0]["by_model"]
    assert sum(r["tokens"] for r in mix if r["kind"] != "output") == sum(m["input_tokens"] for m in base)
    assert sum(r["tokens"] for r in mix if r["kind"] == "output") == sum(m["output_tokens"] for m in base)
    assert sum(r["tokens"] for r in mix if r["kind"] == "cache read") == sum(m["cache_read_tokens"] for m in base)
    hits = values(charts["estimate-cache-hit-rate"])
    exact = result["scenarios"][2]["details"]["exact_cache"]
    assert sum(r["hits"] for r in hits if r["series"] == "exact-cache-24h: exact cache") == exact["hits"]
    assert sum(r["requests"] for r in hits if r["series"] == "exact-cache-24h: exact cache") == exact["requests"]


def test_check_chart_equals_the_verdicts(cli: Cli, tmp_path: Path, results: dict[str, Path]) -> None:
    result = json.loads(results["check"].read_text())
    _, charts = page(cli, tmp_path, results["check"])
    usd = {r["rule"]: r for r in values(charts["check-usd"])}
    expected = [v for v in result["verdicts"] if v["unit"] == "usd" and v["actual"] is not None]
    assert len(usd) == len(expected) > 3
    for i, v in enumerate(expected):
        row = usd[f"{i + 1}. {v['rule']} · {v['subject']}"]
        assert (cents(row["actual"]), cents(row["limit"]), row["status"]) == (
            cents(v["actual"]), cents(v["limit"]), v["status"])
    assert [r["status"] for r in values(charts["check-usd"])].count("warn") == 1  # summarize-budget


def test_bench_charts_equal_the_summary(cli: Cli, tmp_path: Path, results: dict[str, Path]) -> None:
    summary = json.loads(results["bench"].read_text())
    _, charts = page(cli, tmp_path, results["bench"])
    points = {r["model"]: r for r in values(charts["bench-cost-quality"])}
    by_model = {m["model"]: m for m in summary["models"]}
    assert set(points) == {"good", "cheap"}  # "broken" never succeeded: left out, with a note
    for name, p in points.items():
        assert Decimal(repr(p["cost_per_request"])) == Decimal(repr(by_model[name]["cost_per_request_usd"]))
        assert p["pass_rate"] == by_model[name]["quality_pass_rate"] * 100
    assert {n: p["frontier"] for n, p in points.items()} == {"cheap": "on the frontier", "good": "on the frontier"}
    errors = values(charts["bench-errors"])
    assert {(r["model"], r["error"]): r["requests"] for r in errors} == {
        ("broken", k): v for k, v in by_model["broken"]["errors_by_type"].items()}
    ttft = [r for r in values(charts["bench-ttft"]) if r["model"] == "good"]
    assert len(ttft) == 101  # every percentile of the summary's TTFT samples
    assert ttft[50]["ms"] == pytest.approx(by_model["good"]["ttft_ms"]["p50"], abs=0.01)


def test_frontier_keeps_only_models_no_cheaper_one_matches() -> None:
    points = [{"model": "a", "cost_per_request": 1.0, "pass_rate": 50.0},
              {"model": "b", "cost_per_request": 2.0, "pass_rate": 40.0},   # dearer and worse
              {"model": "c", "cost_per_request": 3.0, "pass_rate": 90.0},
              {"model": "d", "cost_per_request": 3.0, "pass_rate": 80.0},   # same cost, worse
              {"model": "e", "cost_per_request": 4.0, "pass_rate": 90.0}]   # dearer, no better
    assert frontier(points) == {"a", "c"}


def test_cache_hit_series_read_in_chunks_equals_the_whole_log(cli: Cli, tmp_path: Path) -> None:
    whole = json.loads(cli("estimate", SAMPLE, "-f", "json").stdout)
    chunked = json.loads(cli("estimate", SAMPLE, "-f", "json", "--chunk-rows", "700").stdout)
    for a, b in zip(whole["scenarios"], chunked["scenarios"], strict=True):
        for kind, hits in (("exact_cache", "hits"), ("prompt_cache", "hit_requests")):
            if kind not in (a.get("details") or {}):
                continue
            series = a["details"][kind]["over_time"]
            assert series == b["details"][kind]["over_time"]
            assert len(series) == 72  # three days, every hour has traffic
            assert sum(v["hits"] for v in series.values()) == a["details"][kind][hits]
            assert sum(v["requests"] for v in series.values()) == a["details"][kind]["requests"]


def test_png_and_svg_one_image_per_chart(cli: Cli, tmp_path: Path, results: dict[str, Path]) -> None:
    paths = [results["estimate"], results["bench"], results["check"]]
    _, charts = page(cli, tmp_path, *paths)
    done = cli("report", *paths, "--png", tmp_path / "png")
    assert done.exit_code == 0, done.stderr
    pngs = sorted((tmp_path / "png").iterdir())
    assert len(pngs) == len(charts) >= 9
    for p in pngs:
        data = p.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 2000, p
    assert {p.name for p in pngs} >= {"1-estimate-projection.png", "2-bench-cost-quality.png", "3-check-usd.png"}
    done = cli("report", results["check"], "--svg", tmp_path / "svg")
    assert done.exit_code == 0, done.stderr
    svgs = sorted((tmp_path / "svg").iterdir())
    assert [p.name for p in svgs] == ["1-check-percent.svg", "1-check-usd.svg"]
    assert all(p.read_text().startswith("<svg") and "role-mark" in p.read_text() for p in svgs)
    assert done.stdout == ""  # images only: no page on stdout


def one_line_error(done: Any, *words: str) -> None:
    assert done.exit_code == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("llmcost: error:"), done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_a_file_that_is_not_a_result_is_refused(cli: Cli, tmp_path: Path, results: dict[str, Path]) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": "world"}))
    out = tmp_path / "page.html"
    one_line_error(cli("report", results["check"], other, "-o", out), str(other), "kind", "not an llmcost")
    assert not out.exists()
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    one_line_error(cli("report", bad), str(bad), "invalid JSON")
    nan = tmp_path / "nan.json"
    nan.write_text(results["check"].read_text().replace('"limit": 600.0', '"limit": NaN', 1))
    one_line_error(cli("report", nan), str(nan), "NaN")
    half = tmp_path / "half.json"
    half.write_text(json.dumps({"kind": "estimate", "scenarios": []}))
    one_line_error(cli("report", half), str(half), "window")
    one_line_error(cli("report", tmp_path / "missing.json"), "missing.json", "cannot read")


def test_unwritable_image_directory_and_two_image_formats(cli: Cli, tmp_path: Path,
                                                          results: dict[str, Path]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    one_line_error(cli("report", results["check"], "--png", blocker), "--png", "not a directory")
    one_line_error(cli("report", results["check"], "--png", blocker / "sub"), "--png", "cannot create")
    one_line_error(cli("report", results["check"], "--png", tmp_path / "a", "--svg", tmp_path / "b"),
                   "--png", "--svg")
    assert not (tmp_path / "a").exists()


def test_missing_report_extra_is_one_line(cli: Cli, tmp_path: Path, results: dict[str, Path],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from llmcost.report.html import page as page_module

    monkeypatch.setitem(sys.modules, "altair", None)
    monkeypatch.setitem(sys.modules, "vl_convert", None)
    page_module.javascript.cache_clear()
    out = tmp_path / "page.html"
    one_line_error(cli("report", results["check"], "-o", out), "pip install 'llmcost[report]'")
    one_line_error(cli("check", "--policy", POLICY, "-f", "html", "-o", out), "pip install 'llmcost[report]'")
    assert not out.exists()
    page_module.javascript.cache_clear()


def test_names_from_logs_cannot_break_out_of_the_page(tmp_path: Path, results: dict[str, Path]) -> None:
    from llmcost.report.html import render_page, section_for

    result = json.loads(results["estimate"].read_text())
    hostile = "</script><script>alert(1)</script><!--"
    result["scenarios"][0]["by_model"][0]["model"] = hostile
    html = render_page([section_for(result, "x.json")])
    assert hostile not in html and "alert(1)</script>" not in html
    assert any(r.get("model") == hostile for r in values(specs(html)["estimate-token-mix"]))


def test_estimate_html_breakdown_charts_add_up_to_the_json(cli: Cli, tmp_path: Path) -> None:
    """The page of ``estimate --format html`` and the JSON of ``--format json --by ...`` (the same
    breakdowns) agree: hourly cost by model, task and user add up to the baseline's cost to the cent."""
    out = tmp_path / "estimate.html"
    assert cli("estimate", SAMPLE, "-f", "html", "-o", out).exit_code == 0
    charts = specs(out.read_text())
    result = json.loads(cli("estimate", SAMPLE, "-f", "json", "--by", "hour,model", "--by", "task").stdout)
    observed = cents(result["scenarios"][0]["observed_cost_usd"])
    hourly = values(charts["estimate-cost-by-hour"])
    assert len(hourly) == len(result["breakdowns"][0]["rows"]) > 72
    assert cents(sum(Decimal(repr(r["cost"])) for r in hourly)) == observed
    for dim in ("task", "user"):
        rows = values(charts[f"estimate-cost-by-{dim}"])
        assert cents(sum(Decimal(repr(r["cost"])) for r in rows)) == observed, dim
    task = {r["task"]: cents(r["cost"]) for r in values(charts["estimate-cost-by-task"])}
    assert task == {r["task"]: cents(r["cost_usd"]) for r in result["breakdowns"][1]["rows"]}


def test_top_n_plus_other_in_the_dimension_charts(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "estimate.html"
    assert cli("estimate", SAMPLE, "-f", "html", "--by", "user", "--top", "2", "-o", out).exit_code == 0
    charts = specs(out.read_text())
    users = [r["user"] for r in values(charts["estimate-cost-by-user"])]
    assert len(users) == 3 and users[-1] == "other"
    assert "estimate-cost-by-task" not in charts  # the user asked for --by user only
    assert "Cost by task is left out" in out.read_text()


def test_a_dimension_the_log_lacks_is_a_note_not_an_empty_chart(cli: Cli) -> None:
    from llmcost.report.html import section_for

    result = json.loads(cli("estimate", SAMPLE, "-f", "json", "--by", "user", "--by", "task").stdout)
    users = result["breakdowns"][0]
    users["rows"] = [{**users["rows"][0], "user": "(none)"}]  # what a log without users gives
    users["other"] = None
    section = section_for(result, "x.json")
    keys = [c.key for c in section.charts]
    assert "estimate-cost-by-user" not in keys and "estimate-cost-by-task" in keys
    assert any(n.startswith("Cost by user is left out") for n in section.notes)
    assert [t.title for t in section.tables if t.title.startswith("Cost by")] == ["Cost by task"]


def test_time_axes_are_utc_whatever_the_viewer_timezone(cli: Cli, tmp_path: Path) -> None:
    """Hours and days are UTC buckets: the charts bin and label them in UTC, not the browser's zone."""
    out = tmp_path / "estimate.html"
    assert cli("estimate", SAMPLE, "-f", "html", "-o", out).exit_code == 0
    charts = specs(out.read_text())
    for key in ("estimate-cost-by-hour", "estimate-cache-hit-rate"):
        spec = charts[key]
        x = (spec.get("encoding") or spec["layer"][0]["encoding"])["x"]
        assert x["timeUnit"].startswith("utc") and x["scale"]["type"] == "utc", key


def test_the_javascript_bundle_is_cached_and_a_bad_cache_rebuilt(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from llmcost.report.html import page as page_module

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    page_module.javascript.cache_clear()
    try:
        fresh = page_module.javascript()
        cached = page_module._cache_path()
        assert cached.read_text() == fresh and "vegaEmbed" in fresh and "</script" not in fresh
        cached.write_text("garbage")  # a truncated or foreign file is not inlined
        page_module.javascript.cache_clear()
        assert page_module.javascript() == fresh and cached.read_text() == fresh
        monkeypatch.setenv("XDG_CACHE_HOME", str(cached))  # a file where the directory should be
        page_module.javascript.cache_clear()
        assert page_module.javascript() == fresh
    finally:
        page_module.javascript.cache_clear()


def test_the_terminal_tables_are_on_the_page(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "estimate.html"
    assert cli("estimate", SAMPLE, "-f", "html", "-o", out).exit_code == 0
    html = out.read_text()
    for title in ("Scenarios", "Requests and monthly cost by model (tier)", "What each scenario&#x27;s replay found",
                  "baseline: cost by model", "Cost by task"):
        assert f"<h3>{title}" in html, title
    assert "exact cache (TTL 1 d): 55.8% hit rate (2,345 of 4,200 requests)" in html
    assert "<td>claude-sonnet-4-0 (warm)</td><td class=\"num\">1,460 · $291.03</td>" in html
    base = tmp_path / "base.json"
    assert cli("estimate", SAMPLE, "-c", "frontier", "-f", "json", "-o", base).exit_code == 0
    page = tmp_path / "check.html"
    done = cli("check", "--policy", POLICY, "--baseline", base, "-f", "html", "-o", page)
    assert done.exit_code == 0, done.stderr
    assert f"<h3>Change against the baseline ({base})</h3>" in page.read_text()
    assert "<td>baseline</td><td class=\"num\">$543.52</td><td class=\"num\">$543.52</td>" in page.read_text()


def test_bench_dry_run_has_no_html(cli: Cli, tmp_path: Path) -> None:
    suite = ROOT / "suites" / "sample.yaml"
    done = cli("bench", suite, "--endpoint", "http://127.0.0.1:9/v1", "--model", "gpt-4o-mini", "--dry-run", "-f",
               "html")
    one_line_error(done, "--dry-run", "--format table, json or markdown")


def test_a_bench_results_jsonl_file_is_summarized(cli: Cli, tmp_path: Path, results: dict[str, Path]) -> None:
    records = results["bench"].parent / "records.jsonl"
    _, from_records = page(cli, tmp_path, records)
    _, from_summary = page(cli, tmp_path, results["bench"])
    assert set(from_records) == set(from_summary)
    def points(charts: dict[str, Any]) -> list[dict[str, Any]]:
        return sorted(values(charts["bench-cost-quality"]), key=lambda p: p["model"])

    assert points(from_records) == points(from_summary)


def test_a_bench_only_check_charts_milliseconds_and_rates() -> None:
    from llmcost.report.html import section_for

    def verdict(metric: str, unit: str, actual: float, limit: float, status: str) -> dict[str, Any]:
        return {"rule": "bench-gate", "kind": "bench", "subject": "model m", "metric": metric, "status": status,
                "severity": "error", "bound": "max", "limit": limit, "actual": actual, "excess": actual - limit,
                "unit": unit, "note": None, "message": ""}

    result = {"kind": "check", "policy": "p.yaml", "scenario": None, "window": None, "projection_days": 30,
              "monthly_cost_usd": None, "summary": {"failed": 1, "warnings": 0, "skipped": 0, "passed": 1},
              "verdicts": [verdict("p95 latency", "ms", 2400.0, 2000.0, "fail"),
                           verdict("error rate", "rate", 0.01, 0.02, "pass")], "top_drivers": [], "unpriced": []}
    section = section_for(result, "check.json")
    charts = {c.key: c for c in section.charts}
    assert set(charts) == {"check-milliseconds", "check-percent"}
    assert [(r["actual"], r["limit"]) for r in values(charts["check-percent"].spec)] == [(1.0, 2.0)]
    assert dict(section.facts)["Window"] == "bench results only (no logs)"
    rows = section.tables[0].rows
    assert rows[0][4:] == ["2,400 ms", "max 2,000 ms", "400 ms over"]


def test_the_page_of_a_streamed_log_equals_the_whole_file_one(cli: Cli, tmp_path: Path) -> None:
    whole, chunked = tmp_path / "whole.html", tmp_path / "chunked.html"
    assert cli("estimate", SAMPLE, "-f", "html", "-o", whole).exit_code == 0
    assert cli("estimate", SAMPLE, "-f", "html", "-o", chunked, "--chunk-rows", "900").exit_code == 0
    a, b = specs(whole.read_text()), specs(chunked.read_text())
    assert set(a) == set(b) and len(a) == 6
    for key in a:
        rows_a, rows_b = values(a[key]), values(b[key])
        assert len(rows_a) == len(rows_b), key
        for x, y in zip(rows_a, rows_b, strict=True):
            assert x.keys() == y.keys(), key
            for field, value in x.items():
                if isinstance(value, float):
                    assert value == pytest.approx(y[field], rel=1e-9, abs=1e-6), (key, field)
                else:
                    assert value == y[field], (key, field)
