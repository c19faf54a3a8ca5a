"""estimate --by on the Arrow path (llmcost.engines.arrow_breakdowns): the same JSON, breakdowns included, as
the full reader's, to the cent, on logs with price changes inside the window, long-context tiers, service
tiers, serving providers, unknown models, tags and missing tasks; and the fallback for what it does not cover."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from engine_logs import BILLING, log_table, write
from llmcost.engines import arrow_breakdowns

BY = ["day", "week", "hour,model", "task", "user", "tag", "provider", "model", "task,model", "tag,day",
      "user,task"]
TAG_CELLS = ['["a", "b"]', "a, c", "b,b", "", None, "[]", "c", '["x", null, " a "]', "ops,a"]


def _with_keys(table: pa.Table, *, seed: int = 5, tags: bool = True) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = table.num_rows
    table = table.append_column("task", pa.array([["chat", "summarize", None, "classify"][i]
                                                  for i in rng.integers(0, 4, n)]))
    table = table.append_column("user", pa.array([f"u{i}" for i in rng.integers(0, 40, n)]).dictionary_encode())
    if tags:
        table = table.append_column("tags", pa.array([TAG_CELLS[i] for i in rng.integers(0, len(TAG_CELLS), n)]))
    return table


def _estimate(cli: Any, monkeypatch: pytest.MonkeyPatch, path: str, *args: str, arrow: bool) -> dict[str, Any]:
    """``estimate --baseline-only --format json`` on the Arrow path (asserted taken) or on the full reader."""
    taken: list[bool] = []
    original = arrow_breakdowns.breakdown_estimate

    def spy(*a: Any, **kw: Any) -> Any:
        result = original(*a, **kw) if arrow else None
        taken.append(result is not None)
        return result

    monkeypatch.setattr(arrow_breakdowns, "breakdown_estimate", spy)
    result = cli("estimate", path, "--baseline-only", "--catalog", BILLING, "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    assert taken == [arrow], "the Arrow path was not taken" if arrow else "the spy did not run"
    return dict(json.loads(result.stdout))


def _by(values: list[str]) -> list[str]:
    return [a for v in values for a in ("--by", v)]


@pytest.mark.parametrize("providers", [False, True])
def test_breakdowns_equal_the_full_reader_to_the_cent(cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                       providers: bool) -> None:
    table = log_table(6000)
    if providers:  # as in test_engines: no long input and no price change inside the window, else the full reader
        table = log_table(3000, seed=5, start="2026-01-01", days=2, providers=True)
        table = table.set_column(table.column_names.index("input_tokens"), "input_tokens",
                                 pa.array(np.full(3000, 900, dtype=np.int64)))
        table = table.set_column(table.column_names.index("cache_read_tokens"), "cache_read_tokens",
                                 pa.array(np.zeros(3000, dtype=np.int64)))
    path = write(_with_keys(table), tmp_path / "log.parquet")
    fast = _estimate(cli, monkeypatch, path, *_by(BY), "--top", "3", arrow=True)
    full = _estimate(cli, monkeypatch, path, *_by(BY), "--top", "3", arrow=False)
    assert fast == full
    tables = {tuple(b["by"]): b for b in fast["breakdowns"]}
    assert len(tables) == len(BY)
    models = {r["model"] for r in tables[("model",)]["rows"]}
    assert "mystery-model" in models and any(r["unpriced_requests"] for r in tables[("model",)]["rows"])
    if not providers:
        assert {"repriced", "midday"} <= models  # price changes inside the window
    tasks = {r["task"] for r in tables[("task",)]["rows"]} | {tables[("task",)]["other"]["task"]}
    assert "(none)" in tasks or tables[("task",)]["other"] is not None
    tags = {r["tag"] for r in tables[("tag",)]["rows"]}
    assert tags <= {"a", "b", "c", "x", "ops", "(none)"} and len(tags) == 3  # --top 3, then "other"
    assert tables[("tag",)]["other"] is not None


def test_day_buckets_weeks_and_missing_columns(cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A log without task, user or tags columns: every row under "(none)"; weeks start on Monday (UTC)."""
    table = log_table(3000, start="2025-09-01", days=60, tiers=False)
    path = write(table, tmp_path / "plain.parquet")
    by = _by(["week", "day,model", "hour", "task", "tag", "user"])
    fast = _estimate(cli, monkeypatch, path, *by, arrow=True)
    assert fast == _estimate(cli, monkeypatch, path, *by, arrow=False)
    weeks = [r["week"] for r in fast["breakdowns"][0]["rows"]]
    assert weeks[0] == "2025-09-01" and all(np.datetime64(w).astype("datetime64[D]").item().weekday() == 0
                                            for w in weeks)
    for i in (3, 4, 5):
        assert [r[fast["breakdowns"][i]["by"][0]] for r in fast["breakdowns"][i]["rows"]] == ["(none)"]


def test_streaming_and_jobs_give_the_same_tables(cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(_with_keys(log_table(4000, seed=9)), tmp_path / "log.parquet", row_group_size=300)
    by = _by(["day,model", "tag", "task"])
    fast = _estimate(cli, monkeypatch, path, *by, "--jobs", "1", arrow=True)
    assert fast == _estimate(cli, monkeypatch, path, *by, "--jobs", "2", arrow=True)
    # the chunked full reader: the same tables and money (an unpriced model's reason can name another tier)
    chunked = _estimate(cli, monkeypatch, path, *by, "--chunk-rows", "700", arrow=False)
    assert fast["breakdowns"] == chunked["breakdowns"]
    assert fast["scenarios"][0]["observed_cost_usd"] == chunked["scenarios"][0]["observed_cost_usd"]


@pytest.mark.parametrize("change", ["list_tags", "int_user", "weight", "cost_logged", "bad_row"])
def test_what_the_arrow_path_does_not_cover_falls_back(cli: Any, tmp_path: Path, change: str) -> None:
    from llmcost.breakdowns import Breakdowns, parse_by
    from llmcost.catalog import load_catalog
    from llmcost.engines import make_engine
    from llmcost.pipeline import estimate_logs
    from llmcost.scenarios.interface import Baseline

    table = _with_keys(log_table(1500, start="2026-01-01", days=3), tags=change != "list_tags")
    n = table.num_rows
    if change == "list_tags":
        table = table.append_column("tags", pa.array([["a", "b"] if i % 3 else [] for i in range(n)]))
    elif change == "int_user":
        table = table.set_column(table.column_names.index("user"), "user", pa.array(np.arange(n) % 7))
    elif change == "weight":
        table = table.append_column("weight", pa.array(np.where(np.arange(n) % 7 == 0, 3, 1)))
    elif change == "cost_logged":
        table = table.append_column("cost_logged", pa.array(np.full(n, 0.001)))
    else:
        column = table.column("output_tokens").to_numpy().copy()
        column[17] = -1
        table = table.set_column(table.column_names.index("output_tokens"), "output_tokens", pa.array(column))
    path = write(table, tmp_path / "log.parquet")
    catalog = load_catalog(str(BILLING))
    tables = Breakdowns(parse_by(["tag", "user", "day"]), catalog, total=True)
    assert arrow_breakdowns.breakdown_estimate(make_engine(), [path], tables, [Baseline()]) is None
    assert all(not t.groups for t in tables.tables) and not tables.total_groups().known  # nothing half-merged
    by = _by(["tag", "user", "day"])
    result = cli("estimate", path, "--baseline-only", "--catalog", BILLING, "--format", "json", *by)
    if change == "bad_row":  # the full reader names the row: one line, exit 2
        assert result.exit_code == 2 and "output_tokens" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
        return
    assert result.exit_code == 0, result.stderr
    got = json.loads(result.stdout)
    direct, _ = estimate_logs([path], catalog, [Baseline()], breakdowns=parse_by(["tag", "user", "day"]),
                              chunk_rows=500)
    assert [b.total_cost for b in direct.breakdowns][1] == direct.baseline.observed_cost
    assert len(got["breakdowns"]) == 3


def test_many_grouped_rows_go_to_the_full_reader(cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(arrow_breakdowns, "MAX_GROUPED_ROWS", 50)
    path = write(_with_keys(log_table(2000, seed=4)), tmp_path / "log.parquet")
    by = _by(["user,day"])
    result = cli("estimate", path, "--baseline-only", "--catalog", BILLING, "--format", "json", *by)
    assert result.exit_code == 0, result.stderr
    monkeypatch.setattr(arrow_breakdowns, "MAX_GROUPED_ROWS", 10**9)
    assert json.loads(result.stdout) == _estimate(cli, monkeypatch, path, *by, arrow=True)


def test_without_a_time_bucket_timestamps_are_read_only_for_price_changes(
        cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """--by task: the statistics give the window; a partition where a model changed price reads its timestamps
    after all (its rows need their own price period), and the tables still equal the full reader's."""
    from llmcost.engines import partitions

    path = write(_with_keys(log_table(5000)), tmp_path / "log.parquet")
    read: list[tuple[str, ...]] = []
    original = partitions.read_partition
    monkeypatch.setattr(partitions, "read_partition", lambda part, **kw: read.append(part.columns) or
                        original(part, **kw))
    by = _by(["task,model", "user"])
    fast = _estimate(cli, monkeypatch, path, *by, arrow=True)
    assert read and "timestamp" not in read[0] and "tags" not in read[0] and {"task", "user"} <= set(read[0])
    assert any("timestamp" in columns for columns in read)
    assert fast == _estimate(cli, monkeypatch, path, *by, arrow=False)


@pytest.mark.parametrize("kind", [pa.timestamp("s", tz="UTC"), pa.timestamp("us", tz="America/New_York"),
                                  pa.timestamp("ns"), pa.timestamp("ms")])
def test_buckets_are_utc_in_every_timestamp_unit_and_zone(cli: Any, monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path, kind: pa.DataType) -> None:
    table = _with_keys(log_table(1500, start="2026-01-01", days=20))
    stamps = table.column("timestamp")
    stamps = stamps.cast(kind, safe=False) if kind.tz else stamps.cast(pa.timestamp("ms")).cast(kind, safe=False)
    path = write(table.set_column(0, "timestamp", stamps), tmp_path / "log.parquet")
    by = _by(["hour", "day,task", "week"])
    fast = _estimate(cli, monkeypatch, path, *by, arrow=True)
    assert fast == _estimate(cli, monkeypatch, path, *by, arrow=False)
    assert fast["breakdowns"][0]["rows"][0]["hour"] == "2026-01-01T00:00Z"
