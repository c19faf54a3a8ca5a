#!/usr/bin/env python3
"""An OpenAI-compatible streaming server on 127.0.0.1 with an injected TTFT that counts TCP connections.

    python benchmarks/timing_server.py --ttft-ms 200 --tokens 16 --itl-ms 5

It prints ``port N`` on its first stdout line, serves ``POST .../chat/completions`` until its stdin is
closed, then prints one JSON line (``connections`` accepted, ``requests`` answered, ``max_open``
connections open at once) and exits. Used by benchmarks/bench_ttft.py.

Unlike tests/bench/bench_fake_llm.py (HTTP/1.0: one connection per request), this speaks HTTP/1.1 with
keep-alive and chunked SSE, so a client that reuses connections can. Each token is scheduled relative to
the moment the request was read (first token at TTFT, then one every ITL), so the server's own work does
not add to the injected delays. It is asyncio in its own process: sixteen concurrent streams cost nothing
and never compete with the client's GIL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

MAX_HEADER_BYTES = 64 * 1024


@dataclass
class Settings:
    ttft_s: float
    tokens: int
    itl_s: float


@dataclass
class Counters:
    connections: int = 0
    requests: int = 0
    open: int = 0
    max_open: int = 0


class TimingServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.counters = Counters()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        c = self.counters
        c.connections += 1
        c.open += 1
        c.max_open = max(c.max_open, c.open)
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            c.open -= 1
            writer.close()

    async def _one_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; False when the connection is to be closed."""
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, path, _version = request_line.split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
        raw = await reader.readexactly(int(headers.get("content-length", "0")))
        arrived = time.perf_counter()
        keep_alive = headers.get("connection", "").lower() != "close"
        if method != "POST" or not path.endswith("/chat/completions"):
            await _send_json(writer, 404, {"error": {"message": f"no route {method} {path}"}})
            return keep_alive
        body: dict[str, Any] = json.loads(raw)
        self.counters.requests += 1
        if body.get("stream"):
            await self._stream(writer, body, arrived)
        else:
            await _sleep_until(arrived + self.settings.ttft_s + (self.settings.tokens - 1) * self.settings.itl_s)
            await _send_json(writer, 200, self._completion(body))
        return keep_alive

    async def _stream(self, writer: asyncio.StreamWriter, body: dict[str, Any], arrived: float) -> None:
        s = self.settings
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
                     b"transfer-encoding: chunked\r\n\r\n")
        _chunk(writer, _chunk_event(body, {"role": "assistant", "content": ""}))
        await writer.drain()
        for i in range(s.tokens):
            await _sleep_until(arrived + s.ttft_s + i * s.itl_s)
            _chunk(writer, _chunk_event(body, {"content": f" tok{i}" if i else "tok0"}))
            await writer.drain()
        _chunk(writer, _chunk_event(body, {}, finish="stop"))
        if body.get("stream_options", {}).get("include_usage"):
            _chunk(writer, "data: " + json.dumps({"id": "t1", "object": "chat.completion.chunk", "choices": [],
                                                  "usage": self._usage(body)}) + "\n\n")
        _chunk(writer, "data: [DONE]\n\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    def _usage(self, body: dict[str, Any]) -> dict[str, int]:
        prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        return {"prompt_tokens": prompt, "completion_tokens": self.settings.tokens,
                "total_tokens": prompt + self.settings.tokens}

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        text = " ".join(f"tok{i}" for i in range(self.settings.tokens))
        return {"id": "t1", "object": "chat.completion", "model": body.get("model"), "usage": self._usage(body),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}]}


def _chunk_event(body: dict[str, Any], delta: dict[str, str], finish: str | None = None) -> str:
    event = {"id": "t1", "object": "chat.completion.chunk", "model": body.get("model"),
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return "data: " + json.dumps(event) + "\n\n"


def _chunk(writer: asyncio.StreamWriter, text: str) -> None:
    data = text.encode()
    writer.write(b"%x\r\n%s\r\n" % (len(data), data))


async def _send_json(writer: asyncio.StreamWriter, status: int, payload: dict[str, Any]) -> None:
    data = json.dumps(payload).encode()
    reason = "OK" if status == 200 else "Not Found"
    writer.write(f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
                 f"content-length: {len(data)}\r\n\r\n".encode() + data)
    await writer.drain()


async def _sleep_until(when: float) -> None:
    delay = when - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


async def serve(settings: Settings) -> Counters:
    """Serve until stdin closes; return what was counted."""
    app = TimingServer(settings)
    server = await asyncio.start_server(app.handle, "127.0.0.1", 0, limit=MAX_HEADER_BYTES, backlog=256)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed = asyncio.Event()

    def wait_for_eof() -> None:
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(stdin_closed.set)

    threading.Thread(target=wait_for_eof, daemon=True).start()
    await stdin_closed.wait()
    server.close()  # not wait_closed(): a client may still hold an idle keep-alive connection
    return app.counters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ttft-ms", type=float, required=True, help="injected time to first token")
    parser.add_argument("--tokens", type=int, default=16, help="content events per response")
    parser.add_argument("--itl-ms", type=float, default=5.0, help="gap between content events")
    args = parser.parse_args()
    if args.tokens < 1:
        parser.error("--tokens must be at least 1")
    counters = asyncio.run(serve(Settings(args.ttft_ms / 1000, args.tokens, args.itl_ms / 1000)))
    print(json.dumps({"connections": counters.connections, "requests": counters.requests,
                      "max_open": counters.max_open}), flush=True)


if __name__ == "__main__":
    main()
