"""Helpers for the HTML report tests: the chart specs read back out of a page, a bench JSON produced by a
real bench run against the local fake LLM server, and a headless Chromium that opens a page offline."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_logs" / "support_workload.jsonl.gz"
POLICY = ROOT / "examples" / "llmcost.yaml"
SPEC = re.compile(r'<script type="application/json" class="vl-spec" data-chart="([^"]+)" data-key="([^"]+)">'
                  r"(.*?)</script>", re.S)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
SUITE = {"name": "report", "prompts": [
    {"id": "capital", "task": "qa", "prompt": "What is the capital of France?", "max_tokens": 50,
     "assert": [{"icontains": "paris"}]},
    {"id": "sum", "task": "math", "prompt": "What is two plus two?", "max_tokens": 10,
     "assert": [{"number": {"value": 4}}]}]}


def specs(html: str) -> dict[str, dict[str, Any]]:
    """Each chart's Vega-Lite spec in the page, by its key."""
    return {key: json.loads(body) for _, key, body in SPEC.findall(html)}


def values(spec: dict[str, Any]) -> list[dict[str, Any]]:
    from llmcost.report.html.model import chart_values

    return chart_values(spec)


def smart(prompt: str) -> str:
    return "The answer is 4." if "two plus two" in prompt else "Paris is the capital of France."


def bench_json(cli: Any, tmp_path: Path, fmt: str = "json") -> Path:
    """``llmcost bench --format json`` against the fake server: a good model, a cheap wrong one, and one
    whose requests fail (HTTP 500 then 401), so every bench chart has data."""
    sys.path.insert(0, str(ROOT / "tests" / "bench"))
    from bench_fake_llm import Behavior, serve

    behaviors = {"good": Behavior(reply=smart, ttft_s=0.04, itl_s=0.01),
                 "cheap": Behavior(reply="I do not know", ttft_s=0.02, itl_s=0.005),
                 "broken": Behavior(mode="error_echo", fail_status=500, fail_first=2, reply=smart)}
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump(SUITE, sort_keys=False))
    out = tmp_path / f"bench.{fmt}"
    with serve(behaviors) as fake:
        models = [{"id": mid, "provider": "openai", "input_mtok": i, "output_mtok": o,
                   "endpoint": {"base_url": fake.url + "/v1", "api": "openai"}}
                  for mid, i, o in (("good", 3, 15), ("cheap", 0.1, 0.4), ("broken", 1, 2))]
        catalog = tmp_path / "catalog.yaml"
        catalog.write_text(yaml.safe_dump({"source": "test", "as_of": "2026-11-01", "models": models}))
        result = cli("bench", suite, "-c", catalog, "--models", "good,cheap,broken", "-n", "3", "--retries", "0",
                     "-f", fmt, "-o", out, "--results", tmp_path / "records.jsonl")
    assert result.exit_code == 0, result.stderr
    return out


@dataclass
class Rendered:
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    marks: dict[str, int] = field(default_factory=dict)  # chart key -> data marks drawn
    charts: int = 0


def open_in_browser(page: Path, screenshot: Path) -> Rendered:
    """Open ``page`` in headless Chromium with the network off; every request that is not the file itself
    is aborted and recorded. Counts each chart's SVG data marks and keeps a full-page screenshot."""
    from playwright.sync_api import sync_playwright

    from components import chromium

    exe = chromium()
    seen = Rendered()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(exe), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="America/New_York")
            context.set_offline(True)

            def route(r: Any) -> None:
                if r.request.url == page.as_uri():
                    r.continue_()
                else:
                    seen.requests.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            tab = context.new_page()
            tab.on("console", lambda m: seen.errors.append(m.text) if m.type in ("error", "warning") else None)
            tab.on("pageerror", lambda e: seen.errors.append(str(e)))
            tab.on("requestfailed", lambda r: seen.requests.append(r.url) if r.url != page.as_uri() else None)
            tab.goto(page.as_uri())
            tab.wait_for_selector("body[data-charts-rendered]", timeout=60_000)
            seen.charts = int(tab.get_attribute("body", "data-charts-rendered") or 0)
            for fig in tab.query_selector_all("figure.chart"):
                spec = fig.query_selector("script.vl-spec")
                assert spec is not None
                key = spec.get_attribute("data-chart") or ""
                seen.marks[key] = len(fig.query_selector_all("svg g.role-mark > *"))
            tab.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return seen
