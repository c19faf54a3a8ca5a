"""OpenAI API objects: Chat Completions, Responses, and Batch API output.

Token semantics (OpenAI convention, the same as the normalized frame): ``prompt_tokens`` /
``input_tokens`` count ALL input, ``cached_tokens`` is a subset of it; ``completion_tokens`` /
``output_tokens`` include ``reasoning_tokens``. ``service_tier`` is kept as logged; Chat Completions
``prompt_tokens_details.audio_tokens`` / ``completion_tokens_details.audio_tokens`` become the audio
subsets. A Responses object still ``queued`` / ``in_progress`` (or ``failed`` / ``cancelled``) with
``usage: null`` is not billed: skipped and counted. OpenRouter chat completions carry ``usage.cost``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcost.frame import Conformed
from llmcost.logs.formats._records import Field, fields, json_rows
from llmcost.logs.formats._rows import Rows
from llmcost.logs.interface import ReadOptions, Source

if TYPE_CHECKING:
    import numpy as np


def _chat_fields(prefix: str) -> list[Field]:
    p = prefix
    return fields("int", f"{p}usage.prompt_tokens", f"{p}usage.completion_tokens",
                  f"{p}usage.prompt_tokens_details.cached_tokens",
                  *(f"{p}usage.{w}" for w in _WRITES), f"{p}usage.{_WRITES_1H}",
                  f"{p}usage.completion_tokens_details.reasoning_tokens")


# Cache writes in a Chat Completions usage: OpenRouter's ``cache_write_tokens``; LiteLLM's
# ``cache_creation_tokens`` / ``cache_creation_input_tokens`` (the same tokens named twice), with the
# 1-hour part in ``cache_creation_token_details``.
_WRITES = ("prompt_tokens_details.cache_write_tokens", "prompt_tokens_details.cache_creation_tokens",
           "cache_creation_input_tokens")
_WRITES_1H = "prompt_tokens_details.cache_creation_token_details.ephemeral_1h_input_tokens"


def _responses_fields(prefix: str) -> list[Field]:
    p = prefix
    return fields("int", f"{p}usage.input_tokens", f"{p}usage.output_tokens",
                  f"{p}usage.input_tokens_details.cached_tokens",
                  f"{p}usage.output_tokens_details.reasoning_tokens")


def chat_tokens(rows: Rows, prefix: str, *, required: bool = True) -> dict[str, Any]:
    """Normalized token columns from a Chat Completions ``usage`` object at ``prefix``."""
    import numpy as np

    p = prefix
    prompt = rows.tokens(f"{p}usage.prompt_tokens", required=required)
    read = rows.tokens(f"{p}usage.prompt_tokens_details.cached_tokens")
    writes = np.max([rows.tokens(f"{p}usage.{w}") for w in _WRITES], axis=0)
    hour = rows.tokens(f"{p}usage.{_WRITES_1H}")
    writes = np.maximum(writes, hour)
    return {
        # a gateway that left the writes out of prompt_tokens (reads + writes exceed it) gets them added
        "input_tokens": np.where(read + writes > prompt, prompt + writes, prompt),
        "cache_read_tokens": read,
        "cache_write_tokens": writes - hour,
        "cache_write_1h_tokens": hour,
        "output_tokens": rows.tokens(f"{p}usage.completion_tokens", required=required),
        "reasoning_tokens": rows.tokens(f"{p}usage.completion_tokens_details.reasoning_tokens"),
    }


def responses_tokens(rows: Rows, prefix: str, *, required: bool = True) -> dict[str, Any]:
    """Normalized token columns from a Responses API ``usage`` object at ``prefix``."""
    p = prefix
    return {
        "input_tokens": rows.tokens(f"{p}usage.input_tokens", required=required),
        "cache_read_tokens": rows.tokens(f"{p}usage.input_tokens_details.cached_tokens"),
        "output_tokens": rows.tokens(f"{p}usage.output_tokens", required=required),
        "reasoning_tokens": rows.tokens(f"{p}usage.output_tokens_details.reasoning_tokens"),
    }


def _field_names(prefix: str, responses: bool) -> dict[str, str]:
    if responses:
        return {"input_tokens": f"{prefix}usage.input_tokens", "output_tokens": f"{prefix}usage.output_tokens",
                "cache_read_tokens": f"{prefix}usage.input_tokens_details.cached_tokens",
                "reasoning_tokens": f"{prefix}usage.output_tokens_details.reasoning_tokens",
                "timestamp": f"{prefix}created_at", "model": f"{prefix}model"}
    return {"input_tokens": f"{prefix}usage.prompt_tokens", "output_tokens": f"{prefix}usage.completion_tokens",
            "cache_read_tokens": f"{prefix}usage.prompt_tokens_details.cached_tokens",
            "reasoning_tokens": f"{prefix}usage.completion_tokens_details.reasoning_tokens",
            "timestamp": f"{prefix}created", "model": f"{prefix}model"}


class ChatCompletionReader:
    name = "openai-chat"
    description = "OpenAI Chat Completions response objects (JSON, JSON array or JSONL; streamed usage chunks too)"

    def sniff(self, source: Source) -> bool:
        first = source.first_object or {}
        usage = first.get("usage")
        return first.get("object") in ("chat.completion", "chat.completion.chunk") or (
            "choices" in first and isinstance(usage, dict) and "prompt_tokens" in usage)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        wanted = [*_chat_fields(""), *fields("str", "object", "model", "service_tier"),
                  *fields("int", *_AUDIO.values()), *fields("num", "created", "usage.cost", "time_info.total_time"),
                  *fields("bool", "usage.is_byok"), *fields("str", "x_groq.id")]
        rows = json_rows(source, wanted, options)
        chunk = rows.text("object").fillna("").to_numpy() == "chat.completion.chunk"
        rows.drop(chunk & ~rows.present("usage.prompt_tokens"), "stream chunk without usage")
        rows.require("created")
        columns = {"timestamp": rows.numbers("created", integer=False), "model": rows.text("model"),
                   **chat_tokens(rows, ""), **_chat_extras(rows)}
        columns["batch"] = rows.text("service_tier").fillna("").to_numpy() == "batch"
        names = {**_field_names("", responses=False), **_AUDIO}
        return rows.finish(columns, fields=names)


_AUDIO = {"audio_input_tokens": "usage.prompt_tokens_details.audio_tokens",
          "audio_output_tokens": "usage.completion_tokens_details.audio_tokens"}


def _chat_extras(rows: Rows) -> dict[str, Any]:
    """``service_tier`` as logged; audio token subsets where the file reports them; an OpenRouter
    response's ``usage.cost`` (→ ``cost_logged``) and provider ``openrouter`` (only OpenRouter's usage
    carries ``cost`` / ``is_byok``); the host an OpenAI-compatible body names by its own extension:
    ``x_groq`` → ``groq``, Cerebras' ``time_info`` → ``cerebras`` (``gpt-oss-120b`` costs what its host bills)."""
    import numpy as np

    out: dict[str, Any] = {"service_tier": rows.text("service_tier").to_numpy()}
    for column, field in _AUDIO.items():
        if rows.present(field).any():
            out[column] = rows.tokens(field)
    cost = rows.present("usage.cost")
    hosts = ((cost | rows.present("usage.is_byok"), "openrouter"), (rows.present("x_groq.id"), "groq"),
             (rows.present("time_info.total_time"), "cerebras"))
    if any(mask.any() for mask, _ in hosts):
        out["provider"] = np.select([m for m, _ in hosts], [h for _, h in hosts], None)  # type: ignore[call-overload]
    if cost.any():
        out["cost_logged"] = rows.numbers("usage.cost", integer=False)
    return out


# Responses API statuses of a response that has not run (or did not finish) and carries ``usage: null``
NOT_BILLED = ("queued", "in_progress", "cancelled", "failed")


class ResponsesReader:
    name = "openai-responses"
    description = "OpenAI Responses API objects (object: response), JSON, JSON array or JSONL"

    def sniff(self, source: Source) -> bool:
        first = source.first_object or {}
        return first.get("object") == "response" and "output" in first

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        wanted = [*_responses_fields(""), *fields("str", "model", "status", "service_tier", "user"),
                  Field(("created_at",), "num")]
        rows = json_rows(source, wanted, options)
        status = rows.text("status")
        unfinished = ~rows.present("usage.input_tokens") & status.isin(NOT_BILLED).fillna(False).to_numpy(bool)
        for value in sorted(set(status[unfinished])):
            rows.drop(unfinished & (status == value).fillna(False).to_numpy(bool),
                      f"response {value} without usage (not billed)")
        rows.require("created_at")
        columns = {"timestamp": rows.numbers("created_at", integer=False), "model": rows.text("model"),
                   **responses_tokens(rows, ""), "status": status.to_numpy(),
                   "batch": rows.text("service_tier").fillna("").to_numpy() == "batch",
                   "service_tier": rows.text("service_tier").to_numpy()}
        return rows.finish(columns, fields=_field_names("", responses=True))


class BatchOutputReader:
    name = "openai-batch"
    description = "OpenAI Batch API output JSONL (custom_id, response.body); error lines are counted, not priced"

    def sniff(self, source: Source) -> bool:
        first = source.first_object or {}
        return "custom_id" in first and "response" in first and "error" in first

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        import numpy as np

        body = "response.body."
        wanted = [*_chat_fields(body), *_responses_fields(body),
                  *fields("str", f"{body}model", f"{body}object", "error.code"),
                  *fields("num", f"{body}created", f"{body}created_at", "response.status_code")]
        rows = json_rows(source, wanted, options)
        _drop_batch_failures(rows)
        responses = (rows.text(f"{body}object") == "response").fillna(False).to_numpy() | (
            rows.present(f"{body}usage.input_tokens") & ~rows.present(f"{body}usage.prompt_tokens"))
        rows.fail(responses & ~rows.present(f"{body}usage.input_tokens"), f"{body}usage.input_tokens", "is missing")
        rows.fail(~responses & ~rows.present(f"{body}usage.prompt_tokens"), f"{body}usage.prompt_tokens", "is missing")
        chat = chat_tokens(rows, body, required=False) if (~responses).any() else {}
        resp = responses_tokens(rows, body, required=False) if responses.any() else {}
        columns: dict[str, Any] = {k: _either(responses, resp.get(k), chat.get(k)) for k in (*chat, *resp)}
        created = rows.numbers(f"{body}created", integer=False)
        created = np.where(np.isnan(created), rows.numbers(f"{body}created_at", integer=False), created)
        rows.fail(np.isnan(created), f"{body}created", "is missing")
        columns.update(timestamp=created, model=rows.text(f"{body}model"), batch=True)
        return rows.finish(columns, fields=_field_names(body, responses=False))


def _drop_batch_failures(rows: Rows) -> None:
    """Error lines and non-200 responses were not billed: count them by error code."""
    import numpy as np

    code = rows.text("error.code")
    errored = rows.present("error.code")
    for value in sorted(set(code[errored].dropna())):
        rows.drop((code == value).fillna(False).to_numpy(), f"batch error line (not billed): {value}")
    status = rows.numbers("response.status_code")
    with np.errstate(invalid="ignore"):
        failed = ~np.isnan(status) & (status != 200)
    rows.drop(failed, "batch request failed (status != 200, not billed)")
    rows.drop(~rows.present("response.body.usage.prompt_tokens") & ~rows.present("response.body.usage.input_tokens")
              & ~rows.present("response.status_code"), "batch line without a response (not billed)")


def _either(mask: np.ndarray, when: Any, otherwise: Any) -> Any:
    import numpy as np

    if when is None:
        return otherwise
    if otherwise is None:
        return when
    return np.where(mask, when, otherwise)
