"""Scenario engine at scale: a generated 10M-request frame (nothing is committed; it is built here).

    .venv/bin/python benchmarks/bench_scenarios.py [--rows 10000000]

Measures (wall clock, time.perf_counter):
1. the exact-cache replay alone on integer key codes (target: >= 2M requests/s), and with keying
   (factorizing prompt_hash strings) included; the bounded LRU path on a slice;
2. the baseline-only estimate vs the built-in default scenario set on the same frame (target < 30 s);
3. the prefix-hash prompt-cache replay on a generated conversation-like workload.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from llmcost.catalog import load_catalog
from llmcost.estimate import run_estimate
from llmcost.frame import conform
from llmcost.scenarios import Baseline, default_scenarios_path, load_scenarios
from llmcost.scenarios.exact_cache import cache_keys
from llmcost.scenarios.replay import leading_block_hits, replay_lru, replay_ttl

MODELS = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4"]
TASKS = ["chat", "classify", "summarize", "extract", "code"]


def generate(rows: int, seed: int = 7) -> pd.DataFrame:
    """A week of traffic: Zipf-distributed repeated prompts, log-normal token counts, 3 models."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-11-01T00:00:00", "ns").astype(np.int64)
    times = np.sort(rng.integers(0, 7 * 86400 * 10**6, rows)) * 1000 + start  # whole microseconds
    distinct = max(rows // 3, 1)
    prompt = np.minimum(rng.zipf(1.3, rows), distinct) - 1
    prompt = np.where(rng.random(rows) < 0.5, rng.integers(0, distinct, rows), prompt)
    hashes = pd.Series(pd.Categorical.from_codes(prompt % distinct, categories=[f"{i:016x}" for i in range(distinct)]))
    inputs = np.clip(rng.lognormal(7.0, 1.1, rows), 5, 120_000).astype(np.int64)
    outputs = np.clip(rng.lognormal(5.0, 1.0, rows), 1, 8000).astype(np.int64)
    frame = pd.DataFrame({
        "timestamp": pd.to_datetime(times, utc=True),
        "model": pd.Categorical.from_codes(rng.integers(0, 3, rows), categories=MODELS),
        "input_tokens": inputs,
        "output_tokens": outputs,
        "task": pd.Categorical.from_codes(rng.integers(0, 5, rows), categories=TASKS),
        "prompt_hash": hashes.astype(str).to_numpy(dtype=object),
    })
    return conform(frame, source="<generated>").frame


def timed(label: str, fn: object, rows: int | None = None) -> object:
    t0 = time.perf_counter()
    result = fn()  # type: ignore[operator]
    dt = time.perf_counter() - t0
    rate = f"  ({rows / dt / 1e6:.2f}M requests/s)" if rows else ""
    print(f"{label:<58} {dt:8.2f} s{rate}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    n = args.rows
    frame = timed(f"generate {n:,} rows (not part of any measurement)", lambda: generate(n))
    assert isinstance(frame, pd.DataFrame)
    catalog = load_catalog(None)
    keys = timed("exact cache: key codes (factorize model + prompt_hash)",
                 lambda: cache_keys(frame, "prompt_hash", True), n)
    times = np.asarray(frame["timestamp"].dt.as_unit("ns").array.asi8)
    hits = timed("exact cache: TTL replay on key codes (24 h)",
                 lambda: replay_ttl(keys, times, 86400 * 10**9), n)  # type: ignore[arg-type]
    print(f"    hit rate {float(np.mean(hits)):.2%}")  # type: ignore[arg-type]
    m = min(n, 2_000_000)
    timed(f"exact cache: LRU replay, max 100k entries ({m:,} rows)",
          lambda: replay_lru(keys[:m], times[:m], 86400 * 10**9, 100_000), m)  # type: ignore[index]
    timed("baseline-only estimate", lambda: run_estimate(frame, catalog, [Baseline()]))
    scenarios = load_scenarios(default_scenarios_path(), catalog, builtin=True)
    est = timed(f"default scenario set ({len(scenarios)} scenarios incl. baseline)",
                lambda: run_estimate(frame, catalog, scenarios))
    for s in est.scenarios:  # type: ignore[attr-defined]
        print(f"    {s.name:<18} monthly ${float(s.monthly_cost):,.2f}")
    prefix_bench(min(n, 2_000_000))


def prefix_bench(rows: int) -> None:
    """Prefix replay: conversations that grow by one or two blocks per turn, sharing a system block."""
    rng = np.random.default_rng(11)
    conv = rng.integers(0, rows // 8, rows)
    turn = pd.Series(conv).groupby(conv).cumcount().to_numpy()
    counts = np.minimum(turn + 2, 64)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    owner = np.repeat(np.arange(rows), counts)
    pos = np.arange(offsets[-1]) - offsets[owner]
    blocks = np.where(pos == 0, 0, conv[owner] * 100 + pos)
    times = np.sort(rng.integers(0, 3600 * 10**9, rows))
    lead = timed(f"prompt cache: prefix replay ({rows:,} requests, {offsets[-1]:,} blocks)",
                 lambda: leading_block_hits(blocks, offsets, times, 300 * 10**9), rows)
    print(f"    cached block share {float(np.sum(lead) / offsets[-1]):.2%}")  # type: ignore[arg-type]


if __name__ == "__main__":
    Path(__file__)
    main()
