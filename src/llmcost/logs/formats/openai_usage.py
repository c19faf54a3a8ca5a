"""The OpenAI platform usage export (completions CSV, or the Usage API's JSON pages of buckets): one row
per time bucket (and group), not per request.

``weight`` = ``num_model_requests``; the bucket's ``start_time`` is the timestamp and ``end_time`` becomes
``period_end``, so the observed window covers whole buckets. ``input_tokens`` includes
``input_cached_tokens`` (OpenAI convention); numbers are written as floats (``12.0``) and must be whole.
A bucket without a model (the Usage API without ``group_by=model`` gives ``model: null``) is an error that
says so, unless ``--model ID`` names the model; ``service_tier`` (when grouped by it) is kept.
"""

from __future__ import annotations

from typing import Any

from llmcost.errors import InputError
from llmcost.frame import Conformed
from llmcost.logs.formats._records import csv_rows, json_pages
from llmcost.logs.formats._rows import Rows
from llmcost.logs.interface import ReadOptions, Source

COLUMNS = ("start_time", "end_time", "num_model_requests", "model", "batch", "input_tokens", "output_tokens",
           "input_cached_tokens", "user_id", "project_id", "service_tier")


class UsageExportReader:
    name = "openai-usage"
    description = "OpenAI usage export CSV or Usage API JSON (completions): time buckets of num_model_requests"

    def sniff(self, source: Source) -> bool:
        if {"start_time", "end_time", "num_model_requests", "input_tokens"} <= set(source.columns):
            return True
        first = source.first_object or {}
        data = first.get("data")
        if first.get("object") == "page" and isinstance(data, list) and data and isinstance(data[0], dict):
            first = data[0]
        return first.get("object") == "bucket" and "results" in first

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        rows = csv_rows(source, COLUMNS, options) if source.container == "csv" else _bucket_rows(source, options)
        requests = rows.tokens("num_model_requests", required=True)
        inp = rows.tokens("input_tokens", required=True)
        out = rows.tokens("output_tokens", required=True)
        rows.drop((requests == 0) & (inp == 0) & (out == 0), "empty bucket (0 requests)")
        rows.require("start_time")
        _require_models(rows, options)
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
            "service_tier": rows.text("service_tier").to_numpy(),
        }
        names = {"timestamp": "start_time", "period_end": "end_time", "weight": "num_model_requests",
                 "cache_read_tokens": "input_cached_tokens"}
        return rows.finish(columns, fields=names)


NO_MODEL = "the usage was exported without group_by=model; export it with group_by=model or pass --model ID"


def _require_models(rows: Rows, options: ReadOptions) -> None:
    """Buckets without a model (a Usage API page without ``group_by=model``) cannot be priced: say how
    to get one, unless ``--model`` names it."""
    if options.default_model is not None:
        return
    if not rows.has("model"):
        raise InputError(f"missing column: {NO_MODEL}", source=rows.source, field="model")
    model = rows.text("model")
    blank = (model.isna() | (model.str.strip().str.len() == 0)).fillna(True).to_numpy(dtype=bool)
    rows.fail(blank, "model", f"is null: {NO_MODEL}")


def _bucket_rows(source: Source, options: ReadOptions) -> Rows:
    """Usage API JSON (a page, pages as JSONL, or a list of buckets): one row per bucket result."""

    import numpy as np
    import pandas as pd

    buckets = json_pages(source, lambda doc: doc.get("data") if isinstance(doc, dict)
                         and doc.get("object") == "page" else doc)
    records: list[dict[str, Any]] = []
    items: list[int] = []
    foreign = 0
    for number, bucket in enumerate(buckets, start=1):
        if not isinstance(bucket, dict) or not isinstance(bucket.get("results"), list):
            raise InputError(f"array item {number}: not a usage bucket with results", source=source.name)
        for result in bucket["results"]:
            if isinstance(result, dict):
                records.append({**result, "start_time": bucket.get("start_time"), "end_time": bucket.get("end_time")})
                items.append(number)
            else:
                foreign += 1
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS)) if records else pd.DataFrame(columns=COLUMNS)
    skipped = {"bucket result that is not an object": foreign} if foreign else None
    return Rows(frame, np.asarray(items, dtype=np.int64), source.name, options, unit="item", skipped=skipped)
