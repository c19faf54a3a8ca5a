"""Public LLM request traces: Azure LLM inference (2023), Mooncake (FAST'25) and BurstGPT.

None carries prices and only BurstGPT names a model, so Azure and Mooncake rows need ``--model ID``.
Mooncake and BurstGPT timestamps are relative to the trace's start; they are anchored at
``TRACE_START`` (2025-01-01T00:00:00Z) so windows and projections work. Token counts are totals with no
cache information (Mooncake's ``hash_ids`` — one id per 512-token prefix block — become ``prefix_hashes``
for cache simulation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from llmcost.frame import Conformed
from llmcost.logs.formats._records import csv_rows, fields, json_rows
from llmcost.logs.formats._rows import Rows
from llmcost.logs.interface import ReadOptions, Source

if TYPE_CHECKING:
    import pandas as pd

TRACE_START = "2025-01-01T00:00:00Z"


def anchored(rows: Rows, field: str, unit: Literal["ms", "s"]) -> pd.Series:
    """Relative times (``unit`` = "ms" or "s" since the trace began) as UTC timestamps from TRACE_START."""
    import numpy as np
    import pandas as pd

    offset = rows.numbers(field, integer=False)
    rows.fail(np.isnan(offset), field, "is missing")
    delta = pd.to_timedelta(np.nan_to_num(offset), unit=unit)
    return pd.Series(pd.Timestamp(TRACE_START) + delta)


class AzureTraceReader:
    name = "azure-trace"
    description = "Azure LLM inference trace CSV (TIMESTAMP, ContextTokens, GeneratedTokens); needs --model"

    def sniff(self, source: Source) -> bool:
        return {"TIMESTAMP", "ContextTokens", "GeneratedTokens"} <= set(source.columns)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        rows = csv_rows(source, ("TIMESTAMP", "ContextTokens", "GeneratedTokens"), options)
        rows.require("TIMESTAMP")
        columns = {"timestamp": rows.frame["TIMESTAMP"],
                   "input_tokens": rows.tokens("ContextTokens", required=True),
                   "output_tokens": rows.tokens("GeneratedTokens", required=True)}
        return rows.finish(columns, fields={"timestamp": "TIMESTAMP", "input_tokens": "ContextTokens",
                                            "output_tokens": "GeneratedTokens"})


class MooncakeTraceReader:
    name = "mooncake-trace"
    description = "Mooncake trace JSONL (timestamp ms from start, input_length, output_length, hash_ids); needs --model"

    def sniff(self, source: Source) -> bool:
        return {"timestamp", "input_length", "output_length"} <= set(source.columns)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        wanted = [*fields("num", "timestamp"), *fields("int", "input_length", "output_length"),
                  *fields("ints", "hash_ids"), *fields("str", "model")]
        rows = json_rows(source, wanted, options)
        columns = {"timestamp": anchored(rows, "timestamp", "ms"),
                   "input_tokens": rows.tokens("input_length", required=True),
                   "output_tokens": rows.tokens("output_length", required=True),
                   "prefix_hashes": rows.frame["hash_ids"]}
        if rows.present("model").any():
            columns["model"] = rows.text("model")
        return rows.finish(columns, fields={"input_tokens": "input_length", "output_tokens": "output_length"})


class BurstGPTReader:
    name = "burstgpt"
    description = "BurstGPT trace CSV (Timestamp s from start, Model, Request/Response tokens, Log Type)"

    def sniff(self, source: Source) -> bool:
        return {"Timestamp", "Request tokens", "Response tokens"} <= set(source.columns)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        import numpy as np

        rows = csv_rows(source, ("Timestamp", "Model", "Request tokens", "Response tokens", "Log Type"), options)
        response = rows.tokens("Response tokens", required=True)
        columns = {"timestamp": anchored(rows, "Timestamp", "s"),
                   "model": rows.text("Model"),
                   "input_tokens": rows.tokens("Request tokens", required=True),
                   "output_tokens": response,
                   "status": np.where(response == 0, "failed", "success"),
                   "task": rows.text("Log Type").to_numpy()}
        return rows.finish(columns, fields={"model": "Model", "input_tokens": "Request tokens",
                                            "output_tokens": "Response tokens"})
