"""The runner with an in-memory endpoint: retries and backoff, Retry-After, concurrency, rate, cost cap,
deadline; and the summary it feeds (exact values, the JSON contract round trip)."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from pathlib import Path

from llmcost.bench.client import Completion, RequestFailed
from llmcost.bench.measure import Job
from llmcost.bench.results import Record, ResultsWriter, finished_keys, read_records
from llmcost.bench.runner import Runner, RunOptions, make_judge, plan
from llmcost.bench.stats import Gates, build_summary, percentile
from llmcost.bench.suite import PromptCase
from llmcost.bench.summary import load_bench_summary, parse_bench_summary
from llmcost.bench.targets import Target
from llmcost.bench.wire import ChatRequest, Usage
from llmcost.catalog import ModelPrice

PRICE = ModelPrice(id="m", provider="x", input_mtok=Decimal(0), output_mtok=Decimal(1_000_000))  # $1 per output token
TARGET = Target("m", "openai", "http://unused", "m", None, PRICE)


def case(i: int = 0, *, task: str | None = None, contains: str | None = None) -> PromptCase:
    from llmcost.bench.suite import Assertion

    checks = (Assertion.model_validate({"contains": contains}),) if contains else ()
    return PromptCase(f"p{i}", task, (), (("user", "q"),), None, None, 10, checks, None)


class Scripted:
    """An endpoint that fails with the scripted errors first, then answers after ``delay`` seconds."""

    def __init__(self, errors: list[RequestFailed] | None = None, delay: float = 0.0, text: str = "ok"):
        self.errors = list(errors or [])
        self.delay = delay
        self.text = text
        self.calls: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def complete(self, request: ChatRequest) -> Completion:
        self.calls.append(time.perf_counter())
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if self.errors:
                raise self.errors.pop(0)
            return Completion(self.text, "", Usage(input_tokens=3, output_tokens=1), None, 0.01, 0.005, ())
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        pass


def run(endpoint: Scripted, jobs: list[Job], **options: object) -> tuple[Runner, list[Record]]:
    runner = Runner({"m": endpoint}, RunOptions(seed=1, **options),  # type: ignore[arg-type]
                    projected=lambda _j: Decimal(1))
    outcome = asyncio.run(runner.run(jobs))
    return runner, list(outcome.records)


def jobs(n: int) -> list[Job]:
    return [Job(case(i), TARGET, 0) for i in range(n)]


def test_retry_after_is_honoured() -> None:
    endpoint = Scripted([RequestFailed("http_429", "slow", status=429, retry_after=0.2, retryable=True)])
    _, records = run(endpoint, jobs(1))
    assert records[0].ok and records[0].attempts == 2
    gap = endpoint.calls[1] - endpoint.calls[0]
    assert 0.2 <= gap < 0.2 * 1.1 + 0.05


def test_backoff_then_give_up_and_non_retryable() -> None:
    fail = RequestFailed("http_500", "boom", status=500, retryable=True)
    endpoint = Scripted([fail, fail, fail])
    _, records = run(endpoint, jobs(1), retries=2, backoff_base_s=0.02)
    assert (records[0].ok, records[0].error_type, records[0].attempts) == (False, "http_500", 3)
    gaps = [b - a for a, b in zip(endpoint.calls, endpoint.calls[1:], strict=False)]
    assert gaps[0] >= 0.01 and gaps[1] >= 0.02  # base * 2**attempt * [0.5, 1)
    endpoint = Scripted([RequestFailed("http_400", "bad", status=400)])
    _, records = run(endpoint, jobs(1))
    assert (records[0].error_type, records[0].attempts, records[0].error) == ("http_400", 1, "http_400: bad")


def test_concurrency_limit() -> None:
    endpoint = Scripted(delay=0.05)
    _, records = run(endpoint, jobs(9), concurrency=3)
    assert len(records) == 9 and endpoint.max_in_flight == 3


def test_fixed_rate_spacing() -> None:
    endpoint = Scripted()
    run(endpoint, jobs(4), rate=20.0)
    gaps = [b - a for a, b in zip(endpoint.calls, endpoint.calls[1:], strict=False)]
    assert all(0.04 <= g <= 0.09 for g in gaps), gaps


def test_poisson_arrivals_are_seeded() -> None:
    runner = Runner({}, RunOptions(rate=10.0, arrivals="poisson", seed=7))
    again = Runner({}, RunOptions(rate=10.0, arrivals="poisson", seed=7))
    first = [runner._interval() for _ in range(5)]
    assert first == [again._interval() for _ in range(5)] and len(set(first)) == 5


def test_max_cost_stops_scheduling_before_the_cap() -> None:
    endpoint = Scripted()
    runner, records = run(endpoint, jobs(5), max_cost=Decimal("2.5"), concurrency=1)
    assert len(records) == 2 and runner.not_run == {"max_cost": 3}
    assert runner.spent == Decimal(2)  # $1 per request: 1 output token at $1,000,000 per Mtok


def test_deadline_records_in_flight_and_counts_unsent() -> None:
    endpoint = Scripted(delay=1.0)
    started = time.perf_counter()
    runner, records = run(endpoint, jobs(4), concurrency=2, deadline_s=0.2)
    assert time.perf_counter() - started < 0.6
    assert [r.error_type for r in records] == ["deadline", "deadline"]
    assert runner.not_run == {"deadline": 2}


def test_judge_scores_and_failures() -> None:
    judge_endpoint = Scripted(text="Fine.\nSCORE: 3")
    judge = make_judge(judge_endpoint, 4)
    verdict = asyncio.run(judge(case(), "answer"))
    assert verdict is not None and (verdict.kind, verdict.passed, verdict.detail) == ("judge", False, "score 3")
    broken = make_judge(Scripted([RequestFailed("timeout", "x")]), 4)
    assert asyncio.run(broken(case(), "answer")) is None


def test_plan_order_and_resume_skip() -> None:
    other = Target("n", "openai", "http://unused", "n")
    planned = plan([case(0), case(1)], [TARGET, other], 2, skip={("p0", "m", 0)})
    assert [j.key for j in planned][:3] == [("p0", "n", 0), ("p1", "m", 0), ("p1", "n", 0)]
    assert len(planned) == 7


def rec(model: str, i: int, *, ok: bool = True, task: str = "a", passed: bool | None = True, ttft: float = 100.0,
        latency: float = 1000.0, cost: str | None = "0.001", error: str | None = None) -> Record:
    return Record(prompt_id=f"p{i}", model=model, repetition=0, task=task, ok=ok, error_type=error,
                  ttft_ms=ttft if ok else None, latency_ms=latency if ok else None, output_tokens_per_s=50.0,
                  input_tokens=10, output_tokens=20, usage_source="api",
                  cost_usd=Decimal(cost) if cost and ok else None, passed=passed)


def test_percentile_linear_interpolation() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10, 20, 30, 40, 50], 95) == 48.0
    assert percentile([7], 99) == 7
    assert percentile([], 50) is None


def sample_records() -> list[Record]:
    return [
        rec("cheap", 0, ttft=100, latency=900), rec("cheap", 1, ttft=200, latency=1100, passed=False),
        rec("cheap", 2, task="b", ttft=300, latency=1300),
        rec("cheap", 3, ok=False, error="timeout", passed=False),
        rec("good", 0, cost="0.01", ttft=50, latency=400), rec("good", 1, cost="0.01", ttft=60, latency=500),
        rec("good", 2, cost="0.01", task="b", ttft=70, latency=600),
    ]


def test_summary_values_and_recommendation() -> None:
    summary = build_summary(sample_records(), suite="s", models=["cheap", "good"],
                            gates=Gates(min_quality=0.9, slo_ttft_ms=250))
    cheap, good = summary["models"]
    assert (cheap["requests"], cheap["errors"], cheap["error_rate"]) == (4, 1, 0.25)
    assert cheap["errors_by_type"] == {"timeout": 1}
    assert cheap["quality_pass_rate"] == 0.5  # 2 of 4 scored; the timeout counts as not passed
    assert cheap["cost_usd"] == 0.003 and cheap["cost_per_request_usd"] == 0.001 and cheap["cost_per_1k_usd"] == 1.0
    assert cheap["ttft_ms"] == {"p50": 200.0, "p95": 290.0, "p99": 298.0}
    assert cheap["goodput"] == 0.5  # 2 of 4 requests succeeded with TTFT <= 250 ms
    assert [t["task"] for t in cheap["by_task"]] == ["a", "b"]
    assert cheap["by_task"][1]["quality_pass_rate"] == 1.0
    assert good["quality_pass_rate"] == 1.0 and good["cost_per_request_usd"] == 0.01
    rec_all, rec_a, rec_b = summary["recommendation"]
    assert (rec_all["task"], rec_all["model"]) == (None, "good")
    assert rec_all["reason"] == "cheapest meeting quality ≥ 90%, p95 TTFT ≤ 250 ms ($0.0100/request)"
    assert (rec_a["model"], rec_b["model"]) == ("good", "good")
    summary = build_summary(sample_records(), suite="s", models=["cheap", "good"], gates=Gates(slo_ttft_ms=250))
    assert [r["model"] for r in summary["recommendation"]] == ["good", "cheap", "good"]


def test_no_model_meets_the_gate() -> None:
    summary = build_summary(sample_records(), suite="s", models=["cheap", "good"], gates=Gates(min_quality=1.0,
                                                                                            slo_latency_ms=450))
    overall = summary["recommendation"][0]
    assert overall["model"] is None
    assert overall["reason"] == ("no model meets quality ≥ 100%, p95 latency ≤ 450 ms "
                                 "(cheap: quality 50%; good: p95 latency 590 ms)")


def test_summary_round_trips_through_the_contract(tmp_path: Path) -> None:
    summary = build_summary(sample_records(), suite="s", models=["cheap", "good"], gates=Gates())
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(summary))
    loaded = load_bench_summary(path)
    assert loaded == parse_bench_summary(summary)
    cheap = loaded.model("cheap")
    assert cheap is not None and cheap.requests == 4 and cheap.errors_by_type == {"timeout": 1}
    assert cheap.pass_rate("b") == 1.0 and cheap.pass_rate("zzz") == 0.5
    assert cheap.latency_ms.p50 == 1100.0 and cheap.goodput == 0.75
    assert loaded.recommendation[0]["model"] == "cheap"


def test_results_file_round_trip_and_resume_keys(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    writer = ResultsWriter(path, append=False)
    for r in sample_records():
        writer.write(r)
    writer.close()
    with path.open("a") as fh:
        fh.write('{"kind": "bench-request", "prompt_id": "cut off')
    records, bad = read_records(path)
    assert records == sample_records() and bad == 1
    assert ("p3", "cheap", 0) not in finished_keys(records) and ("p2", "cheap", 0) in finished_keys(records)
    line = json.loads(path.read_text().splitlines()[0])
    assert line["cost_usd"] == "0.001" and line["kind"] == "bench-request"


def test_results_file_loads_as_a_summary(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    writer = ResultsWriter(path, append=False)
    for r in sample_records():
        writer.write(r)
    writer.close()
    loaded = load_bench_summary(path)
    expected = parse_bench_summary(build_summary(sample_records(), suite="run", models=["cheap", "good"],
                                                 gates=Gates()))
    assert loaded == expected and loaded.suite == "run"
    assert [m.model for m in loaded.models] == ["cheap", "good"]
