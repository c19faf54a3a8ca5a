"""The bench endpoint client: the only module of llmcost that imports httpx.

Every httpx error becomes a :class:`RequestFailed` (an ``EndpointError``) with a ``kind`` the results
count by. The API key lives only in request headers: it is never part of a message, and any text an
endpoint sends back is scrubbed of it before it reaches an error.

Timing (all ``time.perf_counter``): the clock starts when the request starts on the wire (connection
set-up included; see :class:`SendClock`). TTFT is the time to the first event carrying generated text *or*
reasoning; each later such event adds one inter-token gap; latency is the time until the response is
complete. A stream is read to its end after its terminator so that its connection is reused.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import importlib
import importlib.util
import itertools
import json
import math
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from llmcost.bench.wire import (
    Accumulator,
    Api,
    ChatRequest,
    Usage,
    WireError,
    fold,
    request_body,
    request_headers,
    request_url,
)
from llmcost.errors import EndpointError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    import httpx

WIRE_START_EVENTS = frozenset({"connection.connect_tcp.started", "connection.connect_unix_socket.started",
                               "http11.send_request_headers.started", "http2.send_request_headers.started"})
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
MAX_ERROR_BODY = 2000
# Where servers say how long to wait, most precise first: OpenAI's own SDK reads ``retry-after-ms`` before
# ``retry-after``; a LiteLLM proxy passes an upstream provider's headers on with an ``llm_provider-`` prefix
# (its own rate limiter sends only ``llm_provider-retry-after``).
RETRY_AFTER_HEADERS = ("retry-after-ms", "retry-after", "llm_provider-retry-after-ms", "llm_provider-retry-after")
DRAIN_S = 1.0
DRAIN_LINES = 100


class RequestFailed(EndpointError):
    """One request failed. ``kind`` is e.g. ``timeout``, ``connection``, ``http_429``, ``malformed_chunk``."""

    def __init__(self, kind: str, message: str, *, status: int | None = None, retry_after: float | None = None,
                 retryable: bool = False, retry_after_header: str | None = None):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.retry_after_header = retry_after_header if retry_after is not None else None
        self.retryable = retryable


@dataclass(frozen=True)
class Completion:
    """One successful response and how long it took (seconds)."""

    text: str
    reasoning: str
    usage: Usage | None
    provider_cost_usd: Decimal | None
    latency_s: float
    ttft_s: float | None
    gaps_s: tuple[float, ...]
    finish_reason: str | None = None
    served_model: str | None = None
    streamed: bool = True


class SendClock:
    """When a request really left: the first of httpcore's trace events for it that starts work on the
    wire (opening a connection, or writing the request on a pooled one). Time spent before that, waiting
    for this event loop behind other requests inside httpx, is the client's own and is not timed. ``at``
    stays at the fallback when no such event comes (a transport that does not trace, as in unit tests)."""

    def __init__(self, fallback: float):
        self.at = fallback
        self._traced = False

    async def trace(self, event: str, _info: dict[str, Any]) -> None:
        if not self._traced and event in WIRE_START_EVENTS:
            self.at = time.perf_counter()
            self._traced = True


class ChatEndpoint(Protocol):
    """What the runner needs from an endpoint client."""

    async def complete(self, request: ChatRequest) -> Completion: ...

    async def aclose(self) -> None: ...


class HttpChatClient:
    """An OpenAI-compatible or Anthropic endpoint over httpx; ``transport`` is injectable for tests."""

    def __init__(self, *, api: Api, base_url: str, model: str, api_key: str | None, timeout_s: float = 60.0,
                 transport: httpx.AsyncBaseTransport | None = None):
        import httpx

        self.api: Api = api
        self.model = model
        self.timeout_s = timeout_s
        _preload_network_stack()
        self._url = request_url(api, base_url)
        self._secret = api_key or ""
        self._client = httpx.AsyncClient(
            headers=request_headers(api, api_key), transport=transport, timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64), trust_env=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def complete(self, request: ChatRequest) -> Completion:
        import httpx

        body = request_body(self.api, self.model, request)
        clock = SendClock(time.perf_counter())
        try:
            async with asyncio.timeout(self.timeout_s):
                if request.stream:
                    return await self._stream(body, clock)
                return await self._once(body, clock)
        except TimeoutError:
            raise RequestFailed("timeout", f"no complete response within {self.timeout_s:g} s",
                                retryable=True) from None
        except httpx.TimeoutException:
            raise RequestFailed("timeout", f"no complete response within {self.timeout_s:g} s",
                                retryable=True) from None
        except httpx.DecodingError as exc:
            raise RequestFailed("malformed_response",
                                self._scrub(f"response body could not be decoded: {exc}")) from None
        except httpx.RemoteProtocolError as exc:
            raise RequestFailed("connection", self._scrub(f"connection dropped: {exc}"), retryable=True) from None
        except httpx.TransportError as exc:
            what = type(exc).__name__
            raise RequestFailed("connection", self._scrub(f"{what}: {exc}"), retryable=True) from None
        except WireError as exc:
            raise RequestFailed(exc.kind, self._scrub(str(exc))) from None
        except (TypeError, AttributeError, KeyError, ValueError, OverflowError, RecursionError) as exc:
            # A body no API sends (a number where a list belongs, nesting 100,000 deep): whatever a shape
            # check missed is still a malformed response of this request, never a crash of the run.
            what = "nested too deeply" if isinstance(exc, RecursionError) else f"{type(exc).__name__}: {exc}"
            raise RequestFailed("malformed_response", self._scrub(f"unexpected response: {what}")[:300]) from None

    async def _once(self, body: dict[str, Any], clock: SendClock) -> Completion:
        response = await self._client.post(self._url, json=body, extensions={"trace": clock.trace})
        await self._check_status(response)
        return await self._whole_body(response, clock)

    async def _stream(self, body: dict[str, Any], clock: SendClock) -> Completion:
        acc = Accumulator()
        stamps: list[float] = []
        async with self._client.stream("POST", self._url, json=body, extensions={"trace": clock.trace}) as response:
            await self._check_status(response)
            if _is_json(response.headers.get("content-type")):
                return await self._whole_body(response, clock)
            lines = response.aiter_lines()
            async for line in lines:
                data = _sse_data(line)
                if data is None:
                    continue
                if data == "[DONE]":
                    acc.done = True
                    break
                try:
                    event = json.loads(data)
                except ValueError:
                    raise WireError("malformed_chunk", f"stream event is not JSON: {data[:80]!r}") from None
                if fold(self.api, acc, event, streaming=True):
                    stamps.append(time.perf_counter())
                if acc.done:
                    break
            end = time.perf_counter()
            if acc.done:
                await _drain(lines)
        if not acc.done:
            raise RequestFailed("incomplete_stream", "the stream ended before the response was complete",
                                retryable=True)
        ttft = stamps[0] - clock.at if stamps else None
        gaps = tuple(b - a for a, b in itertools.pairwise(stamps))
        return self._result(acc, end - clock.at, ttft, gaps)

    async def _whole_body(self, response: httpx.Response, clock: SendClock) -> Completion:
        """One JSON body: the answer to a non-streaming request, or to a streaming one that the server
        answered without streaming (LiteLLM's mock does): no TTFT, recorded as not streamed."""
        raw = await response.aread()
        try:
            data = json.loads(raw)
        except ValueError:
            raise WireError("malformed_response", "response body is not JSON") from None
        acc = Accumulator()
        fold(self.api, acc, data, streaming=False)
        return self._result(acc, time.perf_counter() - clock.at, None, (), streamed=False)

    def _result(self, acc: Accumulator, latency: float, ttft: float | None, gaps: tuple[float, ...], *,
                streamed: bool = True) -> Completion:
        return Completion("".join(acc.text), "".join(acc.reasoning), acc.final_usage(), acc.provider_cost,
                          latency, ttft, gaps, acc.finish_reason, acc.served_model, streamed)

    async def _check_status(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        body = await response.aread()
        # Redact the whole body first, then cut: cutting first could leave most of an echoed key in the
        # message (a key that straddles the cut is not whole, so no longer matches). What survives the cut
        # is redacted again, so a key's head at the very end is dropped too.
        raw = self._scrub(self._scrub(body.decode("utf-8", "replace"))[:MAX_ERROR_BODY])
        detail = _error_detail(raw)
        status = response.status_code
        wait, header = retry_after_from(response.headers)
        raise RequestFailed(
            f"http_{status}", self._scrub(f"HTTP {status}: {detail}" if detail else f"HTTP {status}"),
            status=status, retry_after=wait, retry_after_header=header, retryable=status in RETRYABLE_STATUS,
        )

    def _scrub(self, text: str) -> str:
        return redact(text, self._secret)


def _preload_network_stack() -> None:
    """Import what httpx loads lazily on its first request (anyio's asyncio backend: ~35 ms), so that
    one-off cost is not measured as the first request's TTFT."""
    for name in ("anyio._backends._asyncio", "anyio.streams.tls", "anyio.to_thread"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    # httpcore runs ``import sniffio`` for every lock and event it creates (several per request). Recent
    # anyio no longer installs sniffio, and a failed import is not cached: each one searched sys.path
    # again (~0.4 ms, a fifth of the client's CPU per request). Recording the absence makes it instant.
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


async def _drain(lines: AsyncIterator[str]) -> None:
    """Read what follows a stream's terminator (normally only the end of the body) so httpx returns the
    connection to its pool instead of closing it; a server that keeps sending or stalls is left after
    ``DRAIN_LINES`` lines or ``DRAIN_S`` seconds (its connection is then closed, as before)."""
    import httpx

    with contextlib.suppress(httpx.HTTPError, TimeoutError):
        async with asyncio.timeout(DRAIN_S):
            count = 0
            async for _line in lines:
                count += 1
                if count > DRAIN_LINES:
                    return


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def redact(text: str, secret: str) -> str:
    """``text`` with every occurrence of ``secret`` (4+ characters) replaced by ``[REDACTED]``, and a
    part of it cut off at either end of ``text`` (its first or last 4+ characters) dropped too, so that
    no truncation, before or after this, can leave most of a key behind."""
    if len(secret) < 4:
        return text
    text = text.replace(secret, "[REDACTED]")
    for size in range(len(secret) - 1, 3, -1):
        if text.endswith(secret[:size]):
            text = text[:-size] + "[REDACTED]"
            break
    for size in range(len(secret) - 1, 3, -1):
        if text.startswith(secret[-size:]):
            text = "[REDACTED]" + text[size:]
            break
    return text


def retry_after_from(headers: Mapping[str, str], now: float | None = None) -> tuple[float | None, str | None]:
    """Seconds the server asks us to wait and the header that said so, from the first of
    :data:`RETRY_AFTER_HEADERS` that parses (``-ms`` headers in milliseconds); ``(None, None)`` if none."""
    for name in RETRY_AFTER_HEADERS:
        value = headers.get(name)
        if value is None:
            continue
        seconds = _parse_ms(value) if name.endswith("-ms") else parse_retry_after(value, now)
        if seconds is not None:
            return seconds, name
    return None, None


def _parse_ms(value: str) -> float | None:
    try:
        ms = float(value.strip())
    except ValueError:
        return None
    return max(ms, 0.0) / 1000 if math.isfinite(ms) else None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)


def _sse_data(line: str) -> str | None:
    if not line.startswith("data:"):
        return None
    data = line[5:]
    return data[1:] if data.startswith(" ") else data


def _error_detail(raw: str) -> str:
    try:
        data = json.loads(raw)
    except ValueError:
        return " ".join(raw.split())[:300]
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:300]
        if isinstance(error, str):
            return error[:300]
    return " ".join(raw.split())[:300]
