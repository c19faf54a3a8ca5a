"""The exact search: one option per segment, lowest total cost, every linear bar met.

A policy picks one option (a model) for each segment. Its cost is the sum of the options' costs and
each bar is linear in the choice: traffic-weighted quality ``Σ w_s q_sj ≥ Q W``, per task the same over
the task's segments, and a latency percentile ``p95 ≤ L`` is ``Σ w_s F_j(L) ≥ 0.95 W`` (the share of
requests answered within L — the 95th percentile of the mixture is at most L exactly when at least 95%
of it is). So the problem is a multiple-choice knapsack with a few constraints: a 0/1 program with one
variable per (segment, option). A small branch and bound (``plan.bnb``) tries first and settles most
plans in milliseconds; past a node budget the program goes to HiGHS' branch and cut (``scipy.optimize.milp``, relative
gap 0: proved optimal, not a heuristic), after dropping options a segment never needs (another option
of the segment costs no more and gives at least as much to every bar). The answer is then re-checked
against every bar in plain arithmetic; HiGHS works to a feasibility tolerance of 1e-7 of a bar, so a
choice it accepts that misses a bar by more than ``TOLERANCE`` is refused and the bar tightened.
Tested equal to brute force on random instances.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

TOLERANCE = 1e-9


@dataclass(frozen=True)
class Option:
    """One way to serve a segment: its cost and what it contributes to each bar."""

    cost: float
    gains: tuple[float, ...]


@dataclass(frozen=True)
class Problem:
    """Segments' options and the bars: policy ``Σ gains[i] ≥ need[i]`` for every i."""

    options: tuple[tuple[Option, ...], ...]
    need: tuple[float, ...]

    def feasible(self, choice: Sequence[int]) -> bool:
        got = self.gains(choice)
        return all(g >= n - slack(n) for g, n in zip(got, self.need, strict=True))

    def gains(self, choice: Sequence[int]) -> tuple[float, ...]:
        return tuple(sum(self.options[s][j].gains[i] for s, j in enumerate(choice)) for i in range(len(self.need)))

    def cost(self, choice: Sequence[int]) -> float:
        return sum(self.options[s][j].cost for s, j in enumerate(choice))


def slack(need: float) -> float:
    return TOLERANCE * max(1.0, abs(need))


@dataclass(frozen=True)
class Solution:
    choice: tuple[int, ...] | None  # option index per segment; None = no policy meets every bar
    cost: float


NODE_LIMIT = 5_000


def solve(problem: Problem, node_limit: int | None = None) -> Solution:
    """The cheapest policy meeting every bar: branch and bound first (``plan.bnb``), the 0/1 program
    solver when that would take more than ``node_limit`` nodes (0: the solver only). By default the
    branch and bound tries plans with at most one bar (where its Lagrangian bound is tight: a tenth of a
    second at worst on 20 × 8); with several bars the solver is quicker."""
    from llmcost.plan.bnb import NodeLimit, branch_and_bound

    if node_limit is None:
        node_limit = NODE_LIMIT if len(problem.need) <= 1 else 0
    need = list(problem.need)
    for i, n in enumerate(need):  # a bar out of reach even with every segment's best option for it
        if sum(max(o.gains[i] for o in opts) for opts in problem.options) < n - slack(n):
            return Solution(None, 0.0)
    if node_limit > 0 and problem.options:
        try:
            found = branch_and_bound(problem, [_undominated(o) for o in problem.options], node_limit)
        except NodeLimit:
            pass
        else:
            return Solution(None, 0.0) if found is None else Solution(found, problem.cost(found))
    for _ in range(4):
        choice = _milp(problem, need, minimize_cost=True)
        if choice is None:
            return Solution(None, 0.0)
        if problem.feasible(choice):
            return Solution(choice, problem.cost(choice))
        got = problem.gains(choice)
        need = [max(n, n + (n - g) * 2) if g < n - slack(n) else n for g, n in zip(got, need, strict=True)]
    return Solution(None, 0.0)


def closest(problem: Problem) -> tuple[Solution, float]:
    """When no policy meets every bar: the policy reaching the largest common fraction t of every bar
    (``Σ gains[i] ≥ t · need[i]``), the cheapest of those; and t."""
    import numpy as np

    t = _max_fraction(problem)
    scaled = Problem(problem.options, tuple(float(np.nextafter(t * n, -np.inf)) if n > 0 else n
                                            for n in problem.need))
    found = solve(scaled)
    return found, t


def _undominated(options: Sequence[Option]) -> list[int]:
    """Indices of options no other option beats (no dearer, no less on any bar; the first of equals kept)."""
    out = []
    for j, a in enumerate(options):
        beaten = False
        for k, b in enumerate(options):
            if k == j:
                continue
            no_worse = b.cost <= a.cost and all(x >= y for x, y in zip(b.gains, a.gains, strict=True))
            better = b.cost < a.cost or any(x > y for x, y in zip(b.gains, a.gains, strict=True))
            if no_worse and (better or k < j):
                beaten = True
                break
        if not beaten:
            out.append(j)
    return out


def _program(problem: Problem) -> tuple[list[tuple[int, int]], Any, Any]:
    """Variables (segment, option) of the undominated options, the one-per-segment rows, the bar rows
    (each bar divided by its scale, so HiGHS' absolute tolerance is relative to the bar)."""
    import numpy as np
    import scipy.sparse as sp

    columns = [(s, j) for s, opts in enumerate(problem.options) for j in _undominated(opts)]
    rows = np.array([s for s, _ in columns])
    one = sp.csr_matrix((np.ones(len(columns)), (rows, np.arange(len(columns)))),
                        shape=(len(problem.options), len(columns)))
    bars = np.array([[problem.options[s][j].gains[i] for s, j in columns] for i in range(len(problem.need))],
                    dtype=np.float64).reshape(len(problem.need), len(columns))
    return columns, one, bars


def _scales(bars: Any, need: Sequence[float]) -> Any:
    import numpy as np

    top = np.abs(bars).max(axis=1) if bars.size else np.ones(len(need))
    return np.maximum(np.maximum(top, np.abs(np.asarray(need, dtype=np.float64))), 1e-300)


def _milp(problem: Problem, need: Sequence[float], *, minimize_cost: bool) -> tuple[int, ...] | None:
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    columns, one, bars = _program(problem)
    cost = np.array([problem.options[s][j].cost for s, j in columns], dtype=np.float64)
    top = float(np.abs(cost).max()) if len(cost) else 1.0
    constraints = [LinearConstraint(one, 1, 1)]
    if len(need):
        scale = _scales(bars, need)
        constraints.append(LinearConstraint(bars / scale[:, None], np.asarray(need) / scale, np.inf))
    with _quiet_stdout():
        res = milp(cost / (top or 1.0), integrality=np.ones(len(columns)), bounds=Bounds(0, 1),
                   constraints=constraints, options={"mip_rel_gap": 0.0})
    if res.x is None:
        return None
    return _choice(problem, columns, res.x)


def _choice(problem: Problem, columns: list[tuple[int, int]], x: Any) -> tuple[int, ...]:
    picked = [0] * len(problem.options)
    for (s, j), v in zip(columns, x, strict=True):
        if v > 0.5:
            picked[s] = j
    return tuple(picked)


def _max_fraction(problem: Problem) -> float:
    """The largest t in [0, 1] such that one policy reaches t · need on every bar with a positive need."""
    import numpy as np
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    columns, one, bars = _program(problem)
    need = np.asarray(problem.need, dtype=np.float64)
    live = need > 0
    if not live.any():
        return 1.0
    ratios = bars[live] / need[live][:, None]  # Σ ratio·x − t ≥ 0
    n = len(columns)
    a = sp.hstack([sp.csr_matrix(ratios), sp.csr_matrix(-np.ones((int(live.sum()), 1)))]).tocsr()
    eq = sp.hstack([one, sp.csr_matrix((len(problem.options), 1))]).tocsr()
    c = np.zeros(n + 1)
    c[-1] = -1.0
    with _quiet_stdout():
        res = milp(c, integrality=np.r_[np.ones(n), 0], bounds=Bounds(0, np.r_[np.ones(n), 1.0]),
                   constraints=[LinearConstraint(eq, 1, 1), LinearConstraint(a, 0, np.inf)],
                   options={"mip_rel_gap": 0.0})
    if res.x is None:  # pragma: no cover - t = 0 is always reachable
        return 0.0
    choice = _choice(problem, columns, res.x[:n])
    got = problem.gains(choice)
    return min(1.0, *(g / n_ for g, n_ in zip(got, problem.need, strict=True) if n_ > 0))


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """HiGHS' C++ code can print a debug line straight to file descriptor 1: keep results on stdout clean."""
    import os
    import sys

    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # pragma: no cover - no descriptor 1
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def brute_force(problem: Problem) -> Solution:
    """Every policy tried (for tests; exponential)."""
    import itertools

    best: tuple[int, ...] | None = None
    best_cost = float("inf")
    for choice in itertools.product(*(range(len(o)) for o in problem.options)):
        if problem.feasible(choice):
            c = problem.cost(choice)
            if c < best_cost:
                best, best_cost = choice, c
    return Solution(best, best_cost if best is not None else 0.0)
