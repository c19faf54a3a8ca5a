"""Streaming (--chunk-rows) and in-memory estimates must agree to the cent, whatever the chunking."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from llmcost.catalog import load_catalog
from llmcost.estimate import run_estimate, run_estimate_chunked
from llmcost.logs import read_logs
from llmcost.logs.chunks import iter_chunks
from llmcost.scenarios import Baseline

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs" / "support_workload.jsonl.gz"


@pytest.fixture(scope="module")
def sample_frame() -> pd.DataFrame:
    return read_logs([str(SAMPLE)]).frame


def as_files(frame: pd.DataFrame, tmp_path: Path) -> dict[str, Path]:
    flat = frame.drop(columns=["prefix_hashes"]).assign(model=frame["model"].astype(str),
                                                       task=frame["task"].astype(str))
    paths = {"parquet": tmp_path / "log.parquet", "csv": tmp_path / "log.csv", "jsonl": tmp_path / "log.jsonl"}
    flat.to_parquet(paths["parquet"], row_group_size=1000)
    flat.to_csv(paths["csv"], index=False)
    flat.assign(timestamp=flat["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")).to_json(
        paths["jsonl"], orient="records", lines=True)
    return paths


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
@pytest.mark.parametrize("chunk_rows", [7, 997, 100_000])
def test_chunked_estimate_equals_in_memory_exactly(sample_frame: pd.DataFrame, tmp_path: Path, fmt: str,
                                                   chunk_rows: int) -> None:
    path = as_files(sample_frame.iloc[:300] if chunk_rows == 7 else sample_frame, tmp_path)[fmt]
    catalog = load_catalog()
    whole = run_estimate(read_logs([str(path)]).frame, catalog, [Baseline()])
    chunks = (c.frame for c in iter_chunks([str(path)], chunk_rows))
    streamed = run_estimate_chunked(chunks, catalog, [Baseline()])
    assert streamed.window == whole.window
    assert streamed.baseline.observed_cost == whole.baseline.observed_cost
    assert streamed.baseline.monthly_cost == whole.baseline.monthly_cost
    assert streamed.baseline.priced == whole.baseline.priced


def test_cli_chunk_rows_gives_the_same_json(cli: Any, sample_frame: pd.DataFrame, tmp_path: Path) -> None:
    path = as_files(sample_frame, tmp_path)["csv"]
    whole = cli("estimate", str(path), "--baseline-only", "--format", "json")
    chunked = cli("estimate", str(path), "--baseline-only", "--format", "json", "--chunk-rows", "500")
    assert whole.exit_code == chunked.exit_code == 0
    assert json.loads(whole.stdout) == json.loads(chunked.stdout)


def test_chunked_errors_name_the_line_of_the_whole_file(cli: Any, tmp_path: Path) -> None:
    rows = [{"timestamp": f"2026-01-01T00:{i:02d}:00Z", "model": "gpt-4o", "input_tokens": 10,
             "output_tokens": 1} for i in range(50)]
    rows[37]["input_tokens"] = -1
    path = tmp_path / "log.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    result = cli("estimate", str(path), "--baseline-only", "--chunk-rows", "10")
    assert result.exit_code == 2
    assert f"{path}:39: field 'input_tokens'" in result.stderr
    skipped = cli("estimate", str(path), "--baseline-only", "--chunk-rows", "10", "--skip-bad", "--format", "json")
    assert skipped.exit_code == 0 and json.loads(skipped.stdout)["window"]["requests"] == 49
    assert "skipped 1 row(s)" in skipped.stderr
