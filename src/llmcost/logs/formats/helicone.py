"""Helicone request exports: the dashboard CSV and the API's JSONL records.

Token semantics: ``prompt_tokens`` includes ``prompt_cache_read_tokens`` and ``prompt_cache_write_tokens``
(OpenAI convention; ``total_tokens`` = prompt + completion). A row whose ``total_tokens`` equals prompt +
completion + cache reads + cache writes evidently counted the cache outside the prompt (Anthropic
style), and those cache tokens are added to its input. ``costUSD`` / ``cost`` become ``cost_logged``;
``delay_ms`` / ``latency`` are milliseconds, ``time_to_first_token`` too. ``provider`` ("OPENAI") is kept
lower-cased (``openai``).
"""

from __future__ import annotations

from typing import Any

from llmcost.frame import Conformed
from llmcost.logs.formats._records import csv_rows, fields, json_rows
from llmcost.logs.formats._rows import Rows
from llmcost.logs.interface import ReadOptions, Source

_TEXT = ("request_created_at", "model", "response_model", "request_model", "request_user_id", "provider")
_NUMBERS = ("prompt_tokens", "completion_tokens", "total_tokens", "prompt_cache_read_tokens",
            "prompt_cache_write_tokens", "delay_ms", "latency", "time_to_first_token", "costUSD", "cost")


class HeliconeReader:
    name = "helicone"
    description = "Helicone request export (dashboard CSV or API JSONL): costUSD/cost → cost_logged"

    def sniff(self, source: Source) -> bool:
        cols = set(source.columns)
        return "request_created_at" in cols and ("response_id" in cols or "request_id" in cols)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        if source.container == "csv":
            rows = csv_rows(source, (*_TEXT, *_NUMBERS, "response_status"), options)
        else:
            wanted = [*fields("str", *_TEXT), *fields("num", *_NUMBERS), *fields("scalar", "response_status")]
            rows = json_rows(source, wanted, options)
        return rows.finish(_columns(rows), fields={
            "timestamp": "request_created_at", "input_tokens": "prompt_tokens",
            "output_tokens": "completion_tokens", "cache_read_tokens": "prompt_cache_read_tokens",
            "cache_write_tokens": "prompt_cache_write_tokens"})


def _columns(rows: Rows) -> dict[str, Any]:
    import numpy as np

    rows.require("request_created_at")
    prompt = rows.tokens("prompt_tokens", required=True)
    completion = rows.tokens("completion_tokens", required=True)
    read = rows.tokens("prompt_cache_read_tokens")
    write = rows.tokens("prompt_cache_write_tokens")
    total = rows.numbers("total_tokens")
    outside = (read + write > 0) & (total == prompt + completion + read + write)
    model = rows.text("model")
    for fallback in ("response_model", "request_model"):
        model = model.where(model.str.len() > 0, rows.text(fallback))
    latency = rows.numbers("delay_ms", integer=False)
    cost = rows.numbers("costUSD", integer=False)
    return {
        "timestamp": rows.frame["request_created_at"],
        "model": model,
        "input_tokens": np.where(outside, prompt + read + write, prompt),
        "cache_read_tokens": read,
        "cache_write_tokens": write,
        "output_tokens": completion,
        "status": rows.text("response_status").to_numpy(),
        "latency_ms": np.where(np.isnan(latency), rows.numbers("latency", integer=False), latency),
        "ttft_ms": rows.numbers("time_to_first_token", integer=False),
        "cost_logged": np.where(np.isnan(cost), rows.numbers("cost", integer=False), cost),
        "user": rows.text("request_user_id").to_numpy(),
        "provider": _provider(rows),
    }


def _provider(rows: Rows) -> Any:
    """Helicone's ``provider`` ("OPENAI", "ANTHROPIC", ...) lower-cased, the litellm-style name."""
    provider = rows.text("provider").str.strip().str.lower()
    return provider.where(provider.str.len() > 0).to_numpy()
