"""OpenAI Codex CLI session logs (``~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl``).

Each line is a ``RolloutLine`` of codex-rs (``{"timestamp", "type", "payload"}``): ``session_meta`` (session
``id``, ``model_provider``), ``turn_context`` (the ``model`` of the turn), ``response_item`` and
``event_msg``. A request is an ``event_msg`` whose ``payload.type`` is ``token_count`` with a non-null
``payload.info``: ``info.last_token_usage`` is the usage of the latest model response, and
``info.total_token_usage`` the running session total.

Token semantics (codex-rs builds ``TokenUsage`` from the Responses API ``usage``): ``input_tokens`` INCLUDES
``cached_input_tokens`` (``input_tokens_details.cached_tokens``) and ``output_tokens`` INCLUDES
``reasoning_output_tokens`` (``output_tokens_details.reasoning_tokens``); ``total_tokens`` = input + output.
So the normalized columns are taken as logged (OpenAI convention). ``cache_write_input_tokens``, which newer
builds write, is a subset of the input too.

Codex writes a ``token_count`` event again when nothing new was billed (with the same
``total_token_usage``; a rate-limit update, or a resumed session): such a repeat is recognised because the
running total did not change from the previous ``token_count`` of the file, and it is skipped and counted.
Where ``last_token_usage`` is absent (older builds) the request is the difference of consecutive totals.
The model is the latest ``turn_context`` ``model`` before the event (``--model`` for sessions written
before codex logged it); ``session_meta`` ``id`` becomes the task, ``model_provider`` the provider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmcost.frame import Conformed
from llmcost.logs.formats._records import fields, json_rows
from llmcost.logs.interface import ReadOptions, Source

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.logs.formats._rows import Rows

_COUNTS = ("input_tokens", "cached_input_tokens", "cache_write_input_tokens", "output_tokens",
           "reasoning_output_tokens")
_LAST = "payload.info.last_token_usage."
_TOTAL = "payload.info.total_token_usage."
REPEAT = "repeated token_count (same total_token_usage as the previous one; not a new request)"
COPIED = "token_count copied from an earlier session file (a resumed or forked session; counted once)"


class CodexSessionReader:
    name = "codex"
    description = "OpenAI Codex CLI session JSONL (~/.codex/sessions/**/rollout-*.jsonl): token_count events"
    repeat_reason = COPIED

    def repeat_key(self, frame: pd.DataFrame) -> np.ndarray:
        """A resumed or forked session's file starts with copies of the earlier session's events (same time,
        same counts): one hash of time and counts per request, so ``read_logs`` counts each once."""
        import pandas as pd

        columns = ["timestamp", "input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens",
                   "reasoning_tokens"]
        keys: np.ndarray = pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()
        return keys

    def sniff(self, source: Source) -> bool:
        first = source.first_object or {}
        payload = first.get("payload")
        return (first.get("type") in {"session_meta", "turn_context", "event_msg", "response_item"}
                and isinstance(payload, dict) and "timestamp" in first)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        wanted = [*fields("str", "timestamp", "type", "payload.type", "payload.model", "payload.id",
                          "payload.model_provider"),
                  *fields("int", *(_LAST + c for c in _COUNTS), *(_TOTAL + c for c in _COUNTS))]
        rows = json_rows(source, wanted, options)
        kind = rows.text("type").fillna("")
        is_meta = (kind == "session_meta").to_numpy()
        model = rows.text("payload.model").where(kind == "turn_context").ffill()
        session = rows.text("payload.id").where(is_meta).ffill()
        provider = rows.text("payload.model_provider").where(is_meta).ffill()
        counted = ((kind == "event_msg") & (rows.text("payload.type") == "token_count")).to_numpy()
        counted &= rows.present(_TOTAL + "input_tokens") | rows.present(_LAST + "input_tokens")
        rows.bad |= ~counted  # session lines, messages, tool calls, rate-limit-only updates: not requests
        usage = _request_usage(rows, counted)
        rows.require("timestamp")
        columns = {
            "timestamp": rows.frame["timestamp"], "model": model,
            "input_tokens": usage["input_tokens"], "cache_read_tokens": usage["cached_input_tokens"],
            "cache_write_tokens": usage["cache_write_input_tokens"], "output_tokens": usage["output_tokens"],
            "reasoning_tokens": usage["reasoning_output_tokens"],
            "task": session.to_numpy(), "provider": provider.to_numpy(),
        }
        names = {"model": "turn_context payload.model", "input_tokens": _LAST + "input_tokens",
                 "cache_read_tokens": _LAST + "cached_input_tokens",
                 "cache_write_tokens": _LAST + "cache_write_input_tokens",
                 "output_tokens": _LAST + "output_tokens", "reasoning_tokens": _LAST + "reasoning_output_tokens"}
        return rows.finish(columns, fields=names)


def _request_usage(rows: Rows, counted: np.ndarray) -> dict[str, np.ndarray]:
    """Per-request counts: ``last_token_usage``, or the step of ``total_token_usage`` where it is absent;
    a ``token_count`` whose running total equals the previous one is a repeat (skipped and counted)."""
    import numpy as np

    totals = np.stack([rows.tokens(_TOTAL + c) for c in _COUNTS], axis=1)
    has_total = rows.present(_TOTAL + "input_tokens")
    index = np.flatnonzero(counted)
    prior = np.zeros_like(totals)
    prior[index[1:]] = totals[index[:-1]]  # the running total of the previous token_count event
    prev_has = np.zeros(len(counted), dtype=bool)
    prev_has[index[1:]] = has_total[index[:-1]]
    repeat = counted & has_total & prev_has & (totals == prior).all(axis=1)
    rows.drop(repeat, REPEAT)
    has_last = rows.present(_LAST + "input_tokens")
    out: dict[str, np.ndarray] = {}
    for i, name in enumerate(_COUNTS):
        step = np.maximum(totals[:, i] - prior[:, i], 0)
        out[name] = np.where(has_last, rows.tokens(_LAST + name), step)
    return out
