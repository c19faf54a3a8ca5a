#!/usr/bin/env python3
"""Does any step grow faster than the rows? The same log with 10 names, then with very many.

    python benchmarks/bench_cardinality.py --rows 1000000

Builds (with benchmarks/generate.py) a log of ROWS requests, then two pairs of variants that differ only in how
many distinct names they hold: half the rows' models renamed to one of 10 or of 100,000 custom names; every
row's task and user set to one of 10 or of 1,000,000 (every name used when the rows allow: a million rows get a
million distinct tasks). It times, side by side in one run:

- `llmcost estimate LOG` (the default scenario set, table output) on the model pair;
- `llmcost check` with a total rule and a `per: task` rule on the task pair;
- `llmcost logs inspect LOG` on the model pair,

and prints each pair's time ratio (issue 18's bar: within 2x) and the size of what each printed. Each command runs
``--repeat`` times (default 3), the two sides alternating, in fresh processes; it prints the best wall time and
the best CPU time (user + sys of the process and its children: steadier than wall time on a shared machine) of
each side, and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402
from warm import compiled  # noqa: E402

LLMCOST = [sys.executable, "-c", "import sys; from llmcost.cli.main import main; sys.argv[0] = 'llmcost'; main()"]


def variant(base: pa.Table, kind: str, names: int, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    rows = base.num_rows
    if kind == "models":
        custom = np.array([f"custom-model-{i}" for i in range(names)])
        keep = rng.random(rows) < 0.5
        renamed = np.empty(rows, dtype=custom.dtype)
        renamed[~keep] = custom[_draw(rng, names, int((~keep).sum()))]  # every custom name used
        column = np.where(keep, base.column("model").to_numpy(zero_copy_only=False), renamed)
        return base.set_column(base.schema.get_field_index("model"), "model", pa.array(column))
    tasks = np.array([f"task-{i}" for i in range(names)])
    users = np.array([f"user-{i}" for i in range(names)])
    table = base.set_column(base.schema.get_field_index("task"), "task", pa.array(tasks[_draw(rng, names, rows)]))
    return table.append_column("user", pa.array(users[_draw(rng, names, rows)]))


def _draw(rng: np.random.Generator, names: int, rows: int) -> np.ndarray:
    """A name per row: every one of ``names`` used when there are rows enough (a million tasks means a million
    distinct tasks, not the 632,000 that a million random draws give), the rest drawn at random."""
    if names > rows:
        return rng.permutation(names)[:rows]
    return np.concatenate([rng.permutation(names), rng.integers(0, names, rows - names)])


def timed(args: list[str], cwd: Path) -> tuple[float, float, int, int]:
    """Wall and CPU seconds (user + sys, children included) of one fresh ``llmcost ARGS``, and its output sizes."""
    before = os.times()
    start = time.perf_counter()
    done = subprocess.run([*LLMCOST, *args], cwd=cwd, capture_output=True, check=False)
    seconds = time.perf_counter() - start
    after = os.times()
    if done.returncode not in (0, 1):
        raise SystemExit(f"llmcost {' '.join(args)} failed: {done.stderr.decode()[-500:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return seconds, cpu, len(done.stdout), len(done.stderr)


def policy(directory: Path, log: Path) -> Path:
    path = directory / f"policy-{log.stem}.yaml"
    path.write_text(f"version: 1\ninputs:\n  logs: ['{log}']\n  catalog: default\nrules:\n"
                    "  - name: total\n    kind: monthly_spend\n    max_usd: 100000000\n"
                    "  - name: per-task\n    kind: monthly_spend\n    per: task\n    max_usd: 100\n")
    return path


def main() -> None:
    compiled()  # start-up as installed: bytecode compiled (see warm.py)
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--many-models", type=int, default=100_000)
    parser.add_argument("--many-tasks", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side, alternating (best is shown)")
    args = parser.parse_args()
    base = generate(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        logs = {}
        for kind, few, many in (("models", 10, args.many_models), ("tasks", 10, args.many_tasks)):
            for n in (few, many):
                logs[(kind, n)] = out / f"{kind}-{n}.parquet"
                pq.write_table(variant(base, kind, n), logs[(kind, n)])
        cases = [
            ("estimate (default set)", "models", lambda log: ["estimate", str(log)]),
            ("logs inspect", "models", lambda log: ["logs", "inspect", str(log)]),
            ("check (total + per task)", "tasks", lambda log: ["check", "--policy", str(policy(out, log))]),
        ]
        print(f"{args.rows:,} rows; {args.many_models:,} models vs 10; {args.many_tasks:,} tasks and users vs 10; "
              f"best of {args.repeat}, alternating; load average {os.getloadavg()[0]:.2f}")
        print(f"{'command':<28} {'10 names':>16} {'many':>16} {'ratio':>13} {'stdout (many)':>14} "
              f"{'stderr (many)':>14}")
        print(f"{'':<28} {'wall / CPU':>16} {'wall / CPU':>16} {'wall / CPU':>13}")
        for label, kind, command in cases:
            many_log = logs[(kind, args.many_models if kind == "models" else args.many_tasks)]
            few: list[tuple[float, float]] = []
            many: list[tuple[float, float]] = []
            for _ in range(args.repeat):
                wall, cpu, _, _ = timed(command(logs[(kind, 10)]), out)
                few.append((wall, cpu))
                wall, cpu, stdout, stderr = timed(command(many_log), out)
                many.append((wall, cpu))
            fw, fc = min(w for w, _ in few), min(c for _, c in few)
            mw, mc = min(w for w, _ in many), min(c for _, c in many)
            print(f"{label:<28} {fw:>7.2f}s/{fc:>6.2f}s {mw:>7.2f}s/{mc:>6.2f}s {mw / fw:>5.2f}x/{mc / fc:>5.2f}x "
                  f"{stdout:>13,}B {stderr:>13,}B")
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
