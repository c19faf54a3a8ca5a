"""Anthropic Messages responses, Message Batches results, and Claude Code session logs.

Token semantics: Anthropic's ``input_tokens`` EXCLUDES cache reads and writes, so the normalized
input is ``input_tokens + cache_creation_input_tokens + cache_read_input_tokens``. Cache writes are split
by TTL with ``cache_creation.ephemeral_1h_input_tokens`` (1-hour writes); the rest of
``cache_creation_input_tokens`` are 5-minute writes. ``output_tokens`` includes extended thinking.
``usage.service_tier`` is kept as ``service_tier`` (no ``provider``: Bedrock and Vertex return the same
body). Claude Code lines carry the cost Claude Code computed as ``costUSD`` (→ ``cost_logged``); a line
whose ``message`` is a string is an event, skipped and counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcost.frame import Conformed
from llmcost.logs.formats._records import Field, fields, json_rows
from llmcost.logs.formats._rows import Rows
from llmcost.logs.interface import ReadOptions, Source

if TYPE_CHECKING:
    import pandas as pd

_USAGE = ("usage.input_tokens", "usage.cache_creation_input_tokens", "usage.cache_read_input_tokens",
          "usage.cache_creation.ephemeral_5m_input_tokens", "usage.cache_creation.ephemeral_1h_input_tokens",
          "usage.output_tokens")


def usage_fields(prefix: str) -> list[Field]:
    return [*fields("int", *(prefix + u for u in _USAGE)), *fields("str", f"{prefix}usage.service_tier")]


def anthropic_tokens(rows: Rows, prefix: str) -> dict[str, Any]:
    """Normalized token columns from an Anthropic ``usage`` object at ``prefix``."""
    import numpy as np

    p = prefix + "usage."
    uncached = rows.tokens(f"{p}input_tokens", required=True)
    read = rows.tokens(f"{p}cache_read_input_tokens")
    five = rows.tokens(f"{p}cache_creation.ephemeral_5m_input_tokens")
    hour = rows.tokens(f"{p}cache_creation.ephemeral_1h_input_tokens")
    written = np.where(rows.present(f"{p}cache_creation_input_tokens"),
                       rows.tokens(f"{p}cache_creation_input_tokens"), five + hour)
    rows.fail(hour > written, f"{p}cache_creation.ephemeral_1h_input_tokens",
              "exceeds cache_creation_input_tokens")
    return {
        "input_tokens": uncached + read + written,
        "cache_read_tokens": read,
        "cache_write_tokens": np.maximum(written - hour, 0),
        "cache_write_1h_tokens": hour,
        "output_tokens": rows.tokens(f"{p}output_tokens", required=True),
    }


def service_tier(rows: Rows, prefix: str) -> dict[str, Any]:
    """``usage.service_tier`` as logged ("standard", "priority", "batch"). No ``provider``: the same body
    comes from Anthropic, Bedrock and Vertex AI."""
    return {"service_tier": rows.text(f"{prefix}usage.service_tier").to_numpy()}


def field_names(prefix: str) -> dict[str, str]:
    p = prefix + "usage."
    return {"input_tokens": f"{p}input_tokens", "output_tokens": f"{p}output_tokens",
            "cache_read_tokens": f"{p}cache_read_input_tokens", "model": f"{prefix}model",
            "cache_write_tokens": f"{p}cache_creation_input_tokens",
            "cache_write_1h_tokens": f"{p}cache_creation.ephemeral_1h_input_tokens"}


def request_times(rows: Rows, source: Source) -> tuple[pd.Series, str]:
    """The record's own time (``timestamp`` / ``created_at``, which wrappers add); else the file's mtime.

    Anthropic response objects carry no time; a file of them is given its modification time, so a
    projection needs ``--window-days``.
    """
    import pandas as pd

    for name in ("timestamp", "created_at"):
        if rows.has(name) and rows.present(name).any():
            given = rows.frame[name]
            epoch = pd.to_numeric(given, errors="coerce")
            if (epoch.notna() | given.isna()).all():  # epoch numbers (they arrive as text from JSON)
                return epoch, name
            return given.astype("string"), name  # ISO text (an epoch among them is then an error)
    return pd.Series(file_time(source), index=rows.frame.index), "timestamp"


def file_time(source: Source) -> pd.Timestamp:
    from pathlib import Path

    import pandas as pd

    path = Path(source.name)
    if source.data is not None or not path.is_file():
        return pd.Timestamp.now(tz="UTC").floor("s")
    return pd.Timestamp(path.stat().st_mtime, unit="s", tz="UTC").floor("s")


class MessageReader:
    name = "anthropic-messages"
    description = "Anthropic Messages API responses (type: message), JSON, JSON array or JSONL"

    def sniff(self, source: Source) -> bool:
        first = source.first_object or {}
        usage = first.get("usage")
        return first.get("type") == "message" and isinstance(usage, dict) and "input_tokens" in usage

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        wanted = [*usage_fields(""), *fields("str", "model"), *fields("scalar", "timestamp", "created_at")]
        rows = json_rows(source, wanted, options)
        times, tname = request_times(rows, source)
        columns = {"timestamp": times, "model": rows.text("model"), **anthropic_tokens(rows, ""),
                   **service_tier(rows, "")}
        columns["batch"] = rows.text("usage.service_tier").fillna("").to_numpy() == "batch"
        return rows.finish(columns, fields={**field_names(""), "timestamp": tname})


class BatchResultsReader:
    name = "anthropic-batch"
    description = "Anthropic Message Batches results JSONL (custom_id, result); non-succeeded results are counted"

    def sniff(self, source: Source) -> bool:
        first = source.first_object or {}
        return "custom_id" in first and isinstance(first.get("result"), dict)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        msg = "result.message."
        wanted = [*usage_fields(msg), *fields("str", "result.type", f"{msg}model"),
                  *fields("scalar", "timestamp", "created_at")]
        rows = json_rows(source, wanted, options)
        kind = rows.text("result.type").fillna("")
        for value in sorted(set(kind[kind != "succeeded"])):
            rows.drop((kind == value).to_numpy(), f"batch result {value or 'without type'} (not billed)")
        times, tname = request_times(rows, source)
        columns = {"timestamp": times, "model": rows.text(f"{msg}model"), **anthropic_tokens(rows, msg),
                   "batch": True, **service_tier(rows, msg)}
        return rows.finish(columns, fields={**field_names(msg), "timestamp": tname})


class ClaudeCodeReader:
    name = "claude-code"
    description = "Claude Code session JSONL (~/.claude/projects/*/*.jsonl): assistant lines with message.usage"

    def sniff(self, source: Source) -> bool:
        first = source.first_object or {}
        return "sessionId" in first or (first.get("type") == "summary" and "leafUuid" in first)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        msg = "message."
        wanted = [*usage_fields(msg), *fields("str", "timestamp", "requestId", "sessionId", f"{msg}id",
                                              f"{msg}model"), *fields("num", "costUSD"),
                  Field(("message",), "not_object"), Field(("message", "usage"), "present")]
        rows = json_rows(source, wanted, options)
        rows.drop(rows.present("message"), "message is not an object (an event, not a request)")
        no_counts = ~rows.present(f"{msg}usage.input_tokens") & ~rows.present(f"{msg}usage.output_tokens")
        rows.drop(no_counts & rows.present(f"{msg}usage"), "usage without token counts (usage: {})")
        rows.bad |= no_counts  # lines without usage are events, not requests
        model = rows.text(f"{msg}model")
        rows.drop((model == "<synthetic>").fillna(False).to_numpy(), "synthetic entry (model <synthetic>)")
        key = rows.text(f"{msg}id").fillna("") + "\x00" + rows.text("requestId").fillna("")
        has_key = (rows.present(f"{msg}id") | rows.present("requestId"))
        repeated = key.where(~rows.bad & has_key).duplicated(keep="last").to_numpy() & has_key & ~rows.bad
        rows.drop(repeated, "repeated streaming entry (same message.id + requestId; last kept)")
        rows.require("timestamp")
        columns = {"timestamp": rows.frame["timestamp"], "model": model, **anthropic_tokens(rows, msg),
                   "task": rows.text("sessionId").to_numpy(), "cost_logged": rows.numbers("costUSD", integer=False),
                   **service_tier(rows, msg)}
        return rows.finish(columns, fields={**field_names(msg), "timestamp": "timestamp"})
