"""The Anthropic Usage & Cost Admin API messages report (``GET /v1/organizations/usage_report/messages``).

A page is ``{"data": [bucket, ...], "has_more", "next_page"}``; a bucket has ``starting_at``, ``ending_at`` and
``results``, one per group: ``uncached_input_tokens``, ``cache_read_input_tokens``,
``cache_creation.ephemeral_5m_input_tokens`` / ``ephemeral_1h_input_tokens`` (or the flat
``cache_creation_5m_input_tokens`` / ``cache_creation_1h_input_tokens``), ``output_tokens``, and the
group-by dimensions ``model``, ``service_tier``, ``context_window``, ``workspace_id``, ``api_key_id``
(null where not grouped). One page, a list of buckets, or pages as JSONL are read.

Token semantics: ``uncached_input_tokens`` EXCLUDES cache reads and writes (Anthropic convention), so the
normalized input is uncached + cache reads + 5-minute writes + 1-hour writes. One row is a bucket result:
``timestamp`` = ``starting_at``, ``period_end`` = ``ending_at`` (the window covers whole buckets),
``service_tier`` as reported ("batch" → batch rates), ``workspace_id`` → task, ``api_key_id`` → user.

The report has NO request count, so the per-request long-context rule cannot be applied from counts.
``weight`` is the fewest requests the bucket can hold given its ``context_window`` group: ``0-200k``
(and an ungrouped bucket) ⌈input / 200,000⌉, so no request is priced as long context; ``200k-1M``
⌈input / 1,000,000⌉, so every request is. An ungrouped report is therefore priced at standard rates even
if it holds long-context requests: export with ``group_by[]=context_window`` (and ``group_by[]=model``,
without which ``model`` is null and the report cannot be priced; ``--model`` assigns one). The request
counts shown for this format are these lower bounds, not counts. The cost report
(``/v1/organizations/cost_report``) gives amounts without tokens and is refused with a hint.
"""

from __future__ import annotations

from typing import Any

from llmcost.errors import InputError
from llmcost.frame import Conformed
from llmcost.logs.formats._records import json_pages
from llmcost.logs.formats._rows import Rows
from llmcost.logs.interface import ReadOptions, Source

COLUMNS = ("starting_at", "ending_at", "model", "service_tier", "context_window", "workspace_id", "api_key_id",
           "uncached_input_tokens", "cache_read_input_tokens", "cache_creation.ephemeral_5m_input_tokens",
           "cache_creation.ephemeral_1h_input_tokens", "cache_creation_5m_input_tokens",
           "cache_creation_1h_input_tokens", "output_tokens")
SHORT_CONTEXT = 200_000  # the most input a request in the "0-200k" context_window group can have
LONG_CONTEXT = 1_000_000  # the most input a request in the "200k-1M" group can have
EMPTY = "empty bucket result (no tokens)"


def _bucket(obj: Any) -> bool:
    return isinstance(obj, dict) and "starting_at" in obj and isinstance(obj.get("results"), list)


class UsageReportReader:
    name = "anthropic-usage"
    description = "Anthropic Admin API messages usage report (usage_report/messages): time buckets of tokens"

    def sniff(self, source: Source) -> bool:
        first = source.first_object or {}
        data = first.get("data")
        if isinstance(data, list) and data:
            first = data[0]
        return _bucket(first)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        import numpy as np

        rows = _result_rows(source, options)
        uncached = rows.tokens("uncached_input_tokens", required=True)
        read = rows.tokens("cache_read_input_tokens")
        five = np.where(rows.present("cache_creation.ephemeral_5m_input_tokens"),
                        rows.tokens("cache_creation.ephemeral_5m_input_tokens"),
                        rows.tokens("cache_creation_5m_input_tokens"))
        hour = np.where(rows.present("cache_creation.ephemeral_1h_input_tokens"),
                        rows.tokens("cache_creation.ephemeral_1h_input_tokens"),
                        rows.tokens("cache_creation_1h_input_tokens"))
        out = rows.tokens("output_tokens", required=True)
        total = uncached + read + five + hour
        rows.drop((total == 0) & (out == 0), EMPTY)
        rows.require("starting_at")
        _require_model(rows, options)
        tier = rows.text("service_tier")
        per_request = np.where((rows.text("context_window") == "200k-1M").fillna(False).to_numpy(),
                               LONG_CONTEXT, SHORT_CONTEXT)
        columns = {
            "timestamp": rows.frame["starting_at"], "period_end": rows.frame["ending_at"],
            "model": rows.text("model"), "input_tokens": total, "cache_read_tokens": read,
            "cache_write_tokens": five, "cache_write_1h_tokens": hour, "output_tokens": out,
            "weight": np.maximum(-(-total // per_request), 1), "batch": (tier == "batch").fillna(False).to_numpy(),
            "service_tier": tier.to_numpy(), "task": rows.text("workspace_id").to_numpy(),
            "user": rows.text("api_key_id").to_numpy(), "provider": np.full(len(rows), "anthropic", dtype=object),
        }
        return rows.finish(columns, fields={
            "timestamp": "starting_at", "period_end": "ending_at", "input_tokens": "uncached_input_tokens",
            "cache_read_tokens": "cache_read_input_tokens",
            "cache_write_tokens": "cache_creation.ephemeral_5m_input_tokens",
            "cache_write_1h_tokens": "cache_creation.ephemeral_1h_input_tokens"})


def _require_model(rows: Rows, options: ReadOptions) -> None:
    import numpy as np

    if options.default_model is not None:
        return
    missing = ~rows.present("model") & ~rows.bad
    if missing.any():
        raise rows.error(int(np.flatnonzero(missing)[0]), "model",
                         "is null: the report was not grouped by model; export it with group_by[]=model "
                         "(or pass --model ID to price every bucket as one model)")


def _result_rows(source: Source, options: ReadOptions) -> Rows:
    """Every bucket result as one row (with its bucket's times); rows are numbered by bucket."""
    import numpy as np
    import pandas as pd

    records: list[dict[str, Any]] = []
    items: list[int] = []
    for number, bucket in enumerate(_buckets(source), start=1):
        for result in bucket["results"]:
            if not isinstance(result, dict):
                raise InputError(f"array item {number}: a result is not an object", source=source.name,
                                 field="results")
            if "amount" in result and "uncached_input_tokens" not in result:
                raise InputError("this is the Anthropic cost report (amounts, no tokens); export the messages "
                                 "usage report (usage_report/messages) instead", source=source.name,
                                 field="results.amount")
            record = _flat(result)
            record["starting_at"], record["ending_at"] = bucket.get("starting_at"), bucket.get("ending_at")
            records.append(record)
            items.append(number)
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS)) if records else pd.DataFrame(columns=COLUMNS)
    return Rows(frame, np.asarray(items, dtype=np.int64), source.name, options, unit="item")


def _flat(result: dict[str, Any]) -> dict[str, Any]:
    flat = dict(result)
    creation = result.get("cache_creation")
    if isinstance(creation, dict):
        for key, value in creation.items():
            flat[f"cache_creation.{key}"] = value
    return flat


def _buckets(source: Source) -> list[dict[str, Any]]:
    buckets = json_pages(source, lambda doc: doc.get("data") if isinstance(doc, dict) and "data" in doc else doc)
    for number, bucket in enumerate(buckets, start=1):
        if not _bucket(bucket):
            raise InputError(f"array item {number}: not a usage bucket (starting_at, results)", source=source.name)
    return buckets
