"""Turning one response (or one failure) into a result record: timings, tokens, cost and quality."""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from llmcost.bench.client import Completion, RequestFailed
from llmcost.bench.results import MAX_OUTPUT_CHARS, Record
from llmcost.bench.scoring import Check, check_all
from llmcost.bench.suite import PromptCase
from llmcost.bench.targets import Target
from llmcost.bench.wire import Usage
from llmcost.errors import LlmcostError

DEFAULT_ENCODING = "o200k_base"
MESSAGE_OVERHEAD = 3  # tokens a chat template adds per message (OpenAI's published rule of thumb)

Judge = Callable[[PromptCase, str], Awaitable[Check | None]]


@dataclass(frozen=True)
class Job:
    """One request to make: a prompt case, a target, and which repetition."""

    case: PromptCase
    target: Target
    repetition: int

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.case.id, self.target.name, self.repetition)


def count_tokens(text: str, encoding: str | None) -> tuple[int, str]:
    """Tokens in ``text`` with tiktoken (offline, via ``llmcost.tokens``), and how they were counted.
    When no encoding can be loaded, falls back to ~4 characters per token and says so."""
    try:
        from llmcost.tokens import get_encoding
    except ImportError:  # pragma: no cover - llmcost.tokens ships with llmcost
        return (len(text) + 3) // 4, "chars/4"
    for name in dict.fromkeys([encoding or DEFAULT_ENCODING, DEFAULT_ENCODING]):
        try:
            enc = get_encoding(name)
        except (LlmcostError, ValueError, KeyError, OSError):
            continue  # an encoding llmcost cannot load offline: try the default one
        return len(enc.encode(text, disallowed_special=())), "tiktoken"
    return (len(text) + 3) // 4, "chars/4"


def prompt_tokens(case: PromptCase, target: Target) -> int:
    encoding = target.price.tokenizer if target.price else None
    n, _ = count_tokens(case.text, encoding)
    return n + MESSAGE_OVERHEAD * (len(case.messages) + (1 if case.system else 0)) + MESSAGE_OVERHEAD


def estimated_usage(job: Job, completion: Completion) -> tuple[Usage, str]:
    """Counted tokens for a response without ``usage``; the source says they are estimates."""
    encoding = job.target.price.tokenizer if job.target.price else None
    out, how = count_tokens(completion.text + completion.reasoning, encoding)
    return Usage(input_tokens=prompt_tokens(job.case, job.target), output_tokens=out), f"estimated ({how})"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def success_record(job: Job, completion: Completion, attempts: int, started_at: str,
                         judge: Judge | None, *, streamed: bool) -> Record:
    usage, source = (completion.usage, "api") if completion.usage else estimated_usage(job, completion)
    checks = list(check_all(job.case, completion.text, usage.output_tokens))
    if job.case.rubric and judge is not None:
        verdict = await judge(job.case, completion.text)
        if verdict is not None:
            checks.append(verdict)
    passed = all(c.passed for c in checks) if checks else None
    return Record(
        prompt_id=job.case.id, model=job.target.name, repetition=job.repetition, task=job.case.task, ok=True,
        attempts=attempts, started_at=started_at,
        ttft_ms=_ms(completion.ttft_s), latency_ms=_ms(completion.latency_s),
        itl_ms=_ms(statistics.fmean(completion.gaps_s)) if completion.gaps_s else None,
        tpot_ms=_ms(sum(completion.gaps_s) / (usage.output_tokens - 1))
        if completion.gaps_s and usage.output_tokens > 1 else None,
        output_tokens_per_s=round(usage.output_tokens / completion.latency_s, 3) if completion.latency_s > 0 else None,
        input_tokens=usage.input_tokens, cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens, cache_write_1h_tokens=usage.cache_write_1h_tokens,
        output_tokens=usage.output_tokens, reasoning_tokens=usage.reasoning_tokens, usage_source=source,
        cost_usd=job.target.cost(usage), provider_cost_usd=completion.provider_cost_usd, passed=passed,
        checks=tuple({"kind": c.kind, "passed": c.passed, **({"detail": c.detail} if c.detail else {})}
                     for c in checks),
        judge_score=_judge_score(checks), finish_reason=completion.finish_reason,
        output=completion.text[:MAX_OUTPUT_CHARS], streamed=streamed and completion.streamed,
        tags=job.case.tags,
    )


def failure_record(job: Job, error: RequestFailed, attempts: int, started_at: str, *,
                   gave_up: str | None = None) -> Record:
    scored = bool(job.case.assertions or job.case.rubric)
    return Record(
        prompt_id=job.case.id, model=job.target.name, repetition=job.repetition, task=job.case.task, ok=False,
        error_type=error.kind, error=str(error)[:500], gave_up=gave_up, attempts=attempts, started_at=started_at,
        passed=False if scored else None, tags=job.case.tags,
    )


def _judge_score(checks: list[Check]) -> int | None:
    for c in checks:
        if c.kind == "judge" and c.detail.startswith("score "):
            return int(c.detail.split()[1])
    return None


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)
