"""One bench run end to end, without printing: plan the jobs, price the plan, run them against the
endpoints writing each record as it completes, and build the summary."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from llmcost.bench.client import ChatEndpoint, HttpChatClient
from llmcost.bench.measure import Job, Judge, prompt_tokens
from llmcost.bench.results import Record, ResultsWriter, finished_keys, merge, read_records
from llmcost.bench.runner import Runner, RunOptions, RunOutcome, make_judge, plan
from llmcost.bench.stats import Gates, build_summary
from llmcost.bench.suite import Suite
from llmcost.bench.targets import Target


@dataclass(frozen=True)
class ModelPlan:
    model: str
    requests: int
    prompt_tokens: int
    max_output_tokens: int
    projected_cost_usd: Decimal | None


@dataclass(frozen=True)
class BenchPlan:
    """What a run would send: the jobs, what was already done (``--resume``) and the projected cost
    (counted prompt tokens plus every request's ``max_tokens``: an upper bound)."""

    jobs: Sequence[Job]
    previous: tuple[Record, ...] = ()
    by_model: tuple[ModelPlan, ...] = ()
    bad_lines: int = 0
    # Projected cost of one request, by (prompt id, model).
    projected: Mapping[tuple[str, str], Decimal | None] = field(default_factory=dict)

    @property
    def projected_cost_usd(self) -> Decimal | None:
        costs = [m.projected_cost_usd for m in self.by_model]
        return None if any(c is None for c in costs) else sum((c for c in costs if c is not None), Decimal(0))

    @property
    def unpriced(self) -> list[str]:
        return [m.model for m in self.by_model if m.projected_cost_usd is None]


def make_plan(suite: Suite, targets: Sequence[Target], *, repetitions: int, results: Path | None = None,
              resume: bool = False) -> BenchPlan:
    previous: list[Record] = []
    bad = 0
    if resume and results is not None and results.exists():
        previous, bad = read_records(results)
        wanted = {(c.id, t.name, rep) for c in suite.cases for t in targets for rep in range(repetitions)}
        previous = [r for r in previous if r.key in wanted]  # prompts, models or repetitions no longer asked for
    jobs = plan(suite.cases, targets, repetitions, finished_keys(previous))
    # Priced per (prompt, model) and multiplied by the repetitions left: the same sums as job by job, in
    # time that does not grow with -n.
    projected = {(c.id, t.name): t.projected_cost(prompt_tokens(c, t), c.max_tokens)
                 for c in suite.cases for t in targets}
    by_model = []
    for t in targets:
        counts = [(c, jobs.remaining(c, t)) for c in suite.cases]
        counts = [(c, n) for c, n in counts if n > 0]
        costs = [projected[(c.id, t.name)] for c, _ in counts]
        total = None if any(c is None for c in costs) else sum(
            ((projected[(c.id, t.name)] or Decimal(0)) * n for c, n in counts), Decimal(0))
        by_model.append(ModelPlan(t.name, sum(n for _, n in counts),
                                  sum(prompt_tokens(c, t) * n for c, n in counts),
                                  sum(c.max_tokens * n for c, n in counts), total))
    return BenchPlan(jobs, tuple(previous), tuple(by_model), bad, projected)


@dataclass(frozen=True)
class BenchRun:
    outcome: RunOutcome
    records: tuple[Record, ...]
    summary: dict[str, Any]


def run_bench(suite: Suite, targets: Sequence[Target], keys: Mapping[str, str | None], bench_plan: BenchPlan,
              options: RunOptions, gates: Gates, *, results: Path | None = None,
              resume: bool = False, judge_target: Target | None = None, judge_min_score: int = 4,
              on_record: Callable[[Record], None] = lambda _r: None, transport: Any = None) -> BenchRun:
    """Run the plan; records go to ``results`` as they complete (appended when resuming: a later line
    for the same key wins when the file is read back)."""
    writer = ResultsWriter(results, append=resume) if results is not None else None

    def record(r: Record) -> None:
        if writer is not None:
            writer.write(r)
        on_record(r)

    try:
        outcome = asyncio.run(_execute(targets, keys, bench_plan, options, record,
                                         (judge_target, judge_min_score) if judge_target else None, transport))
    finally:
        if writer is not None:
            writer.close()
    records = merge(list(bench_plan.previous), list(outcome.records))
    summary = build_summary(records, suite=suite.name, models=[t.name for t in targets], gates=gates,
                            not_run=outcome.not_run)
    return BenchRun(outcome, tuple(records), summary)


async def _execute(targets: Sequence[Target], keys: Mapping[str, str | None], bench_plan: BenchPlan,
                   options: RunOptions, on_record: Callable[[Record], None],
                   judge_spec: tuple[Target, int] | None, transport: Any) -> RunOutcome:
    clients: dict[str, ChatEndpoint] = {t.name: _client(t, keys.get(t.name), options, transport) for t in targets}
    judge: Judge | None = None
    judge_client = None
    if judge_spec is not None:
        judge_target, min_score = judge_spec
        judge_client = _client(judge_target, keys.get(judge_target.name), options, transport)
        judge = make_judge(judge_client, min_score)
    try:
        runner = Runner(clients, options, projected=lambda j: bench_plan.projected.get((j.case.id, j.target.name)),
                        on_record=on_record, judge=judge)
        return await runner.run(bench_plan.jobs)
    finally:
        for c in clients.values():
            await c.aclose()
        if judge_client is not None:
            await judge_client.aclose()


def _client(target: Target, key: str | None, options: RunOptions, transport: Any) -> HttpChatClient:
    return HttpChatClient(api=target.api, base_url=target.base_url, model=target.served_model, api_key=key,
                          timeout_s=options.timeout_s, transport=transport)
