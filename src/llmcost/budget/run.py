"""A policy → the estimate it asks for → verdicts. The one entry point ``llmcost check`` calls."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from llmcost.budget.evaluate import BenchContext, Context, drivers, evaluate
from llmcost.budget.policy import BenchGate, LatencyRule, Policy, QualityRule
from llmcost.budget.verdict import CheckResult
from llmcost.errors import PolicyError

if TYPE_CHECKING:
    from llmcost.catalog import Catalog
    from llmcost.diff import EstimateDiff
    from llmcost.estimate import Estimate
    from llmcost.evidence.tally import EvidenceRun
    from llmcost.logs.registry import FileReport
    from llmcost.scenarios.interface import Scenario


@dataclass(frozen=True)
class CheckRun:
    """The result, the estimate it rests on (to save as the next baseline; None when the policy has only
    bench gates and no logs) and what reading the logs found."""

    result: CheckResult
    estimate: Estimate | None
    files: tuple[FileReport, ...]


def run_check(policy: Policy) -> CheckRun:
    """Read the policy's logs, estimate, and judge every rule against the gated scenario."""
    from llmcost.bench.summary import load_bench_summary
    from llmcost.catalog import load_catalog
    from llmcost.estimate import run_estimate
    from llmcost.logs import read_logs
    from llmcost.scenarios import select_scenarios

    inputs = policy.inputs
    catalog = load_catalog(inputs.catalog)
    if not inputs.logs:
        return _bench_only(policy, catalog)
    scenarios = select_scenarios(inputs.scenarios, baseline_only=_baseline_only(policy), catalog=catalog)
    if inputs.bench:  # scenarios without bench_results: take the policy's (accept: measured works with either)
        from llmcost.evidence.wiring import lend_bench

        scenarios = lend_bench(scenarios, [inputs.bench])
    scenarios, tally = _with_evidence_tally(policy, scenarios, catalog)
    logset = read_logs(list(inputs.logs), log_format=inputs.log_format, default_model=inputs.model,
                       skip_bad=inputs.skip_bad)
    estimate = run_estimate(logset.frame, catalog, scenarios, projection_days=inputs.projection_days,
                            window_days=inputs.window_days, keep_frame=inputs.scenario)
    if tally is not None:
        from llmcost.evidence.wiring import with_evidence

        estimate = with_evidence(estimate, tally)
    if inputs.strict:
        estimate.require_priced()
    outcome = next((s for s in estimate.scenarios if s.name == inputs.scenario), None)
    if outcome is None:
        known = ", ".join(s.name for s in estimate.scenarios)
        raise PolicyError(f"no scenario '{inputs.scenario}' to gate on (scenarios: {known})",
                          source=policy.source, field="inputs.scenario")
    frame = estimate.kept_frame if estimate.kept_frame is not None else logset.frame
    bench = load_bench_summary(inputs.bench) if inputs.bench else None
    baseline = inputs.baseline
    if baseline is not None and not inputs.baseline_required and not Path(baseline).exists():
        baseline = None
    diff = _baseline_diff(baseline, estimate)
    ctx = Context(policy, estimate, outcome, frame, catalog, bench, diff)
    verdicts = evaluate(ctx)
    result = CheckResult(
        policy=policy.source,
        scenario=outcome.name,
        window_days=estimate.window.days,
        requests=estimate.window.requests,
        projection_days=estimate.projection_days,
        monthly_cost=outcome.monthly_cost_with_growth,
        verdicts=verdicts,
        drivers=drivers(ctx),
        diff=diff,
        baseline_source=baseline,
        unpriced=tuple(outcome.priced.unpriced_requests()),
    )
    return CheckRun(result, estimate, logset.files)


def _with_evidence_tally(policy: Policy, scenarios: list[Scenario],
                         catalog: Catalog) -> tuple[list[Scenario], EvidenceRun | None]:
    """With quality or latency rules: the scenarios wrapped to tally their traffic (llmcost.evidence), from
    inputs.bench or the scenario file's bench_results; without either, a policy error."""
    from llmcost.budget.evidence_rules import NEEDS_BENCH
    from llmcost.evidence.wiring import evidence_for, tallied

    if not any(isinstance(r, QualityRule | LatencyRule) for r in policy.rules):
        return scenarios, None
    bench = policy.inputs.bench
    evidence = evidence_for(scenarios, catalog, [bench] if bench else [])
    if evidence is None:
        raise PolicyError(NEEDS_BENCH, source=policy.source, field="inputs.bench")
    return tallied(scenarios, catalog, evidence)


def _bench_only(policy: Policy, catalog: Catalog) -> CheckRun:
    """A policy without logs: fine when every rule is a bench gate (judged on the bench results alone)."""
    from llmcost.bench.summary import load_bench_summary

    need_logs = [f"'{policy.rule_name(i)}' ({rule.kind})" for i, rule in enumerate(policy.rules)
                 if not isinstance(rule, BenchGate)]
    if need_logs:
        raise PolicyError(f"needs at least one log file: rule{'s' * (len(need_logs) > 1)} "
                          f"{', '.join(need_logs)} price{'s' * (len(need_logs) == 1)} traffic (only bench rules "
                          "run without logs)", source=policy.source, field="inputs.logs")
    inputs = policy.inputs
    bench = load_bench_summary(inputs.bench) if inputs.bench else None
    verdicts = evaluate(BenchContext(policy, catalog, bench))
    result = CheckResult(policy=policy.source, scenario=inputs.scenario, window_days=Decimal(0), requests=0,
                         projection_days=inputs.projection_days, monthly_cost=Decimal(0), verdicts=verdicts,
                         bench_only=True)
    return CheckRun(result, None, ())


def _baseline_only(policy: Policy) -> bool:
    """Skip the built-in scenario set when no scenario file is given and no rule looks past the baseline."""
    from llmcost.budget.policy import ScenarioSavings

    inputs = policy.inputs
    needs_more = inputs.scenario != "baseline" or any(isinstance(r, ScenarioSavings) for r in policy.rules)
    needs_more = needs_more or any(isinstance(r, QualityRule | LatencyRule) and r.scenario not in (None, "baseline")
                                   for r in policy.rules)
    return inputs.scenarios is None and not needs_more


def estimate_json(estimate: Estimate) -> str:
    from llmcost.report.estimate_json import render_json

    return render_json(estimate)


def _baseline_diff(path: str | None, estimate: Estimate) -> EstimateDiff | None:
    if path is None:
        return None
    from llmcost.diff import diff_estimates, load_result
    from llmcost.errors import InputError

    kind, base = load_result(path)
    if kind != "estimate":
        raise InputError("the baseline must be an estimate result (`llmcost estimate --format json`)",
                         source=path, field="kind")
    head = json.loads(estimate_json(estimate), parse_float=Decimal)
    return diff_estimates(base, head, path, "this run")
