"""A depth-first branch and bound for the plan's search, tried before the 0/1 program solver: on most plans
(one quality bar, or bars that do not fight each other) it proves the optimum in a few hundred nodes, far
quicker than setting up a solver. It gives up after ``node_limit`` nodes and the solver takes over, so
the answer is exact either way.

- Per segment only the options ``search._undominated`` keeps, cheapest reduced cost first.
- A branch is cut when some bar cannot be reached even with the best remaining option for it.
- A branch is cut when its cost plus a lower bound on the rest is not below the best policy found; the
  bound is the larger of the cheapest remaining options and the Lagrangian relaxation
  ``Σ_rest min_j (c_j − λ·g_j) + λ·(need − gained)``, valid for every λ ≥ 0 (λ tuned once at the root by
  subgradient steps).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmcost.plan.search import Option, Problem


class NodeLimit(Exception):
    """The search would take more nodes than it is allowed."""


def branch_and_bound(problem: Problem, kept: list[list[int]], node_limit: int) -> tuple[int, ...] | None:
    """The cheapest feasible choice, None when there is none; raises NodeLimit past ``node_limit`` nodes."""
    lam = _multipliers(problem, kept)
    order = sorted(range(len(problem.options)), key=lambda s: -_spread(problem.options[s], kept[s], lam))
    search = _Search(problem, kept, order, lam, node_limit)
    search.visit(0, 0.0, [0.0] * len(problem.need))
    return None if search.best is None else tuple(search.best)


def _reduced(option: Option, lam: Sequence[float]) -> float:
    return option.cost - sum(li * g for li, g in zip(lam, option.gains, strict=True))


def _spread(options: Sequence[Option], idx: list[int], lam: Sequence[float]) -> float:
    values = [_reduced(options[j], lam) for j in idx]
    return max(values) - min(values)


def _dual(problem: Problem, kept: list[list[int]], lam: Sequence[float]) -> tuple[float, list[float]]:
    """The Lagrangian bound at λ and its subgradient (need − gains of the minimizing choice)."""
    value = sum(li * n for li, n in zip(lam, problem.need, strict=True))
    grad = list(problem.need)
    for s, idx in enumerate(kept):
        best = min(idx, key=lambda j: _reduced(problem.options[s][j], lam))
        value += _reduced(problem.options[s][best], lam)
        for i, g in enumerate(problem.options[s][best].gains):
            grad[i] -= g
    return value, grad


def _multipliers(problem: Problem, kept: list[list[int]], steps: int = 100) -> tuple[float, ...]:
    m = len(problem.need)
    if m == 0:
        return ()
    costs = [problem.options[s][j].cost for s, idx in enumerate(kept) for j in idx]
    scale = (max(costs) - min(costs)) or 1.0
    step0 = []
    for i in range(m):
        gains = [problem.options[s][j].gains[i] for s, idx in enumerate(kept) for j in idx]
        spread = max(gains) - min(gains)
        step0.append(scale / spread if spread > 0 else 0.0)
    lam = [0.0] * m
    best_value, best = _dual(problem, kept, lam)[0], tuple(lam)
    for t in range(steps):
        value, grad = _dual(problem, kept, lam)
        if value > best_value:
            best_value, best = value, tuple(lam)
        norm = max(abs(g) for g in grad)
        if norm == 0:
            break
        rate = 1.0 / (1 + t) ** 0.7
        lam = [max(0.0, li + rate * s0 * g / norm) for li, s0, g in zip(lam, step0, grad, strict=True)]
    return best


def _by_promise(options: Sequence[Option], idx: list[int], lam: Sequence[float]) -> list[int]:
    """Option indices, lowest reduced cost first (the likeliest to be in a cheap feasible policy)."""
    return sorted(idx, key=lambda j: (_reduced(options[j], lam), options[j].cost))


class _Search:
    def __init__(self, problem: Problem, kept: list[list[int]], order: list[int], lam: tuple[float, ...],
                 node_limit: int):
        from llmcost.plan.search import slack

        self.problem, self.order, self.lam, self.node_limit = problem, order, lam, node_limit
        self.slack = slack
        opts = problem.options
        m = len(problem.need)
        self.choices = [_by_promise(opts[s], kept[s], lam) for s in order]
        depth = len(order)
        self.min_cost = [0.0] * (depth + 1)
        self.min_reduced = [0.0] * (depth + 1)
        self.max_gain = [[0.0] * m for _ in range(depth + 1)]
        for d in range(depth - 1, -1, -1):
            options = [opts[order[d]][j] for j in self.choices[d]]
            self.min_cost[d] = self.min_cost[d + 1] + min(o.cost for o in options)
            self.min_reduced[d] = self.min_reduced[d + 1] + min(_reduced(o, lam) for o in options)
            self.max_gain[d] = [self.max_gain[d + 1][i] + max(o.gains[i] for o in options) for i in range(m)]
        self.best_cost = float("inf")
        self.best: list[int] | None = None
        self.picked = [0] * len(problem.options)
        self.nodes = 0

    def bound(self, depth: int, cost: float, gained: list[float]) -> float | None:
        for i, n in enumerate(self.problem.need):
            if gained[i] + self.max_gain[depth][i] < n - self.slack(n):
                return None
        lagrange = self.min_reduced[depth] + sum(li * (n - g) for li, n, g in
                                                 zip(self.lam, self.problem.need, gained, strict=True))
        return cost + max(self.min_cost[depth], lagrange)

    def visit(self, depth: int, cost: float, gained: list[float]) -> None:
        self.nodes += 1
        if self.nodes > self.node_limit:
            raise NodeLimit
        if depth == len(self.order):
            if cost < self.best_cost and self.problem.feasible(self.picked):
                self.best_cost, self.best = cost, list(self.picked)
            return
        s = self.order[depth]
        for j in self.choices[depth]:
            option = self.problem.options[s][j]
            after = [g + x for g, x in zip(gained, option.gains, strict=True)]
            bound = self.bound(depth + 1, cost + option.cost, after)
            if bound is None or (self.best is not None and bound >= self.best_cost - self.slack(self.best_cost)):
                continue
            self.picked[s] = j
            self.visit(depth + 1, cost + option.cost, after)
