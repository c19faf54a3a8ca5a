"""Issue 15's bar: the semantic-cache replay of 1M requests with 256-dimension embeddings, cached on disk.

    .venv/bin/python benchmarks/bench_semantic_cache.py [--rows 1000000] [--distinct 200000] [--repeat 2]

The log: ``--rows`` requests over one day, 3 models, 8 tasks, prompts drawn Zipf-like from ``--distinct``
texts. Each text's vector is a topic (one of distinct/10) plus noise, so paraphrase-like neighbours exist
at cosine 0.80-0.99. The vectors are written to the embedding disk cache first, as a previous run
would have left them, so the run embeds nothing (its endpoint is a closed port: a call would fail).

Measured with ``llmcost estimate`` in a subprocess (wall clock, peak RSS from ``getrusage`` of the
child): the single-threshold scenario, then the same with ``--sweep 0.80:0.99:0.01`` (20 thresholds).
Bars: under 60 s and under 2 GB. Also the agreement of HNSW (``search: ann``) with exact search on the
first ``--agree-rows`` requests: the share of decisions that are the same.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CATALOG = """source: bench
as_of: 2026-01-01
models:
  - {id: chat-large, provider: acme, input_mtok: 2.5, output_mtok: 10}
  - {id: chat-mid, provider: acme, input_mtok: 0.4, output_mtok: 1.6}
  - {id: chat-small, provider: acme, input_mtok: 0.15, output_mtok: 0.6}
  - {id: bench-embed, provider: acme, input_mtok: 0.02, output_mtok: 0}
"""


def generate(rows: int, distinct: int, dims: int, seed: int = 0) -> tuple[pd.DataFrame, list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    topics = max(distinct // 10, 1)
    centers = rng.standard_normal((topics, dims)).astype(np.float32)
    topic = rng.integers(0, topics, distinct)
    vectors = centers[topic] + rng.uniform(0.15, 0.6, (distinct, 1)).astype(np.float32) * \
        rng.standard_normal((distinct, dims)).astype(np.float32)
    texts = [f"prompt {i} about topic {t}" for i, t in enumerate(topic.tolist())]
    popularity = 1.0 / np.arange(1, distinct + 1) ** 0.9
    pick = rng.choice(distinct, size=rows, p=popularity / popularity.sum())
    seconds = np.sort(rng.integers(0, 86_400_000, rows)) / 1000
    frame = pd.DataFrame({
        "timestamp": pd.Timestamp("2026-03-01", tz="UTC") + pd.to_timedelta(seconds, "s"),
        "model": pd.Categorical(rng.choice(["chat-large", "chat-mid", "chat-small"], rows, p=[0.2, 0.3, 0.5])),
        "input_tokens": rng.integers(20, 2_000, rows), "output_tokens": rng.integers(5, 600, rows),
        "prompt": pd.array(np.asarray(texts, dtype=object)[pick], dtype="string"),
        "task": pd.Categorical(rng.choice([f"task{i}" for i in range(8)], rows)),
    })
    return frame, texts, vectors


def fill_cache(cache_dir: Path, texts: list[str], vectors: np.ndarray) -> None:
    """The disk cache as a first run against the endpoint would have left it."""
    from llmcost.embedders.disk_cache import PIECE, CachedEmbedder, text_keys
    from llmcost.embedders.interface import normalized
    from llmcost.embedders.openai_compatible import OpenAICompatibleEmbedder
    from llmcost.embedders.token_cache import token_counts
    from llmcost.scenarios.schema import EmbedderSpec

    spec = EmbedderSpec(kind="openai-compatible", model="bench-embed", base_url="http://127.0.0.1:9/v1")
    cached = CachedEmbedder(OpenAICompatibleEmbedder(spec), "bench", "embedder", root=cache_dir)
    for lo in range(0, len(texts), PIECE * 8):
        part = texts[lo:lo + PIECE * 8]
        cached._write(text_keys(part), normalized(vectors[lo:lo + len(part)]))
    token_counts(texts, root=cache_dir)  # a first run counted the prompts' tokens with the embeddings


def scenario(path: Path, search: str = "auto") -> Path:
    path.write_text(json.dumps({"scenarios": [{"name": "semantic", "semantic_cache": {
        "threshold": 0.9, "ttl": "1h", "per_model": False, "scope": ["task"], "search": search,
        "hit_cost_usd": 0.00001,
        "embedder": {"kind": "openai-compatible", "model": "bench-embed", "base_url": "http://127.0.0.1:9/v1",
                     "retries": 0}}}]}))
    return path


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, float, dict]:
    """Wall seconds, CPU seconds (user + system), peak RSS (GB) of the child, parsed JSON output. On a
    shared machine the CPU time is the steadier figure: wall time includes waiting for a core."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    done = subprocess.run([str(ROOT / ".venv/bin/llmcost"), *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"llmcost failed: {done.stderr.strip()}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    return wall, cpu, max(usage.ru_maxrss, before) / 1024 / 1024, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--distinct", type=int, default=200_000)
    parser.add_argument("--dims", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--agree-rows", type=int, default=100_000)
    parser.add_argument("--work", help="reuse this directory's log and cache (made by an earlier run)")
    opts = parser.parse_args()
    work = Path(opts.work) if opts.work else Path(tempfile.mkdtemp(prefix="bench_semantic_"))
    if not (work / "log.parquet").exists():
        frame, texts, vectors = generate(opts.rows, opts.distinct, opts.dims)
        frame.to_parquet(work / "log.parquet")
        frame.iloc[:opts.agree_rows].to_parquet(work / "head.parquet")
        fill_cache(work / "cache", texts, vectors)
        (work / "catalog.yaml").write_text(CATALOG)
    env = {**os.environ, "LLMCOST_CACHE_DIR": str(work / "cache")}
    base = ["estimate", str(work / "log.parquet"), "-c", str(work / "catalog.yaml"), "-f", "json"]
    print(f"{opts.rows:,} requests, {opts.distinct:,} distinct prompts, {opts.dims} dims; work dir {work}")
    best: dict[str, tuple[float, float, float]] = {}
    for _ in range(opts.repeat):
        for name, extra in (("one threshold", []), ("sweep 0.80:0.99:0.01", ["--sweep", "0.80:0.99:0.01"])):
            wall, cpu, rss, out = run([*base, "-s", str(scenario(work / "s.yaml")), *extra], env)
            d = out["scenarios"][1]["details"]["semantic_cache"]
            print(f"  {name}: {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {rss:.2f} GB; hit rate {d['hit_rate']:.1%}, "
                  f"embedded now {d['texts_embedded_now']}, from disk {d['texts_from_disk_cache']:,}, "
                  f"exact fallbacks {d['exact_fallbacks']:,}")
            if name not in best or wall < best[name][0]:
                best[name] = (wall, cpu, rss)
    for name, (wall, cpu, rss) in best.items():
        print(f"best {name}: {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {rss:.2f} GB")
    head = ["estimate", str(work / "head.parquet"), "-c", str(work / "catalog.yaml"), "-f", "json",
            "--sweep", "0.80:0.99:0.01"]
    sweeps = {}
    for search in ("exact", "ann"):
        _, _, _, out = run([*head, "-s", str(scenario(work / f"s_{search}.yaml", search))], env)
        sweeps[search] = out["scenarios"][1]["details"]["semantic_cache"]["sweep"]
    print(f"HNSW vs exact search on the first {opts.agree_rows:,} requests (hits per threshold):")
    for a, b in zip(sweeps["exact"], sweeps["ann"], strict=True):
        print(f"  {a['threshold']:.2f}: exact {a['hits']:,.0f}  hnsw {b['hits']:,.0f}  "
              f"({(b['hits'] - a['hits']) / max(a['hits'], 1):+.3%})")


if __name__ == "__main__":
    main()
