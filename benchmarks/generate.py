#!/usr/bin/env python3
"""Deterministic generator of realistic request logs at scale, in llmcost's own format.

    python benchmarks/generate.py --rows 10000000 --out benchmarks/out/logs --formats parquet,csv,jsonl

Every column is built with numpy in one vectorized pass (10M rows in a few seconds), then written with
pyarrow. The workload: eight model names (dated snapshots and provider prefixes included) across four
tasks, timestamps over 30 days with a daily cycle, prompt hashes drawn from a Zipf-like distribution
(so an exact-response cache sees realistic repeats), Mooncake-style prefix block ids (each a 512-token
block; requests of a task share their leading system-prompt blocks), provider cache reads on part of
the traffic, reasoning tokens on the reasoning model, and a nightly batch share.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

SEED = 7
START = np.datetime64("2026-10-01T00:00:00", "ms")
DAYS = 30
BLOCK = 512
MODELS = np.array([
    "gpt-4o-2024-08-06", "gpt-4o-mini", "openai/gpt-4o-mini-2024-07-18", "claude-sonnet-4-20250514",
    "anthropic/claude-sonnet-4", "gpt-4o", "claude-sonnet-4", "gpt-4o-mini-2024-07-18",
])
MODEL_P = np.array([0.12, 0.30, 0.08, 0.18, 0.04, 0.08, 0.10, 0.10])
TASKS = np.array(["support", "summarize", "classify", "extract"])
TASK_P = np.array([0.45, 0.15, 0.25, 0.15])
SYSTEM_BLOCKS = np.array([4, 1, 1, 2])  # shared leading blocks per task


def generate(rows: int, seed: int = SEED, prefix_blocks: int = 8) -> pa.Table:
    """Build ``rows`` requests as an Arrow table (sorted by timestamp)."""
    rng = np.random.default_rng(seed)
    seconds = np.sort(_arrival_seconds(rng, rows))
    task = rng.choice(len(TASKS), size=rows, p=TASK_P)
    model = rng.choice(len(MODELS), size=rows, p=MODEL_P)
    base_in = np.array([2500, 9000, 600, 3000])[task]
    input_tokens = np.maximum(64, rng.lognormal(np.log(base_in), 0.6)).astype(np.int64)
    input_tokens = np.minimum(input_tokens, 180_000)
    out_mean = np.array([350, 300, 8, 120])[task]
    output_tokens = np.maximum(1, rng.gamma(2.0, out_mean / 2.0)).astype(np.int64)
    cached = (rng.random(rows) < 0.35) * (SYSTEM_BLOCKS[task] * BLOCK)
    cache_read = np.minimum(cached, input_tokens - 1).clip(0)
    batch = (task == 2) & ((seconds % 86400) < 5 * 3600)
    # Zipf-like repeats: a few prompts are very common, most are rare.
    pool = max(1000, rows // 5)
    prompt_rank = np.minimum(rng.zipf(1.25, size=rows), pool) - 1
    prompt_id = (prompt_rank * 4 + task).astype(np.int64)
    prompt_hash = _hex16(prompt_id)
    prefix = _prefix_hashes(task, prompt_id, input_tokens, prefix_blocks)
    timestamp = START + (seconds * 1000).astype("timedelta64[ms]")
    return pa.table({
        "timestamp": pa.array(timestamp.astype("datetime64[ms]"), type=pa.timestamp("ms", tz="UTC")),
        "model": pa.DictionaryArray.from_arrays(pa.array(model.astype(np.int32)), pa.array(MODELS)),
        "task": pa.DictionaryArray.from_arrays(pa.array(task.astype(np.int32)), pa.array(TASKS)),
        "input_tokens": input_tokens,
        "cache_read_tokens": cache_read.astype(np.int64),
        "output_tokens": output_tokens,
        "reasoning_tokens": np.zeros(rows, dtype=np.int64),
        "batch": batch,
        "prompt_hash": prompt_hash,
        "prefix_hashes": prefix,
    })


def _arrival_seconds(rng: np.random.Generator, rows: int) -> np.ndarray:
    hours = np.arange(DAYS * 24)
    rate = 0.4 + np.clip(np.sin((hours % 24 - 6) / 24 * 2 * np.pi), 0, None)
    hour = rng.choice(hours, size=rows, p=rate / rate.sum())
    return hour * 3600.0 + rng.uniform(0, 3600, size=rows)


def _hex16(ids: np.ndarray) -> pa.Array:
    """16-hex-digit prompt hashes from integer ids (a bijective mix, so equal ids ⇔ equal hashes)."""
    mixed = (ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ np.uint64(0x5DEECE66D)
    text = np.char.zfill(np.char.mod("%x", mixed), 16) if len(ids) < 200_000 else None
    if text is not None:
        return pa.array(text.astype(str))
    # Vectorized hex formatting for large arrays: nibble lookup on the uint64 bytes.
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    shifts = np.arange(60, -4, -4, dtype=np.uint64)
    nibbles = ((mixed[:, None] >> shifts[None, :]) & np.uint64(15)).astype(np.uint8)
    chars = digits[nibbles].reshape(-1)
    offsets = np.arange(0, (len(ids) + 1) * 16, 16, dtype=np.int32)
    return pa.StringArray.from_buffers(len(ids), pa.py_buffer(offsets), pa.py_buffer(chars.tobytes()))


def _prefix_hashes(task: np.ndarray, prompt_id: np.ndarray, input_tokens: np.ndarray, cap: int) -> pa.Array:
    """List<int64> of block ids: the task's shared system blocks, then blocks unique to the prompt."""
    blocks = np.minimum(-(-input_tokens // BLOCK), cap)
    offsets = np.zeros(len(blocks) + 1, dtype=np.int64)
    np.cumsum(blocks, out=offsets[1:])
    position = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1], blocks)
    row_task = np.repeat(task, blocks)
    shared = position < SYSTEM_BLOCKS[row_task]
    unique = (np.repeat(prompt_id, blocks) + 1) * 1000 + position + 100
    values = np.where(shared, row_task * 100 + position, unique)
    return pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(values))


def write(table: pa.Table, out: Path, formats: list[str]) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for fmt in formats:
        path = out / f"logs.{fmt}"
        if fmt == "parquet":
            pq.write_table(table, path, row_group_size=1_000_000)
        elif fmt == "csv":
            flat = table.drop(["prefix_hashes"]).cast(_plain_schema(table.drop(["prefix_hashes"]).schema))
            pacsv.write_csv(flat, path)
        elif fmt == "jsonl":
            _write_jsonl(table.drop(["prefix_hashes"]), path)
        else:
            raise SystemExit(f"unknown format {fmt}")
        paths[fmt] = path
    return paths


def _plain_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
                      for f in schema])


def _write_jsonl(table: pa.Table, path: Path) -> None:
    """Flat JSONL written chunk by chunk through pandas (vectorized; no per-row Python)."""
    with path.open("w") as fh:
        for batch in table.to_batches(max_chunksize=500_000):
            frame = batch.to_pandas()
            frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            fh.write(frame.to_json(orient="records", lines=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/logs"))
    parser.add_argument("--formats", default="parquet,csv,jsonl")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    started = time.perf_counter()
    table = generate(args.rows, args.seed)
    paths = write(table, args.out, args.formats.split(","))
    for fmt, path in paths.items():
        print(f"{fmt}: {path} ({path.stat().st_size / 1e6:,.0f} MB)")
    print(f"{args.rows:,} rows in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
