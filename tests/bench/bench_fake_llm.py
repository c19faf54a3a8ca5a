"""A real HTTP server on 127.0.0.1 that speaks OpenAI chat completions and Anthropic messages, with
genuine SSE, injected delays and injected failures. Behaviour is chosen per served model name.

Token counts it reports are deterministic: prompt tokens = whitespace words of every message (and the
system prompt), completion tokens = number of streamed pieces.
"""

from __future__ import annotations

import json
import multiprocessing
import socket
import threading
import time
import urllib.request
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Behavior:
    reply: str | Callable[[str], str] = "Paris is the capital of France."
    ttft_s: float = 0.0
    itl_s: float = 0.0
    usage: bool = True
    reasoning: str | None = None
    cost: float | None = None
    cached_tokens: int = 0
    fail_first: int = 0
    fail_status: int = 500
    retry_after: str | None = None
    mode: str = "ok"  # ok | drop | malformed | hang | reset | error_echo
    hang_s: float = 2.0


@dataclass
class FakeLLM:
    behaviors: dict[str, Behavior]
    seen: Counter[str] = field(default_factory=Counter)
    auth: list[str] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def behavior(self, model: str) -> tuple[Behavior, int]:
        with self.lock:
            self.seen[model] += 1
            return self.behaviors.get(model, Behavior()), self.seen[model]


def prompt_words(body: dict[str, Any]) -> int:
    words = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    return words + len(str(body.get("system", "")).split())


def pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        fake = self.server.fake
        if self.path != "/_state":
            return self._json(404, {"error": {"message": "not found"}})
        with fake.lock:
            state = {"seen": dict(fake.seen), "auth": list(fake.auth), "bodies": list(fake.bodies)}
        return self._json(200, state)

    def setup(self) -> None:
        self.arrived = self.server.arrivals.pop(self.request.fileno(), time.perf_counter())
        super().setup()

    def do_POST(self) -> None:
        with suppress(BrokenPipeError, ConnectionResetError, OSError):
            self._serve()

    def _serve(self) -> None:
        fake = self.server.fake
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
        anthropic = self.path.endswith("/messages")
        with fake.lock:
            fake.bodies.append(body)
            fake.auth.append(self.headers.get("x-api-key") or self.headers.get("authorization") or "")
        b, n = fake.behavior(body["model"])
        if n <= b.fail_first:
            return self._fail(b)
        if b.mode == "reset":
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        if b.mode == "hang":
            self._sleep_until(b.hang_s)
        if b.mode == "error_echo":
            secret = self.headers.get("x-api-key") or self.headers.get("authorization") or ""
            return self._json(401, {"error": {"message": f"invalid key {secret}"}})
        prompt = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
        text = b.reply(prompt) if callable(b.reply) else b.reply
        usage = (prompt_words(body), len(pieces(text)) + (len(pieces(b.reasoning)) if b.reasoning else 0))
        if not body.get("stream"):
            self._sleep_until(b.ttft_s)
            return self._json(200, _anthropic_body(body, text, usage, b) if anthropic else
                              _openai_body(body, text, usage, b))
        events = _anthropic_events(body, text, usage, b) if anthropic else _openai_events(body, text, usage, b)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        self._stream(events, b)
        return None

    def _sleep_until(self, offset_s: float) -> None:
        """Sleep until ``offset_s`` after the connection was accepted: injected delays are measured from
        the request's arrival, so the fake's own processing time does not add to them."""
        time.sleep(max(self.arrived + offset_s - time.perf_counter(), 0.0))

    def _stream(self, events: Iterator[tuple[bool, str]], b: Behavior) -> None:
        sent = 0
        for is_token, line in events:
            if is_token:
                self._sleep_until(b.ttft_s + sent * b.itl_s)
                sent += 1
                if b.mode == "drop" and sent == 3:
                    self.wfile.flush()
                    return
                if b.mode == "malformed" and sent == 2:
                    line = "data: {not json"
            self.wfile.write((line + "\n\n").encode())
            self.wfile.flush()

    def _fail(self, b: Behavior) -> None:
        self.send_response(b.fail_status)
        if b.retry_after is not None:
            self.send_header("retry-after", b.retry_after)
        data = json.dumps({"error": {"message": f"injected {b.fail_status}"}}).encode()
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _openai_usage(usage: tuple[int, int], b: Behavior) -> dict[str, Any]:
    out: dict[str, Any] = {"prompt_tokens": usage[0], "completion_tokens": usage[1],
                           "total_tokens": sum(usage),
                           "prompt_tokens_details": {"cached_tokens": b.cached_tokens},
                           "completion_tokens_details": {"reasoning_tokens": len(pieces(b.reasoning))
                                                         if b.reasoning else 0}}
    if b.cost is not None:
        out["cost"] = b.cost
    return out


def _openai_events(body: dict[str, Any], text: str, usage: tuple[int, int],
                   b: Behavior) -> Iterator[tuple[bool, str]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        return "data: " + json.dumps({"id": "c1", "object": "chat.completion.chunk", "model": body["model"],
                                      "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    yield False, chunk({"role": "assistant", "content": ""})
    if b.reasoning:
        for p in pieces(b.reasoning):
            yield True, chunk({"reasoning_content": p})
    for p in pieces(text):
        yield True, chunk({"content": p})
    yield False, chunk({}, "stop")
    if b.usage and body.get("stream_options", {}).get("include_usage"):
        yield False, "data: " + json.dumps({"id": "c1", "choices": [], "usage": _openai_usage(usage, b)})
    yield False, "data: [DONE]"


def _openai_body(body: dict[str, Any], text: str, usage: tuple[int, int], b: Behavior) -> dict[str, Any]:
    out: dict[str, Any] = {"id": "c1", "model": body["model"], "choices": [
        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}
    if b.usage:
        out["usage"] = _openai_usage(usage, b)
    return out


def _anthropic_events(body: dict[str, Any], text: str, usage: tuple[int, int],
                      b: Behavior) -> Iterator[tuple[bool, str]]:
    def event(name: str, data: dict[str, Any]) -> str:
        return f"event: {name}\ndata: " + json.dumps({"type": name, **data})

    start_usage = {"input_tokens": usage[0] - b.cached_tokens, "output_tokens": 1,
                   "cache_read_input_tokens": b.cached_tokens, "cache_creation_input_tokens": 0}
    yield False, event("message_start", {"message": {"id": "m1", "model": body["model"], "role": "assistant",
                                                     "content": [], "usage": start_usage if b.usage else {}}})
    yield False, event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
    yield False, event("ping", {})
    for p in pieces(text):
        yield True, event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": p}})
    yield False, event("content_block_stop", {"index": 0})
    yield False, event("message_delta", {"delta": {"stop_reason": "end_turn"},
                                         "usage": {"output_tokens": usage[1]} if b.usage else {}})
    yield False, event("message_stop", {})


def _anthropic_body(body: dict[str, Any], text: str, usage: tuple[int, int], b: Behavior) -> dict[str, Any]:
    out: dict[str, Any] = {"id": "m1", "type": "message", "model": body["model"],
                           "content": [{"type": "text", "text": text}], "stop_reason": "end_turn"}
    if b.usage:
        out["usage"] = {"input_tokens": usage[0] - b.cached_tokens, "output_tokens": usage[1],
                        "cache_read_input_tokens": b.cached_tokens}
    return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    arrivals: dict[int, float]

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        self.arrivals[sock.fileno()] = time.perf_counter()
        return sock, address
    fake: FakeLLM

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@dataclass
class ServerHandle:
    """The test's view of a fake running in a child process: its URL and what it has seen."""

    url: str
    _final: dict[str, Any] | None = None

    def _state(self) -> dict[str, Any]:
        if self._final is not None:
            return self._final
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        with opener.open(f"{self.url}/_state", timeout=5) as response:
            data: dict[str, Any] = json.loads(response.read())
        return data

    @property
    def seen(self) -> Counter[str]:
        return Counter(self._state()["seen"])

    @property
    def auth(self) -> list[str]:
        return list(self._state()["auth"])

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return list(self._state()["bodies"])


def _child(behaviors: dict[str, Behavior], conn: Any) -> None:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = FakeLLM(behaviors)
    server.arrivals = {}
    conn.send(server.server_address[1])
    conn.close()
    server.serve_forever(poll_interval=0.05)


@contextmanager
def serve(behaviors: dict[str, Behavior]) -> Iterator[ServerHandle]:
    """Run the fake on an ephemeral 127.0.0.1 port in a forked child process for the duration of the block.

    A separate process keeps the server's Python work off the client's GIL, so measured timings reflect
    the injected delays even on a busy machine."""
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(behaviors, sender), daemon=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads alive
        proc.start()
    sender.close()
    try:
        if not receiver.poll(10):
            raise RuntimeError("fake LLM server did not start")
        handle = ServerHandle(f"http://127.0.0.1:{receiver.recv()}")
    finally:
        receiver.close()
    try:
        yield handle
        handle._final = handle._state()
    finally:
        proc.terminate()
        proc.join(5)
        proc.close()


def closed_port_url() -> str:
    """A URL where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
