"""The OpenAI platform usage export (completions CSV): one row per time bucket, not per request.

``weight`` = ``num_model_requests``; the bucket's ``start_time`` is the timestamp and ``end_time`` becomes
``period_end``, so the observed window covers whole buckets. ``input_tokens`` includes
``input_cached_tokens`` (OpenAI convention); numbers are written as floats (``12.0``) and must be whole.
"""

from __future__ import annotations

from llmcost.frame import Conformed
from llmcost.logs.formats._records import csv_rows
from llmcost.logs.interface import ReadOptions, Source

COLUMNS = ("start_time", "end_time", "num_model_requests", "model", "batch", "input_tokens", "output_tokens",
           "input_cached_tokens", "user_id", "project_id", "service_tier")


class UsageExportReader:
    name = "openai-usage"
    description = "OpenAI platform usage export CSV (completions): time buckets of num_model_requests"

    def sniff(self, source: Source) -> bool:
        return {"start_time", "end_time", "num_model_requests", "input_tokens"} <= set(source.columns)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        rows = csv_rows(source, COLUMNS, options)
        requests = rows.tokens("num_model_requests", required=True)
        inp = rows.tokens("input_tokens", required=True)
        out = rows.tokens("output_tokens", required=True)
        rows.drop((requests == 0) & (inp == 0) & (out == 0), "empty bucket (0 requests)")
        rows.require("start_time")
        columns = {
            "timestamp": rows.frame["start_time"],
            "period_end": rows.frame["end_time"] if rows.has("end_time") else rows.frame["start_time"],
            "model": rows.text("model"),
            "input_tokens": inp,
            "cache_read_tokens": rows.tokens("input_cached_tokens"),
            "output_tokens": out,
            "weight": requests,
            "batch": rows.frame["batch"] if rows.has("batch") else False,
            "user": rows.text("user_id").to_numpy(),
            "task": rows.text("project_id").to_numpy(),
        }
        names = {"timestamp": "start_time", "period_end": "end_time", "weight": "num_model_requests",
                 "cache_read_tokens": "input_cached_tokens"}
        return rows.finish(columns, fields=names)
