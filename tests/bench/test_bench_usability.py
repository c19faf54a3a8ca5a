"""``llmcost bench`` usability: the table at any width, help, several models behind one gateway, Ctrl-C.
Every test runs the CLI against the fake server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from bench_fake_llm import Behavior, serve
from rich.console import Console

from llmcost.report.bench_view import columns, render_table, summary_rows

Cli = Callable[..., Any]

SUITE = {"name": "usability", "prompts": [
    {"id": "capital", "task": "qa", "prompt": "What is the capital of France?", "max_tokens": 20,
     "assert": [{"icontains": "paris"}]},
    {"id": "again", "task": "qa", "prompt": "Name the capital of France.", "max_tokens": 20,
     "assert": [{"icontains": "paris"}]},
]}
LONG = "deepseek-v4-flash-20260901-preview"
LONGER = "openrouter/anthropic/claude-sonnet-4.5-thinking"


def priced(mid: str, url: str | None, *, input_mtok: float = 0.07, output_mtok: float = 0.28) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": mid, "provider": "openai", "input_mtok": input_mtok, "output_mtok": output_mtok}
    if url is not None:
        entry["endpoint"] = {"base_url": url + "/v1", "api": "openai"}
    return entry


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    return write(tmp_path / "suite.yaml", SUITE)


def catalog(tmp_path: Path, models: list[dict[str, Any]]) -> Path:
    return write(tmp_path / "catalog.yaml", {"source": "test", "as_of": "2026-11-01", "models": models})


def rendered(summary: dict[str, Any], width: int) -> str:
    with open(os.devnull, "w") as sink:
        console = Console(width=width, record=True, file=sink, no_color=True, highlight=False)
        console.print(render_table(summary))
    return console.export_text()


def test_table_never_cuts_a_number_or_name_at_80_100_140(cli: Cli, suite_file: Path, tmp_path: Path) -> None:
    behaviors = {LONG: Behavior(cost=0.0000123), LONGER: Behavior(), "down": Behavior(fail_first=9)}
    with serve(behaviors) as fake:
        cat = catalog(tmp_path, [priced(LONG, fake.url), priced(LONGER, fake.url, input_mtok=3, output_mtok=15),
                                 priced("down", fake.url)])
        out = cli("bench", suite_file, "-c", cat, "--models", f"{LONG},{LONGER},down", "--retries", "0",
                  "-f", "json")
        table = cli("bench", suite_file, "-c", cat, "--models", f"{LONG},{LONGER},down", "--retries", "0")
    assert out.exit_code == 0 and table.exit_code == 0, out.stderr
    summary = json.loads(out.stdout)
    rows = {row[0]: dict(zip(columns(summary), row, strict=True)) for row in summary_rows(summary)}
    # per request next to per request: the provider's own figure is divided by the successful requests
    assert rows[LONG]["Provider $/req"] == "$0.0000123"
    assert rows[LONGER]["Provider $/req"] == "—"
    # a priced model that never succeeded has no cost to show: it says so, it is not "unpriced"
    assert rows["down"]["$/req"] == rows["down"]["$/1k req"] == "no success"
    assert "unpriced" not in table.stdout + table.stderr
    cells = {cell for row in rows.values() for cell in row.values()}
    for width in (80, 100, 140):
        text = rendered(summary, width)
        assert "…" not in text, (width, text)
        assert max(len(line) for line in text.splitlines()) <= width
        for cell in cells:  # every name and number appears whole on one line
            assert cell in text, (width, cell, text)
    assert "…" not in table.stdout and LONGER in table.stdout


def test_table_keeps_one_row_per_model_when_it_fits(cli: Cli, suite_file: Path, tmp_path: Path) -> None:
    with serve({"mini": Behavior()}) as fake:
        out = cli("bench", suite_file, "-c", catalog(tmp_path, [priced("mini", fake.url)]), "--models", "mini")
    assert out.exit_code == 0, out.stderr
    header = next(line for line in out.stdout.splitlines() if "Model" in line)
    assert [c.strip() for c in header.strip("┃ ").split("┃")][:5] == ["Model", "Req", "Errors", "Pass", "$/req"]
    assert re.search(r"│ mini +│ +2 │", out.stdout)


def test_help_lists_every_assertion_kind(cli: Cli) -> None:
    from llmcost.bench.suite import Assertion

    out = cli("bench", "--help")
    assert out.exit_code == 0
    kinds = [f.alias or name for name, f in Assertion.model_fields.items()]
    assert len(kinds) >= 9
    text = " ".join(out.stdout.split())
    for kind in kinds:
        assert re.search(rf"\b{re.escape(kind)}\b", text), kind


def test_models_behind_one_gateway_are_priced_from_the_catalog(cli: Cli, suite_file: Path, tmp_path: Path) -> None:
    """No catalog entry has an endpoint: --endpoint gives the gateway, --models the served names."""
    cat = catalog(tmp_path, [priced("cheap", None, input_mtok=1, output_mtok=2),
                             priced("dear", None, input_mtok=10, output_mtok=20)])
    with serve({}) as fake:
        out = cli("bench", suite_file, "-c", cat, "--endpoint", fake.url + "/v1", "--models", "cheap, dear,local",
                  "-f", "json")
        seen = fake.seen
    assert out.exit_code == 0, out.stderr
    assert seen == {"cheap": 2, "dear": 2, "local": 2}
    models = {m["model"]: m for m in json.loads(out.stdout)["models"]}
    cheap, dear = models["cheap"]["cost_per_request_usd"], models["dear"]["cost_per_request_usd"]
    assert cheap is not None and dear == pytest.approx(10 * cheap)
    assert models["local"]["cost_per_request_usd"] is None  # not in the catalog: unpriced, never $0


def test_endpoint_without_a_model_is_a_usage_error(cli: Cli, suite_file: Path, tmp_path: Path) -> None:
    out = cli("bench", suite_file, "-c", catalog(tmp_path, [priced("cheap", None)]),
              "--endpoint", "http://127.0.0.1:9/v1")
    assert out.exit_code == 2 and "--model NAME or --models a,b" in out.stderr
    assert "Traceback" not in out.stderr


def test_ctrl_c_says_what_was_saved_and_how_to_resume(suite_file: Path, tmp_path: Path) -> None:
    results = tmp_path / "results.jsonl"
    with serve({"slow": Behavior(ttft_s=0.4)}) as fake:
        cat = catalog(tmp_path, [priced("slow", fake.url)])
        argv = ["bench", str(suite_file), "--catalog", str(cat), "--models", "slow", "--repetitions", "10",
                "--concurrency", "1", "--results", str(results)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("LLMCOST_")}
        proc = subprocess.Popen([sys.executable, "-c", "from llmcost.cli.main import main; main()", *argv],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (not results.exists() or len(results.read_text().splitlines()) < 2):
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
        saved = len(results.read_text().splitlines())
        assert proc.returncode == 130, stderr
        assert 2 <= saved < 20 and "Traceback" not in stderr
        line = " ".join(stderr.split())
        assert f"interrupted: {saved} record(s) of this run saved to {results}" in line
        command = shlex.split(line.split("resume with: ", 1)[1])
        assert command == ["llmcost", *argv, "--resume"]
        resumed = subprocess.run([sys.executable, "-c", "from llmcost.cli.main import main; main()", *command[1:],
                                  "-f", "json"], capture_output=True, text=True, env=env, timeout=60)
        sent = fake.seen["slow"]
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["models"][0]["successes"] == 20
    assert sent <= 20 + 1  # the resumed run sent only what was missing (one may have been in flight)


def test_ctrl_c_without_results_says_nothing_was_saved(suite_file: Path, tmp_path: Path) -> None:
    with serve({"slow": Behavior(ttft_s=0.4)}) as fake:
        cat = catalog(tmp_path, [priced("slow", fake.url)])
        proc = subprocess.Popen([sys.executable, "-c", "from llmcost.cli.main import main; main()", "bench",
                                 str(suite_file), "-c", str(cat), "--models", "slow", "-n", "10", "--concurrency",
                                 "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and fake.seen["slow"] < 2:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "nothing was saved (no --results FILE)" in " ".join(stderr.split())


def test_recommendation_without_gates_reads_plainly(cli: Cli, suite_file: Path, tmp_path: Path) -> None:
    with serve({"down": Behavior(fail_first=9)}) as fake:
        out = cli("bench", suite_file, "-c", catalog(tmp_path, [priced("down", fake.url)]), "--models", "down",
                  "--retries", "0")
    assert out.exit_code == 0, out.stderr
    assert "all prompts: none — no model has a successful request (down: no successful request)" in out.stdout
    assert "no gates" not in out.stdout.replace("(no gates given)", "")
