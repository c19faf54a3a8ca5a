"""Breakdowns at scale: ``estimate --baseline-only`` with and without ``--by day --by model --by task``.

    .venv/bin/python benchmarks/bench_breakdowns.py [--log benchmarks/out/logs-10000000/logs.parquet]
        [--repeat 2] [--chunk-rows N]

Runs the real CLI in a subprocess (reading, pricing, JSON written to /dev/null) and times it with
``time.perf_counter``; each variant runs ``--repeat`` times, alternating, and the best run counts. The log is
made by benchmarks/generate.py when missing (10M rows, 30 days, four tasks, eight model names). Target
(issue 13): the breakdowns cost at most 10% over the baseline's time.

Note: a baseline-only run on Parquet is summed by the Arrow engine (llmcost.engines) without a pandas frame,
while with --by the logs go through the full reader: on Parquet the CLI comparison is engine vs full reader.
``--in-process`` also times ``pipeline.estimate_logs`` with both going through the full reader (the
baseline with a no-op frame tap), which is the cost of the breakdowns themselves.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOG = ROOT / "benchmarks" / "out" / "logs-10000000" / "logs.parquet"
BY = ["--by", "day", "--by", "model", "--by", "task"]


def _ensure(log: Path) -> None:
    if log.exists():
        return
    fmt = log.suffix.lstrip(".")
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--rows", "10000000", "--out",
                    str(log.parent), "--formats", fmt], check=True)


def _time(args: list[str]) -> float:
    command = [str(Path(sys.executable).parent / "llmcost"), "estimate", *args, "--format", "json", "-o", "/dev/null"]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=DEFAULT_LOG)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--chunk-rows", type=int, default=None)
    parser.add_argument("--in-process", action="store_true", help="time estimate_logs, both on the full reader")
    opts = parser.parse_args()
    _ensure(opts.log)
    if opts.in_process:
        _in_process(opts.log, opts.repeat, opts.chunk_rows)
        return
    base = [str(opts.log), "--baseline-only"] + (["--chunk-rows", str(opts.chunk_rows)] if opts.chunk_rows else [])
    runs: dict[str, list[float]] = {"baseline": [], "with --by day,model,task": []}
    for _ in range(opts.repeat):
        runs["baseline"].append(_time(base))
        runs["with --by day,model,task"].append(_time(base + BY))
    for name, seconds in runs.items():
        print(f"{name:28s} best {min(seconds):7.2f} s  runs: {', '.join(f'{s:.2f}' for s in seconds)}")
    best = {k: min(v) for k, v in runs.items()}
    over = best["with --by day,model,task"] / best["baseline"] - 1
    print(f"overhead of the breakdowns: {over:+.1%} (target: at most +10%)  log: {opts.log}")


def _in_process(log: Path, repeat: int, chunk_rows: int | None) -> None:
    from llmcost.breakdowns import Breakdowns, parse_by
    from llmcost.catalog import load_catalog
    from llmcost.pipeline import estimate_logs
    from llmcost.scenarios.interface import Baseline

    spent = [0.0]
    add, finish = Breakdowns.add, Breakdowns.finish

    def timed(fn: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start
        return run

    Breakdowns.add, Breakdowns.finish = timed(add), timed(finish)  # type: ignore[method-assign]
    catalog = load_catalog(None)
    variants = {"baseline (full reader)": {"on_frame": lambda _frame: None},
                "with --by day,model,task": {"breakdowns": parse_by(["day", "model", "task"])}}
    runs: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeat):
        for name, extra in variants.items():
            start = time.perf_counter()
            estimate_logs([str(log)], catalog, [Baseline()], chunk_rows=chunk_rows, **extra)  # type: ignore[arg-type]
            runs[name].append(time.perf_counter() - start)
    for name, seconds in runs.items():
        print(f"{name:28s} best {min(seconds):7.2f} s  runs: {', '.join(f'{s:.2f}' for s in seconds)}")
    best = [min(v) for v in runs.values()]
    inside = spent[0] / repeat
    print(f"time inside the breakdowns (sum per chunk + pricing), per run: {inside:.2f} s = "
          f"{inside / best[0]:.1%} of the best baseline run")
    print(f"overhead of the breakdowns: {best[1] / best[0] - 1:+.1%} (target: at most +10%)  log: {log} "
          f"(in process, chunk rows {chunk_rows or 'whole file'})")


if __name__ == "__main__":
    main()
