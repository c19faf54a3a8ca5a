"""Running a bench: scheduling requests under a concurrency limit, an optional arrival rate, a global
deadline and a cost cap, with retries (see :mod:`llmcost.bench.retry`).

Every job ends as exactly one :class:`Record`, failures included; jobs never started (cost cap reached,
deadline passed) are counted in :attr:`RunOutcome.not_run`.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

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
         skip: set[tuple[str, str, int]] | None = None) -> list[Job]:
    """Jobs in the order they are sent: repetition, then prompt, then model (models interleave, so they
    see the same conditions). ``skip`` holds keys already finished (``--resume``)."""
    jobs = [Job(case, target, rep) for rep in range(repetitions) for case in cases for target in targets]
    return [j for j in jobs if not skip or j.key not in skip]


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
