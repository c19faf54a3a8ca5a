"""Engines: the baseline summed on Arrow partitions equals the full reader's baseline to the cent, falls
back to the full reader for anything it does not cover, and --jobs/--engine speak clearly when wrong."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from engine_logs import BILLING, ROOT, fast_json, full_json, log_table, write
from llmcost.catalog import load_catalog
from llmcost.engines import baseline_estimate, make_engine
from llmcost.engines.partitions import parquet_partitions
from llmcost.report.estimate_json import render_json
from llmcost.scenarios.interface import Baseline


@pytest.mark.parametrize("jobs", [1, 2])
def test_price_periods_long_context_tiers_and_unknown_models_equal_the_full_reader(tmp_path: Path, jobs: int) -> None:
    path = write(log_table(5000), tmp_path / "log.parquet")
    fast = fast_json([path], jobs=jobs)
    assert fast == full_json([path])
    models = {m.model for m in fast["exact"].by_model}
    assert {"repriced", "midday", "at-or-above", "above", "tiered", "mystery-model"} <= models
    assert next(m for m in fast["exact"].by_model if m.model == "above").long_context_requests > 0


def test_several_files_and_partitions_merge_to_the_whole(tmp_path: Path) -> None:
    table = log_table(4000, seed=9)
    paths = [write(table.slice(0, 1500), tmp_path / "a.parquet", 300),
             write(table.slice(1500), tmp_path / "b.parquet", 700)]
    parts = parquet_partitions(paths, rows=1000)
    assert parts is not None and len(parts) >= 4
    assert fast_json(paths) == full_json(paths)


def test_provider_column_resolves_per_serving_provider(tmp_path: Path) -> None:
    # a narrow window (no price change inside it) and no long input: no per-row flag is needed
    table = log_table(3000, seed=5, start="2026-01-01", days=2, providers=True)
    table = table.set_column(table.column_names.index("input_tokens"), "input_tokens",
                             pa.array(np.full(3000, 900, dtype=np.int64)))
    table = table.set_column(table.column_names.index("cache_read_tokens"), "cache_read_tokens",
                             pa.array(np.zeros(3000, dtype=np.int64)))
    path = write(table, tmp_path / "log.parquet")
    assert fast_json([path]) == full_json([path])


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_statistics_give_the_window_without_reading_timestamps(tmp_path: Path, unit: str) -> None:
    table = log_table(3000, start="2026-01-01", days=20)
    stamps = table.column("timestamp").cast(pa.timestamp(unit, tz="UTC"), safe=False)
    table = table.set_column(0, "timestamp", stamps)
    path = write(table, tmp_path / "log.parquet")
    parts = parquet_partitions([path])
    assert parts is not None and all(p.stamps is not None and "timestamp" not in p.columns for p in parts)
    assert fast_json([path]) == full_json([path])


def test_a_log_inside_an_old_price_period_is_billed_at_its_prices(tmp_path: Path) -> None:
    path = write(log_table(3000, start="2024-03-01", days=30, tiers=False), tmp_path / "log.parquet")
    parts = parquet_partitions([path])
    assert parts is not None and all("timestamp" not in p.columns for p in parts)
    fast = fast_json([path])
    assert fast == full_json([path])
    repriced = next(m for m in fast["exact"].by_model if m.model == "repriced")
    tokens = repriced.tokens
    at_old_prices = (Decimal(tokens.uncached_input_tokens) * 5 + Decimal(tokens.cache_read_tokens) * 5
                     + Decimal(tokens.output_tokens) * 15) / 1_000_000
    assert repriced.cost is not None and repriced.cost > at_old_prices / 2  # batch rows at half price at most


def test_a_price_change_inside_a_partition_reads_its_timestamps(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from llmcost.engines import partitions

    path = write(log_table(3000), tmp_path / "log.parquet")
    parts = parquet_partitions([path])
    assert parts is not None and all("timestamp" not in p.columns and p.stamps is not None for p in parts)
    read: list[tuple[str, ...]] = []
    original = partitions.read_partition
    monkeypatch.setattr(partitions, "read_partition", lambda part, **kw: read.append(part.columns) or
                        original(part, **kw))
    assert fast_json([path]) == full_json([path])
    assert any("timestamp" in columns for columns in read)  # read again with them, for the price periods


def test_the_generated_benchmark_log_equals_the_full_reader_on_the_bundled_catalogs(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate", ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    path = write(generate.generate(20_000), tmp_path / "gen.parquet", 4096)
    for name in ("frontier", "default"):
        assert fast_json([path], name) == full_json([path], name)


@pytest.mark.parametrize("change", ["weight", "null_tokens", "prompt", "string_timestamps", "cost_logged"])
def test_what_the_kernel_does_not_cover_falls_back_to_the_same_result(tmp_path: Path, change: str) -> None:
    table = log_table(2000, start="2026-01-01", days=3)
    n = table.num_rows
    if change == "weight":
        table = table.append_column("weight", pa.array(np.where(np.arange(n) % 7 == 0, 3, 1)))
    elif change == "null_tokens":
        table = table.set_column(table.column_names.index("reasoning_tokens"), "reasoning_tokens",
                                 pa.array([None if i % 5 == 0 else 1 for i in range(n)], pa.int64()))
    elif change == "prompt":
        table = table.append_column("prompt", pa.array(["hello"] * n))
    elif change == "string_timestamps":
        import pyarrow.compute as pc

        table = table.set_column(0, "timestamp", pc.strftime(table.column("timestamp"), format="%Y-%m-%dT%H:%M:%SZ"))
    else:
        table = table.append_column("cost_logged", pa.array(np.full(n, 0.001)))
    path = write(table, tmp_path / "log.parquet")
    catalog = load_catalog(str(BILLING))
    assert baseline_estimate(make_engine(), [path], catalog, [Baseline()]) is None
    from llmcost.pipeline import estimate_logs

    result, _ = estimate_logs([path], catalog, [Baseline()])
    import json

    assert json.loads(render_json(result)) == full_json([path])["json"]


def test_a_bad_row_is_still_named_by_the_full_reader(cli: Any, tmp_path: Path) -> None:
    table = log_table(50, start="2026-01-01", days=3)
    outputs = table.column("output_tokens").to_numpy().copy()
    outputs[41] = -5
    table = table.set_column(table.column_names.index("output_tokens"), "output_tokens", pa.array(outputs))
    path = write(table, tmp_path / "log.parquet", 10)
    out = tmp_path / "out.json"
    result = cli("estimate", path, "--baseline-only", "--catalog", BILLING, "--format", "json", "-o", out)
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "log.parquet:42: field 'output_tokens': must not be negative" in result.stderr
    assert not out.exists()
    skipped = cli("estimate", path, "--baseline-only", "--catalog", BILLING, "--format", "json", "--skip-bad")
    assert skipped.exit_code == 0 and "skipped 1 row" in skipped.stderr
