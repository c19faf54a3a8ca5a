"""Garbage from an endpoint is that request's error, named by field and value, never a crash of the run and never
a guess: a number where a list belongs, usage that is a string, true, negative, fractional, 1e400 or NaN, a body
that claims gzip and is not, JSON nested 100,000 deep."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from llmcost.bench.client import HttpChatClient, RequestFailed
from llmcost.bench.wire import ChatRequest, Usage

REQ = ChatRequest((("user", "hi"),), max_tokens=5)
JSON = {"content-type": "application/json"}
SSE = {"content-type": "text/event-stream"}


def answer(body: bytes, headers: dict[str, str], api: str = "openai") -> Usage | None:
    async def go() -> Usage | None:
        client = HttpChatClient(api=api, base_url="http://llm.test/v1", model="m", api_key="k" * 20,  # type: ignore[arg-type]
                                timeout_s=5, transport=httpx.MockTransport(lambda _: httpx.Response(
                                    200, content=body, headers=headers)))
        try:
            return (await client.complete(REQ)).usage
        finally:
            await client.aclose()

    return asyncio.run(go())


def failure(body: bytes, headers: dict[str, str], api: str = "openai") -> str:
    with pytest.raises(RequestFailed) as info:
        answer(body, headers, api)
    return str(info.value)


def usage_body(usage: str) -> bytes:
    return ('{"choices": [{"message": {"content": "x"}}], "usage": ' + usage + "}").encode()


@pytest.mark.parametrize(("usage", "shown"), [
    ('{"prompt_tokens": "7", "completion_tokens": 2}', 'usage.prompt_tokens is "7"'),
    ('{"prompt_tokens": true, "completion_tokens": 2}', "usage.prompt_tokens is true"),
    ('{"prompt_tokens": -5, "completion_tokens": 2}', "usage.prompt_tokens is -5"),
    ('{"prompt_tokens": 1.5, "completion_tokens": 2}', "usage.prompt_tokens is 1.5"),
    ('{"prompt_tokens": 1e400, "completion_tokens": 2}', "usage.prompt_tokens is inf"),
    ('{"prompt_tokens": NaN, "completion_tokens": 2}', "usage.prompt_tokens is nan"),
    ('{"prompt_tokens": 99999999999999999999999, "completion_tokens": 2}', "usage.prompt_tokens is 9999"),
    ('{"prompt_tokens": 3, "completion_tokens": 2, "prompt_tokens_details": 5}', "prompt_tokens_details is 5"),
    ('{"prompt_tokens": 3, "completion_tokens": 2, "prompt_tokens_details": {"cached_tokens": -1}}',
     "usage.prompt_tokens_details.cached_tokens is -1"),
])
def test_bad_usage_is_a_malformed_usage_error_naming_field_and_value(usage: str, shown: str) -> None:
    text = failure(usage_body(usage), JSON)
    assert text.startswith("malformed_usage: ") and shown in text
    assert "whole number" in text or "expected an object" in text


def test_good_usage_still_reads_and_whole_floats_are_counts() -> None:
    assert answer(usage_body('{"prompt_tokens": 12.0, "completion_tokens": 3}'), JSON) == Usage(12, 3)


def test_anthropic_usage_is_checked_the_same_way() -> None:
    body = b'{"content": [{"type": "text", "text": "x"}], "usage": {"input_tokens": -3, "output_tokens": 1}}'
    assert "usage.input_tokens is -3" in failure(body, JSON, "anthropic")
    assert "content is 5; expected a list" in failure(b'{"content": 5}', JSON, "anthropic")


def test_a_number_where_choices_belong() -> None:
    assert failure(b'{"choices": 5}', JSON) == "malformed_response: choices is 5; expected a list"
    stream = b'data: {"choices": 5}\n\ndata: [DONE]\n\n'
    assert failure(stream, SSE) == "malformed_response: choices is 5; expected a list"


def test_a_body_that_claims_gzip_and_is_not() -> None:
    text = failure(b"not gzip at all", {**JSON, "content-encoding": "gzip"})
    assert text.startswith("malformed_response: response body could not be decoded")


def test_deep_nesting_is_a_malformed_response_not_a_recursion_error() -> None:
    body = b"data: " + b"[" * 100_000 + b"]" * 100_000 + b"\n\ndata: [DONE]\n\n"
    assert failure(body, SSE) == "malformed_response: unexpected response: nested too deeply"


def test_a_nan_provider_cost_is_no_cost_not_a_poisoned_total() -> None:
    async def go() -> object:
        body = usage_body('{"prompt_tokens": 1, "completion_tokens": 2, "cost": NaN}')
        client = HttpChatClient(api="openai", base_url="http://llm.test/v1", model="m", api_key=None,
                                timeout_s=5, transport=httpx.MockTransport(lambda _: httpx.Response(
                                    200, content=body, headers=JSON)))
        try:
            return (await client.complete(REQ)).provider_cost_usd
        finally:
            await client.aclose()

    assert asyncio.run(go()) is None
