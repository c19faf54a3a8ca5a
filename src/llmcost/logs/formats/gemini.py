"""Google Gemini ``generateContent`` responses (``usageMetadata``), JSON, JSON array or JSONL.

Token semantics: ``promptTokenCount`` includes ``cachedContentTokenCount`` (cache reads);
``toolUsePromptTokenCount`` is further input; ``thoughtsTokenCount`` is billed as output but NOT included
in ``candidatesTokenCount``, so output = candidates + thoughts and reasoning = thoughts. Responses carry
no time of their own: ``createTime`` (Vertex AI) or a wrapper's ``timestamp`` is used, else the file's
modification time.
"""

from __future__ import annotations

from llmcost.frame import Conformed
from llmcost.logs.formats._records import fields, json_rows
from llmcost.logs.formats.anthropic import request_times
from llmcost.logs.interface import ReadOptions, Source

_U = "usageMetadata."


class GenerateContentReader:
    name = "gemini"
    description = "Google Gemini generateContent responses with usageMetadata (JSON, JSON array or JSONL)"

    def sniff(self, source: Source) -> bool:
        return isinstance((source.first_object or {}).get("usageMetadata"), dict)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        counts = ("promptTokenCount", "cachedContentTokenCount", "toolUsePromptTokenCount", "candidatesTokenCount",
                  "thoughtsTokenCount")
        wanted = [*fields("int", *(_U + c for c in counts)),
                  *fields("str", "modelVersion", "model", "createTime"), *fields("scalar", "timestamp")]
        rows = json_rows(source, wanted, options)
        if rows.present("createTime").any() and not rows.present("timestamp").any():
            rows.frame["timestamp"] = rows.frame["createTime"]
        times, tname = request_times(rows, source)
        thoughts = rows.tokens(_U + "thoughtsTokenCount")
        model = rows.text("modelVersion")
        columns = {
            "timestamp": times,
            "model": model.where(model.str.len() > 0, rows.text("model")),
            "input_tokens": rows.tokens(_U + "promptTokenCount", required=True)
            + rows.tokens(_U + "toolUsePromptTokenCount"),
            "cache_read_tokens": rows.tokens(_U + "cachedContentTokenCount"),
            "output_tokens": rows.tokens(_U + "candidatesTokenCount") + thoughts,
            "reasoning_tokens": thoughts,
        }
        return rows.finish(columns, fields={
            "timestamp": tname, "model": "modelVersion", "input_tokens": _U + "promptTokenCount",
            "cache_read_tokens": _U + "cachedContentTokenCount", "output_tokens": _U + "candidatesTokenCount"})
