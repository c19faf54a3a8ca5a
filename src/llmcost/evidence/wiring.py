"""Quality and latency beside cost in an estimate: every scenario is wrapped so that the traffic it
produces — chunk by chunk when the log is streamed — is tallied (``EvidenceTally``), and once the
estimate is done each outcome gets its ``ScenarioEvidence``. The wrapper changes nothing the estimate
computes: same frames, same details, same money.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from llmcost.evidence.bench import BenchEvidence, load_bench_evidence
from llmcost.evidence.latency import DEFAULT_HIT_LATENCY_MS
from llmcost.evidence.tally import EvidenceRun

if TYPE_CHECKING:
    import pandas as pd

    from llmcost.catalog import Catalog
    from llmcost.estimate import Estimate, ScenarioOutcome
    from llmcost.scenarios.interface import Applied, Scenario, Shared

# Strategies that change which model answers: without bench results their quality is unknown.
MODEL_CHANGING = ("routing", "cascade", "failover")
UNMEASURED_NOTE = ("quality unmeasured (the answering model changes, and no bench results were given): run "
                   "`llmcost bench`, pass --bench FILE, and `llmcost plan` finds the cheapest routing that meets "
                   "a quality bar")


@dataclass(frozen=True)
class Tallied:
    """A scenario whose every result is also tallied for quality and latency."""

    inner: Scenario
    run: EvidenceRun
    index: int

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def description(self) -> str:
        return self.inner.description

    @property
    def monthly_growth(self) -> Decimal:
        return self.inner.monthly_growth

    @property
    def streamable(self) -> bool:
        from llmcost.scenarios.interface import Baseline

        return bool(getattr(self.inner, "streamable", isinstance(self.inner, Baseline)))

    def apply(self, frame: pd.DataFrame, catalog: Catalog, shared: Shared | None = None) -> Applied:
        applied = self.inner.apply(frame, catalog, shared)
        self.run.add(self.index, applied.frame)
        return applied

    def finish(self, catalog: Catalog, shared: Shared) -> Applied | None:
        finish = getattr(self.inner, "finish", None)
        held: Applied | None = finish(catalog, shared) if finish is not None else None
        if held is not None:
            self.run.add(self.index, held.frame)
        return held


def tallied(scenarios: Sequence[Scenario], catalog: Catalog, evidence: BenchEvidence,
            hit_latency_ms: float = DEFAULT_HIT_LATENCY_MS) -> tuple[list[Scenario], EvidenceRun]:
    """The scenarios (baseline first, added when missing) wrapped to tally their traffic into one run."""
    from llmcost.estimate import with_baseline

    chosen = with_baseline(scenarios)
    run = EvidenceRun(evidence, catalog, len(chosen), hit_latency_ms)
    return [Tallied(s, run, i) for i, s in enumerate(chosen)], run


def with_evidence(estimate: Estimate, run: EvidenceRun) -> Estimate:
    """The estimate with each scenario's quality and latency attached (``ScenarioOutcome.evidence``)."""
    results = run.results([s.details for s in estimate.scenarios])
    outcomes = tuple(replace(s, evidence=e) for s, e in zip(estimate.scenarios, results, strict=True))
    return replace(estimate, scenarios=outcomes)


def quality_note(outcome: ScenarioOutcome) -> str | None:
    """What a scenario that changes the answering model says when nothing measured its quality."""
    if outcome.evidence is not None or not any(k in outcome.details for k in MODEL_CHANGING):
        return None
    return UNMEASURED_NOTE


def lend_bench(scenarios: Sequence[Scenario], bench: Sequence[str]) -> list[Scenario]:
    """Scenarios from a file without ``bench_results:`` take the first ``--bench`` file as theirs, so
    ``accept: measured`` and the measured details work with either way of giving bench results."""
    if not bench:  # before importing the replays: a baseline-only run never needs them
        return list(scenarios)
    from llmcost.scenarios.engine import ComposedScenario

    if not any(isinstance(s, ComposedScenario) and s.bench is None for s in scenarios):
        return list(scenarios)
    from llmcost.bench.summary import load_bench_summary

    summary = load_bench_summary(bench[0])
    return [replace(s, bench=summary) if isinstance(s, ComposedScenario) and s.bench is None else s
            for s in scenarios]


def evidence_for(scenarios: Sequence[Scenario], catalog: Catalog, bench: Sequence[str] = ()) -> BenchEvidence | None:
    """The bench evidence of this run: ``--bench`` files, else the scenario file's ``bench_results:``;
    checked against the catalog (results priced with another catalog are an error naming ``catalog``)."""
    paths = list(bench)
    if not paths:
        for s in scenarios:
            summary = getattr(s, "bench", None)
            source = getattr(summary, "source", "")
            if source:
                paths = [source]
                break
    if not paths:
        return None
    return load_bench_evidence(paths).for_catalog(catalog)
