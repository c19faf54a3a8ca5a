"""A small HTTP/1.1 keep-alive server on 127.0.0.1 for the client's wire behaviour: it counts the TCP
connections it accepts, streams SSE with chunked transfer encoding (so a connection can carry the next
request), can answer a streaming request with one plain JSON body (as LiteLLM's ``/v1/messages`` mock does),
and can refuse the first requests with 429 and chosen headers. The event and body shapes are those of
``bench_fake_llm``; behaviour is chosen per served model name.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench_fake_llm import (
    Behavior,
    _anthropic_body,
    _anthropic_events,
    _openai_body,
    _openai_events,
    pieces,
    prompt_words,
)


@dataclass(frozen=True)
class Wire:
    """How the server answers one model: ``json_to_stream`` sends a whole JSON body even when the request
    asked for a stream; the first ``fail_first`` requests get ``fail_status`` with ``fail_headers``, plus a
    ``Retry-After`` HTTP date ``retry_after_date_s`` seconds after the response when that is set."""

    reply: str = "Paris is the capital of France."
    json_to_stream: bool = False
    fail_first: int = 0
    fail_status: int = 429
    fail_headers: dict[str, str] = field(default_factory=dict)
    retry_after_date_s: float | None = None  # also send ``Retry-After`` as an HTTP date this far ahead


@dataclass
class KeepAliveLLM:
    """What the server saw: accepted connections and, per model, the monotonic arrival time of each request."""

    wires: dict[str, Wire]
    url: str = ""
    connections: int = 0
    arrivals: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def arrive(self, model: str) -> int:
        with self.lock:
            times = self.arrivals.setdefault(model, [])
            times.append(time.monotonic())
            return len(times)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the client closes
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.state.lock:
            self.server.state.connections += 1

    def do_POST(self) -> None:
        with suppress(BrokenPipeError, ConnectionResetError):
            self._serve()

    def _serve(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
        anthropic = self.path.endswith("/messages")
        wire = self.server.state.wires.get(body["model"], Wire())
        n = self.server.state.arrive(body["model"])
        if n <= wire.fail_first:
            headers = dict(wire.fail_headers)
            if wire.retry_after_date_s is not None:
                headers["retry-after"] = email.utils.formatdate(time.time() + wire.retry_after_date_s, usegmt=True)
            return self._json(wire.fail_status, {"error": {"message": f"injected {wire.fail_status}"}}, headers)
        behavior = Behavior(reply=wire.reply)
        usage = (prompt_words(body), len(pieces(wire.reply)))
        if not body.get("stream") or wire.json_to_stream:
            make = _anthropic_body if anthropic else _openai_body
            return self._json(200, make(body, wire.reply, usage, behavior))
        events = (_anthropic_events if anthropic else _openai_events)(body, wire.reply, usage, behavior)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for _is_token, line in events:
            data = (line + "\n\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        return None

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: KeepAliveLLM

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@contextmanager
def serve_keepalive(wires: dict[str, Wire]) -> Iterator[KeepAliveLLM]:
    """Run the server on an ephemeral 127.0.0.1 port in a thread for the duration of the block."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = KeepAliveLLM(wires, url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
