"""Evidence beside cost: what the bench measured (quality, latency) applied to a scenario's traffic."""

from __future__ import annotations

from llmcost.evidence.bench import BenchEvidence, LatencySample, PassRate, load_bench_evidence
from llmcost.evidence.latency import DEFAULT_HIT_LATENCY_MS, LatencyEstimate, LatencyFigure
from llmcost.evidence.quality import QualityEstimate, QualityFigure
from llmcost.evidence.tally import EvidenceRun, EvidenceTally, ScenarioEvidence, scenario_latency, scenario_quality
from llmcost.evidence.wilson import wilson

__all__ = [
    "DEFAULT_HIT_LATENCY_MS", "BenchEvidence", "EvidenceRun", "EvidenceTally", "LatencyEstimate", "LatencyFigure",
    "LatencySample", "PassRate", "QualityEstimate", "QualityFigure", "ScenarioEvidence", "load_bench_evidence",
    "scenario_latency", "scenario_quality", "wilson",
]
