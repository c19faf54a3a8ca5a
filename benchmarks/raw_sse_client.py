"""A minimal reference client: plain ``socket``, HTTP/1.1 keep-alive, one connection per worker, SSE read by
hand. It is what an ideal streaming client costs, so ``llmcost bench``'s TTFT can be compared with it.

TTFT is timed like llmcost times it (``time.perf_counter``, from just before the request is sent, the
connect included when the worker has no connection yet, to the first event whose delta carries content).
Workers are threads pulling request numbers from a shared counter, so at most ``concurrency`` requests are
in flight, as with llmcost's semaphore.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class RawResult:
    ttft_s: float
    latency_s: float


class RawSseWorker:
    """One keep-alive connection to ``host:port``, opened on first use and reused for every request."""

    def __init__(self, host: str, port: int, timeout_s: float = 30.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self._sock: socket.socket | None = None
        self._file: BinaryIO | None = None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = self._file = None

    def request(self, path: str, body: bytes) -> RawResult:
        start = time.perf_counter()
        if self._sock is None:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._file = self._sock.makefile("rb")
        assert self._file is not None
        head = (f"POST {path} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\ncontent-type: application/json\r\n"
                f"accept: text/event-stream\r\ncontent-length: {len(body)}\r\n\r\n").encode()
        self._sock.sendall(head + body)
        status, headers = _read_head(self._file)
        if status != 200 or "chunked" not in headers.get("transfer-encoding", ""):
            raise RuntimeError(f"expected a chunked 200 stream, got HTTP {status} {headers}")
        ttft: float | None = None
        done = False
        pending = b""
        for data in _chunks(self._file):
            pending += data
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if not line.startswith(b"data:"):
                    continue
                payload = line[5:].strip()
                if payload == b"[DONE]":
                    done = True
                elif ttft is None and _has_content(payload):
                    ttft = time.perf_counter() - start
        latency = time.perf_counter() - start
        if not done or ttft is None:
            raise RuntimeError("the stream ended without content or without [DONE]")
        return RawResult(ttft, latency)


def _read_head(f: BinaryIO) -> tuple[int, dict[str, str]]:
    status_line = f.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := f.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    return status, headers


def _chunks(f: BinaryIO) -> Iterator[bytes]:
    """The data of each chunk of a chunked body, read to its terminating zero-size chunk (so the connection
    is left clean for the next request)."""
    while True:
        size = int(f.readline().split(b";")[0], 16)
        if size == 0:
            while f.readline() not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return
        data = f.read(size)
        f.readline()
        yield data


def _has_content(payload: bytes) -> bool:
    try:
        event = json.loads(payload)
    except ValueError:
        return False
    choices = event.get("choices") or []
    return bool(choices and (choices[0].get("delta") or {}).get("content"))


def run_raw(host: str, port: int, path: str, body: bytes, *, requests: int, concurrency: int) -> list[RawResult]:
    """Send ``requests`` streamed requests with ``concurrency`` workers (threads, one connection each)."""
    counter = itertools.count()
    lock = threading.Lock()
    results: list[RawResult] = []
    errors: list[BaseException] = []

    workers = min(concurrency, requests)
    ready = threading.Barrier(workers)

    def worker() -> None:
        conn = RawSseWorker(host, port)
        try:
            ready.wait()  # every worker is running before the first request goes out, as with llmcost's tasks
            while True:
                with lock:
                    n = next(counter)
                if n >= requests:
                    return
                result = conn.request(path, body)
                with lock:
                    results.append(result)
        except (OSError, RuntimeError, ValueError) as exc:
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"raw client: {len(errors)} worker(s) failed, first: {errors[0]!r}")
    return results
