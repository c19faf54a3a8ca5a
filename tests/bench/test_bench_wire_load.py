"""The client's wire behaviour through ``llmcost bench`` against a keep-alive server on 127.0.0.1: streamed
requests reuse connections, and a streaming request answered with one JSON body still succeeds."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from keepalive_llm import Wire, serve_keepalive

from llmcost.bench.client import Completion, HttpChatClient
from llmcost.bench.wire import ChatRequest

Cli = Callable[..., Any]

SUITE = {"name": "wire", "prompts": [{"id": "capital", "prompt": "What is the capital of France?",
                                      "max_tokens": 20, "assert": [{"icontains": "paris"}]}]}


def write_setup(tmp_path: Path, url: str, models: dict[str, str]) -> tuple[Path, Path]:
    """A suite of one prompt and a catalog whose ``models`` (name -> api) are served at ``url``."""
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump(SUITE, sort_keys=False))
    entries = [{"id": name, "provider": api, "input_mtok": 1, "output_mtok": 2,
                "endpoint": {"base_url": url + ("/v1" if api == "openai" else ""), "api": api}}
               for name, api in models.items()]
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump({"source": "test", "as_of": "2026-11-01", "models": entries}))
    return suite, catalog


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize(("concurrency", "most"), [(1, 1), (4, 4)])
@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_streamed_requests_reuse_connections(cli: Cli, tmp_path: Path, api: str, concurrency: int,
                                             most: int) -> None:
    """12 streamed requests open at most one TCP connection per concurrent worker: the client reads each
    response to its end after the terminator, so httpx returns the connection to its pool."""
    with serve_keepalive({"m": Wire()}) as server:
        suite, catalog = write_setup(tmp_path, server.url, {"m": api})
        results = tmp_path / "r.jsonl"
        out = cli("bench", suite, "-c", catalog, "--models", "m", "-n", "12", "--concurrency", str(concurrency),
                  "--results", results, "-f", "json")
    assert out.exit_code == 0, out.stderr
    rows = records(results)
    assert len(rows) == 12 and all(r["ok"] and r["streamed"] for r in rows)
    assert all(r["ttft_ms"] is not None for r in rows)
    assert len(server.arrivals["m"]) == 12
    assert 1 <= server.connections <= most


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_stream_request_answered_with_a_json_body(cli: Cli, tmp_path: Path, api: str) -> None:
    """LiteLLM's mock answers ``stream: true`` with one JSON body: that is a complete response (recorded as
    not streamed, so without TTFT), not a retryable ``incomplete_stream``."""
    with serve_keepalive({"m": Wire(json_to_stream=True)}) as server:
        suite, catalog = write_setup(tmp_path, server.url, {"m": api})
        results = tmp_path / "r.jsonl"
        out = cli("bench", suite, "-c", catalog, "--models", "m", "-n", "4", "--results", results, "-f", "json")
    assert out.exit_code == 0, out.stderr
    rows = records(results)
    assert len(rows) == 4 and len(server.arrivals["m"]) == 4  # no retry
    for row in rows:
        assert (row["ok"], row["attempts"], row["streamed"], row["ttft_ms"]) == (True, 1, False, None)
        assert row["output"] == "Paris is the capital of France." and row["passed"] is True
        assert row["usage_source"] == "api" and row["output_tokens"] == 6 and row["latency_ms"] > 0
    summary = json.loads(out.stdout)["models"][0]
    assert (summary["successes"], summary["errors"]) == (4, 0)


def test_ttft_starts_when_the_request_leaves_not_while_it_waits_in_the_client() -> None:
    """Under load, a request can wait inside httpx (behind other tasks of the event loop) between the call
    and the moment it is written to the socket; that wait is the client's, so TTFT and latency start at the
    wire (httpcore's trace events). Here the loop is blocked for 300 ms right after the call starts."""

    async def go(url: str) -> Completion:
        client = HttpChatClient(api="openai", base_url=url + "/v1", model="m", api_key=None, timeout_s=5)
        try:
            await client.complete(ChatRequest((("user", "warm up the connection"),)))
            asyncio.get_running_loop().call_soon(time.sleep, 0.3)  # runs at the client's first yield
            return await client.complete(ChatRequest((("user", "What is the capital of France?"),)))
        finally:
            await client.aclose()

    with serve_keepalive({"m": Wire()}) as server:
        done = asyncio.run(go(server.url))
    assert server.connections == 1 and len(server.arrivals["m"]) == 2
    assert done.ttft_s is not None and done.ttft_s < 0.2 and done.latency_s < 0.2


def test_absent_sniffio_is_not_searched_for_on_every_request(cli: Cli, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """httpcore imports ``sniffio`` for every lock it creates; when sniffio is not installed each failed
    import searched sys.path again (a fifth of the client's CPU per request). At most one search now."""
    searches: list[str] = []

    class Counting:
        def find_spec(self, name: str, path: object = None, target: object = None) -> None:
            if name == "sniffio":
                searches.append(name)

    if sys.modules.get("sniffio") is None:
        monkeypatch.delitem(sys.modules, "sniffio", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Counting(), *sys.meta_path])
    with serve_keepalive({"m": Wire()}) as server:
        suite, catalog = write_setup(tmp_path, server.url, {"m": "openai"})
        out = cli("bench", suite, "-c", catalog, "--models", "m", "-n", "12", "--concurrency", "4")
    assert out.exit_code == 0, out.stderr
    assert len(server.arrivals["m"]) == 12 and len(searches) <= 1
