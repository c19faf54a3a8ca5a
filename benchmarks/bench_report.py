"""HTML report size and render time: the CLI's wall time and a headless Chromium's load time.

    .venv/bin/python benchmarks/bench_report.py LOG [LOG...] [--repeat 2] [--chromium /usr/bin/chromium]

For each log: ``estimate --format json`` and ``estimate --format html`` (which also computes the breakdowns
its charts need) timed as subprocesses, then ``llmcost report`` on the saved JSON, the page's size, and
the time from opening the page (network off) until every chart is drawn. Best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LLMCOST = str(Path(sys.executable).with_name("llmcost"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def browser_load(page: Path, chromium: str) -> float:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_offline(True)
        tab = context.new_page()
        start = time.perf_counter()
        tab.goto(page.as_uri())
        tab.wait_for_selector("body[data-charts-rendered]", timeout=600_000)
        took = time.perf_counter() - start
        browser.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("logs", nargs="+")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for log in opts.logs:
            js, page, again = Path(tmp, "e.json"), Path(tmp, "e.html"), Path(tmp, "r.html")
            t_json = min(wall([LLMCOST, "estimate", log, "-f", "json", "-o", str(js)]) for _ in range(opts.repeat))
            t_html = min(wall([LLMCOST, "estimate", log, "-f", "html", "-o", str(page)]) for _ in range(opts.repeat))
            subprocess.run([LLMCOST, "estimate", log, "-f", "json", "-o", str(js), "--by", "hour,model", "--by",
                            "day,model", "--by", "task", "--by", "user", "--by", "tag"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            t_report = min(wall([LLMCOST, "report", str(js), "-o", str(again)]) for _ in range(opts.repeat))
            t_load = min(browser_load(page, opts.chromium) for _ in range(opts.repeat))
            print(f"{log}: estimate json {t_json:.2f} s, estimate html {t_html:.2f} s "
                  f"(+{t_html - t_json:.2f} s), report from JSON {t_report:.2f} s; page {page.stat().st_size:,} "
                  f"bytes (JSON {js.stat().st_size:,} bytes); browser load to last chart drawn {t_load:.2f} s")


if __name__ == "__main__":
    main()
