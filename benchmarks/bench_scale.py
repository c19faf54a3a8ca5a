#!/usr/bin/env python3
"""Every core, then a cluster: llmcost next to a hand-written DuckDB query on the same Parquet log, in one run.

    .venv/bin/python benchmarks/bench_scale.py benchmarks/out/logs-10000000/logs.parquet \
        [--tiled /tmp/logs-20m.parquet] [--repeat 2] [--skip-dask] [--json benchmarks/out/scale.json]

The log comes from ``benchmarks/generate.py`` (``--tiled`` from ``benchmarks/tile.py``). Every measurement
is a fresh process (wall clock, and peak resident memory from ``/usr/bin/time -f %M`` or getrusage), run
``--repeat`` times; the best run is reported, because a shared machine only ever adds time:

1. pyarrow reads the whole file (every column);
2. DuckDB hand query: read + group by model with token sums, first/last timestamp;
3. ``llmcost estimate --baseline-only`` (all cores), and its ratio to DuckDB (bar: at most 1.5x);
4. ``llmcost estimate`` with the default scenario set (bar: at most 8 s on 2 cores), on 1 and on 2 cores
   (``--jobs``): the replays' share is the default set less the baseline;
5. the baseline and the default scenario set on a Dask ``LocalCluster`` of 1 and of 2 worker processes over
   TCP on 127.0.0.1 (bar: replays 1.7x faster on 2), and the default set on 2 workers against the local
   run, every scenario to the cent;
6. peak memory of the baseline run on the log and on the tiled (longer) log.
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

from warm import compiled

ROOT = Path(__file__).resolve().parent.parent
LLMCOST = [sys.executable, "-c", "from llmcost.cli.main import main; main()"]
PYARROW_READ = "import sys, pyarrow.parquet as pq; pq.read_table(sys.argv[1])"
DUCKDB_QUERY = (
    "import sys, duckdb; duckdb.execute('SET enable_progress_bar = false'); "
    "duckdb.sql(\"select model, count(*), sum(input_tokens), sum(cache_read_tokens), "
    "sum(output_tokens), sum(reasoning_tokens), min(timestamp), max(timestamp) from read_parquet('\" + "
    "sys.argv[1] + \"') group by model\").fetchall()"
)


def run(argv: list[str], repeat: int) -> dict[str, float]:
    """Best wall time (s) and the peak RSS (MB) of that run, over ``repeat`` fresh processes."""
    best: dict[str, float] | None = None
    timer = Path("/usr/bin/time").exists()
    for _ in range(repeat):
        with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
            cmd = ["/usr/bin/time", "-q", "-f", "%M", "-o", rss.name, *argv] if timer else argv
            started = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            seconds = time.perf_counter() - started
            if done.returncode not in (0, 1):
                raise SystemExit(f"failed: {' '.join(argv)}\n{done.stderr[-2000:]}")
            text = Path(rss.name).read_text().strip().splitlines()
            peak = int(text[-1]) / 1024 if timer and text else \
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if best is None or seconds < best["s"]:
            best = {"s": round(seconds, 3), "peak_mb": round(peak, 1)}
    assert best is not None
    return best


def estimate(log: str, *extra: str) -> list[str]:
    return [*LLMCOST, "estimate", log, "--format", "json", "--output", os.devnull, *extra]


def dask_runs(log: str, repeat: int) -> dict[str, dict[str, float]]:
    """The baseline and the default scenario set (replayed on the workers' time partitions) on LocalClusters
    of 1 and 2 worker processes (one thread each: a task sizes Arrow's pool to it), TCP on 127.0.0.1.
    The two cluster sizes alternate run by run, so a load change on a shared machine hits both."""
    from distributed import Client, LocalCluster

    out: dict[str, dict[str, float]] = {}
    clusters = [LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                             dashboard_address="127.0.0.1:0") for n in (1, 2)]
    try:
        for _ in range(repeat):
            for workers, cluster in zip((1, 2), clusters, strict=True):
                at = ("--engine", "dask", "--scheduler", cluster.scheduler_address)
                for name, argv in ((f"dask_{workers}_workers", estimate(log, "--baseline-only", *at)),
                                   (f"dask_{workers}_workers_default_set", estimate(log, *at))):
                    timing = run(argv, 1)
                    if name not in out or timing["s"] < out[name]["s"]:
                        out[name] = timing
        for workers, cluster in zip((1, 2), clusters, strict=True):
            with Client(cluster) as client:  # the workers' own peak memory, not the client's
                peak = max(client.run(_peak_rss_mb).values())
            out[f"dask_{workers}_workers"]["worker_peak_mb"] = peak
            out[f"dask_{workers}_workers_default_set"]["worker_peak_mb"] = peak
    finally:
        for cluster in clusters:
            cluster.close()
    return out


def dask_equals_local(log: str) -> dict[str, object]:
    """The default set on a LocalCluster of 2 worker processes and on this machine: every scenario's
    observed and monthly cost to the cent (the bar), and the largest difference in dollars."""
    from decimal import Decimal

    from distributed import LocalCluster

    with tempfile.TemporaryDirectory() as where:
        local, remote = Path(where) / "local.json", Path(where) / "dask.json"
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address="127.0.0.1:0") as cluster:
            for out, extra in ((remote, ["--engine", "dask", "--scheduler", cluster.scheduler_address]),
                               (local, [])):
                argv = [*LLMCOST, "estimate", log, "--format", "json", "--output", str(out), *extra]
                done = subprocess.run(argv, capture_output=True, text=True, check=False)
                if done.returncode not in (0, 1):
                    raise SystemExit(f"failed: {' '.join(argv)}\n{done.stderr[-2000:]}")
        mine, theirs = (json.loads(p.read_text())["scenarios"] for p in (remote, local))
    cents = Decimal("0.01")
    same = [a["name"] == b["name"] and all(Decimal(str(a[k])).quantize(cents) == Decimal(str(b[k])).quantize(cents)
                                           for k in ("observed_cost_usd", "monthly_cost_usd"))
            for a, b in zip(mine, theirs, strict=True)]
    worst = max(abs(Decimal(str(a[k])) - Decimal(str(b[k]))) for a, b in zip(mine, theirs, strict=True)
                for k in ("observed_cost_usd", "monthly_cost_usd"))
    return {"scenarios": [s["name"] for s in mine], "equal_to_the_cent": all(same),
            "largest_difference_usd": str(worst)}


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def in_process(log: str, repeat: int) -> dict[str, float]:
    """The kernels alone, imports and catalog already loaded: DuckDB's query vs the Arrow baseline (best of)."""
    import duckdb

    from llmcost.catalog import load_catalog
    from llmcost.engines import baseline_estimate
    from llmcost.engines.local import LocalEngine
    from llmcost.scenarios.interface import Baseline

    catalog = load_catalog(None)
    text = ("select model, count(*), sum(input_tokens), sum(cache_read_tokens), sum(output_tokens), "
            f"sum(reasoning_tokens), min(timestamp), max(timestamp) from read_parquet('{log}') group by model")
    duckdb.execute("SET enable_progress_bar = false")
    best = {"duckdb_in_process": float("inf"), "baseline_in_process": float("inf")}
    for _ in range(repeat):
        started = time.perf_counter()
        duckdb.sql(text).fetchall()
        best["duckdb_in_process"] = min(best["duckdb_in_process"], time.perf_counter() - started)
        started = time.perf_counter()
        assert baseline_estimate(LocalEngine(), [log], catalog, [Baseline()]) is not None
        best["baseline_in_process"] = min(best["baseline_in_process"], time.perf_counter() - started)
    return {k: round(v, 3) for k, v in best.items()}


def measure(log: str, tiled: str | None, repeat: int, skip_dask: bool) -> dict[str, object]:
    rows = _rows(log)
    results: dict[str, object] = {"log": log, "rows": rows, "cores": len(os.sched_getaffinity(0)),
                                  "load_average": os.getloadavg()}
    timings: dict[str, dict[str, float]] = {
        "pyarrow_read_all": run([sys.executable, "-c", PYARROW_READ, log], repeat),
        "duckdb_query": run([sys.executable, "-c", DUCKDB_QUERY, log], repeat),
        "baseline": run(estimate(log, "--baseline-only"), repeat),
        "baseline_1_core": run(estimate(log, "--baseline-only", "--jobs", "1"), repeat),
        "default_set": run(estimate(log), repeat),
        "default_set_1_core": run(estimate(log, "--jobs", "1"), repeat),
    }
    if not skip_dask:
        timings.update(dask_runs(log, repeat))
    if tiled:
        results["tiled_rows"] = _rows(tiled)
        timings["baseline_tiled"] = run(estimate(tiled, "--baseline-only"), repeat)
    results["timings"] = timings
    results["kernels_in_process"] = in_process(log, repeat)
    duck = timings["duckdb_query"]["s"]
    replays_1 = timings["default_set_1_core"]["s"] - timings["baseline_1_core"]["s"]
    replays_2 = timings["default_set"]["s"] - timings["baseline"]["s"]
    results["baseline_vs_duckdb"] = round(timings["baseline"]["s"] / duck, 2)
    results["replay_speedup_2_vs_1_core"] = round(replays_1 / replays_2, 2) if replays_2 > 0 else None
    if not skip_dask:
        results["dask_speedup_2_vs_1_worker"] = round(
            timings["dask_1_workers"]["s"] / timings["dask_2_workers"]["s"], 2)
        replays = [timings[f"dask_{n}_workers_default_set"]["s"] - timings[f"dask_{n}_workers"]["s"] for n in (1, 2)]
        results["dask_replay_speedup_2_vs_1_worker"] = round(replays[0] / replays[1], 2) if replays[1] > 0 else None
        results["dask_default_set_speedup_2_vs_1_worker"] = round(
            timings["dask_1_workers_default_set"]["s"] / timings["dask_2_workers_default_set"]["s"], 2)
        results["dask_vs_local"] = dask_equals_local(log)
    return results


def _rows(path: str) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def table(results: dict[str, object]) -> str:
    timings = results["timings"]
    assert isinstance(timings, dict)
    lines = [f"{results['rows']:,} rows, {results['cores']} cores (load average at start "
             f"{', '.join(f'{x:.1f}' for x in results['load_average'])})",  # type: ignore[attr-defined]
             "", "| measurement | best wall time | peak memory |", "|---|---|---|"]
    for name, value in timings.items():
        peak = value.get("worker_peak_mb", value["peak_mb"])
        where = " per worker" if "worker_peak_mb" in value else ""
        lines.append(f"| {name.replace('_', ' ')} | {value['s']:.2f} s | {peak:,.0f} MB{where} |")
    kernels = results["kernels_in_process"]
    assert isinstance(kernels, dict)
    lines.append(f"| DuckDB query in process | {kernels['duckdb_in_process']:.2f} s | |")
    lines.append(f"| baseline in process (catalog loaded) | {kernels['baseline_in_process']:.2f} s | |")
    lines.append("")
    lines.append(f"baseline / DuckDB: {results['baseline_vs_duckdb']}x; replays 2 cores vs 1: "
                 f"{results['replay_speedup_2_vs_1_core']}x"
                 + (f"; Dask 2 workers vs 1: baseline {results['dask_speedup_2_vs_1_worker']}x, replays "
                    f"{results['dask_replay_speedup_2_vs_1_worker']}x, default set "
                    f"{results['dask_default_set_speedup_2_vs_1_worker']}x; Dask default set equal to local to "
                    f"the cent: {results['dask_vs_local']['equal_to_the_cent']}"  # type: ignore[index]
                    if "dask_speedup_2_vs_1_worker" in results else ""))
    return "\n".join(lines)


def main() -> None:
    compiled()  # start-up as installed: bytecode compiled (see warm.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", help="a Parquet log from benchmarks/generate.py")
    parser.add_argument("--tiled", help="a longer log from benchmarks/tile.py (peak memory should stay flat)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = measure(args.log, args.tiled, args.repeat, args.skip_dask)
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
