"""estimate --by: breakdown tables that add up to the baseline, stream equal to the whole file, rank top N."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from llmcost.breakdowns import parse_by
from llmcost.catalog import load_catalog
from llmcost.errors import UsageError
from llmcost.pipeline import estimate_logs
from llmcost.scenarios.interface import Baseline

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "sample_logs" / "support_workload.jsonl.gz")
HEADER = "timestamp,model,input_tokens,cache_read_tokens,output_tokens,task,user,tags\n"


def _log(tmp_path: Path, rows: list[str], name: str = "log.csv") -> str:
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return str(path)


def _run(paths: list[str], by: list[str], top: int | None = None, chunk_rows: int | None = None):  # type: ignore[no-untyped-def]
    est, _ = estimate_logs(paths, load_catalog(None), [Baseline()], chunk_rows=chunk_rows,
                           breakdowns=parse_by(by, top))
    return est


def test_rows_add_up_to_the_baseline_exactly() -> None:
    est = _run([SAMPLE], ["day", "week", "hour", "task", "model", "provider", "day,model", "task,model"])
    total = est.baseline.observed_cost
    assert total > 0
    for b in est.breakdowns:
        assert b.total_cost == total, b.dims  # exact Decimal: the same groups, priced by the same formula
        assert sum(r.tokens.requests for r in b.rows) == est.window.requests


def test_streaming_equals_the_whole_file() -> None:
    by = ["day", "hour,model", "task", "provider"]
    whole = _run([SAMPLE], by)
    for rows in (97, 1000):
        assert _run([SAMPLE], by, chunk_rows=rows).breakdowns == whole.breakdowns


def test_model_breakdown_matches_the_per_model_table() -> None:
    est = _run([SAMPLE], ["model"])
    rows = {r.key[0]: r.cost for r in est.breakdowns[0].rows}
    assert rows == {m.model: m.cost for m in est.baseline.priced.priced}


def test_top_n_with_other_row(tmp_path: Path) -> None:
    rows = [f"2026-11-0{1 + i % 3}T10:00:00Z,gpt-4o,{1000 * (i + 1)},0,10,task{i},u{i % 2}," for i in range(6)]
    est = _run([_log(tmp_path, rows)], ["task", "user"], top=2)
    tasks, users = est.breakdowns
    assert [r.key for r in tasks.rows] == [("task5",), ("task4",)]  # most expensive first
    assert tasks.other is not None and tasks.other.key == ("other",) and tasks.other.tokens.requests == 4
    assert tasks.total_cost == est.baseline.observed_cost
    assert users.other is None and len(users.rows) == 2


def test_week_starts_monday_and_buckets_are_utc(tmp_path: Path) -> None:
    rows = ["2026-11-01T23:30:00-02:00,gpt-4o,100,0,10,,,",  # Monday 01:30 UTC
            "2026-11-01T12:00:00Z,gpt-4o,100,0,10,,,",  # Sunday
            "2026-11-08T00:00:00Z,gpt-4o,100,0,10,,,"]  # Sunday
    est = _run([_log(tmp_path, rows)], ["week", "day", "hour"])
    week, day, hour = est.breakdowns
    assert [(r.key, r.tokens.requests) for r in week.rows] == [(("2026-10-26",), 1), (("2026-11-02",), 2)]
    assert [r.key[0] for r in day.rows] == ["2026-11-01", "2026-11-02", "2026-11-08"]
    assert hour.rows[1].key == ("2026-11-02T01:00Z",)


def test_tags_count_in_each_of_their_rows(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    rows = ['2026-11-01T10:00:00Z,gpt-4o,1000,0,10,t,u,"a,b"',
            '2026-11-01T11:00:00Z,gpt-4o,2000,0,10,t,u,"[""b""]"',
            "2026-11-01T12:00:00Z,gpt-4o,3000,0,10,t,u,"]
    path = _log(tmp_path, rows)
    est = _run([path], ["tag"])
    got = {r.key[0]: r.tokens.requests for r in est.breakdowns[0].rows}
    assert got == {"a": 1, "b": 2, "(none)": 1}
    result = cli("estimate", path, "--baseline-only", "--by", "tag", "--format", "json")
    assert result.exit_code == 0, result.stderr
    (table,) = json.loads(result.stdout)["breakdowns"]
    assert "do not add up" in table["note"]


def test_unpriced_traffic_is_counted_never_zero_dollars(tmp_path: Path) -> None:
    rows = ["2026-11-01T10:00:00Z,gpt-4o,1000,0,10,t,u,",
            "2026-11-01T11:00:00Z,no-such-model-x,2000,0,10,t,u,",
            "2026-11-02T11:00:00Z,no-such-model-x,2000,0,10,t,u,"]
    est = _run([_log(tmp_path, rows)], ["day", "day,model"])
    day, day_model = est.breakdowns
    assert [(r.key[0], r.unpriced_requests) for r in day.rows] == [("2026-11-01", 1), ("2026-11-02", 1)]
    assert day.rows[1].cost == 0 and day.total_cost == est.baseline.observed_cost
    unknown = [r for r in day_model.rows if r.key[1] == "no-such-model-x"]
    assert all(r.unpriced_requests == 1 for r in unknown)


def test_json_shape_and_money(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("estimate", SAMPLE, "--baseline-only", "--by", "day,model", "--by", "task", "--top", "2",
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    day_model, task = data["breakdowns"]
    assert day_model["by"] == ["day", "model"] and day_model["top_n"] is None and day_model["other"] is None
    row = day_model["rows"][0]
    assert set(row) == {"day", "model", "requests", "input_tokens", "cached_input_tokens", "cache_write_tokens",
                        "output_tokens", "cost_usd", "unpriced_requests"}
    observed = Decimal(str(data["scenarios"][0]["observed_cost_usd"]))
    for table in (day_model, task):
        rows = table["rows"] + ([table["other"]] if table["other"] else [])
        total = sum(Decimal(str(r["cost_usd"])) for r in rows)
        assert abs(total - observed) < Decimal("0.01")
    assert task["top_n"] == 2 and len(task["rows"]) == 2 and task["other"]["task"] == "other"


def test_without_by_json_has_an_empty_list(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("estimate", SAMPLE, "--baseline-only", "--format", "json")
    assert json.loads(result.stdout)["breakdowns"] == []


def test_table_markdown_and_csv_carry_the_tables(cli) -> None:  # type: ignore[no-untyped-def]
    table = cli("estimate", SAMPLE, "--baseline-only", "--by", "task")
    assert "Cost by task" in table.stdout and "summarize" in table.stdout
    md = cli("estimate", SAMPLE, "--baseline-only", "--by", "task", "--format", "markdown")
    assert "### Cost by task" in md.stdout and "| summarize |" in md.stdout
    out = cli("estimate", SAMPLE, "--baseline-only", "--by", "day", "--format", "csv").stdout
    block = out.split("\n\n")[1]
    rows = list(csv.DictReader(io.StringIO(block)))
    assert [r["day"] for r in rows] == ["2026-11-02", "2026-11-03", "2026-11-04"]
    assert sum(Decimal(r["cost_usd"]) for r in rows) == _run([SAMPLE], ["day"]).baseline.observed_cost


@pytest.mark.parametrize(("by", "needle"), [("dya", "unknown dimension 'dya'"), ("day,day", "twice"),
                                            ("day,hour", "two time buckets")])
def test_bad_by_is_one_line_exit_2(cli, by: str, needle: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("estimate", SAMPLE, "--baseline-only", "--by", by)
    assert result.exit_code == 2 and needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""
    with pytest.raises(UsageError):
        parse_by([by])


def test_values_spelled_alike_share_one_row() -> None:
    import pandas as pd

    from llmcost.breakdowns import Breakdowns

    frame = pd.DataFrame({"timestamp": pd.to_datetime(["2026-11-01T10:00:00Z"] * 3), "model": ["gpt-4o"] * 3,
                          "input_tokens": [100, 200, 300], "cache_read_tokens": 0, "cache_write_tokens": 0,
                          "cache_write_1h_tokens": 0, "output_tokens": 10, "reasoning_tokens": 0, "weight": 1,
                          "batch": False, "task": pd.Series([1, "1", None], dtype=object)})
    tables = Breakdowns(parse_by(["task"]), load_catalog(None))
    tables.add(frame)
    (table,) = tables.finish()
    assert {r.key: (r.tokens.requests, r.tokens.input_tokens) for r in table.rows} == {
        ("1",): (2, 300), ("(none)",): (1, 300)}


@pytest.mark.parametrize("extra", [[], ["--window-days", "7", "--days", "10"]])
def test_baseline_priced_from_the_breakdowns_equals_the_plain_estimate(cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                         extra: list[str]) -> None:
    rows = ["2026-11-01T10:00:00Z,gpt-4o,1000,200,10,t,u,", "2026-11-01T11:00:00Z,no-such-model-x,2000,0,10,t,u,",
            "2026-11-02T11:00:00Z,claude-sonnet-4,300000,0,10,t,u,"]  # unknown model and long context too
    for log in (SAMPLE, _log(tmp_path, rows)):
        plain = json.loads(cli("estimate", log, "--baseline-only", "--format", "json", *extra).stdout)
        with pytest.MonkeyPatch.context() as patch:  # the log is summed once: by the breakdowns
            patch.setattr("llmcost.pipeline.run_estimate", _fail)
            by = json.loads(cli("estimate", log, "--baseline-only", "--by", "tag", "--by", "day", "--format", "json",
                                *extra).stdout)
        assert by.pop("breakdowns") and plain.pop("breakdowns") == []
        assert by == plain


def _fail(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("run_estimate called: the log was summed twice")


def test_logged_costs_and_buckets_still_reach_the_estimate(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "log.csv"
    path.write_text("timestamp,model,input_tokens,output_tokens,cost_logged,weight\n"
                    "2026-11-01T10:00:00Z,gpt-4o,1000,10,0.5,1\n2026-11-01T11:00:00Z,gpt-4o,1000,10,0.25,3\n")
    plain = json.loads(cli("estimate", str(path), "--baseline-only", "--format", "json").stdout)
    by = json.loads(cli("estimate", str(path), "--baseline-only", "--by", "day", "--format", "json").stdout)
    by.pop("breakdowns"), plain.pop("breakdowns")
    assert by == plain and by["scenarios"][0]["cost_logged_usd"] == 0.75
