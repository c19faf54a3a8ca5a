"""OpenRouter activity export CSV: one row per generation.

Token semantics: ``tokens_prompt`` is the whole prompt, ``tokens_cached`` (cache reads) a subset of it;
``tokens_reasoning`` is a subset of ``tokens_completion`` (a row where reasoning exceeds completion
evidently counted it apart, and it is added to the output). ``cancelled`` generations keep the tokens
OpenRouter billed and get status ``cancelled``. ``cost_total`` becomes ``cost_logged``; the model is
``model_permaslug`` (``anthropic/claude-sonnet-4``).
"""

from __future__ import annotations

from llmcost.frame import Conformed
from llmcost.logs.formats._records import csv_rows
from llmcost.logs.interface import ReadOptions, Source

COLUMNS = ("created_at", "model_permaslug", "tokens_prompt", "tokens_completion", "tokens_reasoning",
           "tokens_cached", "cost_total", "cancelled", "generation_time_ms", "time_to_first_token_ms",
           "user", "app_name")


class ActivityReader:
    name = "openrouter"
    description = "OpenRouter activity export CSV (tokens_prompt incl. tokens_cached; cost_total → cost_logged)"

    def sniff(self, source: Source) -> bool:
        return {"generation_id", "tokens_prompt", "tokens_completion"} <= set(source.columns)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        import numpy as np

        rows = csv_rows(source, COLUMNS, options)
        rows.require("created_at")
        completion = rows.tokens("tokens_completion", required=True)
        reasoning = rows.tokens("tokens_reasoning")
        cancelled = rows.text("cancelled").str.lower().isin(["true", "1"]).fillna(False).to_numpy()
        columns = {
            "timestamp": rows.frame["created_at"],
            "model": rows.text("model_permaslug"),
            "input_tokens": rows.tokens("tokens_prompt", required=True),
            "cache_read_tokens": rows.tokens("tokens_cached"),
            "output_tokens": np.where(reasoning > completion, completion + reasoning, completion),
            "reasoning_tokens": reasoning,
            "status": np.where(cancelled, "cancelled", "success"),
            "latency_ms": rows.numbers("generation_time_ms", integer=False),
            "ttft_ms": rows.numbers("time_to_first_token_ms", integer=False),
            "cost_logged": rows.numbers("cost_total", integer=False),
            "user": rows.text("user").to_numpy(),
            "task": rows.text("app_name").to_numpy(),
            "provider": "openrouter",
        }
        return rows.finish(columns, fields={
            "timestamp": "created_at", "model": "model_permaslug", "input_tokens": "tokens_prompt",
            "output_tokens": "tokens_completion", "cache_read_tokens": "tokens_cached",
            "reasoning_tokens": "tokens_reasoning"})
