"""``quality`` and ``latency`` rules: judged on a scenario's evidence (``ScenarioOutcome.evidence``).

A figure that is not measured never passes: traffic the bench never scored beyond the rule's
``max_unmeasured_share``, or traffic with no latency in the logs or the bench, gives a verdict without
an actual value, which fails closed with a note saying why. A rule naming a task the bench has no pass
rate for (on the models serving it) is a policy error naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from llmcost.budget.policy import LatencyRule, QualityRule
from llmcost.errors import PolicyError

if TYPE_CHECKING:
    from llmcost.budget.evaluate import Context, Make
    from llmcost.budget.verdict import Verdict
    from llmcost.estimate import ScenarioOutcome
    from llmcost.evidence import LatencyFigure, QualityFigure, ScenarioEvidence

NEEDS_BENCH = ("a quality or latency rule needs bench results (inputs.bench, --bench FILE, or bench_results: in "
               "the scenario file)")


def judge_evidence(ctx: Context, rule: QualityRule | LatencyRule, where: str, verdict: Make) -> Iterator[Verdict]:
    from llmcost.budget.evaluate import scenario_outcome

    outcome = ctx.outcome if rule.scenario is None else scenario_outcome(ctx, rule.scenario, f"{where}.scenario")
    evidence = outcome.evidence
    if evidence is None:
        raise PolicyError(NEEDS_BENCH, source=ctx.policy.source, field="inputs.bench")
    if isinstance(rule, QualityRule):
        yield from _quality(ctx, rule, where, verdict, outcome, evidence)
    else:
        yield from _latency(rule, verdict, outcome, evidence)


def _quality(ctx: Context, rule: QualityRule, where: str, verdict: Make, outcome: ScenarioOutcome,
             evidence: ScenarioEvidence) -> Iterator[Verdict]:
    quality = evidence.quality
    prefix = f"scenario {outcome.name}"
    figures: list[tuple[str, QualityFigure]]
    if rule.task is not None:
        found = quality.task(rule.task) if quality.by_model_task else None
        if found is None or found.point is None:
            why = "the logs have no task column" if not quality.by_model_task else \
                f"scenario '{outcome.name}' has no traffic for task '{rule.task}'" if found is None else \
                f"the bench results have no pass rate for task '{rule.task}' on the models that serve it " \
                f"({_models(evidence, rule.task)})"
            raise PolicyError(why, source=ctx.policy.source, field=f"{where}.task")
        figures = [(f"{prefix}, task {rule.task}", found)]
    elif rule.per == "task":
        if not quality.by_model_task:
            raise PolicyError("the logs have no task column to judge quality per task", source=ctx.policy.source,
                              field=f"{where}.per")
        figures = [(f"{prefix}, task {t.task}", t) for t in quality.by_task]
    else:
        figures = [(prefix, quality.overall)]
    metric = "pass rate (95% lower bound)" if rule.use == "low" else "pass rate"
    for subject, fig in figures:
        actual = fig.low if rule.use == "low" else fig.point
        note = ""
        if fig.point is None:
            actual, note = None, "never measured: the bench scored none of this traffic's (model, task)"
        elif fig.unmeasured_share > rule.max_unmeasured_share:
            actual = None
            note = (f"{fig.unmeasured_share:.1%} of requests go to a (model, task) the bench never scored "
                    f"(allowed: {rule.max_unmeasured_share:.1%}); measured part: {fig.point:.1%}")
        elif fig.unmeasured_share:
            note = f"{fig.unmeasured_share:.1%} of requests unmeasured (allowed)"
        yield verdict(subject, metric, "min", rule.min_quality, actual, "rate", note)


def _latency(rule: LatencyRule, verdict: Make, outcome: ScenarioOutcome,
             evidence: ScenarioEvidence) -> Iterator[Verdict]:
    latency = evidence.latency
    checks: list[tuple[str, float | None, LatencyFigure, str]] = [
        ("p95 latency", rule.max_p95_latency_ms, latency.e2e_ms, "p95"),
        ("p99 latency", rule.max_p99_latency_ms, latency.e2e_ms, "p99"),
        ("p95 TTFT", rule.max_p95_ttft_ms, latency.ttft_ms, "p95"),
        ("p99 TTFT", rule.max_p99_ttft_ms, latency.ttft_ms, "p99"),
    ]
    for metric, limit, fig, q in checks:
        if limit is None:
            continue
        actual: float | None = getattr(fig, q)
        unmeasured = fig.shares.get("unmeasured", 0.0)
        note = f"from {fig.source}" if fig.source else "no latency measured"
        if unmeasured and actual is not None:
            models = ", ".join(latency.unmeasured_models) or "some models"
            actual, note = None, f"{unmeasured:.1%} of requests have no latency in the logs or the bench ({models})"
        yield verdict(f"scenario {outcome.name}", metric, "max", limit, actual, "ms", note)


def _models(evidence: ScenarioEvidence, task: str) -> str:
    return ", ".join(sorted({m for m, t, _ in evidence.quality.unmeasured if t == task})) or "none"
