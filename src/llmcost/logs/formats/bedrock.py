"""AWS Bedrock: model-invocation logs (CloudWatch Logs / S3 JSON) and Converse API responses.

Invocation logs (``schemaType: ModelInvocationLog``) carry ``timestamp``, ``modelId`` (as called: a model
id such as ``anthropic.claude-3-5-sonnet-20240620-v1:0``, a cross-region profile ``us.anthropic...``, or an
ARN), ``input.inputTokenCount``, ``input.cacheReadInputTokenCount``, ``input.cacheWriteInputTokenCount`` and
``output.outputTokenCount``. A failed invocation has an ``errorCode`` and no counts: skipped and counted
(not billed). Converse responses carry ``usage.inputTokens``, ``usage.outputTokens``,
``usage.cacheReadInputTokens``, ``usage.cacheWriteInputTokens``, ``usage.cacheDetails`` (writes by
``ttl``, ``5m`` or ``1h``) and ``metrics.latencyMs``, but no model and no time: the model comes from a
wrapper's ``modelId`` or ``--model``; the time from a wrapper's ``timestamp``, boto3's
``ResponseMetadata.HTTPHeaders.date``, else the file's modification time.

Token semantics: Bedrock reports cache reads and writes APART from ``inputTokens`` / ``inputTokenCount``
(as Anthropic does: a recorded Claude Converse response has ``inputTokens`` 13, ``cacheReadInputTokens``
1,504, ``outputTokens`` 5 and ``totalTokens`` 1,522; LiteLLM's Converse transformation adds both to the
prompt tokens too), so the normalized input is
``inputTokens + cacheReadInputTokens + cacheWriteInputTokens`` (OpenAI convention: input includes cache).
Writes with ``ttl: 1h`` in ``cacheDetails`` become ``cache_write_1h_tokens``; the rest are 5-minute
writes. Output is taken as logged. ``provider`` is ``bedrock`` on every row; the model is kept as logged.
Records are read as delivered to S3 (JSON Lines, gzip), one by one, or inside CloudWatch Logs events
(``aws logs filter-log-events`` output: the record is the JSON string ``events[].message``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcost.errors import InputError
from llmcost.frame import Conformed
from llmcost.logs.decoding import loads
from llmcost.logs.formats._records import fields, item_rows, json_rows, parse_documents
from llmcost.logs.formats.anthropic import request_times
from llmcost.logs.interface import ReadOptions, Source

if TYPE_CHECKING:
    import numpy as np

    from llmcost.logs.formats._rows import Rows

FAILED = "failed invocation (errorCode; not billed)"


def _is_invocation_log(first: dict[str, Any]) -> bool:
    return first.get("schemaType") == "ModelInvocationLog" or (
        "modelId" in first and isinstance(first.get("input"), dict) and "inputTokenCount" in first["input"])


def _is_cloudwatch(first: dict[str, Any]) -> bool:
    """``aws logs filter-log-events`` / ``get-log-events`` output: ``events[].message`` holds the record."""
    events = first.get("events")
    return (isinstance(events, list) and bool(events) and isinstance(events[0], dict)
            and '"ModelInvocationLog"' in str(events[0].get("message", "")))


def _is_converse(first: dict[str, Any]) -> bool:
    usage = first.get("usage")
    return isinstance(usage, dict) and "inputTokens" in usage and "outputTokens" in usage and (
        "stopReason" in first or "metrics" in first or "output" in first)


class BedrockReader:
    name = "bedrock"
    description = "AWS Bedrock model-invocation logs (schemaType ModelInvocationLog) or Converse API responses"

    def sniff(self, source: Source) -> bool:
        first = source.first_object or {}
        return _is_invocation_log(first) or _is_converse(first) or _is_cloudwatch(first)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        first = source.first_object or {}
        if _is_converse(first) and not _is_invocation_log(first):
            return _read_converse(source, options)
        return _read_invocation_log(source, options, cloudwatch=_is_cloudwatch(first))


def _read_invocation_log(source: Source, options: ReadOptions, *, cloudwatch: bool = False) -> Conformed:
    import numpy as np

    wanted = [*fields("str", "timestamp", "modelId", "errorCode", "region", "inferenceRegion", "identity.arn",
                      "operation"),
              *fields("int", "input.inputTokenCount", "input.cacheReadInputTokenCount",
                      "input.cacheWriteInputTokenCount", "output.outputTokenCount"),
              *fields("num", "output.outputBodyJson.metrics.latencyMs")]
    if cloudwatch:
        rows = item_rows(_cloudwatch_records(source), wanted, source.name, options)
    else:
        rows = json_rows(source, wanted, options)
    rows.drop(rows.present("errorCode") & ~rows.present("output.outputTokenCount"), FAILED)
    rows.require("timestamp")
    uncached = rows.tokens("input.inputTokenCount", required=True)
    read = rows.tokens("input.cacheReadInputTokenCount")
    written = rows.tokens("input.cacheWriteInputTokenCount")
    region = rows.text("inferenceRegion")
    columns = {
        "timestamp": rows.frame["timestamp"], "model": rows.text("modelId"),
        "input_tokens": uncached + read + written, "cache_read_tokens": read, "cache_write_tokens": written,
        "output_tokens": rows.tokens("output.outputTokenCount", required=True),
        "latency_ms": rows.numbers("output.outputBodyJson.metrics.latencyMs", integer=False),
        "region": region.where(region.notna(), rows.text("region")).to_numpy(),
        "user": rows.text("identity.arn").to_numpy(), "provider": np.full(len(rows), "bedrock", dtype=object),
        "status": np.where(rows.present("errorCode"), "error", "success"),
    }
    return rows.finish(columns, fields={
        "model": "modelId", "input_tokens": "input.inputTokenCount",
        "cache_read_tokens": "input.cacheReadInputTokenCount",
        "cache_write_tokens": "input.cacheWriteInputTokenCount", "output_tokens": "output.outputTokenCount"})


def _read_converse(source: Source, options: ReadOptions) -> Conformed:
    import numpy as np

    u = "usage."
    wanted = [*fields("int", u + "inputTokens", u + "outputTokens", u + "cacheReadInputTokens",
                      u + "cacheWriteInputTokens"),
              *fields("num", "metrics.latencyMs"), *fields("obj", u + "cacheDetails"),
              *fields("str", "modelId", "model", "stopReason", "ResponseMetadata.HTTPHeaders.date"),
              *fields("scalar", "timestamp", "created_at")]
    rows = json_rows(source, wanted, options)
    date = "ResponseMetadata.HTTPHeaders.date"
    if rows.present(date).any() and not rows.present("timestamp").any():
        rows.frame["timestamp"] = rows.frame[date]
    times, tname = request_times(rows, source)
    read = rows.tokens(u + "cacheReadInputTokens")
    written = rows.tokens(u + "cacheWriteInputTokens")
    hour = _one_hour_writes(rows, u + "cacheDetails")
    rows.fail(hour > written, u + "cacheDetails", "1h writes exceed cacheWriteInputTokens")
    model = rows.text("modelId")
    columns = {
        "timestamp": times, "model": model.where(model.notna(), rows.text("model")),
        "input_tokens": rows.tokens(u + "inputTokens", required=True) + read + written,
        "cache_read_tokens": read, "cache_write_tokens": np.maximum(written - hour, 0),
        "cache_write_1h_tokens": hour, "output_tokens": rows.tokens(u + "outputTokens", required=True),
        "latency_ms": rows.numbers("metrics.latencyMs", integer=False),
        "provider": np.full(len(rows), "bedrock", dtype=object),
    }
    return rows.finish(columns, fields={
        "timestamp": date if tname == "timestamp" and rows.present(date).any() else tname,
        "model": "modelId (wrapper) or --model", "input_tokens": u + "inputTokens",
        "cache_read_tokens": u + "cacheReadInputTokens", "cache_write_tokens": u + "cacheWriteInputTokens",
        "output_tokens": u + "outputTokens"})


def _one_hour_writes(rows: Rows, field: str) -> np.ndarray:
    """Tokens written with ``ttl: 1h`` per row, from ``usage.cacheDetails`` (only rows that carry it)."""
    import numpy as np

    out = np.zeros(len(rows), dtype=np.int64)
    if not rows.has(field):
        return out
    details = rows.frame[field]
    for i in np.flatnonzero(rows.present(field)).tolist():  # rare: only responses that wrote to the cache
        items = details.iat[i]
        if not isinstance(items, list) or not all(isinstance(d, dict) for d in items):
            rows.fail(np.arange(len(rows)) == i, field, "must be an array of {ttl, inputTokens}")
            continue
        hour = [d.get("inputTokens") for d in items if d.get("ttl") == "1h"]
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in hour):
            rows.fail(np.arange(len(rows)) == i, field, "inputTokens must be a whole number of tokens")
            continue
        out[i] = sum(hour)
    return out


def _cloudwatch_records(source: Source) -> list[Any]:
    """The invocation records in the ``message`` strings of CloudWatch Logs events (pages, or pages as JSONL),
    numbered by event."""

    records: list[Any] = []
    for doc in parse_documents(source):
        events = doc.get("events") if isinstance(doc, dict) else None
        for event in events if isinstance(events, list) else []:
            message = event.get("message") if isinstance(event, dict) else None
            try:
                records.append(loads(message) if isinstance(message, str) else None)
            except ValueError:
                raise InputError(f"array item {len(records) + 1}: not a JSON invocation record", source=source.name,
                                 field="events.message") from None
    return records
