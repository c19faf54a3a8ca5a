"""Langfuse observations (``GENERATION``), as a JSON array, ``{"data": [...]}``, JSONL or one object.

Token semantics of ``usageDetails`` (Langfuse's own ingestion): ``input`` EXCLUDES cached tokens and
``output`` excludes reasoning; every other ``input_*`` key (``input_cached_tokens``, ``input_cache_read``,
``input_audio_tokens`` ...) and the Anthropic keys ``cache_read_input_tokens`` /
``cache_creation_input_tokens`` are further input, every ``output_*`` key further output. So
input_tokens = ``input`` + all input keys, cache reads = ``input_cached_tokens`` + ``input_cache_read`` +
``cache_read_input_tokens``, cache writes = ``input_cache_creation`` + ``cache_creation_input_tokens``,
reasoning = ``output_reasoning_tokens``. ``total`` is not added. Without ``usageDetails`` the legacy
``usage.input`` / ``usage.output`` or ``promptTokens`` / ``completionTokens`` are used.
``latency`` and ``timeToFirstToken`` are seconds (→ ms); ``calculatedTotalCost`` becomes ``cost_logged``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcost.frame import Conformed
from llmcost.logs.formats._records import Field, fields, json_rows
from llmcost.logs.formats._rows import Rows, fill_millis
from llmcost.logs.interface import ReadOptions, Source

if TYPE_CHECKING:
    import numpy as np

READ_KEYS = frozenset({"input_cached_tokens", "input_cache_read", "cache_read_input_tokens", "input_cached"})
WRITE_KEYS = frozenset({"input_cache_creation", "cache_creation_input_tokens", "input_cache_write"})
REASONING_KEYS = frozenset({"output_reasoning_tokens", "output_reasoning"})
OTHER_INPUT = frozenset({"input", "input_audio_tokens", "input_image_tokens"})
OTHER_OUTPUT = frozenset({"output", "output_audio_tokens"})
KNOWN = READ_KEYS | WRITE_KEYS | REASONING_KEYS | OTHER_INPUT | OTHER_OUTPUT
_TEXT = ("type", "model", "name", "level", "startTime", "endTime", "completionStartTime")
_NUMBERS = ("latency", "timeToFirstToken", "calculatedTotalCost", "usage.input", "usage.output",
            "promptTokens", "completionTokens")


class ObservationReader:
    name = "langfuse"
    description = "Langfuse observations (GENERATION): usageDetails, calculatedTotalCost, latency in seconds"

    def sniff(self, source: Source) -> bool:
        cols = set(source.columns)
        return "traceId" in cols and ("usageDetails" in cols or "startTime" in cols)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        base = [*fields("str", *_TEXT), *fields("num", *_NUMBERS)]
        known = [*base, *fields("int", "usageDetails.total", *(f"usageDetails.{k}" for k in sorted(KNOWN)))]
        rows = json_rows(source, known, options)
        usage = _known_usage(rows)
        if usage is None:  # keys beyond the known ones: sum them generically, object by object
            rows = json_rows(source, [*base, Field(("usageDetails",), "obj")], options)
            usage = _generic_usage(rows)
        kind = rows.text("type")
        rows.drop((kind.notna() & (kind != "GENERATION")).to_numpy(), "not a GENERATION observation")
        rows.require("startTime")
        return rows.finish(_columns(rows, usage), fields={
            "timestamp": "startTime", "input_tokens": "usageDetails.input", "output_tokens": "usageDetails.output",
            "cache_read_tokens": "usageDetails.input_cached_tokens",
            "reasoning_tokens": "usageDetails.output_reasoning_tokens"})


def _known_usage(rows: Rows) -> dict[str, np.ndarray] | None:
    """Sums from the known keys, or None when ``total`` shows keys this list does not know."""
    import numpy as np

    get = {k: rows.tokens(f"usageDetails.{k}") for k in KNOWN}
    read = sum(get[k] for k in READ_KEYS)
    write = sum(get[k] for k in WRITE_KEYS)
    reasoning = sum(get[k] for k in REASONING_KEYS)
    inp = sum(get[k] for k in OTHER_INPUT) + read + write
    out = sum(get[k] for k in OTHER_OUTPUT) + reasoning
    total = rows.numbers("usageDetails.total")
    with np.errstate(invalid="ignore"):
        if (~np.isnan(total) & (total != inp + out) & ~rows.bad).any():
            return None
    has = rows.present("usageDetails.input") | rows.present("usageDetails.output")
    return {"input": np.asarray(inp), "output": np.asarray(out), "read": np.asarray(read),
            "write": np.asarray(write), "reasoning": np.asarray(reasoning), "has": has}


def _generic_usage(rows: Rows) -> dict[str, np.ndarray]:
    import numpy as np

    n = len(rows)
    sums = {k: np.zeros(n, dtype=np.int64) for k in ("input", "output", "read", "write", "reasoning")}
    has = np.zeros(n, dtype=bool)
    for i, details in enumerate(rows.frame["usageDetails"]):
        if not isinstance(details, dict):
            continue
        for key, value in details.items():
            if not isinstance(value, int | float) or isinstance(value, bool):
                continue
            part = _kind(key)
            if part is not None:
                has[i] = has[i] or part in ("input", "output")
                for target in part.split("+"):
                    sums[target][i] += int(value)
    return {**sums, "has": has}


def _kind(key: str) -> str | None:
    if key in READ_KEYS:
        return "input+read"
    if key in WRITE_KEYS:
        return "input+write"
    if key in REASONING_KEYS:
        return "output+reasoning"
    if key == "input" or key.startswith("input_"):
        return "input"
    if key == "output" or key.startswith("output_"):
        return "output"
    return None


def _columns(rows: Rows, usage: dict[str, np.ndarray]) -> dict[str, Any]:
    import numpy as np

    has = usage["has"]
    legacy_in = np.where(rows.present("usage.input"), rows.tokens("usage.input"), rows.tokens("promptTokens"))
    legacy_out = np.where(rows.present("usage.output"), rows.tokens("usage.output"),
                          rows.tokens("completionTokens"))
    any_usage = has | rows.present("usage.input") | rows.present("promptTokens")
    rows.fail(~any_usage, "usageDetails.input", "is missing (no usageDetails, usage or promptTokens)")
    latency = rows.numbers("latency", integer=False) * 1000.0
    ttft = rows.numbers("timeToFirstToken", integer=False) * 1000.0
    start = rows.frame["startTime"]
    level = rows.text("level").fillna("")
    return {
        "timestamp": start,
        "model": rows.text("model"),
        "input_tokens": np.where(has, usage["input"], legacy_in),
        "cache_read_tokens": np.where(has, usage["read"], 0),
        "cache_write_tokens": np.where(has, usage["write"], 0),
        "output_tokens": np.where(has, usage["output"], legacy_out),
        "reasoning_tokens": np.where(has, usage["reasoning"], 0),
        "latency_ms": fill_millis(latency, start, rows.text("endTime")),
        "ttft_ms": fill_millis(ttft, start, rows.text("completionStartTime")),
        "cost_logged": rows.numbers("calculatedTotalCost", integer=False),
        "status": np.where(level == "ERROR", "error", "success"),
        "task": rows.text("name").to_numpy(),
    }
