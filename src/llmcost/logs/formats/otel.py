"""OpenTelemetry GenAI semantic-convention spans: OTLP JSON (``resourceSpans[].scopeSpans[].spans[]``, one
document or the OTLP file exporter's one ``TracesData`` per line), or one span per JSONL line / JSON array
item (OTLP spans with ``attributes`` as ``{key, value}`` lists, or SDK console spans with an attribute dict).

Attributes read (first present wins): model ``gen_ai.response.model`` then ``gen_ai.request.model``;
``gen_ai.usage.input_tokens`` (deprecated ``gen_ai.usage.prompt_tokens``), ``gen_ai.usage.output_tokens``
(``gen_ai.usage.completion_tokens``), ``gen_ai.usage.cache_read.input_tokens`` and
``gen_ai.usage.cache_creation.input_tokens`` (or OpenLLMetry's ``gen_ai.usage.cache_read_input_tokens`` /
``cache_creation_input_tokens``), ``gen_ai.usage.reasoning.output_tokens``; ``gen_ai.provider.name``
(deprecated ``gen_ai.system``) → provider, mapped to LiteLLM-style names (``aws.bedrock`` → ``bedrock``,
``gcp.vertex_ai`` → ``vertex_ai``, ``gcp.gemini`` → ``gemini``, ``azure.ai.openai`` → ``azure``);
``openai.response.service_tier`` → service tier; ``gen_ai.conversation.id`` → task;
``startTimeUnixNano`` → timestamp and ``endTimeUnixNano`` − start → latency; ``status.code`` 2 → error.

Token semantics (semantic-conventions registry, gen-ai.md): ``gen_ai.usage.input_tokens`` "SHOULD include
all types of input tokens, including cached tokens", and the cache read / creation counts "SHOULD be
included in" it (for Anthropic the spec says to compute input = input_tokens + cache_read + cache_creation);
``gen_ai.usage.reasoning.output_tokens`` SHOULD be included in ``output_tokens``. So the counts are taken as
logged (OpenAI convention). An instrumentation that ignored this shows itself when cache reads + writes
exceed ``input_tokens`` (or reasoning exceeds output): those spans get the cache (reasoning) added.

Spans without gen_ai usage (HTTP, tool, retrieval spans) are skipped and counted. A span with usage whose
descendant spans also carry usage (an ``invoke_agent`` or workflow span summing its model calls) is an
aggregate: skipped and counted, the model calls are priced from the child spans.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from llmcost.errors import InputError
from llmcost.frame import Conformed
from llmcost.logs.decoding import loads
from llmcost.logs.formats._rows import Rows, to_utc
from llmcost.logs.interface import ReadOptions, Source
from llmcost.logs.source import read_all

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

G = "gen_ai."
U = "gen_ai.usage."
# column (named after the spec's attribute) ← attributes, first present wins
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    G + "response.model": (G + "response.model", G + "request.model"),
    U + "input_tokens": (U + "input_tokens", U + "prompt_tokens"),
    U + "output_tokens": (U + "output_tokens", U + "completion_tokens"),
    U + "cache_read.input_tokens": (U + "cache_read.input_tokens", U + "cache_read_input_tokens"),
    U + "cache_creation.input_tokens": (U + "cache_creation.input_tokens", U + "cache_creation_input_tokens"),
    U + "reasoning.output_tokens": (U + "reasoning.output_tokens",),
    G + "provider.name": (G + "provider.name", G + "system"),
    "openai.response.service_tier": ("openai.response.service_tier", G + "openai.response.service_tier"),
    G + "conversation.id": (G + "conversation.id",),
}
PROVIDERS = {"aws.bedrock": "bedrock", "gcp.vertex_ai": "vertex_ai", "gcp.gemini": "gemini",
             "gcp.gen_ai": "gemini", "azure.ai.openai": "azure", "azure.ai.inference": "azure_ai",
             "mistral_ai": "mistral", "x_ai": "xai", "ibm.watsonx.ai": "watsonx"}
NO_USAGE = "span without gen_ai usage (not a model call)"
AGGREGATE = "span summing its child spans' gen_ai usage (priced from the children)"


class OtelSpanReader:
    name = "otel-genai"
    description = "OpenTelemetry GenAI spans: OTLP JSON (resourceSpans) or one span per JSONL line"

    def sniff(self, source: Source) -> bool:
        first = source.first_object or {}
        if "resourceSpans" in first:
            return True
        attributes = first.get("attributes")
        keys = ([a.get("key") for a in attributes if isinstance(a, dict)] if isinstance(attributes, list)
                else list(attributes) if isinstance(attributes, dict) else [])
        timed = any(k in first for k in ("startTimeUnixNano", "start_time"))
        return timed and any(isinstance(k, str) and k.startswith(G) for k in keys)

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        import numpy as np
        import pandas as pd

        rows = _span_rows(source, options)
        inp = rows.tokens(U + "input_tokens")
        out = rows.tokens(U + "output_tokens")
        has_usage = rows.present(U + "input_tokens") | rows.present(U + "output_tokens")
        rows.drop(~has_usage, NO_USAGE)
        rows.drop(_aggregates(rows.frame, has_usage), AGGREGATE)
        read = rows.tokens(U + "cache_read.input_tokens")
        written = rows.tokens(U + "cache_creation.input_tokens")
        reasoning = rows.tokens(U + "reasoning.output_tokens")
        inp = np.where(read + written > inp, inp + read + written, inp)  # cache reported outside the input
        out = np.where(reasoning > out, out + reasoning, out)
        start, latency = _times(rows)
        provider = rows.text(G + "provider.name")
        code = rows.frame["status.code"]
        failed = (pd.to_numeric(code, errors="coerce") == 2) | (code.astype("string") == "STATUS_CODE_ERROR")
        status = np.where(failed.fillna(False).to_numpy(dtype=bool), "error", "ok")
        columns = {
            "timestamp": start, "model": rows.text(G + "response.model"), "input_tokens": inp,
            "cache_read_tokens": read, "cache_write_tokens": written, "output_tokens": out,
            "reasoning_tokens": reasoning, "latency_ms": latency, "status": status,
            "provider": provider.replace(PROVIDERS).to_numpy(),
            "service_tier": rows.text("openai.response.service_tier").to_numpy(),
            "task": rows.text(G + "conversation.id").to_numpy(),
        }
        return rows.finish(columns, fields={
            "timestamp": "startTimeUnixNano", "model": G + "response.model / " + G + "request.model",
            "input_tokens": U + "input_tokens", "output_tokens": U + "output_tokens",
            "cache_read_tokens": U + "cache_read.input_tokens",
            "cache_write_tokens": U + "cache_creation.input_tokens",
            "reasoning_tokens": U + "reasoning.output_tokens"})


def _times(rows: Rows) -> tuple[pd.Series, Any]:
    """Start time (nanoseconds since the epoch, or an SDK span's ISO ``start_time``) and latency in ms."""
    import numpy as np
    import pandas as pd

    frame = rows.frame
    nanos = pd.to_numeric(frame["startTimeUnixNano"], errors="coerce")
    end_nanos = pd.to_numeric(frame["endTimeUnixNano"], errors="coerce")
    nanos, end_nanos = (n.where(n.abs() < 9.2e18) for n in (nanos, end_nanos))  # beyond int64: not a time
    start = pd.to_datetime(nanos, unit="ns", utc=True)
    end = pd.to_datetime(end_nanos, unit="ns", utc=True)
    iso = nanos.isna() & frame["start_time"].notna()
    if iso.any():
        start = start.where(~iso, to_utc(frame["start_time"].astype("string")))
        end = end.where(~iso, to_utc(frame["end_time"].astype("string")))
    rows.fail(start.isna().to_numpy(), "startTimeUnixNano", "missing or not a time (nanoseconds since the epoch)")
    latency = ((end - start).dt.total_seconds() * 1000.0).to_numpy(dtype=float)
    return start, np.where(latency >= 0, latency, np.nan)


def _aggregates(frame: pd.DataFrame, has_usage: Any) -> Any:
    """Spans with usage that have a descendant with usage in the same trace: the ancestors of every usage
    span, found level by level (vectorized; broken ids that form a cycle stop after 64 levels)."""
    import numpy as np
    import pandas as pd

    trace = frame["traceId"].astype("string").fillna("")
    ids = (trace + "\x00" + frame["spanId"].astype("string").fillna("")).to_numpy(dtype=object)
    parent = frame["parentSpanId"].astype("string").fillna("")
    parents = (trace + "\x00" + parent).where(parent != "", "").to_numpy(dtype=object)
    codes, uniques = pd.factorize(ids)
    first_row = np.empty(len(uniques), dtype=np.int64)
    first_row[codes[::-1]] = np.arange(len(ids))[::-1]  # a repeated span id stands for its first row
    index = pd.Index(uniques)
    usage = np.asarray(has_usage, dtype=bool)
    marked = np.zeros(len(frame), dtype=bool)
    frontier = pd.unique(parents[usage])
    for _ in range(64):
        found = index.get_indexer(frontier[frontier != ""])
        rows = first_row[found[found >= 0]]
        if not len(rows):
            break
        marked[rows] = True
        frontier = pd.unique(parents[rows])
    return marked & usage


SPAN_COLUMNS = [*ATTRIBUTES, "traceId", "spanId", "parentSpanId", "startTimeUnixNano", "endTimeUnixNano",
                "start_time", "end_time", "status.code"]


def _span_rows(source: Source, options: ReadOptions) -> Rows:
    """One row per span: the attributes llmcost needs plus ids, times and status; rows are numbered by the
    JSONL line (one span or one ``TracesData`` per line) or, in a single document, by span (1, 2, ...)."""
    import numpy as np
    import pandas as pd

    unit = "line" if source.container == "jsonl" else "item"
    fast = _arrow_spans(read_all(source), source.container == "jsonl")
    if fast is not None:
        frame, lines = fast
        return Rows(frame, lines if unit == "line" else np.arange(1, len(frame) + 1), source.name, options,
                    unit=unit)
    records: list[dict[str, Any]] = []
    where: list[int] = []
    for number, doc in _documents(source):
        for span in _spans(doc):
            records.append(_record(span, source.name, number))
            where.append(number if unit == "line" else len(where) + 1)
    frame = pd.DataFrame.from_records(records, columns=SPAN_COLUMNS) if records else pd.DataFrame(
        columns=SPAN_COLUMNS)
    return Rows(frame, np.asarray(where, dtype=np.int64), source.name, options, unit=unit)


def _arrow_spans(data: bytes, jsonl: bool) -> tuple[pd.DataFrame, np.ndarray] | None:
    """OTLP ``TracesData`` (one document, or one per line) read by pyarrow with a schema of only the fields
    needed, spans and attributes flattened and the wanted attributes pivoted, all vectorized. None when
    pyarrow cannot take it (SDK console spans, mixed value types, a bad line): the JSON path then runs and
    names the line and field."""
    import io

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pajson

    if not data.lstrip().startswith(b"{"):
        return None
    for int_type, code_type in ((pa.string(), pa.int64()), (pa.int64(), pa.int64()), (pa.string(), pa.string()),
                                (pa.int64(), pa.string())):
        value = pa.struct([("stringValue", pa.string()), ("intValue", int_type), ("doubleValue", pa.float64())])
        span = pa.struct([("traceId", pa.string()), ("spanId", pa.string()), ("parentSpanId", pa.string()),
                          ("startTimeUnixNano", pa.string()), ("endTimeUnixNano", pa.string()),
                          ("status", pa.struct([("code", code_type)])),
                          ("attributes", pa.list_(pa.struct([("key", pa.string()), ("value", value)])))])
        scope = pa.struct([("spans", pa.list_(span))])
        schema = pa.schema([("resourceSpans", pa.list_(pa.struct([("scopeSpans", pa.list_(scope))])))])
        options = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore",
                                      newlines_in_values=not jsonl)
        try:
            table = pajson.read_json(io.BytesIO(data), parse_options=options)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            continue
        if jsonl and table.num_rows != data.count(b"\n") + (0 if data.endswith(b"\n") else 1):
            return None  # blank lines: row numbers would not be line numbers
        return _flatten_spans(table.column("resourceSpans").combine_chunks(), pc)
    return None


def _flatten_spans(resources: Any, pc: Any) -> tuple[pd.DataFrame, np.ndarray] | None:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    if resources.null_count == len(resources):
        return None  # no line has resourceSpans: one span per line, read by the JSON path
    line = np.asarray(pc.list_parent_indices(resources))
    level = pc.list_flatten(resources)
    for name in ("scopeSpans", "spans"):
        child = pc.struct_field(level, name)
        line = line[np.asarray(pc.list_parent_indices(child))]
        level = pc.list_flatten(child)
    frame = pd.DataFrame({name: pc.struct_field(level, name).to_pandas(types_mapper=pd.ArrowDtype)
                          for name in ("traceId", "spanId", "parentSpanId", "startTimeUnixNano", "endTimeUnixNano")})
    frame["status.code"] = pc.struct_field(pc.struct_field(level, "status"), "code").to_pandas()
    frame["start_time"] = frame["end_time"] = None
    attributes = pc.struct_field(level, "attributes")
    owner = np.asarray(pc.list_parent_indices(attributes))
    items = pc.list_flatten(attributes)
    keys = pc.struct_field(items, "key")
    wanted = pc.is_in(keys, value_set=pa.array(sorted({k for ks in ATTRIBUTES.values() for k in ks})))
    wanted = np.asarray(wanted.fill_null(False))
    values = pc.struct_field(items, "value")
    text = pc.coalesce(pc.struct_field(values, "stringValue"), pc.cast(pc.struct_field(values, "intValue"),
                       pa.string()), pc.cast(pc.struct_field(values, "doubleValue"), pa.string()))
    item = np.arange(len(items))
    for column, names in ATTRIBUTES.items():
        position = np.full(len(frame), -1, dtype=np.int64)
        for name in reversed(names):  # the first name wins: written last
            hit = np.asarray(pc.equal(keys, name).fill_null(False))
            position[owner[hit]] = item[hit]
        picked = text.take(pa.array(position, mask=position < 0))
        if column.startswith(U):
            # counts as numbers; text that is not one stays text, and Rows names its line
            with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
                picked = pc.cast(picked, pa.int64())
        frame[column] = picked.to_pandas(types_mapper=pd.ArrowDtype)
    return frame[SPAN_COLUMNS], line + 1


def _documents(source: Source) -> Iterator[tuple[int, Any]]:
    text = read_all(source)
    if source.container != "jsonl":
        try:
            yield 1, loads(text)
        except ValueError as exc:
            raise InputError(f"invalid JSON ({str(exc).split(': line ')[0]})", source=source.name) from None
        return
    for number, line in enumerate(text.split(b"\n"), start=1):
        if line.strip():
            try:
                yield number, loads(line)
            except ValueError as exc:
                raise InputError(f"invalid JSON ({str(exc).split(': line ')[0]})", source=source.name,
                                 line=number) from None


def _spans(doc: Any) -> Iterator[dict[str, Any]]:
    """The spans of a TracesData document, a span, or an array of either."""
    if isinstance(doc, list):
        for item in doc:
            yield from _spans(item)
    elif isinstance(doc, dict) and "resourceSpans" in doc:
        for resource in doc.get("resourceSpans") or []:
            resource = resource or {}
            for scope in resource.get("scopeSpans") or resource.get("instrumentationLibrarySpans") or []:
                yield from ((scope or {}).get("spans") or [])
    elif isinstance(doc, dict):
        yield doc


def _record(span: Any, name: str, number: int) -> dict[str, Any]:
    if not isinstance(span, dict):
        raise InputError("a span is not an object", source=name, line=number)
    attributes = _attributes(span.get("attributes"))
    record: dict[str, Any] = {}
    for column, keys in ATTRIBUTES.items():
        record[column] = next((attributes[k] for k in keys if attributes.get(k) is not None), None)
    context: dict[str, Any] = span["context"] if isinstance(span.get("context"), dict) else {}
    status: dict[str, Any] = span["status"] if isinstance(span.get("status"), dict) else {}
    record.update({
        "traceId": span.get("traceId") or context.get("trace_id"),
        "spanId": span.get("spanId") or context.get("span_id"),
        "parentSpanId": span.get("parentSpanId") or span.get("parent_id"),
        "startTimeUnixNano": span.get("startTimeUnixNano"), "endTimeUnixNano": span.get("endTimeUnixNano"),
        "start_time": span.get("start_time"), "end_time": span.get("end_time"),
        "status.code": status.get("code", 2 if status.get("status_code") == "ERROR" else None),
    })
    return record


def _attributes(raw: Any) -> dict[str, Any]:
    """OTLP ``[{"key", "value": {"stringValue" | "intValue" | ...}}]`` or an SDK span's plain dict."""
    if isinstance(raw, dict):
        return raw
    out: dict[str, Any] = {}
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict) and isinstance(item.get("value"), dict) and len(item["value"]) >= 1:
            out[str(item.get("key"))] = next(iter(item["value"].values()))
    return out
