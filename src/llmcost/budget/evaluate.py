"""Rules → verdicts. Every number comes from the core estimate; nothing here re-prices tokens by hand."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from llmcost.budget.policy import (
    BenchGate,
    CostPer1k,
    IncreaseVsBaseline,
    LatencyRule,
    MonthlySpend,
    Policy,
    QualityRule,
    Rule,
    ScenarioSavings,
)
from llmcost.budget.verdict import Driver, Unit, Verdict
from llmcost.budget.verdict_set import RuleVerdicts, Verdicts
from llmcost.errors import InputError, PolicyError

if TYPE_CHECKING:
    import pandas as pd

    from llmcost.bench.summary import BenchSummary, ModelSummary
    from llmcost.budget.task_spends import TaskSpends
    from llmcost.catalog import Catalog
    from llmcost.diff import EstimateDiff
    from llmcost.estimate import Estimate, ScenarioOutcome

THOUSAND = Decimal(1000)


@dataclass(frozen=True)
class Spend:
    """Cost of one subject of the gated scenario: observed USD and the requests it covers."""

    subject: str
    observed: Decimal
    requests: float


class BenchContext:
    """What bench gates are judged against: a policy whose rules are all bench gates needs no logs."""

    def __init__(self, policy: Policy, catalog: Catalog, bench: BenchSummary | None = None):
        self.policy = policy
        self.catalog = catalog
        self.bench = bench


class Context(BenchContext):
    """Everything rules are judged against. Per-task pricing is computed once, on first use."""

    def __init__(self, policy: Policy, estimate: Estimate, outcome: ScenarioOutcome, frame: pd.DataFrame,
                 catalog: Catalog, bench: BenchSummary | None = None, diff: EstimateDiff | None = None):
        super().__init__(policy, catalog, bench)
        self.estimate = estimate
        self.outcome = outcome
        self.frame = frame
        self.diff = diff

    def monthly(self, observed: Decimal) -> Decimal:
        """The projected bill of a part of the gated scenario (with its growth assumption, if any)."""
        return self.outcome.monthly_with_growth(observed)

    def total(self) -> Spend:
        priced = self.outcome.priced.priced
        return Spend("total", self.outcome.observed_cost, sum(m.tokens.requests for m in priced))

    def model_id(self, name: str, field: str) -> str:
        found = self.catalog.resolve(name)
        if found is None:
            raise PolicyError(f"unknown model '{name}' (not in catalog {self.catalog.source})",
                              source=self.policy.source, field=field)
        return found

    def models(self) -> list[Spend]:
        return [Spend(f"model {m.model}", m.cost, m.tokens.requests)
                for m in self.outcome.priced.priced if m.cost is not None]

    def model(self, model_id: str) -> Spend:
        for m in self.outcome.priced.priced:
            if m.model == model_id and m.cost is not None:
                return Spend(f"model {model_id}", m.cost, m.tokens.requests)
        return Spend(f"model {model_id}", Decimal(0), 0)

    @functools.cached_property
    def task_spends(self) -> TaskSpends:
        """The gated scenario's cost and priced requests per task, sorted by task name. Exact and vectorized for
        every task at once, kept as columns (``task_spends``); a scenario's fractional traffic is priced task by
        task instead, from token groups summed in one pass (the breakdowns' own)."""
        from llmcost.budget.task_spends import TaskSpends, task_spends

        exact = task_spends(self.frame, self.catalog)
        return exact if exact is not None else TaskSpends.of_decimals(self._by_task_one_by_one())

    @functools.cached_property
    def by_task(self) -> dict[str, tuple[Decimal, float]]:
        """``task_spends`` as a dict by task name (one object per task: for few tasks)."""
        spends = self.task_spends
        return {spends.names.name(i): (spends.observed(i), float(spends.requests[i]))
                for i in spends.names.order.tolist()}

    def _by_task_one_by_one(self) -> dict[str, tuple[Decimal, float]]:
        from llmcost.breakdowns import Breakdowns, BreakdownSpec
        from llmcost.pricing import price_groups

        tables = Breakdowns([BreakdownSpec(("task",), None)], self.catalog)
        tables.add(self.frame)
        per_task = tables.key_groups(0)
        out = {}
        for key in sorted(per_task):
            priced = price_groups(per_task[key], self.catalog)
            out[key[0]] = (priced.total, sum(m.tokens.requests for m in priced.priced))
        return out

    def tasks(self, field: str) -> TaskSpends:
        self.require_column("task", field)
        return self.task_spends

    def task(self, name: str, field: str) -> Spend:
        self.require_column("task", field)
        spends = self.task_spends
        at = spends.index(name)
        if at is None:
            return Spend(f"task {name}", Decimal(0), 0.0)
        return spends.spend(at)

    def tag(self, name: str, field: str) -> Spend:
        from llmcost.pricing import price

        self.require_column("tags", field)
        tags = self.frame["tags"].astype("object").explode()
        tags = tags.astype("string").str.split(",").explode().str.strip()
        hit = tags[tags == name].index.unique()
        priced = price(self.frame.loc[hit], self.catalog)
        return Spend(f"tag {name}", priced.total, sum(m.tokens.requests for m in priced.priced))

    def require_column(self, column: str, field: str) -> None:
        if column not in self.frame.columns:
            raise InputError(f"the logs have no '{column}' column to group by", source=self.policy.source,
                             field=field)


def _missing(value: object) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))  # type: ignore[call-overload]


def evaluate(ctx: BenchContext) -> Verdicts:
    """Judge every rule of the policy, in file order (a rule over every task as one columnar block)."""
    out: list[Verdict | RuleVerdicts] = []
    for index, rule in enumerate(ctx.policy.rules):
        out.extend(_judge(ctx, index, rule))
    return Verdicts(out)


def _judge(ctx: BenchContext, index: int, rule: Rule) -> Iterator[Verdict | RuleVerdicts]:
    line = ctx.policy.lines[index] if index < len(ctx.policy.lines) else None
    name = ctx.policy.rule_name(index)
    where = f"rules[{index}]"

    def verdict(subject: str, metric: str, bound: Literal["max", "min"], limit: Decimal | float,
                actual: Decimal | float | None, unit: Unit, note: str = "") -> Verdict:
        return Verdict(name, rule.kind, subject, metric, rule.severity, bound, _dec(limit),
                       None if actual is None else _dec(actual), unit, line, note)

    if isinstance(rule, BenchGate):
        yield from _bench(ctx, rule, where, verdict)
        return
    assert isinstance(ctx, Context), "only bench rules are judged without logs (run_check makes sure)"
    if isinstance(rule, QualityRule | LatencyRule):
        from llmcost.budget.evidence_rules import judge_evidence

        yield from judge_evidence(ctx, rule, where, verdict)
        return
    if isinstance(rule, MonthlySpend | CostPer1k) and rule.per == "task":
        from llmcost.budget.per_task import per_task_verdicts

        yield per_task_verdicts(ctx, rule, ctx.tasks(f"{where}.per"), verdict)
    elif isinstance(rule, MonthlySpend | CostPer1k):
        for spend in _subjects(ctx, rule, where):
            if isinstance(rule, MonthlySpend):
                yield verdict(spend.subject, "monthly cost", "max", rule.max_usd, ctx.monthly(spend.observed), "usd")
            else:
                per_1k = spend.observed / _dec(spend.requests) * THOUSAND if spend.requests else Decimal(0)
                yield verdict(spend.subject, "cost per 1k requests", "max", rule.max_usd, per_1k, "usd")
    elif isinstance(rule, ScenarioSavings):
        outcome = _scenario(ctx, rule.scenario, f"{where}.scenario")
        saved, pct = ctx.estimate.savings(outcome)
        subject = f"scenario {rule.scenario}"
        known = ctx.estimate.comparable(outcome)  # unpriced traffic is no saving: fail closed
        note = "" if known else "incomplete: the scenario leaves traffic unpriced"
        if rule.min_usd is not None:
            yield verdict(subject, "monthly savings", "min", rule.min_usd, saved if known else None, "usd", note)
        if rule.min_pct is not None:
            yield verdict(subject, "monthly savings %", "min", rule.min_pct, pct if known else None, "pct", note)
    else:
        yield from _increase(ctx, rule, where, verdict)


def _subjects(ctx: Context, rule: MonthlySpend | CostPer1k, where: str) -> list[Spend]:
    if rule.model is not None:
        return [ctx.model(ctx.model_id(rule.model, f"{where}.model"))]
    if rule.task is not None:
        return [ctx.task(rule.task, f"{where}.task")]
    if rule.tag is not None:
        return [ctx.tag(rule.tag, f"{where}.tag")]
    if rule.per == "model":
        return ctx.models()
    return [ctx.total()]


Make = Callable[..., Verdict]


def _increase(ctx: Context, rule: IncreaseVsBaseline, where: str, verdict: Make) -> Iterator[Verdict]:
    if ctx.diff is None and not ctx.policy.inputs.baseline_required:
        note = "skipped: no baseline"
        for metric, limit, unit in (("increase vs baseline", rule.max_usd, "usd"),
                                    ("increase vs baseline %", rule.max_pct, "pct")):
            if limit is not None:
                made = verdict(f"model {rule.model}" if rule.model else "total", metric, "max", limit, None, unit,
                               note)
                yield replace(made, skipped=True)
        return
    if ctx.diff is None:
        raise PolicyError("an increase_vs_baseline rule needs a baseline estimate (inputs.baseline or "
                          "--baseline FILE)", source=ctx.policy.source, field="inputs.baseline")
    scenario = ctx.outcome.name
    change = ctx.diff.scenario(scenario)
    if change is None or change.total.before is None:
        raise InputError(f"the baseline has no scenario '{scenario}'", source=ctx.diff.base, field="scenarios")
    total = change.total
    subject = "total"
    if rule.model is not None:
        model_id = ctx.catalog.resolve(rule.model) or rule.model
        total = change.model(model_id) or change.total.__class__(model_id, None, None)
        subject = f"model {model_id}"
    if rule.max_usd is not None:
        yield verdict(subject, "increase vs baseline", "max", rule.max_usd, total.delta, "usd")
    if rule.max_pct is not None:
        pct = total.pct
        note = ""
        if pct is None:
            pct = Decimal(0) if not total.delta else None
            note = "" if pct is not None else "new spend: the baseline had none"
        yield verdict(subject, "increase vs baseline %", "max", rule.max_pct, pct, "pct", note)


def scenario_outcome(ctx: Context, name: str, field: str) -> ScenarioOutcome:
    """The estimate's scenario ``name`` (a policy error naming ``field`` when there is none)."""
    return _scenario(ctx, name, field)


def _scenario(ctx: Context, name: str, field: str) -> ScenarioOutcome:
    for outcome in ctx.estimate.scenarios:
        if outcome.name == name:
            return outcome
    known = ", ".join(s.name for s in ctx.estimate.scenarios)
    raise PolicyError(f"no scenario '{name}' in this estimate (scenarios: {known})", source=ctx.policy.source,
                      field=field)


def _bench(ctx: BenchContext, rule: BenchGate, where: str, verdict: Make) -> Iterator[Verdict]:
    if ctx.bench is None:
        raise PolicyError("a bench rule needs bench results (inputs.bench or --bench FILE)",
                          source=ctx.policy.source, field="inputs.bench")
    summary = _bench_model(ctx, rule.model)
    subject = f"model {rule.model}"
    missing = "not in the bench results" if summary is None else "not measured by the bench"
    checks: list[tuple[str, Literal["max", "min"], float | None, Unit, Callable[[ModelSummary], float | None]]] = [
        ("quality pass rate", "min", rule.min_quality_pass_rate, "rate", lambda m: m.quality_pass_rate),
        ("p95 latency", "max", rule.max_p95_latency_ms, "ms", lambda m: m.latency_ms.p95),
        ("p95 TTFT", "max", rule.max_p95_ttft_ms, "ms", lambda m: m.ttft_ms.p95),
        ("error rate", "max", rule.max_error_rate, "rate", lambda m: m.error_rate),
    ]
    for metric, bound, limit, unit, get in checks:
        if limit is None:
            continue
        actual = get(summary) if summary is not None else None
        yield verdict(subject, metric, bound, limit, actual, unit, missing if actual is None else "")


def _bench_model(ctx: BenchContext, name: str) -> ModelSummary | None:
    assert ctx.bench is not None
    exact = ctx.bench.model(name)
    if exact is not None:
        return exact
    wanted = ctx.catalog.resolve(name)
    if wanted is None:
        return None
    return next((m for m in ctx.bench.models if ctx.catalog.resolve(m.model) == wanted), None)


def drivers(ctx: Context, top: int = 5) -> tuple[Driver, ...]:
    """The biggest monthly costs of the gated scenario, by model and (when logged) by task."""
    total = ctx.outcome.priced.total
    spends: list[tuple[Literal["model", "task"], Spend]] = [("model", s) for s in ctx.models()[:top]]
    if "task" in ctx.frame.columns:
        tasks = ctx.tasks("task")
        spends += [("task", tasks.spend(i)) for i in tasks.top(top)]
    return tuple(
        Driver(by, s.subject.split(" ", 1)[1], s.requests, ctx.monthly(s.observed),
               s.observed / total * 100 if total else Decimal(0))
        for by, s in spends
    )


def _dec(value: Decimal | float | int) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) or float(value).is_integer():
        return Decimal(int(value))
    return Decimal(repr(float(value)))
