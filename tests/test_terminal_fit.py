"""Tables fit 80, 100 and 140 columns: every dollar figure and name of the JSON result appears whole in the
table output (wrapped at spaces, shorter titles, or one block per row), and no line is wider than the screen."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from llmcost.report.fit import ELLIPSIS, fit_table
from llmcost.report.money import usd

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = str(ROOT / "sample_logs" / "support_workload.jsonl.gz")
POLICY = str(ROOT / "examples" / "llmcost.yaml")
WIDTHS = (80, 100, 140)


def _usd(value: float | None) -> str:
    return usd(Decimal(str(value))) if value is not None else ""


def _assert_whole(text: str, wanted: set[str], width: int) -> None:
    missing = sorted(w for w in wanted if w and w not in text)
    assert not missing, f"cut or missing at {width} columns: {missing[:10]}\n{text}"
    assert ELLIPSIS not in text
    too_wide = [line for line in text.splitlines() if len(line.rstrip()) > width]
    assert not too_wide, too_wide[:3]


def _run(cli: Any, monkeypatch: pytest.MonkeyPatch, width: int, *args: str) -> tuple[str, Any]:
    monkeypatch.setenv("COLUMNS", str(width))
    table = cli(*args)
    assert table.exit_code in (0, 1), table.stderr
    data = json.loads(cli(*args, "--format", "json").stdout)
    return table.stdout, data


@pytest.mark.parametrize("width", WIDTHS)
def test_estimate_scenarios_models_and_breakdowns(cli: Any, monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    text, data = _run(cli, monkeypatch, width, "estimate", SAMPLE, "--by", "task,model", "--by", "day")
    wanted = set()
    for s in data["scenarios"]:
        wanted |= {s["name"], _usd(s["observed_cost_usd"]), _usd(s["monthly_cost_usd"]),
                   _usd(s["savings_vs_baseline_usd"]) if s["name"] != "baseline" else ""}
    for m in data["scenarios"][0]["by_model"]:
        wanted |= {m["model"], _usd(m["observed_cost_usd"]), _usd(m["monthly_cost_usd"])}
    for b in data["breakdowns"]:
        for row in b["rows"]:
            wanted |= {_usd(row["cost_usd"]), *(row[d] for d in b["by"])}
    _assert_whole(text, wanted, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_check(cli: Any, monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    text, data = _run(cli, monkeypatch, width, "check", "--policy", POLICY)
    wanted = set()
    for v in data["verdicts"]:
        wanted |= {v["rule"], *v["subject"].split()}
        if v["unit"] == "usd" and v["status"] != "skip":
            wanted |= {_usd(v["actual"]), _usd(v["limit"])}
    _assert_whole(text, wanted, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_diff(cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, width: int) -> None:
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    assert cli("estimate", SAMPLE, "--format", "json", "-o", base).exit_code == 0
    assert cli("estimate", SAMPLE, "--window-days", "2", "--format", "json", "-o", head).exit_code == 0
    text, data = _run(cli, monkeypatch, width, "diff", str(base), str(head))
    names = {s["name"] for s in json.loads(head.read_text())["scenarios"]}
    money = {_usd(s["monthly_cost_usd"]) for s in json.loads(head.read_text())["scenarios"]}
    _assert_whole(text, names | money, width)
    assert data  # the JSON form parses


@pytest.mark.parametrize("width", WIDTHS)
def test_logs_inspect_and_catalog_show(cli: Any, monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    inspect = cli("logs", "inspect", SAMPLE).stdout
    _assert_whole(inspect, {"claude-sonnet-4-20250514", "anthropic/claude-sonnet-4-20250514",
                            "gpt-4o-mini-2024-07-18", "openai/gpt-4o-mini", "claude-sonnet-4-0"}, width)
    show = cli("catalog", "show", "gpt-4o").stdout
    assert "gpt-4o" in show and ELLIPSIS not in show
    listed = cli("catalog", "list", "--provider", "anthropic").stdout
    assert "claude-sonnet-4-0" in listed and ELLIPSIS not in listed


def test_a_table_too_wide_for_any_narrowing_goes_vertical() -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Costs")
    for name in ("Scenario", *(f"Column {i}" for i in range(12))):
        table.add_column(name)
    table.add_row("tiered-routing-with-a-long-name", *(f"${i},191,234.56" for i in range(12)))
    fitted = fit_table(table, 80)
    console = Console(width=80, record=True, no_color=True, file=io.StringIO())
    console.print(fitted)
    text = console.export_text()
    assert "Column 3: $3,191,234.56" in text and "Scenario: tiered-routing-with-a-long-name" in text
    assert ELLIPSIS not in text


def test_a_table_that_fits_is_untouched() -> None:
    from rich.table import Table

    table = Table()
    table.add_column("Model")
    table.add_row("gpt-4o")
    assert fit_table(table, 80) is table
