"""Two-model cascades as plan options (``--cascades``): the cheaper model answers first; the share it
passes on the bench is accepted, the rest is escalated to the stronger model and pays both calls.

A cascade option on a segment is written as a routing rule with ``try_first`` (the cascade strategy
inside routing), so its cost comes from the same engine run as the scenario file the plan writes:
``estimate --scenarios`` reproduces it to the cent. The acceptance on a segment is the first model's
measured pass rate there (the point estimate: the expected share accepted).

Quality: an accepted request gets the first model's quality, an escalated one the second's, so the
option's quality (point, Wilson low and high alike) is a·q_first + (1 − a)·q_then. Latency: an
accepted request takes the first model's latency, an escalated one the sum of both (independent
draws, from 200 quantiles of each distribution).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmcost.plan.measures import Latency, Mixed

if TYPE_CHECKING:
    from llmcost.catalog import Catalog
    from llmcost.evidence import PassRate
    from llmcost.plan.segments import Segment
    from llmcost.scenarios.schema import ScenarioSpec

QUANTILES = 200


@dataclass(frozen=True)
class CascadeOption:
    first: str
    then: str

    @property
    def label(self) -> str:
        return f"{self.first}→{self.then}"


def pairs(candidates: Sequence[str], catalog: Catalog) -> list[CascadeOption]:
    """Every (cheaper, dearer) pair of candidates by blended price; equal prices make no cascade."""
    from llmcost.scenarios.common import blended_price

    price = {m: blended_price(catalog.model(m)) for m in candidates}
    ordered = sorted(candidates, key=lambda m: price[m])
    return [CascadeOption(a, b) for i, a in enumerate(ordered) for b in ordered[i + 1:] if price[a] < price[b]]


def rule(seg: Segment, then: str, first: str | None, accept: float | None) -> dict[str, object]:
    """A routing rule for a segment: to ``then``, trying ``first`` before it when a cascade."""
    out: dict[str, object] = {"when": seg.conditions.model_dump(exclude_none=True), "to": then}
    if first is not None:
        out["try_first"] = [{"model": first, "accept": accept}]
    return out


def all_segments_spec(segments: Sequence[Segment], option: CascadeOption, accepts: Sequence[float]) -> ScenarioSpec:
    """The scenario that sends every segment through ``option`` (for the cost table)."""
    from llmcost.scenarios.schema import ScenarioSpec

    rules = [rule(seg, option.then, option.first, a) for seg, a in zip(segments, accepts, strict=True)]
    return ScenarioSpec.model_validate({"name": f"plan-cascade-{option.label}", "routing": {"rules": rules}})


def quality(first: PassRate, then: PassRate, accept: float, label: str) -> PassRate:
    from llmcost.evidence import PassRate

    def mix(x: float, y: float) -> float:
        return accept * x + (1 - accept) * y

    return PassRate(label, first.task, first.passed, first.trials, mix(first.point, then.point),
                    mix(first.low, then.low), mix(first.high, then.high))


def summed(first: Latency, then: Latency) -> Latency:
    """Latency of an escalated request: one call to each model (independent draws)."""
    import numpy as np

    grid = (np.arange(QUANTILES) + 0.5) / QUANTILES
    a = np.quantile(first.samples, grid, method="inverted_cdf") if len(first.samples) else first.samples
    b = np.quantile(then.samples, grid, method="inverted_cdf") if len(then.samples) else then.samples
    total = np.sort(np.add.outer(a, b).ravel())
    return Latency(f"{first.model}+{then.model}", total, f"{first.source}+{then.source}")


def latency(first: Latency, both: Latency, accept: float) -> Mixed:
    return Mixed(((first, accept), (both, 1 - accept)), both.source)
