"""A deterministic /v1/embeddings server on 127.0.0.1 for the tests: a hashed bag of words (each word adds
1 to one of ``dims`` coordinates), so texts sharing words are similar and identical texts identical."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def bag_of_words(text: str, dims: int) -> list[float]:
    out = [0.0] * dims
    for word in text.lower().replace("?", " ").replace(".", " ").replace(",", " ").split():
        out[int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little") % dims] += 1.0
    return out


@dataclass
class Server:
    url: str = ""
    dims: int = 64
    requests: int = 0
    texts: list[str] = field(default_factory=list)
    fail_after: int | None = None  # requests answered before every later one fails with HTTP 500
    wrong_dims_after: int | None = None
    keys: list[str] = field(default_factory=list)


@contextmanager
def embeddings_server(**settings: object) -> Iterator[Server]:
    state = Server(**settings)  # type: ignore[arg-type]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                state.requests += 1
                n = state.requests
                state.keys.append(self.headers.get("Authorization", ""))
            if state.fail_after is not None and n > state.fail_after:
                self._send(500, {"error": {"message": "upstream overloaded"}})
                return
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            with lock:
                state.texts.extend(texts)
            dims = state.dims + 1 if state.wrong_dims_after is not None and n > state.wrong_dims_after else state.dims
            data = [{"object": "embedding", "index": i, "embedding": bag_of_words(t, dims)}
                    for i, t in enumerate(texts)]
            tokens = sum(len(t.split()) for t in texts)
            self._send(200, {"object": "list", "data": data, "model": body["model"],
                             "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

        def _send(self, status: int, payload: object) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
