"""A key echoed by an endpoint never survives in an error, whatever is cut where: redaction runs on the whole body
before any truncation, and a key cut in half at a boundary is dropped with the cut."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from llmcost.bench.client import MAX_ERROR_BODY, HttpChatClient, RequestFailed, redact
from llmcost.bench.wire import ChatRequest

SECRET = "sk-proj-ABCDEFGHIJ0123456789"
REQ = ChatRequest((("user", "hi"),), max_tokens=5)


def fail_with(body: bytes) -> str:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(401, content=body, headers={"content-type": "application/json"})

    async def go() -> str:
        client = HttpChatClient(api="openai", base_url="http://llm.test/v1", model="m", api_key=SECRET,
                                timeout_s=5, transport=httpx.MockTransport(handler))
        try:
            with pytest.raises(RequestFailed) as info:
                await client.complete(REQ)
            return str(info.value)
        finally:
            await client.aclose()

    return asyncio.run(go())


def leaked(message: str) -> int:
    """The longest piece (4+ characters) of the secret that appears in ``message``."""
    return max((n for n in range(4, len(SECRET) + 1) for i in range(len(SECRET) - n + 1)
                if SECRET[i:i + n] in message), default=0)


@pytest.mark.parametrize("at", range(280, 305))
def test_a_key_near_the_300_character_cut_of_a_message_leaves_nothing(at: int) -> None:
    message = "x" * at + SECRET + " more text after the key"
    text = fail_with(('{"error": {"message": "' + message + '"}}').encode())
    assert leaked(text) == 0, text


@pytest.mark.parametrize("shift", range(-30, 5))
def test_a_key_straddling_the_body_limit_leaves_nothing(shift: int) -> None:
    body = ("y" * (MAX_ERROR_BODY + shift - len(SECRET) // 2) + SECRET + "tail").encode()
    text = fail_with(body)
    assert leaked(text) == 0, text


def test_redact_drops_a_partial_key_at_either_end() -> None:
    assert redact("abc " + SECRET[:10], SECRET) == "abc [REDACTED]"
    assert redact(SECRET[-12:] + " abc", SECRET) == "[REDACTED] abc"
    assert redact("two " + SECRET + " and " + SECRET, SECRET) == "two [REDACTED] and [REDACTED]"
    assert redact("nothing here", SECRET) == "nothing here"


def test_the_old_bug_would_have_leaked(monkeypatch: Any) -> None:
    """Guard for the test above: truncating before redacting does leak (so the test can fail)."""
    message = "x" * 290 + SECRET
    cut = message[:300]
    assert SECRET not in cut and leaked(redact(cut.replace(SECRET, "[REDACTED]"), "")) >= 4
