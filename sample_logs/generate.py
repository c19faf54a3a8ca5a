#!/usr/bin/env python3
"""Generate sample_logs/support_workload.jsonl.gz: three days of a support / summarize / classify product.

Deterministic (fixed seed, fixed gzip mtime): running it again reproduces the committed file byte for byte.

    .venv/bin/python sample_logs/generate.py

The workload, in llmcost's own format (OpenAI token convention: input_tokens includes cache tokens):
- support: multi-turn chat on claude-sonnet-4 (70%) and gpt-4o (30%), a 1,792-token shared system prompt
  that the provider caches (Anthropic: written on a miss, read within 5 minutes; OpenAI: read only);
- summarize: long documents on gpt-4o, a few over 200K tokens routed to claude-sonnet-4 (long-context tier);
- classify: short prompts on gpt-4o-mini with heavily repeated inputs; the nightly backfill runs as batch.
Models are logged the way SDKs log them (dated snapshots, provider prefixes) to exercise name resolution.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np

SEED = 20261101
START = np.datetime64("2026-11-02T00:00:00")
DAYS = 3
SYSTEM_PROMPT = 1792
BLOCK = 512
OUT = Path(__file__).with_name("support_workload.jsonl.gz")

MODEL_NAMES = {
    "claude-sonnet-4": ["claude-sonnet-4-20250514", "anthropic/claude-sonnet-4-20250514"],
    "gpt-4o": ["gpt-4o-2024-08-06", "gpt-4o"],
    "gpt-4o-mini": ["gpt-4o-mini-2024-07-18", "openai/gpt-4o-mini"],
}


def arrivals(rng: np.random.Generator, n: int) -> np.ndarray:
    """Timestamps with a day/night cycle (busier during working hours UTC)."""
    hours = np.arange(DAYS * 24)
    rate = 0.35 + np.clip(np.sin((hours % 24 - 6) / 24 * 2 * np.pi), 0, None)
    hour = rng.choice(hours, size=n, p=rate / rate.sum())
    seconds = hour * 3600 + rng.uniform(0, 3600, size=n)
    return np.sort(seconds)


def digest(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


BLOCK_IDS: dict[tuple[str, int], int] = {}


def block_id(owner: str, index: int) -> int:
    """Mooncake-style block ids: equal ids mean an identical 512-token prefix block."""
    return BLOCK_IDS.setdefault((owner, index), len(BLOCK_IDS))


def build(rng: np.random.Generator) -> list[dict[str, object]]:
    n = 4200
    seconds = arrivals(rng, n)
    task = rng.choice(["support", "summarize", "classify"], size=n, p=[0.5, 0.2, 0.3])
    rows: list[dict[str, object]] = []
    last_system_use: dict[str, float] = {}
    for i in range(n):
        t = float(seconds[i])
        kind = str(task[i])
        batch = False
        if kind == "support":
            model = "claude-sonnet-4" if rng.random() < 0.7 else "gpt-4o"
            conversation = int(rng.zipf(1.6)) % 400
            turn = int(rng.integers(1, 8))
            inp = SYSTEM_PROMPT + int(rng.integers(150, 700)) * turn
            out = int(rng.integers(120, 650))
            prompt_hash = digest("support", conversation, turn)
        elif kind == "summarize":
            model = "gpt-4o"
            inp = int(min(rng.lognormal(8.6, 0.8), 120_000))
            if rng.random() < 0.01:
                model, inp = "claude-sonnet-4", int(rng.integers(205_000, 260_000))
            out = int(rng.integers(180, 520))
            prompt_hash = digest("summarize", i)
        else:
            model = "gpt-4o-mini"
            hour = (t // 3600) % 24
            batch = bool(hour < 5 and rng.random() < 0.8)
            inp = int(rng.integers(280, 900))
            out = int(rng.integers(3, 20))
            prompt_hash = digest("classify", int(rng.zipf(1.3)) % 900)
        cache_read = cache_write = 0
        if kind == "support":
            key = f"{model}:support"
            warm = key in last_system_use and t - last_system_use[key] <= 300
            if warm:
                cache_read = SYSTEM_PROMPT
            elif model == "claude-sonnet-4":
                cache_write = SYSTEM_PROMPT
            last_system_use[key] = t
        n_blocks = -(-inp // BLOCK)
        shared = SYSTEM_PROMPT // BLOCK if kind == "support" else 0
        owner = f"support-{conversation}" if kind == "support" else prompt_hash
        prefix = [block_id(f"{kind}-system", b) for b in range(shared)]
        prefix += [block_id(owner, b) for b in range(n_blocks - shared)]
        rows.append({
            "timestamp": str(START + np.timedelta64(int(t * 1000), "ms")) + "Z",
            "model": MODEL_NAMES[model][int(rng.integers(0, 2))],
            "task": kind,
            "user": f"team-{int(rng.integers(1, 9))}",
            "input_tokens": inp,
            "cache_read_tokens": cache_read,
            "cache_write_tokens": cache_write,
            "output_tokens": out,
            "batch": batch,
            "prompt_hash": prompt_hash,
            "prefix_hashes": prefix,
            "status": "success",
            "latency_ms": int(300 + out * rng.uniform(8, 25)),
        })
    return rows


def main() -> None:
    rows = build(np.random.default_rng(SEED))
    payload = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows).encode()
    with OUT.open("wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(payload)
    print(f"wrote {OUT} ({len(rows)} requests, {OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
