"""The Arrow breakdowns sum partitions side by side, as the baseline's local engine does: results merged in
log order whatever finishes first, the same tables as one partition at a time and as the full reader, and
a partition that needs the full reader stops the rest."""

from __future__ import annotations

import json
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from engine_logs import BILLING, log_table
from llmcost.engines import arrow_breakdowns, partitions


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_results_come_in_order(threads: int) -> None:
    plans: list[Any] = list(range(7))

    def work(plan: Any) -> Any:
        time.sleep(0.02 * (7 - plan) / 7)  # the later ones finish first
        return plan

    assert list(arrow_breakdowns._in_order(work, plans, threads)) == plans


def test_stopping_early_starts_no_more_partitions() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def work(plan: Any) -> Any:
        with lock:
            started.append(plan)
        time.sleep(0.01)
        return None if plan == 1 else plan

    for got in arrow_breakdowns._in_order(work, list(range(20)), 2):
        if got is None:
            break
    time.sleep(0.05)
    assert len(started) <= 4  # the two in flight and at most the two submitted as results came in


def test_an_error_in_a_partition_reaches_the_caller() -> None:
    def work(plan: Any) -> Any:
        if plan == 2:
            raise ValueError("bad partition")
        return plan

    with pytest.raises(ValueError, match="bad partition"):
        list(arrow_breakdowns._in_order(work, list(range(5)), 2))


def test_many_partitions_side_by_side_equal_one_at_a_time(cli: Any, monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pq.write_table(log_table(6_000, start="2026-01-01", days=30), path, row_group_size=500, max_rows_per_page=100)
    monkeypatch.setattr(partitions, "parquet_partitions", partial(partitions.parquet_partitions, rows=1_000))
    by = ["--by", "day,model", "--by", "week", "--by", "model"]

    def run(*extra: str) -> dict[str, Any]:
        result = cli("estimate", str(path), "--baseline-only", "--catalog", BILLING, "--format", "json", *by, *extra)
        assert result.exit_code == 0, result.stderr
        return dict(json.loads(result.stdout))

    side_by_side = run("--jobs", "2")
    assert side_by_side == run("--jobs", "1") == run("--jobs", "3")
    monkeypatch.setattr(arrow_breakdowns, "breakdown_estimate", lambda *a, **kw: None)  # the full reader
    assert side_by_side == run()
