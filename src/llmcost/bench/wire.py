"""The two wire formats ``bench`` speaks: OpenAI chat completions and Anthropic messages.

Pure functions over parsed JSON: building a request body and folding response events (SSE ``data``
payloads, or one non-streaming body) into an :class:`Accumulator`. No I/O, no httpx.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

Api = Literal["openai", "anthropic"]


@dataclass(frozen=True)
class Usage:
    """Token counts as the endpoint reported them, in the normalized frame's convention:
    ``input_tokens`` includes cached and cache-written tokens, ``output_tokens`` includes reasoning."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True)
class ChatRequest:
    """One prompt as sent: chat messages (``role``/``content``), an optional system prompt and settings."""

    messages: tuple[tuple[str, str], ...]
    system: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    stream: bool = True


class WireError(Exception):
    """The response broke the protocol (``kind`` names how); raised by the folding functions."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass
class Accumulator:
    """What a response has said so far."""

    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    raw_usage: dict[str, int] = field(default_factory=dict)
    provider_cost: Decimal | None = None
    finish_reason: str | None = None
    served_model: str | None = None
    done: bool = False

    def final_usage(self) -> Usage | None:
        if "input_tokens" not in self.usage or "output_tokens" not in self.usage:
            return None
        return Usage(**self.usage)


def request_url(api: Api, base_url: str) -> str:
    base = base_url.rstrip("/")
    if api == "openai":
        return f"{base}/chat/completions"
    return f"{base}/messages" if base.endswith("/v1") else f"{base}/v1/messages"


def request_headers(api: Api, api_key: str | None) -> dict[str, str]:
    headers = {"content-type": "application/json"}
    if api == "anthropic":
        headers["anthropic-version"] = "2023-06-01"
        if api_key:
            headers["x-api-key"] = api_key
    elif api_key:
        headers["authorization"] = f"Bearer {api_key}"
    return headers


def request_body(api: Api, model: str, req: ChatRequest) -> dict[str, Any]:
    messages = [{"role": role, "content": content} for role, content in req.messages]
    body: dict[str, Any] = {"model": model}
    if api == "openai":
        if req.system:
            messages.insert(0, {"role": "system", "content": req.system})
        body["messages"] = messages
        if req.max_tokens is not None:
            body["max_tokens"] = req.max_tokens
        if req.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
    else:
        body["messages"] = messages
        if req.system:
            body["system"] = req.system
        body["max_tokens"] = req.max_tokens if req.max_tokens is not None else 1024
        if req.stream:
            body["stream"] = True
    if req.temperature is not None:
        body["temperature"] = req.temperature
    return body


def fold(api: Api, acc: Accumulator, event: Any, *, streaming: bool) -> bool:
    """Fold one event into ``acc``; True when it carried generated text or reasoning."""
    if not isinstance(event, dict):
        raise WireError("malformed_response", "expected a JSON object")
    if api == "openai":
        return _fold_openai(acc, event, streaming)
    return _fold_anthropic(acc, event, streaming)


def _fold_openai(acc: Accumulator, event: dict[str, Any], streaming: bool) -> bool:
    if isinstance(event.get("error"), dict):
        raise WireError("stream_error", _message(event["error"]))
    acc.served_model = event.get("model") or acc.served_model
    got = False
    choices = event.get("choices") or []
    if not isinstance(choices, list):
        raise WireError("malformed_response", f"choices is {_shown(choices)}; expected a list")
    for choice in choices:
        if not isinstance(choice, dict) or choice.get("index", 0) != 0:
            continue
        part = choice.get("delta" if streaming else "message") or {}
        if not isinstance(part, dict):
            raise WireError("malformed_response", "choices[0].delta is not an object")
        content = part.get("content")
        thought = part.get("reasoning_content") or part.get("reasoning")
        if isinstance(content, str) and content:
            acc.text.append(content)
            got = True
        if isinstance(thought, str) and thought:
            acc.reasoning.append(thought)
            got = True
        acc.finish_reason = choice.get("finish_reason") or acc.finish_reason
    usage = event.get("usage")
    if isinstance(usage, dict):
        _openai_usage(acc, usage)
    if not streaming:
        acc.done = True
    return got


def _openai_usage(acc: Accumulator, usage: dict[str, Any]) -> None:
    prompt = _int(usage.get("prompt_tokens"), "prompt_tokens")
    completion = _int(usage.get("completion_tokens"), "completion_tokens")
    if prompt is None or completion is None:
        return
    prompt_details = _object(usage.get("prompt_tokens_details"), "usage.prompt_tokens_details")
    completion_details = _object(usage.get("completion_tokens_details"), "usage.completion_tokens_details")
    acc.usage = {
        "input_tokens": prompt,
        "output_tokens": completion,
        "cache_read_tokens": _count(prompt_details, "prompt_tokens_details", "cached_tokens") or 0,
        "cache_write_tokens": _count(prompt_details, "prompt_tokens_details", "cache_write_tokens") or 0,
        "reasoning_tokens": _count(completion_details, "completion_tokens_details", "reasoning_tokens") or 0,
    }
    cost = usage.get("cost")
    if cost is not None and not isinstance(cost, bool):
        try:
            acc.provider_cost = Decimal(str(cost))
        except InvalidOperation:
            acc.provider_cost = None
        if acc.provider_cost is not None and not acc.provider_cost.is_finite():
            acc.provider_cost = None  # NaN or Infinity (Python's json reads both): no cost rather than a poison


def _fold_anthropic(acc: Accumulator, event: dict[str, Any], streaming: bool) -> bool:
    kind = event.get("type")
    if kind == "error":
        raise WireError("stream_error", _message(event.get("error") or {}))
    if not streaming:
        acc.served_model = event.get("model")
        got = False
        content = event.get("content") or []
        if not isinstance(content, list):
            raise WireError("malformed_response", f"content is {_shown(content)}; expected a list")
        for block in content:
            got = _anthropic_block(acc, block, "text", "thinking") or got
        acc.finish_reason = event.get("stop_reason")
        _anthropic_usage(acc, event.get("usage") or {})
        acc.done = True
        return got
    if kind == "message_start":
        message = event.get("message") or {}
        acc.served_model = message.get("model")
        _anthropic_usage(acc, message.get("usage") or {})
    elif kind == "content_block_delta":
        return _anthropic_block(acc, event.get("delta") or {}, "text_delta", "thinking_delta")
    elif kind == "message_delta":
        acc.finish_reason = (event.get("delta") or {}).get("stop_reason") or acc.finish_reason
        _anthropic_usage(acc, event.get("usage") or {})
    elif kind == "message_stop":
        acc.done = True
    return False


def _anthropic_block(acc: Accumulator, block: Any, text_type: str, thinking_type: str) -> bool:
    if not isinstance(block, dict):
        raise WireError("malformed_response", "content block is not an object")
    if block.get("type") == text_type and block.get("text"):
        acc.text.append(str(block["text"]))
        return True
    if block.get("type") == thinking_type and block.get("thinking"):
        acc.reasoning.append(str(block["thinking"]))
        return True
    return False


def _anthropic_usage(acc: Accumulator, usage: dict[str, Any]) -> None:
    """Anthropic's ``input_tokens`` excludes cache reads and writes; ours includes them.
    ``message_delta`` repeats counts cumulatively, so later values replace earlier ones."""
    raw = acc.raw_usage
    for key in ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
        value = _int(usage.get(key), key)
        if value is not None:
            raw[key] = value
    detail = usage.get("cache_creation")
    if isinstance(detail, dict):
        raw["write_5m"] = _count(detail, "cache_creation", "ephemeral_5m_input_tokens") or 0
        raw["write_1h"] = _count(detail, "cache_creation", "ephemeral_1h_input_tokens") or 0
    if "input_tokens" not in raw or "output_tokens" not in raw:
        return
    cache_read = raw.get("cache_read_input_tokens", 0)
    written = raw.get("cache_creation_input_tokens", 0)
    write_1h = raw.get("write_1h", 0)
    acc.usage = {
        "input_tokens": raw["input_tokens"] + cache_read + written,
        "output_tokens": raw["output_tokens"],
        "cache_read_tokens": cache_read,
        "cache_write_tokens": max(written - write_1h, 0),
        "cache_write_1h_tokens": write_1h,
        "reasoning_tokens": 0,
    }


def _message(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("type") or "error")
    return str(error)


# The largest token count a float holds exactly; anything above is garbage, not usage.
MAX_TOKENS = 2**53


def _int(value: Any, where: str) -> int | None:
    """A token count from ``usage``: absent is None; anything but a whole number from 0 to 2**53 (a string,
    true, -5, 1.5, 1e400, NaN) is a malformed response naming the field and the value, never a guess."""
    if value is None:
        return None
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is None or not math.isfinite(number) or number != int(number) or not 0 <= number <= MAX_TOKENS:
        raise WireError("malformed_usage", f"usage.{where} is {_shown(value)}; expected a whole number of tokens "
                                           "from 0 to 2**53")
    return int(number)


def _count(parent: dict[str, Any], name: str, key: str) -> int | None:
    return _int(parent.get(key), f"{name}.{key}")


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WireError("malformed_usage", f"{where} is {_shown(value)}; expected an object")
    return value


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
