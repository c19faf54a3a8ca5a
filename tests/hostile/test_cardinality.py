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


def test_a_per_task_rule_over_many_tasks_shows_the_failures_first_and_counts_the_rest(cli: Any,
                                                                                   tmp_path: Path) -> None:
    from llmcost.report.check_view import SHOWN_VERDICTS

    rows = [{"timestamp": f"2026-11-0{1 + i % 3}T00:00:00Z", "model": "gpt-4o", "task": f"task-{i:03d}",
             "input_tokens": 1000 * (50 if i % 40 == 0 else 1), "output_tokens": 10} for i in range(200)]
    log = tmp_path / "tasks.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"version: 1\ninputs:\n  logs: ['{log}']\n  catalog: frontier\nrules:\n"
                      "  - name: per-task\n    kind: monthly_spend\n    per: task\n    max_usd: 1\n")
    out = cli("check", "--policy", policy)
    assert out.exit_code == 1
    failing = [f"task-{i:03d}" for i in range(0, 200, 40)]
    assert all(name in out.stdout for name in failing)  # every failure is shown, whatever its place
    assert f"{200 - SHOWN_VERDICTS:,} more" in out.stdout and f"{200 - SHOWN_VERDICTS:,} pass" in out.stdout
    data = json.loads(cli("check", "--policy", policy, "--format", "json").stdout)
    assert len(data["verdicts"]) == 200 and data["summary"]["failed"] == 5
    markdown = tmp_path / "pr.md"
    cli("check", "--policy", policy, "--markdown", markdown, "--format", "json", "--output", tmp_path / "c.json")
    text = markdown.read_text()
    assert all(name in text for name in failing) and len(text) < 20_000


def test_per_task_costs_equal_pricing_each_task_alone(tmp_path: Path) -> None:
    """by_task sums every task in one pass; each task's cost must equal pricing its rows alone."""
    import pandas as pd

    from llmcost.budget.evaluate import Context
    from llmcost.catalog import load_catalog
    from llmcost.pricing import price

    catalog = load_catalog("frontier")
    frame = pd.DataFrame({
        "timestamp": pd.to_datetime(["2026-11-01T00:00:00Z"] * 6),
        "model": ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "gpt-4o", "no-such-model", "gpt-4o"],
        "task": ["a", "a", "b", "b", "b", None],
        "weight": [1.0] * 6, "input_tokens": [1000, 2000, 300_000, 40, 5, 7],
        "cache_read_tokens": [0, 1000, 0, 0, 0, 0], "cache_write_tokens": [0] * 6, "cache_write_1h_tokens": [0] * 6,
        "output_tokens": [10, 20, 30, 40, 50, 60], "reasoning_tokens": [0] * 6,
        "batch": [False, True, False, False, False, False],
    })
    ctx = object.__new__(Context)
    ctx.catalog, ctx.frame = catalog, frame  # type: ignore[misc]
    got = ctx.by_task
    assert set(got) == {"a", "b", "(none)"}
    for name, rows in (("a", frame[frame.task == "a"]), ("b", frame[frame.task == "b"]),
                       ("(none)", frame[frame.task.isna()])):
        alone = price(rows, catalog)
        assert got[name] == (alone.total, sum(m.tokens.requests for m in alone.priced))
    ctx.__dict__.pop("by_task")
    frame["weight"] = 0.5  # fractional traffic: priced task by task, the same way
    half = ctx.by_task
    assert half["a"][0] == price(frame[frame.task == "a"], catalog).total


def test_logs_inspect_lists_the_busiest_models_and_counts_the_rest(cli: Any, many_models: Path) -> None:
    out = cli("logs", "inspect", many_models, "--catalog", "frontier")
    assert out.exit_code == 0, out.stderr
    assert len(out.stdout.splitlines()) < 80
    assert f"{NAMES - LISTED_NAMES:,} more)" in out.stdout.replace("\n", " ").replace("  ", " ") or \
        f"and {NAMES - LISTED_NAMES:,} more" in out.stdout
    assert f"{NAMES + 1 - TABLE_ROWS:,} more models" in out.stdout
    data = json.loads(cli("logs", "inspect", many_models, "--catalog", "frontier", "--json").stdout)
    assert len(data["unresolved_models"]) == NAMES and len(data["models"]) == NAMES + 1


def test_priced_models_by_cost_then_unpriced_by_name(tmp_path: Path) -> None:
    """The fast path for unknown names keeps the one order: priced by cost (highest first), then every unpriced
    model, known ones missing a rate and unknown names alike, by name."""
    import pandas as pd

    from llmcost.catalog import load_catalog
    from llmcost.pricing import price

    catalog = load_catalog("default")
    models = ["gpt-4o", "zzz-custom", "gpt-4o-mini", "aaa-custom", "gpt-4o", "mmm-custom", "claude-sonnet-4"]
    frame = pd.DataFrame({
        "timestamp": pd.to_datetime(["2026-11-01T00:00:00Z"] * len(models)), "model": models,
        "weight": [1.0] * len(models), "input_tokens": [1000 * (i + 1) for i in range(len(models))],
        "cache_read_tokens": [0] * len(models), "cache_write_tokens": [0] * len(models),
        "cache_write_1h_tokens": [0] * len(models), "output_tokens": [10] * len(models),
        "reasoning_tokens": [0] * len(models), "batch": [False] * len(models),
        "service_tier": [None, None, None, None, "no-such-tier", None, None],
    })
    got = price(frame, catalog).by_model
    assert any(m.cost is None and m.provider is not None for m in got)  # a known model missing a rate
    assert list(got) == sorted(got, key=lambda m: (m.cost is None, -(m.cost or 0), m.model))
    unpriced = [m.model for m in got if m.cost is None]
    assert unpriced[0] == "aaa-custom"
