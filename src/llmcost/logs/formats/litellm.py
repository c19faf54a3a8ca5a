"""LiteLLM proxy ``LiteLLM_SpendLogs`` exports (CSV, or JSON from ``/spend/logs``).

Token semantics: ``prompt_tokens`` is all input (LiteLLM normalizes every provider to the OpenAI
convention). Cache details are not columns; they live in the ``metadata`` JSON, found vectorized by key
anywhere in it: ``cached_tokens`` (``additional_usage_values.prompt_tokens_details`` or ``usage_object``)
and ``cache_read_input_tokens`` are cache reads (the larger wins, they are the same tokens named twice),
``cache_creation_input_tokens`` cache writes, of which ``ephemeral_1h_input_tokens``
(``cache_creation_token_details``, also inside ``additional_usage_values``) are 1-hour writes and the
rest 5-minute writes, ``reasoning_tokens`` reasoning. Older LiteLLM versions left
Anthropic cache writes out of ``prompt_tokens``: when reads + writes exceed ``prompt_tokens`` the writes
are added to it. ``spend`` becomes ``cost_logged``; TTFT = ``completionStartTime`` − ``startTime``;
rows with ``cache_hit`` true were answered by the proxy's own cache (no provider call) and are skipped.
``custom_llm_provider`` becomes ``provider``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcost.frame import Conformed
from llmcost.logs.formats._records import csv_rows, fields, json_rows
from llmcost.logs.formats._rows import Rows, fill_millis, millis_between
from llmcost.logs.interface import ReadOptions, Source

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

_TEXT = ("request_id", "model", "model_group", "status", "user", "end_user", "startTime", "endTime",
         "completionStartTime", "cache_hit", "custom_llm_provider")
_NUMBERS = ("spend", "prompt_tokens", "completion_tokens", "request_duration_ms")
_OBJECTS = ("metadata", "request_tags")
_METADATA_KEYS = {
    "cached_tokens": "cached_tokens",
    "cache_read": "cache_read_input_tokens",
    "cache_write": "cache_creation_input_tokens",
    "cache_write_1h": "ephemeral_1h_input_tokens",
    "reasoning": "reasoning_tokens",
}


class SpendLogsReader:
    name = "litellm"
    description = "LiteLLM proxy LiteLLM_SpendLogs export (CSV or JSON): spend → cost_logged, TTFT, cache details"

    def sniff(self, source: Source) -> bool:
        cols = set(source.columns)
        return {"spend", "startTime"} <= cols and bool(cols & {"prompt_tokens", "call_type", "request_id"})

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        if source.container == "csv":
            rows = csv_rows(source, (*_TEXT, *_NUMBERS, *_OBJECTS), options)
        else:
            wanted = [*fields("str", *_TEXT), *fields("num", *_NUMBERS), *fields("obj", *_OBJECTS)]
            rows = json_rows(source, wanted, options)
            for name in _OBJECTS:
                rows.frame[name] = _as_json_text(rows.frame[name])
        return conform_spend_logs(rows)


# The LiteLLM_SpendLogs columns the mapping reads (a CSV/JSON export's fields, the table's columns).
SPEND_LOG_COLUMNS = (*_TEXT, *_NUMBERS, *_OBJECTS)


def conform_spend_logs(rows: Rows) -> Conformed:
    """LiteLLM_SpendLogs rows (``SPEND_LOG_COLUMNS``; objects as JSON text) to the normalized frame: the
    one mapping for an export (this reader) and for the table itself (``llmcost.logs.postgres``)."""
    hit = rows.text("cache_hit").str.lower().isin(["true", "1"]).fillna(False).to_numpy()
    rows.drop(hit, "LiteLLM cache hit (answered by the proxy, no provider call)")
    return rows.finish(_columns(rows), fields={
        "timestamp": "startTime", "input_tokens": "prompt_tokens", "output_tokens": "completion_tokens",
        "cache_read_tokens": "metadata.cached_tokens", "reasoning_tokens": "metadata.reasoning_tokens"})


def _columns(rows: Rows) -> dict[str, Any]:
    import numpy as np

    rows.require("startTime")
    prompt = rows.tokens("prompt_tokens", required=True)
    meta = _metadata_counts(rows.text("metadata"))
    read = np.maximum(meta["cached_tokens"], meta["cache_read"])
    hour = meta["cache_write_1h"]  # a subset of the writes, billed at the 1-hour rate
    write = np.maximum(meta["cache_write"], hour)
    inp = np.where(read + write > prompt, prompt + write, prompt)
    model = rows.text("model")
    model = model.where(model.str.len() > 0, rows.text("model_group"))
    user = rows.text("user")
    return {
        "timestamp": rows.frame["startTime"],
        "model": model,
        "input_tokens": inp,
        "cache_read_tokens": read,
        "cache_write_tokens": write - hour,
        "cache_write_1h_tokens": hour,
        "output_tokens": rows.tokens("completion_tokens", required=True),
        "reasoning_tokens": meta["reasoning"],
        "status": rows.text("status").to_numpy(),
        "ttft_ms": millis_between(rows.frame["startTime"], rows.text("completionStartTime")).to_numpy(float),
        "latency_ms": fill_millis(rows.numbers("request_duration_ms", integer=False), rows.frame["startTime"],
                                  rows.frame["endTime"] if rows.has("endTime") else rows.text("endTime")),
        "cost_logged": rows.numbers("spend", integer=False),
        "user": user.where(user.str.len() > 0, rows.text("end_user")).to_numpy(),
        "tags": _tags(rows.text("request_tags")),
        "provider": _blank_to_na(rows.text("custom_llm_provider")),
    }


def _blank_to_na(values: pd.Series) -> np.ndarray:
    return values.where(values.str.strip().str.len() > 0).to_numpy()


def _metadata_counts(metadata: pd.Series) -> dict[str, np.ndarray]:
    """Integer values of known keys anywhere in the metadata JSON text (0 where absent), vectorized."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(metadata.fillna(""), type=pa.string())
    out: dict[str, np.ndarray] = {}
    for name, key in _METADATA_KEYS.items():
        found = pc.struct_field(pc.extract_regex(text, rf'"{key}"\s*:\s*(?P<v>\d+)'), "v")
        out[name] = pc.fill_null(pc.cast(found, pa.int64()), 0).to_numpy(zero_copy_only=False)
    out["reasoning"] = np.asarray(out["reasoning"], dtype=np.int64)
    return out


def _tags(raw: pd.Series) -> np.ndarray:
    empty = raw.str.strip().isin(["", "[]", "null", "None"]).fillna(True)
    return raw.where(~empty).to_numpy()


def _as_json_text(values: pd.Series) -> pd.Series:
    """Objects from a JSON export back to JSON text (the CSV shape), so one code path reads both."""
    import json

    return values.map(lambda v: v if v is None or isinstance(v, str) else json.dumps(v))
