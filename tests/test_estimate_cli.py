"""``llmcost estimate`` through the CLI: inputs, outputs, the JSON contract and every error path."""

from __future__ import annotations

import csv
import gzip
import io
import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

DATA = Path(__file__).parent / "data"
CATALOG = str(DATA / "catalog.yaml")
ROWS = [
    {"timestamp": "2026-01-01T00:00:00Z", "model": "openai-like", "input_tokens": 2006, "cache_read_tokens": 1920,
     "output_tokens": 300, "task": "chat"},
    {"timestamp": "2026-01-01T12:00:00Z", "model": "anthropic-like-20250514", "input_tokens": 20062,
     "cache_read_tokens": 18000, "cache_write_tokens": 2048, "output_tokens": 410, "task": "chat"},
    {"timestamp": "2026-01-02T00:00:00Z", "model": "openai/openai-like", "input_tokens": 1000,
     "output_tokens": 100, "batch": True, "task": "batch"},
]
# Hand computation, USD: one day of traffic.
OPENAI = (D(86) * 2 + D(1920) * D("0.5") + D(300) * 8 + D(1000) * 1 + D(100) * 4) / 10**6
ANTHROPIC = (D(14) * 3 + D(18000) * D("0.3") + D(2048) * D("3.75") + D(410) * 15) / 10**6


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "log.jsonl", ROWS)


def estimate_json(cli: Any, *args: str) -> dict[str, Any]:
    result = cli("estimate", *args, "--catalog", CATALOG, "--format", "json", "--baseline-only")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_json_contract_and_exact_totals(cli: Any, log: Path) -> None:
    data = estimate_json(cli, str(log))
    assert data["window"] == {"start": "2026-01-01T00:00:00+00:00", "end": "2026-01-02T00:00:00+00:00",
                              "days": 1.0, "requests": 3}
    assert data["projection_days"] == 30
    assert data["unpriced"] == []
    (base,) = data["scenarios"]
    assert base["name"] == "baseline"
    assert round(D(str(base["observed_cost_usd"])), 2) == round(OPENAI + ANTHROPIC, 2)
    assert D(str(base["observed_cost_usd"])) == (OPENAI + ANTHROPIC).quantize(D("0.000001"))
    assert D(str(base["monthly_cost_usd"])) == (30 * (OPENAI + ANTHROPIC)).quantize(D("0.000001"))
    assert base["savings_vs_baseline_pct"] == 0.0
    by_model = {m["model"]: m for m in base["by_model"]}
    assert set(by_model) == {"openai-like", "anthropic-like"}
    oa = by_model["openai-like"]
    for key in ("model", "requests", "input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens",
                "observed_cost_usd", "monthly_cost_usd"):
        assert key in oa
    assert (oa["requests"], oa["input_tokens"], oa["cache_read_tokens"], oa["output_tokens"]) == (2, 3006, 1920, 400)
    assert oa["batch_requests"] == 1
    assert D(str(by_model["anthropic-like"]["observed_cost_usd"])) == ANTHROPIC.quantize(D("0.000001"))


def test_days_changes_the_projection(cli: Any, log: Path) -> None:
    data = estimate_json(cli, str(log), "--days", "7")
    assert data["projection_days"] == 7
    assert D(str(data["scenarios"][0]["monthly_cost_usd"])) == (7 * (OPENAI + ANTHROPIC)).quantize(D("0.000001"))


def test_window_days_overrides_the_observed_window(cli: Any, log: Path) -> None:
    data = estimate_json(cli, str(log), "--window-days", "2")
    assert D(str(data["scenarios"][0]["monthly_cost_usd"])) == (15 * (OPENAI + ANTHROPIC)).quantize(D("0.000001"))


def test_same_result_from_csv_parquet_gzip_stdin_and_globs(cli: Any, log: Path, tmp_path: Path) -> None:
    expected = estimate_json(cli, str(log))["scenarios"]
    frame = pd.DataFrame(ROWS)
    frame.to_csv(tmp_path / "log.csv", index=False)
    frame.to_parquet(tmp_path / "log.parquet")
    with gzip.open(tmp_path / "log.jsonl.gz", "wt") as fh:
        fh.write(log.read_text())
    for path in ("log.csv", "log.parquet", "log.jsonl.gz"):
        assert estimate_json(cli, str(tmp_path / path))["scenarios"] == expected, path
    stdin = cli("estimate", "-", "--catalog", CATALOG, "--format", "json", "--baseline-only", input=log.read_text())
    assert json.loads(stdin.stdout)["scenarios"] == expected
    (tmp_path / "parts").mkdir()
    write_jsonl(tmp_path / "parts" / "a.jsonl", ROWS[:1])
    write_jsonl(tmp_path / "parts" / "b.jsonl", ROWS[1:])
    assert estimate_json(cli, str(tmp_path / "parts" / "*.jsonl"))["scenarios"] == expected


def test_model_option_assigns_a_model_to_logs_without_one(cli: Any, tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "model"} for r in ROWS]
    path = write_jsonl(tmp_path / "nomodel.jsonl", rows)
    data = estimate_json(cli, str(path), "--model", "openai-like")
    assert [m["model"] for m in data["scenarios"][0]["by_model"]] == ["openai-like"]
    assert data["scenarios"][0]["by_model"][0]["requests"] == 3


def test_table_csv_and_markdown_formats(cli: Any, log: Path) -> None:
    table = cli("estimate", str(log), "--catalog", CATALOG, "--baseline-only")
    assert table.exit_code == 0
    assert "anthropic-like" in table.stdout and "1.00 days" in table.stdout
    rows = list(csv.DictReader(io.StringIO(cli("estimate", str(log), "--catalog", CATALOG, "--baseline-only",
                                                "--format", "csv").stdout)))
    assert {r["model"] for r in rows} == {"openai-like", "anthropic-like"}
    assert sum(D(r["observed_cost_usd"]) for r in rows) == OPENAI + ANTHROPIC
    md = cli("estimate", str(log), "--catalog", CATALOG, "--baseline-only", "--format", "markdown").stdout
    assert md.startswith("## LLM cost estimate") and "| openai-like |" in md


def test_output_file_is_written_and_stdout_stays_empty(cli: Any, log: Path, tmp_path: Path) -> None:
    out = tmp_path / "est.json"
    result = cli("estimate", str(log), "--catalog", CATALOG, "--format", "json", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text())["window"]["requests"] == 3
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".est.json")] == []


def test_unpriced_model_is_reported_and_strict_fails(cli: Any, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "log.jsonl", [*ROWS, {**ROWS[0], "model": "mystery-9000"}])
    data = estimate_json(cli, str(path))
    assert data["unpriced"] == [{"model": "mystery-9000", "requests": 1, "reason": "not in catalog",
                                 "input_tokens": 2006, "output_tokens": 300}]
    table = cli("estimate", str(path), "--catalog", CATALOG, "--baseline-only")
    assert "mystery-9000" in table.stdout and "unpriced" in table.stdout
    assert "mystery-9000" in table.stderr
    out = tmp_path / "out.json"
    strict = cli("estimate", str(path), "--catalog", CATALOG, "--strict", "--format", "json", "-o", str(out))
    assert strict.exit_code == 2
    assert "mystery-9000" in strict.stderr and "Traceback" not in strict.stderr
    assert not out.exists()


def bad(cli: Any, tmp_path: Path, text: str, name: str = "bad.jsonl", *extra: str) -> Any:
    path = tmp_path / name
    path.write_text(text)
    result = cli("estimate", str(path), "--catalog", CATALOG, "--baseline-only", *extra)
    return result, str(path)


@pytest.mark.parametrize(
    ("lines", "where", "field"),
    [
        ([ROWS[0], {**ROWS[1], "input_tokens": -5}], ":2", "input_tokens"),
        ([ROWS[0], ROWS[1], {**ROWS[2], "output_tokens": "many"}], ":3", "output_tokens"),
        ([{**ROWS[0], "cache_read_tokens": 5000}], ":1", "cache_read_tokens"),
        ([ROWS[0], {**ROWS[1], "timestamp": "yesterday"}], ":2", "timestamp"),
        ([ROWS[0], {**ROWS[1], "output_tokens": 1.5}], ":2", "output_tokens"),
    ],
)
def test_bad_rows_name_file_line_and_field(cli: Any, tmp_path: Path, lines: list[dict[str, Any]], where: str,
                                           field: str) -> None:
    result, path = bad(cli, tmp_path, "".join(json.dumps(r) + "\n" for r in lines))
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert f"{path}{where}" in message and f"'{field}'" in message
    assert "Traceback" not in result.stderr


def test_bad_csv_row_names_the_file_line(cli: Any, tmp_path: Path) -> None:
    text = "timestamp,model,input_tokens,output_tokens\n2026-01-01T00:00:00Z,oa,10,5\n2026-01-01T01:00:00Z,oa,-1,5\n"
    result, path = bad(cli, tmp_path, text, "bad.csv")
    assert result.exit_code == 2 and f"{path}:3: field 'input_tokens'" in result.stderr


def test_truncated_json_line_is_located(cli: Any, tmp_path: Path) -> None:
    text = json.dumps(ROWS[0]) + "\n" + json.dumps(ROWS[1])[:30] + "\n" + json.dumps(ROWS[2]) + "\n"
    result, path = bad(cli, tmp_path, text)
    assert result.exit_code == 2 and f"{path}:2" in result.stderr and "invalid JSON" in result.stderr


def test_skip_bad_skips_and_counts(cli: Any, tmp_path: Path) -> None:
    text = (json.dumps(ROWS[0]) + "\n" + json.dumps({**ROWS[1], "input_tokens": -5}) + "\n"
            + json.dumps(ROWS[2]) + "\n")
    result, _ = bad(cli, tmp_path, text, "bad.jsonl", "--skip-bad", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["window"]["requests"] == 2
    assert "skipped 1 row(s)" in result.stderr and "input_tokens" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.jsonl"], "missing.jsonl: no such file"),
        (["nothing-*.jsonl"], "no file matches this pattern"),
        (["LOG", "--log-format", "nope"], "unknown --log-format 'nope'"),
        (["LOG", "--catalog", "no-such-catalog.yaml"], "no-such-catalog.yaml: no such catalog file"),
        (["LOG", "--scenarios", "x.yaml", "--baseline-only"], "cannot be used together"),
    ],
)
def test_usage_errors_exit_2_with_one_line(cli: Any, log: Path, args: list[str], message: str) -> None:
    argv = [str(log) if a == "LOG" else a for a in args]
    if "--catalog" not in argv:
        argv += ["--catalog", CATALOG]
    result = cli("estimate", *argv)
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_empty_file_and_missing_column(cli: Any, tmp_path: Path) -> None:
    result, path = bad(cli, tmp_path, "")
    assert result.exit_code == 2 and f"{path}: file is empty" in result.stderr
    row = json.dumps({"timestamp": "2026-01-01T00:00:00Z", "model": "oa", "output_tokens": 3}) + "\n"
    result, path = bad(cli, tmp_path, row)
    assert result.exit_code == 2 and "cannot detect the log format" in result.stderr
    result, path = bad(cli, tmp_path, row, "bad.jsonl", "--log-format", "llmcost")
    assert result.exit_code == 2 and f"{path}: field 'input_tokens': missing required column" in result.stderr


def test_logs_without_a_model_column_point_to_the_model_option(cli: Any, tmp_path: Path) -> None:
    result, _ = bad(cli, tmp_path, json.dumps({"timestamp": "2026-01-01T00:00:00Z", "input_tokens": 3,
                                               "output_tokens": 3}) + "\n")
    assert result.exit_code == 2 and "--model" in result.stderr


def test_a_single_instant_cannot_be_projected_without_window_days(cli: Any, tmp_path: Path) -> None:
    result, path = bad(cli, tmp_path, json.dumps(ROWS[0]) + "\n")
    assert result.exit_code == 2 and "--window-days" in result.stderr
    ok = cli("estimate", path, "--catalog", CATALOG, "--baseline-only", "--window-days", "1", "--format", "json")
    assert ok.exit_code == 0


def test_short_window_warns(cli: Any, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "short.jsonl", [ROWS[0], {**ROWS[0], "timestamp": "2026-01-01T01:00:00Z"}])
    result = cli("estimate", str(path), "--catalog", CATALOG, "--baseline-only")
    assert result.exit_code == 0 and "1.0 hours" in result.stderr


def test_output_to_a_device_writes_through_it_instead_of_replacing_it(cli: Any, log: Path) -> None:
    """`-o /dev/null` must not rename a temp file over the device (as root that replaces /dev/null)."""
    import os
    import stat

    result = cli("estimate", str(log), "--catalog", CATALOG, "--baseline-only", "-f", "json",
                 "--output", os.devnull)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)


def test_run_estimate_reports_each_scenario_as_it_starts(log: Path) -> None:
    """The CLI's progress bar names the scenario being replayed (it can take seconds on a big log)."""
    from llmcost.catalog import load_catalog
    from llmcost.estimate import run_estimate
    from llmcost.logs import read_logs
    from llmcost.scenarios import select_scenarios

    catalog = load_catalog()
    started: list[str] = []
    run_estimate(read_logs([str(log)]).frame, catalog, select_scenarios(None, baseline_only=False, catalog=catalog),
                 on_scenario=started.append)
    assert started == ["baseline", "tiered-routing", "exact-cache-24h", "prompt-caching", "all-combined"]
