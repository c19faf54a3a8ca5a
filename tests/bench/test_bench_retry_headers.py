"""Retries through ``llmcost bench`` against a server on 127.0.0.1 that answers 429 with each way of saying
how long to wait: ``retry-after-ms`` (OpenAI), ``Retry-After`` in seconds or as an HTTP date, and LiteLLM's
``llm_provider-retry-after``. A wait above the cap gives up, and the record says why."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from keepalive_llm import Wire, serve_keepalive
from test_bench_wire_load import write_setup

from llmcost.bench.client import retry_after_from

Cli = Callable[..., Any]


def test_each_retry_header_is_honoured_and_a_wait_above_the_cap_gives_up(cli: Cli, tmp_path: Path) -> None:
    """With ``--backoff 0`` a retry that ignored the header would come at once; each server-asked wait shows
    as the gap between the two requests the server saw (honoured waits add at most 10 % jitter)."""
    asked = {"ms": ({"retry-after-ms": "600"}, 0.6),
             "seconds": ({"retry-after": "0.6"}, 0.6),
             "litellm": ({"llm_provider-retry-after": "0.6"}, 0.6),
             "ms-first": ({"retry-after-ms": "600", "retry-after": "300"}, 0.6),  # OpenAI's SDK order
             "date": ({}, 1.0)}  # an HTTP date 2 s ahead, in whole seconds: 1 < wait <= 2
    capped = {"capped": {"retry-after": "300"}, "capped-ms": {"retry-after-ms": "300000"},
              "capped-litellm": {"llm_provider-retry-after": "300"}}
    wires = {name: Wire(fail_first=1, fail_headers=headers) for name, (headers, _) in asked.items()}
    wires["date"] = Wire(fail_first=1, retry_after_date_s=2.0)
    wires |= {name: Wire(fail_first=1, fail_headers=headers) for name, headers in capped.items()}
    wires["exhausted"] = Wire(fail_first=9, fail_headers={"retry-after-ms": "10"})
    with serve_keepalive(wires) as server:
        suite, catalog = write_setup(tmp_path, server.url, dict.fromkeys(wires, "openai"))
        results = tmp_path / "r.jsonl"
        out = cli("bench", suite, "-c", catalog, "--models", ",".join(wires), "--retries", "2", "--backoff", "0",
                  "--concurrency", str(len(wires)), "--results", results, "-f", "json")
    assert out.exit_code == 0, out.stderr
    rows = {r["model"]: r for r in map(json.loads, results.read_text().splitlines())}
    for name, (_, wait) in asked.items():
        first, second = server.arrivals[name]
        assert wait <= second - first <= (2.2 if name == "date" else wait * 1.1 + 0.25), name
        assert (rows[name]["ok"], rows[name]["attempts"], rows[name]["gave_up"]) == (True, 2, None)
    for name, headers in capped.items():
        header = next(iter(headers))
        assert len(server.arrivals[name]) == 1, name
        assert (rows[name]["ok"], rows[name]["error_type"], rows[name]["attempts"]) == (False, "http_429", 1)
        assert rows[name]["gave_up"] == f"{header} asks for 300 s, above the 120 s cap"
    assert len(server.arrivals["exhausted"]) == 3
    assert rows["exhausted"]["gave_up"] == "retries exhausted (3 attempts)"


def test_retry_header_forms() -> None:
    assert retry_after_from({"retry-after-ms": "250"}) == (0.25, "retry-after-ms")
    assert retry_after_from({"retry-after-ms": "soon", "retry-after": "2"}) == (2.0, "retry-after")
    assert retry_after_from({"llm_provider-retry-after": "7"}) == (7.0, "llm_provider-retry-after")
    assert retry_after_from({"llm_provider-retry-after-ms": "1500"}) == (1.5, "llm_provider-retry-after-ms")
    assert retry_after_from({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0) == (
        10.0, "retry-after")
    assert retry_after_from({"retry-after": "nan"}) == (None, None)
    assert retry_after_from({"retry-after": "-3"}) == (0.0, "retry-after")
    assert retry_after_from({}) == (None, None)
