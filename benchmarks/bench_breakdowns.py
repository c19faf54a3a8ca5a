"""Breakdowns at scale: ``estimate --baseline-only`` with and without ``--by``, Parquet and CSV side by side.

    .venv/bin/python benchmarks/bench_breakdowns.py [--logs benchmarks/out/logs-10000000] [--formats parquet,csv]
        [--repeat 5] [--csv-repeat 2] [--chunk-rows 1000000] [--only cli|in-process] [--single week,hour,task]

Target (issue 13): a breakdown costs at most 10% over the baseline's time on 10M rows, streaming too.

1. ``cli`` (the default): the real CLI in fresh processes (JSON to /dev/null), every variant of a log run in
   turn, ``--repeat`` rounds (``--csv-repeat`` for CSV), the best run counting. Variants: the baseline,
   ``--by day``, ``--by day --by model --by task``, ``--by task --by model``, and the baseline and ``--by
   day`` with ``--chunk-rows`` (streams; compared with each other); ``--single`` adds ``--by`` each dimension
   it lists. On Parquet all run on the Arrow engine
   (``--by``: llmcost.engines.arrow_breakdowns, time buckets from the timestamp pages' statistics); on CSV
   all on the full reader. Printed: best wall time, best CPU seconds (user + system, steadier on a shared
   machine), each against its baseline, and the load average (other jobs inflate wall times: compare on a
   quiet machine).
2. ``in-process``: ``pipeline.estimate_logs`` on the full reader with a no-op frame tap against ``--by day
   --by model --by task``, and the time spent inside the breakdowns themselves.

The logs are made by benchmarks/generate.py when missing (10M rows, 30 days, four tasks, eight models).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from warm import compiled

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOGS = ROOT / "benchmarks" / "out" / "logs-10000000"
VARIANTS = {"baseline": [], "--by day": ["--by", "day"],
            "--by day,model,task": ["--by", "day", "--by", "model", "--by", "task"],
            "--by task,model": ["--by", "task", "--by", "model"]}


def _ensure(log: Path) -> None:
    if log.exists():
        return
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--rows", "10000000", "--out",
                    str(log.parent), "--formats", log.suffix.lstrip(".")], check=True)


def _run(log: Path, args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one fresh ``llmcost estimate`` process."""
    command = [str(Path(sys.executable).parent / "llmcost"), "estimate", str(log), "--baseline-only", *args,
               "--format", "json", "-o", "/dev/null"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def _cli(log: Path, repeat: int, chunk_rows: int, single: list[str]) -> None:
    variants = dict(VARIANTS)
    variants.update({f"--by {dim}": ["--by", dim] for dim in single})
    chunked = ["--chunk-rows", str(chunk_rows)]
    variants[f"baseline --chunk-rows {chunk_rows:,}"] = chunked
    variants[f"--by day --chunk-rows {chunk_rows:,}"] = ["--by", "day", *chunked]
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    loads = [os.getloadavg()[0]]
    for _ in range(repeat):
        for name, args in variants.items():
            runs[name].append(_run(log, args))
        loads.append(os.getloadavg()[0])
    kind = "Parquet, Arrow engine" if log.suffix == ".parquet" else "CSV, full reader"
    print(f"\n{log.name} ({kind}), best of {repeat} fresh processes, load average {min(loads):.1f}-{max(loads):.1f}")
    print(f"  {'variant':32s} {'wall':>8s} {'vs base':>8s} {'CPU':>8s} {'vs base':>8s}   runs (wall)")
    for name, got in runs.items():
        base = runs[f"baseline --chunk-rows {chunk_rows:,}" if "--chunk-rows" in name else "baseline"]
        base_wall, base_cpu = min(w for w, _ in base), min(c for _, c in base)
        wall, cpu = min(w for w, _ in got), min(c for _, c in got)
        versus = ("", "") if name.startswith("baseline") else (f"{wall / base_wall - 1:+.1%}",
                                                               f"{cpu / base_cpu - 1:+.1%}")
        print(f"  {name:32s} {wall:7.2f}s {versus[0]:>8s} {cpu:7.2f}s {versus[1]:>8s}   "
              f"{', '.join(f'{w:.2f}' for w, _ in got)}")


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


def main() -> None:
    compiled()  # start-up as installed: bytecode compiled (see warm.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=Path, default=DEFAULT_LOGS, help="folder with logs.parquet and logs.csv")
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--csv-repeat", type=int, default=2)
    parser.add_argument("--chunk-rows", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("cli", "in-process"), default="cli")
    parser.add_argument("--single", default="", help="more variants: --by each of these (e.g. week,hour,task)")
    opts = parser.parse_args()
    for fmt in opts.formats.split(","):
        log = opts.logs / f"logs.{fmt}"
        _ensure(log)
        if opts.only == "in-process":
            _in_process(log, opts.repeat, None)
        else:
            _cli(log, opts.csv_repeat if fmt == "csv" else opts.repeat, opts.chunk_rows,
                 [d for d in opts.single.split(",") if d])


if __name__ == "__main__":
    main()
