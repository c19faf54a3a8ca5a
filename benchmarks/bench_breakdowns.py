"""Breakdowns at scale: ``estimate --baseline-only`` with and without ``--by day --by model --by task``.

    .venv/bin/python benchmarks/bench_breakdowns.py [--log benchmarks/out/logs-10000000/logs.parquet]
        [--repeat 2] [--chunk-rows N] [--only cli|in-process]

Two measurements, each variant run ``--repeat`` times alternating, the best run counting, timed with
``time.perf_counter``; the log is made by benchmarks/generate.py when missing (10M rows, 30 days, four
tasks, eight model names). Target (issue 13): the breakdowns cost at most 10% over the baseline's time.

1. in process, same reader: ``pipeline.estimate_logs`` on the full reader, the baseline with a no-op frame
   tap against the baseline with ``--by day --by model --by task``; it also reports the time spent inside
   the breakdowns themselves. This is the 10% comparison.
2. the real CLI in a subprocess (JSON to /dev/null). On Parquet both runs are summed by the Arrow engine
   (llmcost.engines; ``--by`` through llmcost.engines.arrow_breakdowns, its keys in the same group-by), so
   this is the 10% comparison for Parquet; on CSV both use the full reader. The two variants
   alternate, the best counting; the load average at the end is printed (other jobs inflate times).
"""

from __future__ import annotations

import argparse
import os
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


CPU: dict[str, list[float]] = {}  # CPU seconds (user + system) of each CLI run: less swayed by other jobs


def _time(args: list[str], name: str = "") -> float:
    import resource

    command = [str(Path(sys.executable).parent / "llmcost"), "estimate", *args, "--format", "json", "-o", "/dev/null"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.setdefault(name, []).append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, default=DEFAULT_LOG)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--chunk-rows", type=int, default=None)
    parser.add_argument("--only", choices=("cli", "in-process"), default=None)
    opts = parser.parse_args()
    _ensure(opts.log)
    if opts.only != "cli":
        _in_process(opts.log, opts.repeat, opts.chunk_rows)
    if opts.only != "in-process":
        _cli(opts.log, opts.repeat, opts.chunk_rows)


def _cli(log: Path, repeat: int, chunk_rows: int | None) -> None:
    base = [str(log), "--baseline-only"] + (["--chunk-rows", str(chunk_rows)] if chunk_rows else [])
    runs: dict[str, list[float]] = {"CLI baseline": [], "CLI with --by day,model,task": []}
    for _ in range(repeat):
        runs["CLI baseline"].append(_time(base, "CLI baseline"))
        runs["CLI with --by day,model,task"].append(_time(base + BY, "CLI with --by day,model,task"))
    for name, seconds in runs.items():
        print(f"{name:28s} best {min(seconds):7.2f} s  runs: {', '.join(f'{s:.2f}' for s in seconds)}  "
              f"CPU best {min(CPU[name]):.2f} s")
    cpu = [min(CPU[name]) for name in runs]
    print(f"CPU seconds: with --by vs baseline {cpu[1] / cpu[0] - 1:+.1%}")
    best = [min(v) for v in runs.values()]
    parquet = log.suffix == ".parquet"
    engine = " (Parquet: both on the Arrow engine)" if parquet else " (both on the full reader)"
    print(f"CLI: with --by vs baseline {best[1] / best[0] - 1:+.1%}{engine}  log: {log}  "
          f"load average {os.getloadavg()[0]:.1f}")


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
    print(f"in process, same reader: with --by vs baseline {best[1] / best[0] - 1:+.1%} (target: at most +10%)  "
          f"log: {log}, chunk rows {chunk_rows or 'whole file'}")


if __name__ == "__main__":
    main()
