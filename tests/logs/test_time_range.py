"""--since/--until on log files: [since, until) in UTC, the same whole, streamed, and through the fast
Parquet baseline path; bad values are one line naming the option."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from llmcost.logs import read_logs
from llmcost.logs.timerange import parse_bound, time_range

SAMPLE = Path(__file__).resolve().parents[2] / "sample_logs" / "support_workload.jsonl.gz"
SINCE, UNTIL = "2026-11-02T12:00:00Z", "2026-11-04"


def estimate_json(cli: Any, *args: str) -> dict[str, Any]:
    result = cli("estimate", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return read_logs([str(SAMPLE)]).frame


def test_rows_outside_the_range_are_left_out(frame: pd.DataFrame) -> None:
    window = time_range(SINCE, UNTIL)
    kept = window.within(frame)
    stamps = frame["timestamp"]
    expected = (stamps >= pd.Timestamp(SINCE)) & (stamps < pd.Timestamp(UNTIL, tz="UTC"))
    assert len(kept) == int(expected.sum()) and 0 < len(kept) < len(frame)
    assert kept["timestamp"].min() >= pd.Timestamp(SINCE)
    assert kept["timestamp"].max() < pd.Timestamp(UNTIL, tz="UTC")
    assert read_logs([str(SAMPLE)], window=window).frame.equals(kept)


def test_whole_streamed_and_parquet_agree(cli: Any, frame: pd.DataFrame, tmp_path: Path) -> None:
    parquet = tmp_path / "log.parquet"
    frame.drop(columns=["prefix_hashes"]).assign(model=frame["model"].astype(str),
                                                 task=frame["task"].astype(str)).to_parquet(parquet)
    args = ("--since", SINCE, "--until", UNTIL)
    whole = estimate_json(cli, str(SAMPLE), *args)
    assert estimate_json(cli, str(SAMPLE), *args, "--chunk-rows", "300") == whole
    base = estimate_json(cli, str(SAMPLE), *args, "--baseline-only")
    assert estimate_json(cli, str(parquet), *args, "--baseline-only") == base
    assert estimate_json(cli, str(parquet), *args, "--baseline-only", "--chunk-rows", "250") == base
    everything = estimate_json(cli, str(SAMPLE), "--baseline-only")
    assert base["window"]["requests"] < everything["window"]["requests"]
    assert base["window"]["start"] >= "2026-11-02T12:00:00"


def test_a_date_is_its_midnight_utc_and_zones_convert() -> None:
    assert parse_bound("2026-11-04", "--until") == pd.Timestamp("2026-11-04T00:00:00Z").to_pydatetime()
    assert parse_bound("2026-11-04T02:00:00+02:00", "--since") == pd.Timestamp(
        "2026-11-04T00:00:00Z").to_pydatetime()


@pytest.mark.parametrize(("args", "expected"), [
    (("--since", "last week"), "--since: expected an ISO 8601 date"),
    (("--until", ""), "--until: expected an ISO 8601 date"),
    (("--since", "2026-11-04", "--until", "2026-11-03"), "must be before --until"),
])
def test_bad_bounds_are_one_line(cli: Any, args: tuple[str, ...], expected: str) -> None:
    result = cli("estimate", str(SAMPLE), *args)
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and expected in result.stderr
