#!/usr/bin/env python3
"""The baseline bar of issue 16 side by side: ``estimate --baseline-only`` against a DuckDB hand query on the
same Parquet logs and cores, whole processes, at most 1.5x (10M and 100M rows), peak memory flat.

    .venv/bin/python benchmarks/bench_baseline.py benchmarks/out/logs-10000000/logs.parquet \
        [/tmp/logs-100m.parquet ...] [--repeat 5] [--json benchmarks/out/baseline.json]

Each log (``benchmarks/generate.py``; longer ones from ``benchmarks/tile.py``) is measured by alternating
the two commands ``--repeat`` times in fresh processes, so a load change on a shared machine hits both.
Reported per command: best wall time, the CPU seconds (user + sys) of that run, and its peak resident memory
(``/usr/bin/time``), with the load average before and after. The bar compares best wall times; CPU time
is the steadier figure on a busy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from warm import compiled

LLMCOST = [sys.executable, "-c", "from llmcost.cli.main import main; main()"]
DUCKDB = ("import sys, duckdb; duckdb.execute('SET enable_progress_bar = false'); "
          "duckdb.sql(\"select model, count(*), sum(input_tokens), sum(cache_read_tokens), "
          "sum(output_tokens), sum(reasoning_tokens), min(timestamp), max(timestamp) from read_parquet('\" + "
          "sys.argv[1] + \"') group by model\").fetchall()")
BAR = 1.5


def once(argv: list[str]) -> dict[str, float]:
    """Wall seconds, CPU seconds (user + sys) and peak RSS (MB) of one fresh process."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as stats:
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-q", "-f", "%U %S %M", "-o", stats.name, *argv],
                              capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"failed ({done.returncode}): {' '.join(argv)}\n{done.stderr[-2000:]}")
        user, system, peak_kb = Path(stats.name).read_text().split()[-3:]
    return {"s": round(wall, 3), "cpu_s": round(float(user) + float(system), 2), "peak_mb": round(int(peak_kb) / 1024)}


def measure(log: str, repeat: int) -> dict[str, object]:
    import pyarrow.parquet as pq

    commands = {
        "duckdb": [sys.executable, "-c", DUCKDB, log],
        "baseline": [*LLMCOST, "estimate", log, "--baseline-only", "--format", "json", "--output", os.devnull],
    }
    best: dict[str, dict[str, float]] = {}
    load_before = os.getloadavg()
    for _ in range(repeat):
        for name, argv in commands.items():
            run = once(argv)
            if name not in best or run["s"] < best[name]["s"]:
                best[name] = run
    return {"log": log, "rows": pq.ParquetFile(log).metadata.num_rows, "cores": len(os.sched_getaffinity(0)),
            "load_before": load_before, "load_after": os.getloadavg(), "repeat": repeat, **best,
            "ratio": round(best["baseline"]["s"] / best["duckdb"]["s"], 2),
            "cpu_ratio": round(best["baseline"]["cpu_s"] / max(best["duckdb"]["cpu_s"], 0.01), 2)}


def table(results: list[dict[str, object]]) -> str:
    lines = ["| rows | cores | DuckDB hand query | `estimate --baseline-only` | ratio (bar 1.5x) | CPU ratio | "
             "load average |", "|---|---|---|---|---|---|---|"]
    for r in results:
        duck, base = r["duckdb"], r["baseline"]
        assert isinstance(duck, dict) and isinstance(base, dict)
        load = f"{r['load_before'][0]:.1f} -> {r['load_after'][0]:.1f}"  # type: ignore[index]
        lines.append(f"| {r['rows']:,} | {r['cores']} | {duck['s']:.2f} s ({duck['cpu_s']:.2f} s CPU, "
                     f"{duck['peak_mb']} MB) | {base['s']:.2f} s ({base['cpu_s']:.2f} s CPU, {base['peak_mb']} MB) "
                     f"| {r['ratio']}x {'ok' if float(r['ratio']) <= BAR else 'MISSED'} "  # type: ignore[arg-type]
                     f"| {r['cpu_ratio']}x | {load} |")
    if len(results) > 1:
        peaks = [r["baseline"]["peak_mb"] for r in results]  # type: ignore[index]
        lines.append("")
        lines.append(f"peak memory of the baseline from {results[0]['rows']:,} to {results[-1]['rows']:,} rows: "
                     f"{peaks[0]} MB -> {peaks[-1]} MB")
    return "\n".join(lines)


def main() -> None:
    compiled()  # start-up as installed: bytecode compiled (see warm.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+", help="Parquet logs from benchmarks/generate.py or tile.py")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = [measure(log, args.repeat) for log in args.logs]
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
