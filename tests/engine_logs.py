"""Small Parquet logs for the engine tests: requests across the billing test catalog's price changes,
long-context thresholds, service tiers and serving providers, and the full reader's result to compare to."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from llmcost.catalog import load_catalog
from llmcost.engines import baseline_estimate, make_engine
from llmcost.estimate import run_estimate
from llmcost.logs import read_logs
from llmcost.report.estimate_json import render_json
from llmcost.scenarios.interface import Baseline

ROOT = Path(__file__).resolve().parent.parent
BILLING = ROOT / "tests" / "catalog" / "billing_catalog.yaml"
MODELS = ["repriced", "repriced-2024-08-06", "midday", "tiered", "at-or-above", "above", "flash", "mystery-model"]
TIERS = ["priority", "flex", "batch", "standard", None]


def log_table(rows: int, *, seed: int = 3, start: str = "2024-09-01", days: int = 400,
              providers: bool = False, tiers: bool = True) -> pa.Table:
    """Requests over the catalog's price changes, around its long-context thresholds, on several tiers."""
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.integers(0, days * 86_400_000, rows))
    stamps = np.datetime64(start, "ms") + offsets.astype("timedelta64[ms]")
    inputs = rng.choice([100, 5_000, 127_999, 128_000, 128_001, 200_000], rows)
    cache = np.minimum(inputs, rng.choice([0, 0, 64, 1024], rows))
    outputs = rng.integers(1, 3000, rows)
    columns: dict[str, Any] = {
        "timestamp": pa.array(stamps, pa.timestamp("ms", tz="UTC")),
        "model": pa.array(rng.choice(MODELS, rows)).dictionary_encode(),
        "input_tokens": inputs, "cache_read_tokens": cache, "output_tokens": outputs,
        "reasoning_tokens": outputs // 3, "batch": rng.random(rows) < 0.2,
    }
    if tiers:
        columns["service_tier"] = pa.array([TIERS[i] for i in rng.integers(0, len(TIERS), rows)])
    if providers:
        columns["provider"] = pa.array([["gemini", "vertex_ai", None][i] for i in rng.integers(0, 3, rows)])
    return pa.table(columns)


def write(table: pa.Table, path: Path, row_group_size: int = 1000) -> str:
    pq.write_table(table, path, row_group_size=row_group_size)
    return str(path)


def full_json(paths: list[str], catalog_name: str = str(BILLING)) -> dict[str, Any]:
    """The full reader's baseline: its JSON, and its exact per-model Decimal costs and token sums."""
    catalog = load_catalog(catalog_name)
    estimate = run_estimate(read_logs(paths).frame, catalog, [Baseline()])
    return {"json": json.loads(render_json(estimate)), "exact": estimate.baseline.priced, "window": estimate.window}


def fast_json(paths: list[str], catalog_name: str = str(BILLING), jobs: int | None = None) -> dict[str, Any]:
    catalog = load_catalog(catalog_name)
    estimate = baseline_estimate(make_engine(jobs=jobs), paths, catalog, [Baseline()])
    assert estimate is not None, "the Arrow path fell back to the full reader"
    return {"json": json.loads(render_json(estimate)), "exact": estimate.baseline.priced, "window": estimate.window}


def corrupt_parquet(path: Path) -> str:
    """A Parquet log whose footer and schema read fine but whose data pages do not decompress."""
    rows = 50_000
    table = pa.table({
        "timestamp": pa.array(np.arange(rows) * 1000, pa.timestamp("ms", tz="UTC")),
        "model": pa.array(["gpt-4o"] * rows).dictionary_encode(),
        "input_tokens": np.random.default_rng(1).integers(0, 10**6, rows),
        "output_tokens": np.random.default_rng(2).integers(0, 10**6, rows),
    })
    pq.write_table(table, path, row_group_size=10_000, compression="snappy")
    data = bytearray(path.read_bytes())
    middle = len(data) // 3
    data[middle:middle + 3000] = b"\xff" * 3000
    path.write_bytes(bytes(data))
    return str(path)


@contextlib.contextmanager
def local_cluster(workers: int = 2) -> Iterator[str]:
    """A real Dask ``LocalCluster`` of worker processes over TCP on 127.0.0.1 (one thread each); its address."""
    import distributed

    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address="127.0.0.1:0", protocol="tcp")
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()
