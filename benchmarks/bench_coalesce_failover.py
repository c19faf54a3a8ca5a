"""Issue 17's two strategies at scale: what each adds to the built-in default scenario set on 10M rows.

    .venv/bin/python benchmarks/bench_coalesce_failover.py [--rows 10000000] [--case failover|coalesce|both]

The frame is ``bench_scenarios.generate`` (a week, Zipf-repeated prompts, 3 models) plus a ``region``
(2 regions) and a ``latency_ms`` column: log-normal around 1.1 s, four times slower during random slow
hours of each model/region, so failover sheds and comes back. Measured (wall clock, time.perf_counter):
the default set alone, then the default set plus one scenario with the strategy; the difference is what
the strategy adds (bar: at most 3 s each). The same against the baseline-only estimate, and the
strategy's own step alone. Rounds are interleaved and the best of each is kept (``--repeat``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scenarios import generate

from llmcost.catalog import Catalog, load_catalog
from llmcost.estimate import run_estimate
from llmcost.scenarios import default_scenarios_path, load_scenarios
from llmcost.scenarios.common import Context, with_model_ids
from llmcost.scenarios.engine import ComposedScenario
from llmcost.scenarios.schema import ScenarioSpec

CASES: dict[str, dict[str, Any]] = {
    "failover": {"failover": {"target": "gpt-4o-mini", "threshold_ms": 4000, "window": "5m", "cooldown": "1m"}},
    "coalesce": {"coalesce": {"window_ms": 1000, "max_batch": 10}},
}


def with_latency(frame: pd.DataFrame, seed: int = 11) -> pd.DataFrame:
    """Add ``region`` and ``latency_ms`` (slow hours per model/region: 4x)."""
    rng = np.random.default_rng(seed)
    n = len(frame)
    region = rng.integers(0, 2, n)
    hours = (frame["timestamp"].dt.as_unit("ns").array.asi8 // (3600 * 10**9)).astype(np.int64)
    source = frame["model"].cat.codes.to_numpy().astype(np.int64) * 2 + region
    slow = (pd.util.hash_array(hours * 16 + source) % np.uint64(10)) == 0  # 10% of source-hours
    latency = np.rint(rng.lognormal(7.0, 0.5, n) * np.where(slow, 4.0, 1.0))
    out = frame.copy(deep=False)
    out["region"] = pd.Categorical.from_codes(region, categories=["eu", "us"])
    out["latency_ms"] = latency
    return out


def timed(label: str, fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    dt = time.perf_counter() - t0
    print(f"{label:<64} {dt:8.2f} s", flush=True)
    return dt, result


def step_alone(case: str, frame: pd.DataFrame, catalog: Catalog) -> None:
    """The strategy's own step on frames with model ids (no pricing of the scenario)."""
    spec = ScenarioSpec.model_validate({"name": case, **CASES[case]})
    ids = with_model_ids(frame, catalog)
    if case == "failover":
        from llmcost.scenarios.failover import apply_failover

        assert spec.failover is not None
        cfg = spec.failover
        timed(f"  {case}: the strategy's step alone", lambda: apply_failover(ids, cfg, Context(catalog, "s")))
    else:
        from llmcost.scenarios.coalesce import apply_coalesce

        assert spec.coalesce is not None
        ccfg = spec.coalesce
        timed(f"  {case}: the strategy's step alone", lambda: apply_coalesce(ids, ccfg, Context(catalog, "s")))


def own_times(path: str, cases: list[str]) -> None:
    """``--log``: the default set plus each case on a log file (for example ``benchmarks/generate.py``'s,
    whose prefix blocks coalescing compares), read in chunks as ``llmcost estimate`` reads it. Each
    scenario's own time runs from its start to the next scenario's start (``on_scenario``), so it holds its
    strategies and the pricing of its traffic; the case runs right after the baseline, where the next
    start is another scenario's, not the next chunk's read. On a shared machine this is steadier than the
    difference of two whole runs."""
    from collections import defaultdict

    from llmcost.pipeline import estimate_logs

    catalog = load_catalog(None)
    default = load_scenarios(default_scenarios_path(), catalog, builtin=True)
    chosen = [default[0], *(ComposedScenario(ScenarioSpec.model_validate({"name": c, **CASES[c]}), "<bench>", None,
                                             len(default) + i) for i, c in enumerate(cases)), *default[1:]]
    spent: dict[str, float] = defaultdict(float)
    last: list[Any] = [None, 0.0]

    def tick(name: str | None) -> None:
        now = time.perf_counter()
        if last[0] is not None:
            spent[last[0]] += now - last[1]
        last[0], last[1] = name, now

    _, (estimate, _) = timed(f"default set + {', '.join(cases)} on {path}",
                                 lambda: estimate_logs([path], catalog, chosen, on_scenario=tick))
    tick(None)
    for scenario in chosen:
        mark = "  <- bar: 3 s" if scenario.name in cases else ""
        print(f"  {scenario.name:<20} {spent[scenario.name]:6.2f} s{mark}")
    for outcome in estimate.scenarios:
        if outcome.name in cases:
            details = outcome.details.get(outcome.name, {})
            print(f"  {outcome.name} details: {details}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--case", choices=["failover", "coalesce", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--log", help="a log file (e.g. benchmarks/generate.py's Parquet): each scenario's own time")
    args = parser.parse_args()
    cases = list(CASES) if args.case == "both" else [args.case]
    if args.log:
        own_times(args.log, cases)
        return
    _, frame = timed(f"generate {args.rows:,} rows (not measured)", lambda: with_latency(generate(args.rows)))
    catalog = load_catalog(None)
    default = load_scenarios(default_scenarios_path(), catalog, builtin=True)
    scenarios = {case: ComposedScenario(ScenarioSpec.model_validate({"name": case, **CASES[case]}), "<bench>", None,
                                        len(default) + i) for i, case in enumerate(cases)}
    warm = frame.iloc[: max(len(frame) // 100, 1000)].reset_index(drop=True)
    timed("warm-up on 1% of the rows (imports, catalog; not measured)",
          lambda: run_estimate(warm, catalog, [*default, *scenarios.values()]))
    runs = {"baseline only": default[:1], "default set": default}
    for case, scenario in scenarios.items():
        runs[f"baseline + {case}"] = [default[0], scenario]
        runs[f"default set + {case}"] = [*default, scenario]
    best: dict[str, float] = {}
    results: dict[str, Any] = {}
    for round_ in range(args.repeat):  # interleaved rounds, best of each: a shared machine's noise
        for label, chosen in runs.items():
            dt, results[label] = timed(f"round {round_ + 1}: {label}", lambda c=chosen: run_estimate(frame, catalog, c))
            best[label] = min(best.get(label, dt), dt)
    print(f"best of {args.repeat}: baseline only {best['baseline only']:.2f} s, default set "
          f"({len(default)} scenarios incl. baseline) {best['default set']:.2f} s")
    for case in scenarios:
        print(f"  {case}: adds {best[f'baseline + {case}'] - best['baseline only']:.2f} s to the baseline-only "
              f"estimate, {best[f'default set + {case}'] - best['default set']:.2f} s to the default set (bar: 3 s)")
        details = results[f"default set + {case}"].scenarios[-1].details.get(case, {})
        print(f"  {case} details: {({k: v for k, v in details.items() if not isinstance(v, dict)})}")
        step_alone(case, frame, catalog)

if __name__ == "__main__":
    main()
