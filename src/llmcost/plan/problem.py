"""The bars a plan must meet, written as the linear constraints the search takes.

- ``--min-quality Q``: Σ_s w_s q_s(model) ≥ Q · W over all traffic (q = the Wilson lower bound, or
  the point estimate with ``--optimistic``);
- ``--per-task-min-quality``: the same bar for every task apart (its segments, its traffic);
- ``--max-p95-latency-ms L`` / ``--max-p99-latency-ms L``: Σ_s w_s F_model(L) ≥ 0.95 W (0.99 W), where
  F is the share of the model's latencies at or below L.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from llmcost.plan.measures import Latency, Mixed
from llmcost.plan.search import Option, Problem
from llmcost.plan.segments import NO_TASK, Segment


@dataclass(frozen=True)
class Bars:
    min_quality: float | None = None
    per_task: bool = False
    max_p95_ms: float | None = None
    max_p99_ms: float | None = None
    optimistic: bool = False

    def describe(self) -> str:
        parts = []
        if self.min_quality is not None:
            which = "point estimate" if self.optimistic else "lower 95% bound"
            scope = " on every task" if self.per_task else ""
            parts.append(f"quality ≥ {self.min_quality:.1%}{scope} ({which})")
        if self.max_p95_ms is not None:
            parts.append(f"p95 latency ≤ {self.max_p95_ms:,.0f} ms")
        if self.max_p99_ms is not None:
            parts.append(f"p99 latency ≤ {self.max_p99_ms:,.0f} ms")
        return ", ".join(parts) or "no bars (the cheapest policy)"


@dataclass(frozen=True)
class Bar:
    """One constraint: its name, what it measures and the per-(segment, candidate) gains."""

    name: str
    kind: str  # quality | p95 | p99
    task: str | None
    need: float
    target: float  # the bar as the user gave it (a pass rate, or ms)
    weight: float  # the traffic the bar is over


def build_bars(bars: Bars, segments: Sequence[Segment], requests: Sequence[float],
               quality: Sequence[Sequence[float]], lats: dict[str, Latency], candidates: Sequence[str],
               cascade_lats: Sequence[Sequence[Mixed | None]] = (),
               ) -> tuple[list[Bar], list[list[tuple[float, ...]]]]:
    """The bars and, per segment and candidate, what the candidate contributes to each bar; cascade
    options (``cascade_lats``: their latency per segment) come after the candidates."""
    total = float(sum(requests))
    out: list[Bar] = []
    columns: list[list[list[float]]] = []  # per bar: [segment][candidate]
    if bars.min_quality is not None:
        q = bars.min_quality
        groups: list[str | None] = [None]
        if bars.per_task:
            groups = list(dict.fromkeys(_task(seg) for seg in segments))
        for task in groups:
            mine = [task is None or _task(seg) == task for seg in segments]
            weight = sum(w for w, m in zip(requests, mine, strict=True) if m)
            name = "quality" if task is None else f"quality of task '{task}'"
            out.append(Bar(name, "quality", task, q * weight, q, weight))
            columns.append([[w * qc if m else 0.0 for qc in row]
                            for w, m, row in zip(requests, mine, quality, strict=True)])
    for kind, limit, share in (("p95", bars.max_p95_ms, 0.95), ("p99", bars.max_p99_ms, 0.99)):
        if limit is None:
            continue
        within = [lats[m].share_within(limit) for m in candidates]
        out.append(Bar(f"{kind} latency", kind, None, share * total, limit, total))
        columns.append([[w * f for f in within] + [w * _within(c, limit) for c in (cascade_lats[s] if cascade_lats
                                                                                    else ())]
                        for s, w in enumerate(requests)])
    width = len(candidates) + (len(cascade_lats[0]) if cascade_lats else 0)
    gains = [[tuple(col[s][j] for col in columns) for j in range(width)] for s in range(len(segments))]
    return out, gains


def _within(lat: Mixed | None, limit: float) -> float:
    return 0.0 if lat is None else lat.share_within(limit)


def _task(seg: Segment) -> str:
    return seg.task if seg.task is not None else NO_TASK


def build_problem(costs: Sequence[Sequence[float | None]], gains: Sequence[Sequence[tuple[float, ...]]],
                  bars: Sequence[Bar]) -> tuple[Problem, list[list[int]]]:
    """The search problem (options a segment cannot use — cost None — left out) and, per segment, the
    candidate index of each of its options."""
    options = []
    index = []
    for row_cost, row_gain in zip(costs, gains, strict=True):
        kept = [j for j, c in enumerate(row_cost) if c is not None]
        options.append(tuple(Option(float(row_cost[j] or 0.0), row_gain[j]) for j in kept))
        index.append(kept)
    return Problem(tuple(options), tuple(b.need for b in bars)), index
