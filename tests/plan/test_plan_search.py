"""The plan's search is exact: equal to brute force on seeded random instances (≤ 6 segments × 4 candidates,
0–3 bars), and it finishes on 20 segments × 8 candidates (benchmarks/bench_plan.py times it)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from llmcost.plan.measures import Latency, mixture_percentiles
from llmcost.plan.search import NODE_LIMIT, Option, Problem, brute_force, closest, solve


def instance(rng: random.Random, segments: int, candidates: int, bars: int, tightness: float) -> Problem:
    """Integer costs and gains (sums exact in floats); bars at a share of the best each can reach, so
    some instances are infeasible and some sit exactly on a bar."""
    options = []
    for _ in range(segments):
        w = rng.randint(1, 50)
        options.append(tuple(Option(float(w * rng.randint(1, 200)), tuple(float(w * rng.randint(0, 20))
                                                                          for _ in range(bars)))
                             for _ in range(candidates)))
    best = [sum(max(o.gains[i] for o in row) for row in options) for i in range(bars)]
    return Problem(tuple(options), tuple(float(round(tightness * b)) for b in best))


@pytest.mark.parametrize("node_limit", [NODE_LIMIT, 0], ids=["branch-and-bound", "solver"])
def test_equal_to_brute_force_on_random_instances(node_limit: int) -> None:
    """Both exact paths: the branch and bound (which settles these small instances) and the 0/1 solver."""
    rng = random.Random(20261130)
    infeasible = 0
    for _ in range(400):
        problem = instance(rng, rng.randint(1, 6), rng.randint(1, 4), rng.randint(0, 3), rng.uniform(0.4, 1.05))
        found, truth = solve(problem, node_limit), brute_force(problem)
        assert (found.choice is None) == (truth.choice is None), problem
        if truth.choice is None:
            infeasible += 1
            continue
        assert found.choice is not None and problem.feasible(found.choice)
        assert found.cost == truth.cost, problem
    assert 20 < infeasible < 300  # both kinds were tried


def test_closest_is_the_largest_common_fraction_then_the_cheapest() -> None:
    rng = random.Random(7)
    for _ in range(60):
        problem = instance(rng, rng.randint(1, 5), rng.randint(2, 4), rng.randint(1, 3), 1.0)
        if solve(problem).choice is not None:
            continue
        found, t = closest(problem)
        assert found.choice is not None
        fractions = []
        for choice in itertools.product(*(range(len(o)) for o in problem.options)):
            got = problem.gains(choice)
            fractions.append((min(g / n for g, n in zip(got, problem.need, strict=True) if n > 0),
                              problem.cost(choice)))
        best_t = max(f for f, _ in fractions)
        assert t == pytest.approx(best_t, abs=1e-9)
        cheapest = min(c for f, c in fractions if f >= best_t - 1e-9)
        assert found.cost == cheapest


def test_twenty_segments_eight_candidates_finishes() -> None:
    rng = random.Random(3)
    options = []
    prices = sorted(rng.uniform(0.1, 20) for _ in range(8))
    for _ in range(20):
        w = rng.randint(10, 5000)
        size = rng.uniform(0.5, 20)
        options.append(tuple(Option(w * size * p * rng.uniform(0.9, 1.1), (w * min(0.99, 0.4 + 0.07 * j),
                                                                           w * rng.uniform(0.85, 1.0)))
                             for j, p in enumerate(prices)))
    total = sum(o[0].gains[0] / min(0.99, 0.4) for o in options)
    found = solve(Problem(tuple(options), (0.75 * total, 0.95 * total)))
    assert found.choice is None or len(found.choice) == 20


def test_latency_bar_agrees_with_the_mixture_percentile() -> None:
    """p95 ≤ L exactly when at least 95% of the traffic mixture is within L (what the bars encode)."""
    rng = np.random.default_rng(1)
    a = Latency("a", np.sort(rng.gamma(2, 300, 40)), "bench")
    b = Latency("b", np.sort(rng.gamma(2, 900, 25)), "bench")
    for wa, wb in ((1.0, 0.0), (0.7, 0.3), (0.2, 0.8), (3.0, 1.0)):
        p95 = mixture_percentiles([(a, wa), (b, wb)])[1]
        assert p95 is not None
        for limit in np.concatenate([a.samples, b.samples, [p95 - 1e-6, p95, p95 + 1e-6]]):
            within = (wa * a.share_within(limit) + wb * b.share_within(limit)) / (wa + wb)
            assert (within >= 0.95 * (1 - 1e-9)) == (p95 <= limit), (wa, wb, limit)


def test_node_limit_hands_over_to_the_solver() -> None:
    """A branch and bound cut short gives the same optimum through the solver."""
    rng = random.Random(11)
    for _ in range(30):
        problem = instance(rng, 6, 4, 2, rng.uniform(0.6, 0.95))
        assert solve(problem, node_limit=3).cost == brute_force(problem).cost
