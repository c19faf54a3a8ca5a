#!/usr/bin/env python3
"""The default scenario set on a big Parquet log: whole commands on 1 and on all cores, and the replays alone.

    .venv/bin/python benchmarks/bench_default_set.py benchmarks/out/logs-10000000/logs.parquet [--repeat 3]

Issue 16's bars: the default scenario set on 10M rows in at most 8 s on a 2-core machine, and the replays
on 2 cores at least 1.7x faster than on 1. Printed side by side, alternating so a busy machine hurts both:

1. ``llmcost estimate LOG`` (the default set, JSON to /dev/null) with ``--jobs 1`` and with all cores, each a
   fresh process under ``/usr/bin/time``: best wall time, its CPU seconds (user + system, forked
   children included) and peak memory;
2. the replays alone, in one process with the log already read: ``run_estimate`` with the default set on
   one core and on all cores (scenario groups on forked processes), best wall time of each;
3. ``--baseline-only`` for scale (the Arrow path: no pandas frame, no replays).

The load average is printed with each figure: the machine is shared, and only a quiet one gives wall
times worth comparing with a bar.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from warm import compiled

LLMCOST = [sys.executable, "-c", "from llmcost.cli.main import main; main()"]


def command(log: str, *extra: str) -> list[str]:
    return [*LLMCOST, "estimate", log, "--format", "json", "--output", os.devnull, *extra]


def fresh(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system, children included) and peak MB of one fresh process."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-q", "-f", "%U %S %M", "-o", out.name, *argv],
                              capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if done.returncode not in (0, 1):
            raise SystemExit(f"failed: {' '.join(argv)}\n{done.stderr[-2000:]}")
        user, system, peak_kb = Path(out.name).read_text().split()[-3:]
    return wall, float(user) + float(system), int(peak_kb) / 1024


def replays_in_process(log: str, repeat: int, cores: int) -> dict[str, float]:
    from llmcost.catalog import load_catalog
    from llmcost.engines.threads import workers
    from llmcost.estimate import run_estimate
    from llmcost.logs import read_logs
    from llmcost.scenarios import select_scenarios

    catalog = load_catalog(None)
    frame = read_logs([log]).frame
    scenarios = select_scenarios(None, baseline_only=False, catalog=catalog)
    best = {"1 core": float("inf"), f"{cores} cores": float("inf")}
    for _ in range(repeat):
        for label, jobs in (("1 core", 1), (f"{cores} cores", cores)):
            started = time.perf_counter()
            with workers(jobs):
                run_estimate(frame, catalog, scenarios)
            best[label] = min(best[label], time.perf_counter() - started)
    return best


def main() -> None:
    compiled()  # start-up as installed: bytecode compiled (see warm.py)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    runs = {"default set, --jobs 1": command(args.log, "--jobs", "1"),
            f"default set, {cores} cores": command(args.log),
            "--baseline-only": command(args.log, "--baseline-only")}
    best: dict[str, tuple[float, float, float, float]] = {}
    for _ in range(args.repeat):
        for label, argv in runs.items():
            load = os.getloadavg()[0]
            wall, cpu, peak = fresh(argv)
            if label not in best or wall < best[label][0]:
                best[label] = (wall, cpu, peak, load)
    print(f"{args.log}: {cores} cores, best of {args.repeat} fresh processes\n")
    print("| run | wall | CPU (user+sys) | peak memory | load at start |\n|---|---|---|---|---|")
    for label, (wall, cpu, peak, load) in best.items():
        print(f"| {label} | {wall:.2f} s | {cpu:.2f} s | {peak:,.0f} MB | {load:.1f} |")
    one, many = best["default set, --jobs 1"][0], best[f"default set, {cores} cores"][0]
    print(f"\nwhole command: {cores} cores vs 1: {one / many:.2f}x (bar for the default set: at most 8 s)")
    inner = replays_in_process(args.log, args.repeat, cores)
    print(f"replays alone (log read, in process): 1 core {inner['1 core']:.2f} s, {cores} cores "
          f"{inner[f'{cores} cores']:.2f} s: {inner['1 core'] / inner[f'{cores} cores']:.2f}x (bar: 1.7x); "
          f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
