"""Langfuse observations (``GENERATION``), as a JSON array, ``{"data": [...]}``, JSONL or one object, and
Langfuse's own trace download ``{"trace": {...}, "observations": [...]}`` (or a trace with its
``observations`` inside, as ``GET /api/public/traces/{id}`` returns it).

Token semantics of ``usageDetails`` (Langfuse's own ingestion): ``input`` EXCLUDES cached tokens and
``output`` excludes reasoning; every other ``input_*`` key (``input_cached_tokens``, ``input_cache_read``,
``input_audio_tokens`` ...) and the Anthropic keys ``cache_read_input_tokens`` /
``cache_creation_input_tokens`` are further input, every ``output_*`` key further output. So
input_tokens = ``input`` + all input keys, cache reads = ``input_cached_tokens`` + ``input_cache_read`` +
``cache_read_input_tokens``, cache writes = ``input_cache_creation`` + ``cache_creation_input_tokens``,
reasoning = ``output_reasoning_tokens``. ``total`` is never added, but it tells layouts apart: LiteLLM's
Langfuse callback writes ``input`` = ``prompt_tokens`` − cache reads, which still INCLUDES the cache
writes (``total`` = input + reads + output), and older LiteLLM wrote ``input`` = ``prompt_tokens`` with
reads and writes inside (``total`` = input + output); a row whose ``total`` matches one of those sums is
not given its cache tokens a second time. Without ``usageDetails`` the legacy ``usage.input`` /
``usage.output`` or ``promptTokens`` / ``completionTokens`` are used.
``latency`` and ``timeToFirstToken`` are seconds (→ ms; in a trace download latency is taken from
``endTime`` − ``startTime``); ``calculatedTotalCost``, else ``totalCost``, else ``costDetails.total``
(else the sum of its known keys) becomes ``cost_logged``. A trace download's ``userId`` → user and
``tags`` → tags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcost.frame import Conformed
from llmcost.logs.formats._records import Field, fields, item_rows, json_rows, parse_documents
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
_TEXT = ("type", "model", "name", "level", "startTime", "endTime", "completionStartTime", "userId",
         "_trace.userId", "_trace.tags")
_NUMBERS = ("latency", "timeToFirstToken", "calculatedTotalCost", "totalCost", "usage.input", "usage.output",
            "promptTokens", "completionTokens", "costDetails.total", *(f"costDetails.{k}" for k in sorted(KNOWN)))
_TRACE_KEYS = ("userId",)  # sessionId has no frame column; the observation name stays the task


class ObservationReader:
    name = "langfuse"
    description = ("Langfuse observations (GENERATION) or a trace download: usageDetails, costs, "
                   "latency in seconds")

    def sniff(self, source: Source) -> bool:
        cols = set(source.columns)
        return ("traceId" in cols and ("usageDetails" in cols or "startTime" in cols)) or _is_trace(
            source.first_object)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        items = _trace_items(source) if _is_trace(source.first_object) else None

        def read_rows(wanted: list[Field]) -> Rows:
            if items is None:
                return json_rows(source, wanted, options)
            return item_rows(items, wanted, source.name, options)

        base = [*fields("str", *_TEXT), *fields("num", *_NUMBERS)]
        known = [*base, *fields("int", "usageDetails.total", *(f"usageDetails.{k}" for k in sorted(KNOWN)))]
        rows = read_rows(known)
        usage = _known_usage(rows)
        if usage is None:  # keys beyond the known ones: sum them generically, object by object
            rows = read_rows([*base, Field(("usageDetails",), "obj")])
            usage = _generic_usage(rows)
        kind = rows.text("type")
        rows.drop((kind.notna() & (kind != "GENERATION")).to_numpy(), "not a GENERATION observation")
        rows.require("startTime")
        return rows.finish(_columns(rows, usage, trace=items is not None), fields={
            "timestamp": "startTime", "input_tokens": "usageDetails.input", "output_tokens": "usageDetails.output",
            "cache_read_tokens": "usageDetails.input_cached_tokens",
            "reasoning_tokens": "usageDetails.output_reasoning_tokens"})


def _is_trace(first: dict[str, object] | None) -> bool:
    """A trace download: ``{"trace": {...}, "observations": [...]}`` or a trace with ``observations``
    (objects: the traces list API gives observation ids only, which carry no usage)."""
    observations = first.get("observations") if isinstance(first, dict) else None
    if not isinstance(first, dict) or not isinstance(observations, list):
        return False
    if observations and not isinstance(observations[0], dict):
        return False
    return isinstance(first.get("trace"), dict) or ("id" in first and "timestamp" in first)


def _trace_items(source: Source) -> list[Any]:
    """Every observation of every trace document, with its trace's user and tags under ``_trace``."""
    items: list[Any] = []
    for doc in parse_documents(source):
        docs = doc if isinstance(doc, list) else doc.get("data", [doc]) if isinstance(doc, dict) else [doc]
        for one in docs:
            if not isinstance(one, dict):
                items.append(one)  # reported as "not a JSON object" with its position
                continue
            inner = one.get("trace")
            trace: dict[str, Any] = inner if isinstance(inner, dict) else one
            tags = trace.get("tags")
            extra = {k: trace.get(k) for k in _TRACE_KEYS if isinstance(trace.get(k), str)}
            if isinstance(tags, list) and tags:
                extra["tags"] = ",".join(str(t) for t in tags)
            observations = one.get("observations")
            for obs in observations if isinstance(observations, list) else []:
                items.append({**obs, "_trace": extra} if isinstance(obs, dict) else obs)
    return items


def _layout(inp: np.ndarray, read: np.ndarray, write: np.ndarray, out: np.ndarray,
            total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Input tokens corrected for the layout ``total`` reveals, and rows whose total fits no layout.

    Disjoint keys (Langfuse's ingestion): total = input + reads + writes + output. LiteLLM's callback:
    ``input`` already includes the writes (total = sum − writes). Older LiteLLM: ``input`` includes
    reads and writes (total = sum − reads − writes).
    """
    import numpy as np

    given = ~np.isnan(total)
    with np.errstate(invalid="ignore"):
        disjoint = total == inp + out
        writes_inside = ~disjoint & (write > 0) & (total == inp - write + out)
        all_inside = ~disjoint & ~writes_inside & (read + write > 0) & (total == inp - read - write + out)
    fixed = np.where(writes_inside, inp - write, np.where(all_inside, inp - read - write, inp))
    unknown = given & ~(disjoint | writes_inside | all_inside)
    return fixed, unknown


def _known_usage(rows: Rows) -> dict[str, np.ndarray] | None:
    """Sums from the known keys, or None when ``total`` shows keys this list does not know."""
    import numpy as np

    get = {k: rows.tokens(f"usageDetails.{k}") for k in KNOWN}
    read = sum(get[k] for k in READ_KEYS)
    write = sum(get[k] for k in WRITE_KEYS)
    reasoning = sum(get[k] for k in REASONING_KEYS)
    inp = np.asarray(sum(get[k] for k in OTHER_INPUT) + read + write)
    out = np.asarray(sum(get[k] for k in OTHER_OUTPUT) + reasoning)
    fixed, unknown = _layout(inp, np.asarray(read), np.asarray(write), out, rows.numbers("usageDetails.total"))
    if (unknown & ~rows.bad).any():
        return None
    has = rows.present("usageDetails.input") | rows.present("usageDetails.output")
    return {"input": fixed, "output": out, "read": np.asarray(read),
            "write": np.asarray(write), "reasoning": np.asarray(reasoning), "has": has}


def _generic_usage(rows: Rows) -> dict[str, np.ndarray]:
    import numpy as np

    n = len(rows)
    sums = {k: np.zeros(n, dtype=np.int64) for k in ("input", "output", "read", "write", "reasoning")}
    has = np.zeros(n, dtype=bool)
    total = np.full(n, np.nan)
    for i, details in enumerate(rows.frame["usageDetails"]):
        if not isinstance(details, dict):
            continue
        for key, value in details.items():
            if not isinstance(value, int | float) or isinstance(value, bool):
                continue
            if key == "total":
                total[i] = value
            part = _kind(key)
            if part is not None:
                has[i] = has[i] or part in ("input", "output")
                for target in part.split("+"):
                    sums[target][i] += int(value)
    sums["input"], _ = _layout(sums["input"], sums["read"], sums["write"], sums["output"], total)
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


def _columns(rows: Rows, usage: dict[str, np.ndarray], *, trace: bool) -> dict[str, Any]:
    import numpy as np

    has = usage["has"]
    legacy_in = np.where(rows.present("usage.input"), rows.tokens("usage.input"), rows.tokens("promptTokens"))
    legacy_out = np.where(rows.present("usage.output"), rows.tokens("usage.output"),
                          rows.tokens("completionTokens"))
    any_usage = has | rows.present("usage.input") | rows.present("promptTokens")
    rows.fail(~any_usage, "usageDetails.input", "is missing (no usageDetails, usage or promptTokens)")
    latency = np.full(len(rows), np.nan) if trace else rows.numbers("latency", integer=False) * 1000.0
    ttft = rows.numbers("timeToFirstToken", integer=False) * 1000.0
    start = rows.frame["startTime"]
    level = rows.text("level").fillna("")
    user = rows.text("userId")
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
        "cost_logged": _logged_cost(rows),
        "status": np.where(level == "ERROR", "error", "success"),
        "task": rows.text("name").to_numpy(),
        "user": user.where(user.notna(), rows.text("_trace.userId")).to_numpy(),
        "tags": rows.text("_trace.tags").to_numpy(),
    }


def _logged_cost(rows: Rows) -> np.ndarray:
    """``calculatedTotalCost``, else ``totalCost``, else ``costDetails.total``, else the sum of the known
    ``costDetails`` keys (NaN where the observation logged no cost)."""
    import numpy as np

    cost = rows.numbers("calculatedTotalCost", integer=False)
    for name in ("totalCost", "costDetails.total"):
        cost = np.where(np.isnan(cost), rows.numbers(name, integer=False), cost)
    parts = np.stack([rows.numbers(f"costDetails.{k}", integer=False) for k in sorted(KNOWN)])
    any_part = ~np.isnan(parts).all(axis=0)
    summed = np.where(any_part, np.nansum(parts, axis=0), np.nan)
    return np.where(np.isnan(cost), summed, cost)
