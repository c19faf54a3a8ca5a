"""Whether to retry a failed request, how long to wait first, and, when giving up, why.

The wait is exponential backoff with jitter, unless the server said how long to wait (``retry-after-ms``,
``Retry-After`` or LiteLLM's ``llm_provider-`` copies, see :data:`llmcost.bench.client.RETRY_AFTER_HEADERS`):
that wait is honoured, plus up to 10 % jitter, up to a cap (``max_retry_after_s``, 120 s by default). A
longer wait is not taken: the request gives up and its record says so.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from llmcost.bench.client import RequestFailed


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 2
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 120.0


@dataclass(frozen=True)
class Decision:
    """Retry after ``wait_s`` seconds, or give up (``wait_s`` is None) for the reason in ``gave_up``."""

    wait_s: float | None
    gave_up: str | None = None


def decide(policy: RetryPolicy, attempt: int, exc: RequestFailed, rng: random.Random) -> Decision:
    """What to do after ``exc`` ended attempt number ``attempt`` (0-based)."""
    if not exc.retryable:
        return Decision(None, "not retryable")
    if attempt >= policy.retries:
        return Decision(None, f"retries exhausted ({attempt + 1} attempt{'s' if attempt else ''})")
    if exc.retry_after is not None:
        if exc.retry_after > policy.max_retry_after_s:
            header = exc.retry_after_header or "retry-after"
            return Decision(None, f"{header} asks for {exc.retry_after:g} s, above the "
                                  f"{policy.max_retry_after_s:g} s cap")
        return Decision(exc.retry_after * (1 + 0.1 * rng.random()))
    ceiling = min(policy.backoff_max_s, policy.backoff_base_s * 2.0**attempt)
    return Decision(ceiling * (0.5 + 0.5 * rng.random()))
