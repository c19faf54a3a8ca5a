"""Running a bench: scheduling requests under a concurrency limit, an optional arrival rate, a global
deadline and a cost cap, with retries (see :mod:`llmcost.bench.retry`).

Every job ends as exactly one :class:`Record`, failures included; jobs never started (cost cap reached,
deadline passed) are counted in :attr:`RunOutcome.not_run`.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, overload

from llmcost.bench.client import ChatEndpoint, RequestFailed
from llmcost.bench.measure import Job, Judge, failure_record, now_iso, success_record
from llmcost.bench.results import Record
from llmcost.bench.retry import RetryPolicy, decide
from llmcost.bench.scoring import Check, judge_request, judge_score
from llmcost.bench.suite import PromptCase
from llmcost.bench.targets import Target

Arrivals = Literal["fixed", "poisson"]


@dataclass(frozen=True)
class RunOptions:
    concurrency: int = 4
    rate: float | None = None
    arrivals: Arrivals = "fixed"
    timeout_s: float = 60.0
    retries: int = 2
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 120.0
    deadline_s: float | None = None
    max_cost: Decimal | None = None
    stream: bool = True
    seed: int | None = None


@dataclass(frozen=True)
class RunOutcome:
    records: tuple[Record, ...]
    not_run: dict[str, int] = field(default_factory=dict)
    spent: Decimal = Decimal(0)


def plan(cases: Sequence[PromptCase], targets: Sequence[Target], repetitions: int,
         skip: set[tuple[str, str, int]] | None = None) -> JobPlan:
    """Jobs in the order they are sent: repetition, then prompt, then model (models interleave, so they
    see the same conditions). ``skip`` holds keys already finished (``--resume``)."""
    return JobPlan(tuple(cases), tuple(targets), repetitions, frozenset(skip or ()))


class JobPlan(Sequence[Job]):
    """The jobs of a run, made as they are sent rather than held in a list: ``-n 100000000`` is a number
    to plan and price (``--dry-run``), not 100 million objects."""

    def __init__(self, cases: tuple[PromptCase, ...], targets: tuple[Target, ...], repetitions: int,
                 skip: frozenset[tuple[str, str, int]]):
        self.cases, self.targets, self.repetitions = cases, targets, repetitions
        names = {(c.id, t.name) for c in cases for t in targets}
        self.skip = frozenset(k for k in skip if (k[0], k[1]) in names and 0 <= k[2] < repetitions)

    def __len__(self) -> int:
        return self.repetitions * len(self.cases) * len(self.targets) - len(self.skip)

    def __iter__(self) -> Iterator[Job]:
        for rep in range(self.repetitions):
            for case in self.cases:
                for target in self.targets:
                    if not self.skip or (case.id, target.name, rep) not in self.skip:
                        yield Job(case, target, rep)

    @overload
    def __getitem__(self, index: int) -> Job: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Job]: ...

    def __getitem__(self, index: int | slice) -> Job | Sequence[Job]:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        if self.skip:
            return next(itertools.islice(self, index, None))
        per_rep = len(self.cases) * len(self.targets)
        rep, rest = divmod(index, per_rep)
        case, target = divmod(rest, len(self.targets))
        return Job(self.cases[case], self.targets[target], rep)

    def remaining(self, case: PromptCase, target: Target) -> int:
        """Repetitions of this (prompt, model) still to send."""
        done = sum(1 for k in self.skip if k[0] == case.id and k[1] == target.name)
        return self.repetitions - done


class Runner:
    def __init__(self, clients: Mapping[str, ChatEndpoint], options: RunOptions, *,
                 projected: Callable[[Job], Decimal | None] = lambda _job: None,
                 on_record: Callable[[Record], None] = lambda _r: None, judge: Judge | None = None):
        self.clients = clients
        self.options = options
        self.projected = projected
        self.on_record = on_record
        self.judge = judge
        self.rng = random.Random(options.seed)
        self.retry_policy = RetryPolicy(options.retries, options.backoff_base_s, options.backoff_max_s,
                                        options.max_retry_after_s)
        self.spent = Decimal(0)
        self.reserved = Decimal(0)
        self.in_flight = 0  # requests holding a reservation
        self.settled = asyncio.Event()  # set whenever a reservation settles into what it really cost
        self.records: list[Record] = []
        self.not_run: Counter[str] = Counter()

    async def run(self, jobs: Sequence[Job]) -> RunOutcome:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.deadline_s if self.options.deadline_s is not None else None
        sem = asyncio.Semaphore(self.options.concurrency)
        tasks: list[asyncio.Task[None]] = []
        started = 0
        try:
            async with asyncio.timeout_at(deadline):
                next_at = loop.time()
                for job in jobs:
                    if self.options.rate:
                        await asyncio.sleep(max(next_at - loop.time(), 0.0))
                        next_at += self._interval()
                    await sem.acquire()
                    cost = self.projected(job)
                    if not await self._fits_cap(cost):
                        sem.release()
                        self.not_run["max_cost"] += len(jobs) - started
                        break
                    self.reserved += cost or 0
                    self.in_flight += 1
                    tasks.append(asyncio.create_task(self._one(job, cost, sem, deadline)))
                    started += 1
        except TimeoutError:
            self.not_run["deadline"] += len(jobs) - started
        if tasks:
            await asyncio.gather(*tasks)
        return RunOutcome(tuple(self.records), dict(self.not_run), self.spent)

    def _interval(self) -> float:
        rate = self.options.rate or 1.0
        return self.rng.expovariate(rate) if self.options.arrivals == "poisson" else 1.0 / rate

    async def _fits_cap(self, cost: Decimal | None) -> bool:
        """Whether a request projected at ``cost`` fits under the cap. Reservations of requests in flight
        are upper bounds, so an apparent overrun waits for them to settle before it stops the run: the run
        then stops only when the next request's upper bound does not fit on top of what was really spent."""
        while self._over_cap(cost):
            if self.in_flight == 0:
                return False
            self.settled.clear()
            await self.settled.wait()
        return True

    def _over_cap(self, cost: Decimal | None) -> bool:
        cap = self.options.max_cost
        return cap is not None and self.spent + self.reserved + (cost or 0) > cap

    async def _one(self, job: Job, reserved: Decimal | None, sem: asyncio.Semaphore, deadline: float | None) -> None:
        started_at = now_iso()
        tries = [0]
        try:
            async with asyncio.timeout_at(deadline):
                record = await self._attempts(job, started_at, tries)
        except TimeoutError:
            late = RequestFailed("deadline", "the run's deadline passed before this request finished")
            record = failure_record(job, late, max(tries[0], 1), started_at)
        finally:
            sem.release()
            self.in_flight -= 1
            self.settled.set()  # waiters resume after this step, once the lines below have settled the cost
        self.reserved -= reserved or 0
        self.spent += record.cost_usd or 0
        self.records.append(record)
        self.on_record(record)

    async def _attempts(self, job: Job, started_at: str, tries: list[int]) -> Record:
        client = self.clients[job.target.name]
        request = job.case.request(stream=self.options.stream)
        for attempt in range(self.options.retries + 1):
            tries[0] = attempt + 1
            try:
                completion = await client.complete(request)
            except RequestFailed as exc:
                then = decide(self.retry_policy, attempt, exc, self.rng)
                if then.wait_s is None:
                    return failure_record(job, exc, attempt + 1, started_at, gave_up=then.gave_up)
                await asyncio.sleep(then.wait_s)
                continue
            return await success_record(job, completion, attempt + 1, started_at, self.judge,
                                        streamed=self.options.stream)
        raise AssertionError("unreachable")  # pragma: no cover


def make_judge(client: ChatEndpoint, min_score: int) -> Judge:
    """A judge that asks ``client`` to score an answer against the prompt's rubric (1-5).
    A judge failure leaves the answer unjudged rather than failed."""

    async def judge(case: PromptCase, answer: str) -> Check | None:
        try:
            reply = await client.complete(judge_request(case, answer))
        except RequestFailed:
            return None
        score = judge_score(reply.text)
        if score is None:
            return None
        return Check("judge", score >= min_score, f"score {score}")

    return judge
