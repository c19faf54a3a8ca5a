#!/usr/bin/env python3
"""Measure llmcost at scale: wall time and peak RSS of each step, on the same generated files.

    .venv/bin/python benchmarks/run.py --rows 10000000        # generates into benchmarks/out/ first

For each format (Parquet, CSV, flat JSONL) it times, each in a fresh process:
  - the read floor: pyarrow reading the whole file (nothing else);
  - `llmcost estimate --baseline-only`;
  - `llmcost estimate` with the built-in default scenario set (Parquet only: the replays dominate);
  - `llmcost logs inspect`;
  - streaming with `--chunk-rows 1000000`, baseline and default scenarios (Parquet), and with `--tile N`
    the same on the log made N times longer (benchmarks/tile.py), to show peak memory does not grow;
and, once, `llmcost --help`, `llmcost catalog list` and `python -c "import typer"`.
Results are printed and written as a Markdown table to benchmarks/out/results.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
LLMCOST = str(BIN / "llmcost")
FLOOR = {
    "parquet": "import pyarrow.parquet as pq; pq.read_table({path!r})",
    "csv": "import pyarrow.csv as c; c.read_csv({path!r})",
    "jsonl": "import pyarrow.json as j; j.read_json({path!r})",
}


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit code of one command in its own process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        err = proc.stderr.read().decode(errors="replace")[-400:] if proc.stderr else ""
        print(f"  ! exit {proc.returncode}: {' '.join(cmd)}\n{err}", file=sys.stderr)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def best_of(cmd: list[str], repeat: int) -> tuple[float, float, int]:
    runs = [measure(cmd) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs), max(r[2] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=None, help="directory with logs.{parquet,csv,jsonl}")
    parser.add_argument("--formats", default="parquet,csv,jsonl")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--tile", type=int, default=1,
                        help="also stream a Parquet log this many times longer (peak memory must not grow)")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "results.md")
    args = parser.parse_args()
    data = args.data or HERE / "out" / f"logs-{args.rows}"
    if not (data / "logs.parquet").exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--rows", str(args.rows), "--out", str(data),
                        "--formats", args.formats], check=True)
    rows: list[tuple[str, str, float, float, str]] = []

    def record(fmt: str, step: str, cmd: list[str], floor: float | None = None) -> float:
        wall, rss, code = best_of(cmd, args.repeat)
        ratio = f"{wall / floor:.2f}× floor" if floor else ""
        rows.append((fmt, step + ("" if code == 0 else f" (exit {code})"), wall, rss, ratio))
        print(f"{fmt:8} {step:34} {wall:8.2f} s {rss:8.0f} MB {ratio}", flush=True)
        return wall

    for fmt in args.formats.split(","):
        path = str(data / f"logs.{fmt}")
        floor = record(fmt, "read floor (pyarrow)", [sys.executable, "-c", FLOOR[fmt].format(path=path)])
        record(fmt, "estimate --baseline-only", [LLMCOST, "estimate", path, "--baseline-only", "-f", "json"], floor)
        if fmt == "parquet":
            record(fmt, "estimate (default scenarios)", [LLMCOST, "estimate", path, "-f", "json"], floor)
            record(fmt, "estimate --chunk-rows 1000000", [LLMCOST, "estimate", path, "--baseline-only", "-f",
                                                          "json", "--chunk-rows", "1000000"], floor)
            record(fmt, "default scenarios --chunk-rows 1000000", [LLMCOST, "estimate", path, "-f", "json",
                                                                   "--chunk-rows", "1000000"], floor)
            if args.tile > 1:  # the same log N times longer: streaming memory must not grow with it
                longer = data / f"logs-x{args.tile}.parquet"
                if not longer.exists():
                    subprocess.run([sys.executable, str(HERE / "tile.py"), path, "--copies", str(args.tile),
                                    "--out", str(longer)], check=True)
                label = f"{args.tile}× rows"
                record(label, "estimate --chunk-rows 1000000", [LLMCOST, "estimate", str(longer), "--baseline-only",
                                                                "-f", "json", "--chunk-rows", "1000000"])
                record(label, "default scenarios --chunk-rows 1000000", [LLMCOST, "estimate", str(longer), "-f",
                                                                         "json", "--chunk-rows", "1000000"])
        record(fmt, "logs inspect", [LLMCOST, "logs", "inspect", path, "--json"], floor)
    typer = record("-", "python -c 'import typer'", [sys.executable, "-c", "import typer"])
    record("-", "llmcost --help", [LLMCOST, "--help"], typer)
    record("-", "llmcost catalog list", [LLMCOST, "catalog", "list"], typer)

    table = ["| file | step | wall s | peak RSS MB | ratio |", "|---|---|---:|---:|---|"]
    table += [f"| {f} | {s} | {w:.2f} | {r:,.0f} | {x} |" for f, s, w, r, x in rows]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"{args.rows:,} rows, {os.cpu_count()} cores\n\n" + "\n".join(table) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
