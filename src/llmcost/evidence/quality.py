"""Expected quality of a scenario's traffic: the pass rate of the model that serves each request, for
the request's task, weighted by traffic.

Per task the point estimate is Σ wᵢ·pᵢ / Σ wᵢ over the measured (model, task) pairs, and the interval
combines each pair's Wilson interval the same way (Σ wᵢ·lowᵢ / Σ wᵢ, Σ wᵢ·highᵢ / Σ wᵢ). That is
conservative: it is wider than a joint interval, since it assumes every pair errs in the same direction
at once. Traffic whose (model, task) the bench never scored is counted apart as unmeasured — never
given a pass rate, and never a model's rate on other tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llmcost.evidence.bench import BenchEvidence

UNKNOWN_MODEL = "(unknown model)"


@dataclass(frozen=True)
class QualityFigure:
    """Quality of one slice of traffic (a task, or all of it)."""

    task: str | None
    requests: float
    measured_requests: float
    point: float | None
    low: float | None
    high: float | None

    @property
    def unmeasured_requests(self) -> float:
        return self.requests - self.measured_requests

    @property
    def unmeasured_share(self) -> float:
        return round(self.unmeasured_requests / self.requests, 6) if self.requests else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task, "requests": _r(self.requests), "pass_rate": _r6(self.point),
                "low": _r6(self.low), "high": _r6(self.high), "unmeasured_share": self.unmeasured_share}


@dataclass(frozen=True)
class QualityEstimate:
    overall: QualityFigure
    by_task: tuple[QualityFigure, ...]
    unmeasured: tuple[tuple[str, str | None, float], ...]  # (model, task, requests) never scored
    by_model_task: bool  # False when the log has no task: each model's rate over all bench prompts

    def task(self, name: str) -> QualityFigure | None:
        return next((t for t in self.by_task if t.task == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in self.overall.to_json().items() if k != "task"},
            "interval": "95% Wilson per (model, task), combined by traffic weight (conservative)",
            "by_task": [t.to_json() for t in self.by_task],
            "unmeasured": [{"model": m, "task": t, "requests": _r(n)} for m, t, n in self.unmeasured],
            **({} if self.by_model_task else {"note": "the logs name no task: each model's pass rate over "
                                                      "all bench prompts"}),
        }


def estimate_quality(weights: dict[tuple[str, str | None], float], evidence: BenchEvidence,
                     has_task: bool) -> QualityEstimate:
    """Quality from the served traffic per (model id, task)."""
    per_task: dict[str | None, list[float]] = {}
    unmeasured: list[tuple[str, str | None, float]] = []
    total = [0.0, 0.0, 0.0, 0.0, 0.0]  # requests, measured, Σw·p, Σw·low, Σw·high
    for (model, task), w in sorted(weights.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        if w <= 0:
            continue
        rate = None if model == UNKNOWN_MODEL else evidence.pass_rate(model, task)
        sums = per_task.setdefault(task, [0.0, 0.0, 0.0, 0.0, 0.0])
        add = [w, 0.0, 0.0, 0.0, 0.0] if rate is None else [w, w, w * rate.point, w * rate.low, w * rate.high]
        for acc in (sums, total):
            for i, v in enumerate(add):
                acc[i] += v
        if rate is None:
            unmeasured.append((model, task, w))
    tasks = tuple(_figure(t, s) for t, s in sorted(per_task.items(), key=lambda kv: kv[0] or "")) if has_task else ()
    return QualityEstimate(_figure(None, total), tasks, tuple(unmeasured), has_task)


def _figure(task: str | None, s: list[float]) -> QualityFigure:
    requests, measured, wp, wl, wh = s
    if measured <= 0:
        return QualityFigure(task, requests, 0.0, None, None, None)
    return QualityFigure(task, requests, measured, wp / measured, wl / measured, wh / measured)


def _r(value: float) -> float:
    return round(value, 6)


def _r6(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
