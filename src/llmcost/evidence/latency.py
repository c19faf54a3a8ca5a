"""Latency percentiles of a scenario's traffic, from the logs where they have it and the bench where not.

Each request's latency is drawn from the distribution of the model that serves it: the logged
``latency_ms`` (``ttft_ms``) of that model's requests when the log has any, else the bench's measured
latencies of that model, else it is unmeasured (counted apart, never assumed). Response-cache hits
answer at ``hit_latency_ms``. A cascade request answered at step k waited for every step before it:
its latency is the sum of steps 0..k (drawn independently, a fixed-seed Monte Carlo) and its time to
first token is steps 0..k−1's latency plus step k's TTFT. The traffic mixture of these distributions
gives p50/p95/p99 (inverted CDF, within 0.1 %: see ``histogram``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmcost.evidence.bench import BenchEvidence
from llmcost.evidence.histogram import BINS, histogram, quantiles, sample

if TYPE_CHECKING:
    import numpy as np

DEFAULT_HIT_LATENCY_MS = 10.0
CASCADE_DRAWS = 20_000
QS = (0.50, 0.95, 0.99)


@dataclass(frozen=True)
class LatencyFigure:
    """p50/p95/p99 of one latency (end to end, or time to first token) and where it came from:
    ``log``, ``bench``, ``hit`` or ``mixed`` (None when nothing of the traffic is measured). ``shares``
    splits the traffic by source; a cascade path timed from both the log and the bench is ``bench+log``."""

    p50: float | None
    p95: float | None
    p99: float | None
    source: str | None
    shares: dict[str, float]  # share of the traffic per source, "unmeasured" included

    def to_json(self) -> dict[str, Any]:
        return {"p50": self.p50, "p95": self.p95, "p99": self.p99, "source": self.source,
                "source_shares": dict(self.shares)}


@dataclass(frozen=True)
class LatencyEstimate:
    e2e_ms: LatencyFigure
    ttft_ms: LatencyFigure
    hit_latency_ms: float
    unmeasured_models: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"latency_ms": self.e2e_ms.to_json(), "ttft_ms": self.ttft_ms.to_json(),
                "hit_latency_ms": self.hit_latency_ms, "unmeasured_models": list(self.unmeasured_models)}


@dataclass(frozen=True)
class CascadeStepTraffic:
    model: str
    answered: float


def estimate_latency(model_weights: dict[str, float], log_hists: dict[str, tuple[np.ndarray, np.ndarray]],
                     evidence: BenchEvidence, *, hits: float = 0.0, hit_latency_ms: float = DEFAULT_HIT_LATENCY_MS,
                     cascade: Sequence[CascadeStepTraffic] = (),
                     more_cascades: Sequence[Sequence[CascadeStepTraffic]] = ()) -> LatencyEstimate:
    """``model_weights``: requests answered by each model in one attempt; ``log_hists``: the log's
    (latency, TTFT) histograms per model; ``hits``: requests a response cache answered; ``cascade``:
    requests answered at each step of a cascade; ``more_cascades``: the same for each routing rule with
    ``try_first`` (a cascade per rule)."""
    import numpy as np

    figures = []
    missing: set[str] = set()
    for kind in (0, 1):  # 0 end to end, 1 time to first token
        dists = _Dists(log_hists, evidence, kind)
        mix, shares = _Mixture(), _Shares()
        for model, w in model_weights.items():
            dist, source = dists.get(model)
            mix.add(dist, w)
            shares.add("unmeasured" if dist is None else source, w)
            if dist is None and w > 0:
                missing.add(model)
        if hits > 0:
            mix.add(histogram(np.array([hit_latency_ms])), hits)
            shares.add("hit", hits)
        for steps in (cascade, *more_cascades):
            _add_cascade(steps, dists, _Dists(log_hists, evidence, 0), kind, mix, shares, missing)
        figures.append(_figure(mix, shares))
    return LatencyEstimate(figures[0], figures[1], hit_latency_ms, tuple(sorted(missing)))


class _Dists:
    """Per model: the log's distribution of one latency kind where it has one, else the bench's."""

    def __init__(self, log_hists: dict[str, tuple[np.ndarray, np.ndarray]], evidence: BenchEvidence, kind: int):
        self.log, self.evidence, self.kind = log_hists, evidence, kind
        self.cache: dict[str, tuple[np.ndarray | None, str]] = {}

    def get(self, model: str) -> tuple[np.ndarray | None, str]:
        if model not in self.cache:
            logged = self.log.get(model)
            if logged is not None and logged[self.kind].sum() > 0:
                self.cache[model] = (logged[self.kind], "log")
            else:
                measured = self.evidence.latency(model)
                values = None if measured is None else (measured.e2e_ms if self.kind == 0 else measured.ttft_ms)
                found = values is not None and len(values) > 0
                self.cache[model] = (histogram(values) if found else None, "bench")  # type: ignore[arg-type]
        return self.cache[model]


class _Mixture:
    def __init__(self) -> None:
        import numpy as np

        self.hist = np.zeros(BINS)

    def add(self, dist: np.ndarray | None, weight: float) -> None:
        if dist is not None and weight > 0:
            self.hist += dist * (weight / float(dist.sum()))


class _Shares:
    def __init__(self) -> None:
        self.weights: dict[str, float] = {}

    def add(self, source: str, weight: float) -> None:
        if weight > 0:
            self.weights[source] = self.weights.get(source, 0.0) + weight


def _add_cascade(steps: Sequence[CascadeStepTraffic], dists: _Dists, e2e: _Dists, kind: int, mix: _Mixture,
                 shares: _Shares, missing: set[str]) -> None:
    import numpy as np

    if not steps:
        return
    rng = np.random.default_rng(0)
    waited = np.zeros(CASCADE_DRAWS)  # end-to-end time of the steps before this one
    before: set[str] = set()  # where those steps' latencies came from
    for k, step in enumerate(steps):
        dist, source = dists.get(step.model)
        full, full_source = e2e.get(step.model)
        if dist is None:
            missing.add(step.model)
            shares.add("unmeasured", step.answered)
        else:
            mix.add(histogram(waited + sample(dist, CASCADE_DRAWS, rng)), step.answered)
            shares.add("+".join(sorted(before | {source})), step.answered)  # "bench+log": steps from both
        if full is None:  # later steps cannot be timed without this one's latency
            missing.add(step.model)
            for later in steps[k + 1:]:
                shares.add("unmeasured", later.answered)
            return
        before.add(full_source)
        waited = waited + sample(full, CASCADE_DRAWS, rng)


def _figure(mix: _Mixture, shares: _Shares) -> LatencyFigure:
    total = sum(shares.weights.values())
    measured = {part for s, w in shares.weights.items() if s != "unmeasured" and w > 0 for part in s.split("+")}
    source = None if not measured else next(iter(measured)) if len(measured) == 1 else "mixed"
    p50, p95, p99 = quantiles(mix.hist, QS)
    return LatencyFigure(p50, p95, p99, source,
                         {s: round(w / total, 6) for s, w in sorted(shares.weights.items())} if total else {})
