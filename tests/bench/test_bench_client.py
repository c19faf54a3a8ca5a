"""The endpoint client against httpx.MockTransport: wire formats, usage, error wrapping, redaction."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from llmcost.bench.client import HttpChatClient, RequestFailed, parse_retry_after, redact
from llmcost.bench.wire import ChatRequest, Usage
from llmcost.errors import EndpointError

SECRET = "sk-SENTINEL-0123456789"
REQ = ChatRequest((("user", "Capital of France?"),), system="Be brief.", max_tokens=20, temperature=0.0)


def sse(*events: Any, done: bool = True) -> bytes:
    lines = [f"data: {json.dumps(e)}\n\n" for e in events]
    if done:
        lines.append("data: [DONE]\n\n")
    return "".join(lines).encode()


def run(api: str, handler: Any, request: ChatRequest = REQ, key: str | None = SECRET) -> Any:
    async def go() -> Any:
        client = HttpChatClient(api=api, base_url="http://llm.test/v1", model="m", api_key=key,  # type: ignore[arg-type]
                                timeout_s=5, transport=httpx.MockTransport(handler))
        try:
            return await client.complete(request)
        finally:
            await client.aclose()

    return asyncio.run(go())


def openai_chunk(delta: dict[str, Any]) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}


def test_openai_stream_request_and_usage() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        usage = {"prompt_tokens": 12, "completion_tokens": 7, "cost": 0.00042,
                 "prompt_tokens_details": {"cached_tokens": 4},
                 "completion_tokens_details": {"reasoning_tokens": 3}}
        body = sse(openai_chunk({"role": "assistant", "content": ""}), openai_chunk({"reasoning_content": "hm"}),
                   openai_chunk({"content": "Par"}), openai_chunk({"content": "is"}),
                   {"choices": [], "usage": usage})
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    done = run("openai", handler)
    assert done.text == "Paris"
    assert done.reasoning == "hm"
    assert done.usage == Usage(input_tokens=12, output_tokens=7, cache_read_tokens=4, reasoning_tokens=3)
    assert done.provider_cost_usd == Decimal("0.00042")
    assert done.ttft_s is not None and 0 <= done.ttft_s <= done.latency_s
    assert len(done.gaps_s) == 2  # three deltas carried text or reasoning
    sent = json.loads(seen[0].content)
    assert str(seen[0].url) == "http://llm.test/v1/chat/completions"
    assert seen[0].headers["authorization"] == f"Bearer {SECRET}"
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["max_tokens"] == 20 and sent["temperature"] == 0.0


def test_anthropic_stream_usage_in_openai_convention() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = sse(
            {"type": "message_start", "message": {"model": "claude", "usage": {
                "input_tokens": 10, "output_tokens": 1, "cache_read_input_tokens": 100,
                "cache_creation_input_tokens": 30,
                "cache_creation": {"ephemeral_5m_input_tokens": 20, "ephemeral_1h_input_tokens": 10}}}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "x"}},
            {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Paris"}},
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}},
            {"type": "message_stop"}, done=False)
        return httpx.Response(200, content=body)

    done = run("anthropic", handler)
    assert done.text == "Paris" and done.reasoning == "x" and done.finish_reason == "end_turn"
    assert done.usage == Usage(input_tokens=140, output_tokens=9, cache_read_tokens=100, cache_write_tokens=20,
                               cache_write_1h_tokens=10)
    assert str(seen[0].url) == "http://llm.test/v1/messages"
    assert seen[0].headers["x-api-key"] == SECRET
    assert seen[0].headers["anthropic-version"] == "2023-06-01"
    sent = json.loads(seen[0].content)
    assert sent["system"] == "Be brief." and sent["messages"] == [{"role": "user", "content": "Capital of France?"}]


def test_non_streaming_both_apis() -> None:
    request = ChatRequest((("user", "hi"),), stream=False)

    def openai(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"choices": [{"index": 0, "message": {"content": "ok"}}],
                                         "usage": {"prompt_tokens": 3, "completion_tokens": 1}})

    def anthropic(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
                                         "usage": {"input_tokens": 3, "output_tokens": 1}})

    for api, handler in (("openai", openai), ("anthropic", anthropic)):
        done = run(api, handler, request)
        assert done.text == "ok" and done.ttft_s is None and done.gaps_s == ()
        assert done.usage == Usage(input_tokens=3, output_tokens=1)


def test_missing_usage_is_none() -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=sse(openai_chunk({"content": "hi"})))

    assert run("openai", handler).usage is None


@pytest.mark.parametrize(("status", "retryable"), [(429, True), (503, True), (500, True), (400, False)])
def test_http_errors_are_typed(status: int, retryable: bool) -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": {"message": "slow down"}}, headers={"retry-after": "2"})

    with pytest.raises(RequestFailed) as info:
        run("openai", handler)
    err = info.value
    assert isinstance(err, EndpointError)
    assert (err.kind, err.status, err.retry_after, err.retryable) == (f"http_{status}", status, 2.0, retryable)
    assert str(err) == f"http_{status}: HTTP {status}: slow down"


def test_malformed_chunk_and_incomplete_stream() -> None:
    def bad(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'data: {"choices": [\n\n')

    def cut(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=sse(openai_chunk({"content": "Pa"}), done=False))

    with pytest.raises(RequestFailed) as info:
        run("openai", bad)
    assert info.value.kind == "malformed_chunk" and not info.value.retryable
    with pytest.raises(RequestFailed) as info:
        run("openai", cut)
    assert info.value.kind == "incomplete_stream" and info.value.retryable


def test_transport_errors_are_wrapped() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(RequestFailed) as info:
        run("openai", refuse)
    assert info.value.kind == "connection" and info.value.retryable
    with pytest.raises(RequestFailed) as info:
        run("anthropic", slow)
    assert info.value.kind == "timeout" and str(info.value) == "timeout: no complete response within 5 s"


def test_key_echoed_by_endpoint_is_redacted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"message": f"bad key {request.headers['authorization']}"}})

    with pytest.raises(RequestFailed) as info:
        run("openai", handler)
    assert SECRET not in str(info.value)
    assert str(info.value) == "http_401: HTTP 401: bad key Bearer [REDACTED]"


def test_stream_error_event() -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=sse({"type": "error", "error": {"type": "overloaded_error",
                                                                          "message": "Overloaded"}}, done=False))

    with pytest.raises(RequestFailed) as info:
        run("anthropic", handler)
    assert str(info.value) == "stream_error: Overloaded"


def test_no_key_sends_no_auth_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=sse(openai_chunk({"content": "x"})))

    run("openai", handler, key=None)
    assert "authorization" not in seen[0].headers


def test_retry_after_forms() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert redact("a sk-xyz1 b", "sk-xyz1") == "a [REDACTED] b"
    assert redact("abc", "") == "abc"
