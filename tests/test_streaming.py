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


# --- scenarios under streaming: cache replays carry their state across chunks ---------------------------

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "scenarios.yaml"
EXTRA = """
scenarios:
  - name: lru-semantic-and-stand-in
    exact_cache: {ttl: 2h, max_entries: 40, assumed_semantic_hit_rate: 0.1}
    routing:
      rules:
        - when: {share: 0.3}
          to: claude-sonnet-4
    prompt_cache: {ttl: 5m, min_tokens: 600, prefix_tokens: {default: 900, by_task: {classify: 700}}}
"""


def in_chunks(frame: pd.DataFrame, size: int) -> Any:
    for start in range(0, len(frame), size):
        yield frame.iloc[start:start + size].reset_index(drop=True)


def assert_same(streamed: Any, whole: Any, exact: bool) -> None:
    """Exactly equal; or, where a scenario bills expected (fractional) token counts such as a cascade's
    70% acceptance, floats summed in another order: equal to a billionth of a dollar."""
    from decimal import Decimal

    assert [s.name for s in streamed.scenarios] == [s.name for s in whole.scenarios]
    for a, b in zip(streamed.scenarios, whole.scenarios, strict=True):
        if exact:
            assert (a.observed_cost, a.monthly_cost, a.priced) == (b.observed_cost, b.monthly_cost, b.priced), a.name
        else:
            assert abs(a.observed_cost - b.observed_cost) < Decimal("1e-9"), a.name
            assert abs(a.monthly_cost - b.monthly_cost) < Decimal("1e-9"), a.name
        assert same_details(a.details, b.details), (a.name, a.details, b.details)


def same_details(a: Any, b: Any) -> bool:
    """Equal, floats to within rounding of the 6-decimal rates (sums are added in another order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_details(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_details(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9, abs=2e-6)
    return bool(a == b)


@pytest.mark.parametrize("which", ["default", "examples", "extra"])
@pytest.mark.parametrize("size", [997, 61])
def test_scenarios_streamed_equal_in_memory(sample_frame: pd.DataFrame, tmp_path: Path, which: str,
                                            size: int) -> None:
    from llmcost.scenarios import select_scenarios

    catalog = load_catalog()
    frame = sample_frame
    path: str | None = {"default": None, "examples": str(EXAMPLES)}.get(which)
    if which == "extra":
        path = str(tmp_path / "extra.yaml")
        Path(path).write_text(EXTRA)
        # half the rows without prefix blocks (the stand-in prefix) and without a prompt hash
        frame = frame.copy()
        frame.loc[frame.index % 2 == 0, "prefix_hashes"] = None
        frame["prompt_hash"] = frame["prompt_hash"].astype(object).where(frame.index % 3 != 0, None)
    scenarios = select_scenarios(path, baseline_only=False, catalog=catalog)
    whole = run_estimate(frame, catalog, scenarios)
    streamed = run_estimate_chunked(in_chunks(frame, size), catalog, scenarios)
    assert streamed.window == whole.window
    assert_same(streamed, whole, exact=which == "default")
    replays = [s.details for s in whole.scenarios if "exact_cache" in s.details or "prompt_cache" in s.details]
    assert replays and all(d.get("exact_cache", {}).get("hits", 1) > 0 for d in replays)  # hits did happen
    assert all(d.get("prompt_cache", {}).get("hit_requests", 1) > 0 for d in replays)


def test_streaming_scenarios_need_time_order(cli: Any, sample_frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "shuffled.parquet"
    flat = sample_frame.drop(columns=["prefix_hashes"]).iloc[::-1].reset_index(drop=True)
    flat.assign(model=flat["model"].astype(str), task=flat["task"].astype(str)).to_parquet(path)
    result = cli("estimate", str(path), "--chunk-rows", "1000")
    assert result.exit_code == 2
    assert "row 1001 is earlier than a row before it" in result.stderr and "Traceback" not in result.stderr
    assert cli("estimate", str(path), "--chunk-rows", "1000", "--baseline-only").exit_code == 0
    assert cli("estimate", str(path)).exit_code == 0  # in memory the replay sorts by time itself


def test_cli_streams_the_default_scenarios(cli: Any, sample_frame: pd.DataFrame, tmp_path: Path) -> None:
    path = as_files(sample_frame, tmp_path)["parquet"]
    whole = cli("estimate", str(path), "--format", "json")
    chunked = cli("estimate", str(path), "--format", "json", "--chunk-rows", "700")
    assert whole.exit_code == chunked.exit_code == 0, chunked.stderr
    a, b = json.loads(whole.stdout), json.loads(chunked.stdout)
    assert [s["monthly_cost_usd"] for s in a["scenarios"]] == [s["monthly_cost_usd"] for s in b["scenarios"]]


def test_a_big_time_ordered_log_in_memory_is_replayed_in_slices_with_the_same_result(
        sample_frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    """run_estimate slices a time-ordered log of more than two slices (less fresh memory, faster)."""
    from llmcost import estimate
    from llmcost.scenarios import select_scenarios

    catalog = load_catalog()
    scenarios = select_scenarios(None, baseline_only=False, catalog=catalog)
    whole = run_estimate(sample_frame, catalog, scenarios)  # 4,200 rows: one piece
    monkeypatch.setattr(estimate, "IN_MEMORY_SLICE", 500)
    seen: list[str] = []
    sliced = run_estimate(sample_frame, catalog, scenarios, on_scenario=seen.append)
    assert len(seen) == 9 * len(whole.scenarios)  # nine slices, every scenario on each
    assert_same(sliced, whole, exact=True)
    shuffled = sample_frame.sample(frac=1, random_state=1).reset_index(drop=True)
    seen.clear()
    assert_same(run_estimate(shuffled, catalog, scenarios, on_scenario=seen.append), whole, exact=True)
    assert len(seen) == len(whole.scenarios)  # out of time order: replayed whole, never sliced


def test_writes_reused_cannot_stream(cli: Any, sample_frame: pd.DataFrame, tmp_path: Path) -> None:
    path = as_files(sample_frame, tmp_path)["parquet"]
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text("scenarios:\n  - name: foresight\n    prompt_cache: {ttl: 5m, writes: reused}\n")
    result = cli("estimate", str(path), "--scenarios", str(scenarios), "--chunk-rows", "1000")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "prompt_cache.writes" in result.stderr and "cannot run on a log read in chunks" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert cli("estimate", str(path), "--scenarios", str(scenarios)).exit_code == 0  # whole: fine
