"""Embeddings from any OpenAI-compatible ``/v1/embeddings`` endpoint: OpenAI itself, or a local server
(LiteLLM proxy, Ollama, vLLM, text-embeddings-inference).

Texts go in batches (``batch_size``), several batches at a time (``concurrency`` threads), and a failed
batch is retried as bench retries (``bench.retry``: exponential backoff with jitter, ``Retry-After``
honoured). The key is read from the environment variable the scenario names and is never printed: error
messages are redacted. When a batch still fails, the run stops with an ``EndpointError``; the batches that
succeeded are kept in the disk cache (``disk_cache``), so running again resumes.
"""

from __future__ import annotations

import os
import random
import threading
import time
from typing import TYPE_CHECKING, Any

from llmcost.embedders.interface import DimensionError, EmbedCalls, normalized
from llmcost.errors import EndpointError

if TYPE_CHECKING:
    import httpx
    import numpy as np

    from llmcost.scenarios.schema import EmbedderSpec


class OpenAICompatibleEmbedder:
    name = "openai-compatible"

    def __init__(self, spec: EmbedderSpec) -> None:
        self.spec = spec
        self.model = spec.model or "text-embedding-3-small"
        self.calls = EmbedCalls()
        self._key = os.environ.get(spec.api_key_env, "") if spec.api_key_env else ""
        self._lock = threading.Lock()
        self._rng = random.Random(0)

    @property
    def dimensions(self) -> int | None:
        return self.spec.dimensions

    def embed(self, texts: list[str]) -> np.ndarray:
        import concurrent.futures

        import httpx
        import numpy as np

        size = self.spec.batch_size
        batches = [texts[lo:lo + size] for lo in range(0, len(texts), size)]
        out: list[np.ndarray | None] = [None] * len(batches)
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        with httpx.Client(base_url=self.spec.base_url.rstrip("/") + "/", headers=headers,
                          timeout=self.spec.timeout_s) as client, \
                concurrent.futures.ThreadPoolExecutor(max_workers=self.spec.concurrency) as pool:
            futures = {pool.submit(self._batch, client, batch): i for i, batch in enumerate(batches)}
            try:
                for future in concurrent.futures.as_completed(futures):
                    out[futures[future]] = future.result()
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # the first failure stops the rest
                raise
        if not batches:
            return np.zeros((0, self.spec.dimensions or 0), dtype=np.float32)
        sizes = sorted({b.shape[1] for b in out if b is not None})
        if len(sizes) > 1:
            raise DimensionError(f"the endpoint returned vectors of {' and '.join(map(str, sizes))} dimensions "
                                 f"for {self.model} in one run")
        return normalized(np.concatenate([b for b in out if b is not None]))

    def _batch(self, client: httpx.Client, texts: list[str]) -> np.ndarray:
        from llmcost.bench.client import RequestFailed
        from llmcost.bench.retry import RetryPolicy, decide

        policy = RetryPolicy(retries=self.spec.retries)
        attempt = 0
        while True:
            try:
                vectors, tokens = self._post(client, texts)
            except RequestFailed as exc:
                with self._lock:
                    decision = decide(policy, attempt, exc, self._rng)
                if decision.wait_s is None:
                    raise EndpointError(self._redact(
                        f"embeddings endpoint {self.spec.base_url} ({self.model}): {exc} ({decision.gave_up})"
                    )) from None
                with self._lock:
                    self.calls.retries += 1
                time.sleep(decision.wait_s)
                attempt += 1
                continue
            with self._lock:
                self.calls.requests += 1
                self.calls.texts += len(texts)
                self.calls.tokens += tokens
            return vectors

    def _post(self, client: httpx.Client, texts: list[str]) -> tuple[np.ndarray, int]:
        import httpx
        import numpy as np

        from llmcost.bench.client import RequestFailed, retry_after_from

        body: dict[str, Any] = {"model": self.model, "input": texts}
        if self.spec.dimensions is not None and self.spec.send_dimensions:
            body["dimensions"] = self.spec.dimensions
        try:
            response = client.post("embeddings", json=body)
        except httpx.TimeoutException as exc:
            raise RequestFailed("timeout", str(exc) or "timed out", retryable=True) from None
        except httpx.HTTPError as exc:
            raise RequestFailed("connection", str(exc) or type(exc).__name__, retryable=True) from None
        if response.status_code != 200:
            wait, header = retry_after_from(response.headers)
            status = response.status_code
            hint = f" (is {self.spec.api_key_env} set?)" if status in (401, 403) and self.spec.api_key_env else ""
            raise RequestFailed(f"http_{status}", response.text[:200].strip() + hint, status=status,
                                retry_after=wait, retry_after_header=header,
                                retryable=status in (408, 409, 429) or status >= 500)
        try:
            payload = response.json()
            data = sorted(payload["data"], key=lambda item: int(item.get("index", 0)))
            vectors = np.asarray([item["embedding"] for item in data], dtype=np.float32)
            tokens = int((payload.get("usage") or {}).get("prompt_tokens") or 0)
        except (ValueError, KeyError, TypeError) as exc:
            raise RequestFailed("malformed", f"not an embeddings response ({exc})") from None
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise RequestFailed("malformed", f"{len(texts)} texts sent, {len(vectors)} embeddings received")
        return vectors, tokens

    def _redact(self, text: str) -> str:
        from llmcost.bench.client import redact

        return redact(text, self._key)
