"""``--max-cost`` does not depend on concurrency: scheduling waits for in-flight reservations (each request's
upper bound) to settle into what the request really cost before deciding the cap is reached."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from bench_fake_llm import Behavior, serve

from llmcost.bench.client import Completion
from llmcost.bench.measure import Job
from llmcost.bench.runner import Runner, RunOptions
from llmcost.bench.suite import PromptCase
from llmcost.bench.targets import Target
from llmcost.bench.wire import ChatRequest, Usage
from llmcost.catalog import ModelPrice

Cli = Callable[..., Any]

SUITE = {"name": "cap", "prompts": [{"id": "sum", "prompt": "What is two plus two?", "max_tokens": 10}]}
CAP = Decimal("0.0002")


def write_inputs(tmp_path: Path, url: str) -> tuple[Path, Path]:
    model = {"id": "oa", "provider": "openai", "input_mtok": 1, "output_mtok": 2,
             "endpoint": {"base_url": url + "/v1", "api": "openai"}}
    catalog, suite = tmp_path / "catalog.yaml", tmp_path / "suite.yaml"
    catalog.write_text(yaml.safe_dump({"source": "test", "as_of": "2026-11-01", "models": [model]}))
    suite.write_text(yaml.safe_dump(SUITE))
    return catalog, suite


def test_max_cost_runs_the_same_requests_at_concurrency_1_and_16(cli: Cli, tmp_path: Path) -> None:
    """Each request is projected at $0.000032 (12 counted prompt tokens + 10 max output tokens) and costs
    $0.000013 (the server counts 5 prompt words and answers in 4 tokens). Under a $0.0002 cap, scheduling
    that stops at the first reservation over the cap ran 13 requests one at a time but only 6 with 16 in
    flight (6 × $0.000032 reserved)."""
    ran: dict[int, tuple[int, Decimal]] = {}
    with serve({"oa": Behavior(reply="The answer is 4.", ttft_s=0.05, itl_s=0.01)}) as fake:
        catalog, suite = write_inputs(tmp_path, fake.url)
        plan = json.loads(cli("bench", suite, "-c", catalog, "-n", "40", "--dry-run", "-f", "json").stdout)
        upper = Decimal(str(plan["projected_cost_usd"])) / 40
        for concurrency in (1, 16):
            before = fake.seen["oa"]
            results = tmp_path / f"c{concurrency}.jsonl"
            out = cli("bench", suite, "-c", catalog, "-n", "40", "--max-cost", str(CAP), "--concurrency",
                      str(concurrency), "--results", results, "-f", "json")
            assert out.exit_code == 0, out.stderr
            rows = [json.loads(line) for line in results.read_text().splitlines()]
            assert all(r["ok"] for r in rows)
            spent = sum((Decimal(r["cost_usd"]) for r in rows), Decimal(0))
            assert fake.seen["oa"] - before == len(rows)
            assert json.loads(out.stdout)["not_run"] == {"max_cost": 40 - len(rows)}
            ran[concurrency] = (len(rows), spent)
    assert upper == Decimal("0.000032")
    for _count, spent in ran.values():
        assert spent <= CAP  # never exceeded ...
        assert CAP - spent < upper  # ... and not stopped while another request's upper bound still fit
    assert abs(ran[1][0] - ran[16][0]) <= 1 and ran[16][0] >= 13, ran


class HalfOfProjected:
    """An endpoint answering after ``delay`` with one output token ($1 at the price below)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0

    async def complete(self, request: ChatRequest) -> Completion:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(self.delay)
        self.in_flight -= 1
        return Completion("ok", "", Usage(input_tokens=0, output_tokens=1), None, 0.01, 0.005, ())

    async def aclose(self) -> None:
        pass


def test_runner_waits_for_reservations_to_settle() -> None:
    """Projected $2, actual $1, cap $5.5: one at a time, requests start while spent + $2 ≤ $5.5, so 4 run
    ($4 spent); with 8 in flight the same 4 must run, none more, and those that fit run side by side."""
    price = ModelPrice(id="m", provider="x", input_mtok=Decimal(0), output_mtok=Decimal(1_000_000))
    target = Target("m", "openai", "http://unused", "m", None, price)
    jobs = [Job(PromptCase(f"p{i}", None, (), (("user", "q"),), None, None, 1, (), None), target, 0)
            for i in range(10)]
    for concurrency in (1, 8):
        endpoint = HalfOfProjected(delay=0.02)
        runner = Runner({"m": endpoint}, RunOptions(concurrency=concurrency, max_cost=Decimal("5.5")),
                        projected=lambda _j: Decimal(2))
        outcome = asyncio.run(runner.run(jobs))
        assert (len(outcome.records), outcome.spent, outcome.not_run) == (4, Decimal(4), {"max_cost": 6})
        assert endpoint.max_in_flight == (1 if concurrency == 1 else 2)
