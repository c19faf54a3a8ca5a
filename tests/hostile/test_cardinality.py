"""Reports stay readable at any number of names: messages and tables list the busiest few and count the rest,
JSON keeps every one, and nothing about many names changes the money."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from llmcost.pricing import LISTED_NAMES
from llmcost.report.estimate_table import TABLE_ROWS

NAMES = 300


@pytest.fixture
def many_models(tmp_path: Path) -> Path:
    rows = []
    for i in range(NAMES):  # custom-model-i has i+1 requests: the busiest is the last
        rows += [{"timestamp": f"2026-11-0{1 + j % 3}T0{j % 10}:00:00Z", "model": f"custom-model-{i}",
                  "input_tokens": 100, "output_tokens": 10} for j in range(i + 1)]
    rows += [{"timestamp": "2026-11-02T00:00:00Z", "model": "gpt-4o", "input_tokens": 1000, "output_tokens": 100}]
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_the_unpriced_warning_lists_the_busiest_and_counts_the_rest(cli: Any, many_models: Path) -> None:
    out = cli("estimate", many_models, "--baseline-only", "--catalog", "frontier")
    assert out.exit_code == 0, out.stderr
    warning = next(line for line in out.stderr.splitlines() if line.startswith("warning: unpriced"))
    assert warning.count("custom-model-") == LISTED_NAMES
    assert f"custom-model-{NAMES - 1} ({NAMES:,} requests" in warning  # busiest first
    rest = NAMES - LISTED_NAMES
    rest_requests = sum(range(1, rest + 1))
    assert f"and {rest:,} more models ({rest_requests:,} requests" in warning
    assert len(warning) < 2000


def test_strict_error_is_one_bounded_line(cli: Any, many_models: Path) -> None:
    out = cli("estimate", many_models, "--baseline-only", "--catalog", "frontier", "--strict")
    assert out.exit_code == 2
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and len(lines[0]) < 2000 and f"{NAMES - LISTED_NAMES:,} more models" in lines[0]


def test_tables_show_the_top_rows_and_one_row_for_the_rest(cli: Any, many_models: Path) -> None:
    out = cli("estimate", many_models, "--catalog", "frontier")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.count("custom-model-") <= 3 * (TABLE_ROWS + 1)
    assert f"{NAMES + 1 - TABLE_ROWS:,} more models" in out.stdout
    assert f"Unpriced: {NAMES - TABLE_ROWS:,} more models" in out.stdout


def test_json_keeps_every_name_and_the_same_money(cli: Any, many_models: Path, tmp_path: Path) -> None:
    out = cli("estimate", many_models, "--baseline-only", "--catalog", "frontier", "--format", "json")
    data = json.loads(out.stdout)
    base = data["scenarios"][0]
    assert len(base["unpriced"]) == NAMES
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps({"timestamp": "2026-11-02T00:00:00Z", "model": "gpt-4o", "input_tokens": 1000,
                               "output_tokens": 100}) + "\n")
    alone = json.loads(cli("estimate", one, "--baseline-only", "--catalog", "frontier", "--format", "json",
                           "--window-days", str(data["window"]["days"])).stdout)
    assert Decimal(str(base["observed_cost_usd"])) == Decimal(str(alone["scenarios"][0]["observed_cost_usd"]))
