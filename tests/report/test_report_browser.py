"""Each HTML report opened in a real headless Chromium with the network off: no console error, no request
to any host, and every chart drew data marks. A screenshot of each stays in the test's tmp dir."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from report_support import POLICY, SAMPLE, bench_json, open_in_browser, specs

from llmcost.report.html import render_page, section_for

Cli = Any


def assert_renders(html_file: Path, shot: Path, *, at_least: int) -> None:
    charts = specs(html_file.read_text())
    seen = open_in_browser(html_file, shot)
    assert seen.errors == []
    assert seen.requests == []
    assert seen.charts == len(charts) == len(seen.marks) >= at_least
    empty = {key: n for key, n in seen.marks.items() if n == 0}
    assert empty == {}, f"charts drew no marks: {empty}"
    assert shot.stat().st_size > 10_000


def test_check_page(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "check.html"
    done = cli("check", "--policy", POLICY, "--format", "html", "--output", out)
    assert done.exit_code == 0, done.stderr
    assert_renders(out, tmp_path / "check.png", at_least=2)


def test_bench_page(cli: Cli, tmp_path: Path) -> None:
    out = bench_json(cli, tmp_path, "html")
    assert_renders(out, tmp_path / "bench.png", at_least=4)


def test_estimate_page(cli: Cli, tmp_path: Path) -> None:
    """``estimate --format html`` asks for the breakdowns its charts need: every estimate chart is drawn."""
    out = tmp_path / "estimate.html"
    done = cli("estimate", SAMPLE, "--format", "html", "--output", out)
    assert done.exit_code == 0, done.stderr
    assert set(specs(out.read_text())) == {
        "estimate-cost-by-hour", "estimate-projection", "estimate-cost-by-task", "estimate-cost-by-user",
        "estimate-token-mix", "estimate-cache-hit-rate"}  # the sample has no tags: a note says so
    assert "Cost by tag is left out" in out.read_text()
    assert_renders(out, tmp_path / "estimate.png", at_least=6)


def test_several_results_on_one_page(cli: Cli, tmp_path: Path, results: dict[str, Path]) -> None:
    out = tmp_path / "all.html"
    done = cli("report", results["estimate"], results["bench"], results["check"], "-o", out)
    assert done.exit_code == 0, done.stderr
    assert_renders(out, tmp_path / "all.png", at_least=9)


def test_a_broken_chart_is_caught(tmp_path: Path, results: dict[str, Path]) -> None:
    """The harness itself: a spec vega cannot draw shows up as a console error, and a page that loads
    from a host shows up as a request."""
    page = tmp_path / "broken.html"
    html = Path(results["check"]).read_text()
    assert html  # a check result; build a page from it, then break one spec and add a remote image


    text = render_page([section_for(json.loads(html), "check.json")])
    text = text.replace('"mark":{"type":"bar"}', '"mark":{"type":"no-such-mark"}', 1)
    assert "no-such-mark" in text
    text = text.replace("</body>", '<img src="http://192.0.2.1/x.png"></body>')
    page.write_text(text)
    seen = open_in_browser(page, tmp_path / "broken.png")
    assert seen.errors and any("192.0.2.1" in r for r in seen.requests)
    with pytest.raises(AssertionError):
        assert_renders(page, tmp_path / "broken2.png", at_least=1)
