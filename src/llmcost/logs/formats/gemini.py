"""Google Gemini ``generateContent`` responses (``usageMetadata``), JSON, JSON array or JSONL.

Token semantics: ``promptTokenCount`` includes ``cachedContentTokenCount`` (cache reads);
``toolUsePromptTokenCount`` is further input; ``thoughtsTokenCount`` is billed as output but NOT included
in ``candidatesTokenCount``, so output = candidates + thoughts and reasoning = thoughts.

Time, line by line: ``createTime`` (Vertex AI responses carry it), else a wrapper's ``timestamp`` /
``created_at``, else the file's modification time. ``provider`` is ``vertex_ai`` for a response with
``createTime`` and ``gemini`` (the Gemini API) for one without. A response whose ``usageMetadata`` has no
token counts (a prompt blocked with ``promptFeedback.blockReason``) was not billed: skipped and counted.
The ``AUDIO`` entries of ``promptTokensDetails`` / ``candidatesTokensDetails`` become the audio subsets, and
those of ``cacheTokensDetails`` the cached audio (billed at the audio cache rate, a subset of the cache reads).
A streamed response is a run of chunks that each carry ``usageMetadata``; only the one whose candidate
has ``finishReason`` holds the billed counts, so earlier chunks (a candidate without ``finishReason``,
followed by a chunk of the same model) are skipped and counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmcost.frame import Conformed
from llmcost.logs.formats._records import fields, json_rows
from llmcost.logs.formats._rows import Rows, to_utc
from llmcost.logs.formats.anthropic import file_time
from llmcost.logs.interface import ReadOptions, Source

if TYPE_CHECKING:
    import pandas as pd

_U = "usageMetadata."
_COUNTS = ("promptTokenCount", "cachedContentTokenCount", "toolUsePromptTokenCount", "candidatesTokenCount",
           "thoughtsTokenCount")
_TIMES = ("createTime", "timestamp", "created_at")


class GenerateContentReader:
    name = "gemini"
    description = "Google Gemini generateContent responses with usageMetadata (JSON, JSON array or JSONL)"

    def sniff(self, source: Source) -> bool:
        return isinstance((source.first_object or {}).get("usageMetadata"), dict)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        import numpy as np

        wanted = [*fields("int", *(_U + c for c in _COUNTS)),
                  *fields("str", "modelVersion", "model", "createTime", "promptFeedback.blockReason"),
                  *fields("scalar", "timestamp", "created_at"),
                  *fields("audio", _U + "promptTokensDetails", _U + "candidatesTokensDetails",
                          _U + "cacheTokensDetails"),
                  *fields("finish", "candidates")]
        rows = json_rows(source, wanted, options)
        _drop_unbilled(rows)
        _drop_provisional_chunks(rows)
        thoughts = rows.tokens(_U + "thoughtsTokenCount")
        model = rows.text("modelVersion")
        vertex = rows.present("createTime")
        columns = {
            "timestamp": _times(rows, source),
            "model": model.where(model.str.len() > 0, rows.text("model")),
            "input_tokens": rows.tokens(_U + "promptTokenCount", required=True)
            + rows.tokens(_U + "toolUsePromptTokenCount"),
            "cache_read_tokens": rows.tokens(_U + "cachedContentTokenCount"),
            "output_tokens": rows.tokens(_U + "candidatesTokenCount") + thoughts,
            "reasoning_tokens": thoughts,
            "provider": np.where(vertex, "vertex_ai", "gemini"),
        }
        for column, field in (("audio_input_tokens", "promptTokensDetails"),
                              ("audio_output_tokens", "candidatesTokensDetails"),
                              ("audio_cache_read_tokens", "cacheTokensDetails")):
            if rows.present(_U + field).any():
                columns[column] = rows.tokens(_U + field)
        return rows.finish(columns, fields={
            "timestamp": "createTime", "model": "modelVersion", "input_tokens": _U + "promptTokenCount",
            "cache_read_tokens": _U + "cachedContentTokenCount", "output_tokens": _U + "candidatesTokenCount"})


def _drop_unbilled(rows: Rows) -> None:
    """Responses without any token count (a blocked prompt) are counted by block reason, not priced."""
    import numpy as np

    counted = np.zeros(len(rows), dtype=bool)
    for name in _COUNTS:
        counted |= rows.present(_U + name)
    reason = rows.text("promptFeedback.blockReason")
    for value in sorted(set(reason[~counted].dropna())):
        rows.drop(~counted & (reason == value).fillna(False).to_numpy(dtype=bool),
                  f"blocked prompt ({value}) without token counts (not billed)")
    rows.drop(~counted, "usageMetadata without token counts (not billed)")


def _drop_provisional_chunks(rows: Rows) -> None:
    """A streamed response (``streamGenerateContent``) is a run of chunks that each carry usageMetadata;
    only the one with ``finishReason`` has the billed counts. A chunk with candidates but no finishReason,
    followed by a chunk of the same model, is an earlier chunk of that stream: counted, not priced."""
    import numpy as np

    unfinished = (rows.text("candidates") == "").fillna(False).to_numpy(dtype=bool)
    model = rows.text("modelVersion").fillna(rows.text("model")).fillna("").to_numpy(dtype=object)
    next_same = np.zeros(len(rows), dtype=bool)
    next_same[:-1] = model[:-1] == model[1:]
    rows.drop(unfinished & next_same,
              "stream chunk before the final one (provisional usage, not a request)")


def _times(rows: Rows, source: Source) -> pd.Series:
    """Each row's own time (the first of ``createTime``, ``timestamp``, ``created_at`` it carries), else
    the file's modification time; a value that is not a time is an error naming its field."""
    import numpy as np
    import pandas as pd

    out = pd.Series(pd.NaT, index=rows.frame.index, dtype="datetime64[ns, UTC]")
    for name in _TIMES:
        given = rows.present(name) & out.isna().to_numpy()
        if not given.any():
            continue
        parsed = _parse(rows.frame[name][given])
        rows.fail(given & np.isin(rows.frame.index, parsed.index[parsed.isna()]), name,
                  "not a date/time (expected ISO 8601 or epoch seconds)")
        out[given] = parsed.astype("datetime64[ns, UTC]")
    return out.fillna(file_time(source))


def _parse(values: pd.Series) -> pd.Series:
    """ISO text or epoch numbers (seconds, or milliseconds when that large) as UTC times."""
    import pandas as pd

    epoch = pd.to_numeric(values, errors="coerce")
    parsed = to_utc(values.where(epoch.isna()).astype("string"))
    if epoch.notna().any():
        ms = epoch.abs() > 1e11
        seconds = epoch.where(~ms, epoch / 1000.0)
        seconds = seconds.where(seconds.abs() < 9.2e9)  # pandas times end in 2262: later is not a time
        from_epoch = pd.to_datetime(seconds, unit="s", utc=True)
        parsed = parsed.where(epoch.isna(), from_epoch)
    return parsed
