"""Planner speed: the exact search on 20 segments × 8 candidates (target < 2 s), and ``llmcost plan`` end to
end on a log.

    .venv/bin/python benchmarks/bench_plan.py [--instances 30] [--cascades] [--log FILE --bench FILE]

1. The search (one bar, then three): seeded instances shaped like real plans — dearer models pass more (per task, with
   noise), latency worsens with price — with a quality bar, a p95 and a p99 latency bar at several
   tightnesses (feasible and infeasible). Prints the median and the worst time per instance, and the
   time of the closest-policy search on the infeasible ones. Wall clock, time.perf_counter. With
   ``--cascades`` each segment also gets the 28 two-model cascades of its 8 candidates (36 options): the
   first model's pass rate is accepted, the rest pays both (latency: both calls within the limit).
2. With ``--log`` and ``--bench``: ``llmcost plan LOG --bench FILE --min-quality 0.7 --optimistic``
   through the core API, each phase timed (read, the engine's costs per candidate, search + frontier).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from llmcost.plan.search import Option, Problem, closest, solve


def instance(seed: int, segments: int = 20, candidates: int = 8, quality: float = 0.75,
             cascades: bool = False) -> Problem:
    rng = random.Random(seed)
    prices = sorted(rng.uniform(0.1, 20) for _ in range(candidates))
    tasks = 5
    skill = {(t, j): min(0.99, 0.45 + 0.5 * j / candidates + rng.uniform(-0.12, 0.12))
             for t in range(tasks) for j in range(candidates)}
    within95 = [max(0.5, 1.0 - 0.012 * j - rng.uniform(0, 0.02)) for j in range(candidates)]
    within99 = [max(0.5, 1.0 - 0.003 * j - rng.uniform(0, 0.005)) for j in range(candidates)]
    options = []
    weights = []
    total = 0.0
    for s in range(segments):
        w = float(rng.randint(10, 50_000))
        weights.append(w)
        total += w
        size = rng.uniform(0.2, 30)
        options.append(tuple(Option(w * size * p * rng.uniform(0.9, 1.1),
                                    (w * skill[s % tasks, j], w * within95[j], w * within99[j]))
                             for j, p in enumerate(prices)))
    problem = Problem(tuple(options), (quality * total, 0.95 * total, 0.99 * total))
    return with_cascades(problem, weights) if cascades else problem


def with_cascades(problem: Problem, weights: list[float]) -> Problem:
    """Each segment's options plus every (cheaper, dearer) cascade of them, as ``plan --cascades`` adds:
    the first model's pass rate is accepted; escalated requests are within a latency limit when both are."""
    rows = []
    for row, w in zip(problem.options, weights, strict=True):
        extra = []
        for i, first in enumerate(row):
            for then in row[i + 1:]:
                a = first.gains[0] / w
                gains = (a * first.gains[0] + (1 - a) * then.gains[0],
                         *(a * f + (1 - a) * f * t / w for f, t in zip(first.gains[1:], then.gains[1:], strict=True)))
                extra.append(Option(first.cost + (1 - a) * then.cost, gains))
        rows.append((*row, *extra))
    return Problem(tuple(rows), problem.need)


def bench_search(instances: int, bars: int = 3, cascades: bool = False) -> None:
    times: list[float] = []
    infeasible: list[float] = []
    for seed in range(instances):
        for quality in (0.6, 0.7, 0.75, 0.8, 0.85):
            full = instance(seed, quality=quality, cascades=cascades)
            problem = Problem(tuple(tuple(Option(o.cost, o.gains[:bars]) for o in row) for row in full.options),
                              full.need[:bars])
            start = time.perf_counter()
            found = solve(problem)
            times.append(time.perf_counter() - start)
            if found.choice is None:
                start = time.perf_counter()
                closest(problem)
                infeasible.append(time.perf_counter() - start)
    what = "8 candidates + 28 cascades" if cascades else "8 candidates"
    print(f"search, 20 segments x {what}, {bars} bar(s): {len(times)} instances, "
          f"median {statistics.median(times):.3f} s, worst {max(times):.3f} s ({sum(t > 2 for t in times)} over 2 s)")
    if infeasible:
        print(f"  closest policy on the {len(infeasible)} infeasible ones: "
              f"median {statistics.median(infeasible):.3f} s, worst {max(infeasible):.3f} s")


def bench_log(log: str, bench: str, catalog: str | None) -> None:
    from llmcost.catalog import load_catalog
    from llmcost.evidence import load_bench_evidence
    from llmcost.logs import read_logs
    from llmcost.logs.source import expand
    from llmcost.plan.problem import Bars
    from llmcost.plan.run import PlanOptions, make_plan

    start = time.perf_counter()
    frame = read_logs(expand([log])).frame
    read = time.perf_counter() - start
    cat = load_catalog(catalog)
    evidence = load_bench_evidence(bench)
    start = time.perf_counter()
    plan = make_plan(frame, cat, evidence, PlanOptions(Bars(min_quality=0.7, optimistic=True)))
    planned = time.perf_counter() - start
    print(f"plan on {log}: {len(frame):,} rows read in {read:.2f} s; planned in {planned:.2f} s "
          f"({len(plan.policy.choices)} segments x {len(plan.candidates)} candidates, {len(plan.frontier)} "
          f"frontier points); policy ${plan.policy.monthly_cost:,.2f} vs ${plan.baseline_monthly_cost:,.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=30)
    parser.add_argument("--log")
    parser.add_argument("--bench")
    parser.add_argument("--catalog")
    parser.add_argument("--cascades", action="store_true", help="add the two-model cascades as options")
    args = parser.parse_args()
    bench_search(args.instances, bars=1, cascades=args.cascades)  # a quality bar only
    bench_search(args.instances, bars=3, cascades=args.cascades)  # quality, p95 and p99
    if args.log and args.bench:
        bench_log(args.log, args.bench, args.catalog)


if __name__ == "__main__":
    main()
