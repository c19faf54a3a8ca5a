"""A ``per: task`` rule over every task at once: statuses as an array, verdicts built only when read.

Each task's figure (its projected monthly cost, or its cost per 1,000 requests) is compared with the limit in
floats first; a task whose float lies within a billionth of the limit is decided again in ``Decimal``, by the
very expression a verdict reports, so every status is the exact one. ``RuleVerdicts`` then builds task ``i``'s
``Verdict`` (exact ``Decimal`` actual) only when a report reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from llmcost.budget.evaluate import THOUSAND, _dec
from llmcost.budget.policy import CostPer1k, MonthlySpend
from llmcost.budget.verdict import Verdict
from llmcost.budget.verdict_set import CODE, RuleVerdicts

if TYPE_CHECKING:
    import numpy as np

    from llmcost.budget.evaluate import Context
    from llmcost.budget.task_spends import TaskSpends

_CLOSE = 1e-9  # relative distance from the limit below which floats do not decide


def per_task_verdicts(ctx: Context, rule: MonthlySpend | CostPer1k, spends: TaskSpends,
                      verdict: Callable[..., Verdict]) -> RuleVerdicts:
    """One verdict per task, as ``verdict(subject, metric, bound, limit, actual, unit)`` would make it."""
    import numpy as np

    limit = _dec(rule.max_usd)
    monthly = isinstance(rule, MonthlySpend)
    metric = "monthly cost" if monthly else "cost per 1k requests"

    def actual(i: int) -> Decimal:
        observed = spends.observed(i)
        if monthly:
            return ctx.monthly(observed)
        requests = float(spends.requests[i])
        return observed / _dec(requests) * THOUSAND if requests else Decimal(0)

    if monthly:
        approx = spends.approx * float(ctx.monthly(Decimal(1)))
    else:
        requests = spends.requests
        approx = np.divide(spends.approx * 1000.0, requests, out=np.zeros(len(spends)), where=requests != 0)
    over = approx > float(limit)
    close = np.abs(approx - float(limit)) <= _CLOSE * np.maximum(np.abs(approx), abs(float(limit)))
    for i in np.flatnonzero(close).tolist():
        over[i] = actual(i) > limit
    breached = CODE["fail"] if rule.severity == "error" else CODE["warn"]
    statuses: np.ndarray = np.where(over, breached, CODE["pass"]).astype(np.int8)

    def make(i: int) -> Verdict:
        return verdict(f"task {spends.names.name(i)}", metric, "max", limit, actual(i), "usd")

    return RuleVerdicts(statuses, make, spends.names)

