"""The four formats of issue 11 (otel-genai, bedrock, codex, anthropic-usage) through the public CLI.

Samples in tests/logs/data (provenance in its README). Expected costs are computed by hand with
tests/logs/data/new_formats_catalog.yaml (USD per million tokens), e.g. the codex session: uncached
(298,373 − 238,848) × 1.75 + 238,848 cached × 0.175 + 1,123 output × 14 = $0.16168915.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"
REAL = DATA / "real"
CATALOG = DATA / "new_formats_catalog.yaml"
TOKENS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens",
          "reasoning_tokens")


def _inspect(cli: Any, *args: Any) -> dict[str, Any]:
    result = cli("logs", "inspect", *args, "--catalog", CATALOG, "--json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _baseline(cli: Any, *args: Any) -> dict[str, Any]:
    result = cli("estimate", *args, "--catalog", CATALOG, "--format", "json", "--baseline-only")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["unpriced"] == []
    scenario: dict[str, Any] = data["scenarios"][0]
    return scenario


def _cost(scenario: dict[str, Any]) -> Decimal:
    return Decimal(str(scenario["observed_cost_usd"]))


# file, format, rows, weighted requests, token sums (input, cache read, 5m write, 1h write, output, reasoning),
# skipped {reason: n}
CASES: list[tuple[Path, str, int, int, tuple[int, ...], dict[str, int]]] = [
    # a real Codex Desktop session: 12 token_count events, 1 without info, 5 repeating the running total;
    # the six requests sum to the session's final total_token_usage
    (REAL / "codex_rollout.jsonl", "codex", 6, 6, (298373, 238848, 0, 0, 1123, 483),
     {"repeated token_count (same total_token_usage as the previous one; not a new request)": 5}),
    # cache reads and writes are outside inputTokenCount: 14 + 18,000 + 2,048 and 1,200; a failed call skipped
    (DATA / "bedrock_invocations.jsonl", "bedrock", 2, 2, (20062 + 1200, 18000, 2048, 0, 410 + 95, 0),
     {"failed invocation (errorCode; not billed)": 1}),
    # Converse: 12 + 9,000 written (6,000 with ttl 1h) and 40 + 9,000 read
    (DATA / "bedrock_converse.json", "bedrock", 2, 2, (9012 + 9040, 9000, 3000, 6000, 325, 0), {}),
    # a recorded Converse response: inputTokens 13 excludes the 1,504 cache-read tokens (totalTokens 1,522)
    (REAL / "bedrock_converse_cache_read.json", "bedrock", 1, 1, (13 + 1504, 1504, 0, 0, 5, 0), {}),
    # an older Codex build: total_token_usage only; the request is the step from zero
    (REAL / "codex_rollout_totals_only.jsonl", "codex", 1, 1, (1000, 100, 0, 0, 200, 20), {}),
    # the Admin API documentation's example page: 1,500 uncached + 200 read + 500 (5m) + 1,000 (1h) written
    (REAL / "anthropic_usage_report.json", "anthropic-usage", 1, 1, (3200, 200, 500, 1000, 500, 0), {}),
    (DATA / "anthropic_usage_pages.jsonl", "anthropic-usage", 4, 3 + 1 + 1 + 1,
     (600000 + 900000 + 80000 + 7000, 400000, 50000, 6000, 32700, 0), {"empty bucket result (no tokens)": 1}),
    # an agent trace: the invoke_agent span sums its two chat spans; a tool span and an HTTP span carry no usage;
    # one Anthropic instrumentation left the cache out of input_tokens (14 + 18,000)
    (DATA / "otel_genai_traces.json", "otel-genai", 4, 4, (3000 + 200 + 20062 + 18014, 37024, 2048, 0, 960, 0),
     {"span without gen_ai usage (not a model call)": 2,
      "span summing its child spans' gen_ai usage (priced from the children)": 1}),
    (DATA / "otel_genai_collector.jsonl", "otel-genai", 2, 2, (3200, 1024, 0, 0, 520, 0), {}),
]


@pytest.mark.parametrize(("path", "fmt", "rows", "requests", "tokens", "skipped"), CASES,
                         ids=[c[0].name for c in CASES])
def test_inspect_reads_each_sample(cli: Any, path: Path, fmt: str, rows: int, requests: int,
                                   tokens: tuple[int, ...], skipped: dict[str, int]) -> None:
    # a Converse response names no model (it is in the request URL): --model gives one
    model = ("--model", "us.anthropic.claude-sonnet-4-20250514-v1:0") if "converse" in path.name else ()
    data = _inspect(cli, path, *model)
    (report,) = data["files"]
    assert (report["format"], report["rows"], report["skipped"]) == (fmt, rows, skipped)
    assert data["requests"] == requests
    assert tuple(data["tokens"][c] for c in TOKENS) == tokens
    assert data["unresolved_models"] == []


@pytest.mark.parametrize(("path", "fmt"), [(c[0], c[1]) for c in CASES], ids=[c[0].name for c in CASES])
def test_log_format_option_names_each_reader(cli: Any, path: Path, fmt: str) -> None:
    assert _inspect(cli, path, "--log-format", fmt, "--model", "gpt-5.2")["files"][0]["format"] == fmt


def test_codex_session_prices_to_the_cent(cli: Any) -> None:
    baseline = _baseline(cli, REAL / "codex_rollout.jsonl")
    assert _cost(baseline) == Decimal("0.161689")  # $0.16168915 rounded in JSON
    (model,) = baseline["by_model"]
    assert (model["model"], model["requests"]) == ("gpt-5.3-codex", 6)


def test_codex_without_turn_context_needs_a_model(cli: Any, tmp_path: Path) -> None:
    lines = [line for line in (REAL / "codex_rollout.jsonl").read_text().splitlines()
             if '"type":"turn_context"' not in line]
    log = tmp_path / "rollout-old.jsonl"
    log.write_text("\n".join(lines) + "\n")
    failed = cli("logs", "inspect", log, "--catalog", CATALOG)
    assert failed.exit_code == 2
    assert "turn_context payload.model" in failed.stderr and "Traceback" not in failed.stderr
    assert _inspect(cli, log, "--model", "gpt-5.3-codex")["models"][0]["requests"] == 6


def test_codex_bad_count_names_line_and_field(cli: Any, tmp_path: Path) -> None:
    lines = (REAL / "codex_rollout.jsonl").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if '"last_token_usage":{"input_tokens":44218' in line)
    before = '"last_token_usage":{"input_tokens":44218'
    lines[at] = lines[at].replace(before, '"last_token_usage":{"input_tokens":"lots"')
    log = tmp_path / "rollout-bad.jsonl"
    log.write_text("\n".join(lines) + "\n")
    result = cli("logs", "inspect", log, "--catalog", CATALOG)
    assert result.exit_code == 2
    assert f"{log}:{at + 1}: field 'payload.info.last_token_usage.input_tokens'" in result.stderr


def test_bedrock_converse_prices_cache_writes_by_ttl(cli: Any) -> None:
    # 12 × 3 + 3,000 × 3.75 + 6,000 × 6 + 300 × 15, then 40 × 3 + 9,000 × 0.30 + 25 × 15 = $0.054981
    baseline = _baseline(cli, DATA / "bedrock_converse.json")
    assert _cost(baseline) == Decimal("0.054981")


def test_bedrock_frame_has_provider_latency_and_model_as_logged() -> None:
    from llmcost.logs import read_logs

    frame = read_logs([str(DATA / "bedrock_invocations.jsonl"), str(DATA / "bedrock_converse.json")]).frame
    assert list(frame["provider"]) == ["bedrock"] * 4
    assert list(frame["model"].astype(str)) == [
        "us.anthropic.claude-3-5-sonnet-20241022-v2:0", "anthropic.claude-3-5-haiku-20241022-v1:0",
        "us.anthropic.claude-sonnet-4-20250514-v1:0", "us.anthropic.claude-sonnet-4-20250514-v1:0"]
    assert list(frame["latency_ms"].fillna(-1)) == [2210.0, -1, 4120.0, 900.0]
    assert list(frame["region"].iloc[:2]) == ["us-west-2", "us-east-1"]
    assert str(frame["timestamp"].iloc[2]) == "2025-10-05 11:00:00+00:00"  # ResponseMetadata.HTTPHeaders.date


def test_bedrock_missing_count_names_the_field(cli: Any, tmp_path: Path) -> None:
    line = json.loads((DATA / "bedrock_invocations.jsonl").read_text().splitlines()[1])
    del line["input"]["inputTokenCount"]
    log = tmp_path / "invocations.jsonl"
    log.write_text(json.dumps(line) + "\n")
    result = cli("logs", "inspect", log, "--catalog", CATALOG)
    assert result.exit_code == 2
    assert f"{log}:1: field 'input.inputTokenCount': is missing" in result.stderr


def test_anthropic_usage_prices_long_context_buckets_whole(cli: Any) -> None:
    # 0-200k sonnet bucket (600,000 input, weight 3 → 200,000 per request, standard rates):
    #   150,000 × 3 + 400,000 × 0.30 + 50,000 × 3.75 + 20,000 × 15 = $1.0575
    # 200k-1M sonnet bucket (long context rates): 900,000 × 6 + 3,000 × 22.5 = $5.4675
    # haiku batch bucket at half price: (80,000 × 0.80 + 9,000 × 4) / 2 = $0.05
    # next day: 1,000 × 3 + 6,000 (1h writes) × 6 + 700 × 15 = $0.0495
    baseline = _baseline(cli, DATA / "anthropic_usage_pages.jsonl")
    assert _cost(baseline) == Decimal("6.6245")
    costs = {m["model"]: Decimal(str(m["observed_cost_usd"])) for m in baseline["by_model"]}
    assert costs == {"claude-sonnet-4-20250514": Decimal("6.5745"), "claude-3-5-haiku-20241022": Decimal("0.05")}


def test_anthropic_usage_columns() -> None:
    from llmcost.logs import read_logs

    frame = read_logs([str(DATA / "anthropic_usage_pages.jsonl")]).frame
    assert list(frame["batch"]) == [False, False, True, False]
    assert list(frame["service_tier"]) == ["standard", "standard", "batch", "standard"]
    assert list(frame["task"]) == ["wrkspc_01W"] * 4
    assert list(frame["user"].fillna("-")) == ["apikey_01A"] * 3 + ["-"]
    assert [str(t) for t in frame["period_end"]] == ["2025-10-06 00:00:00+00:00"] * 3 + ["2025-10-07 00:00:00+00:00"]


def test_anthropic_usage_without_model_group_says_how_to_export(cli: Any, tmp_path: Path) -> None:
    page = json.loads((REAL / "anthropic_usage_report.json").read_text())
    page["data"][0]["results"][0]["model"] = None
    log = tmp_path / "usage.json"
    log.write_text(json.dumps(page))
    result = cli("logs", "inspect", log, "--catalog", CATALOG)
    assert result.exit_code == 2
    assert f"{log}: field 'model': array item 1: is null" in result.stderr and "group_by[]=model" in result.stderr
    assert _inspect(cli, log, "--model", "claude-sonnet-4-20250514")["requests"] == 1


def test_anthropic_cost_report_is_refused_with_a_hint(cli: Any, tmp_path: Path) -> None:
    report = {"data": [{"starting_at": "2025-08-01T00:00:00Z", "ending_at": "2025-08-02T00:00:00Z", "results": [
        {"currency": "USD", "amount": "123.78912", "workspace_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
         "description": "Claude Sonnet 4 Usage - Input Tokens", "cost_type": "tokens", "context_window": "0-200k",
         "model": "claude-sonnet-4-20250514", "service_tier": "standard", "token_type": "uncached_input_tokens"}]}],
        "has_more": False, "next_page": None}
    log = tmp_path / "cost.json"
    log.write_text(json.dumps(report))
    result = cli("logs", "inspect", log, "--catalog", CATALOG)
    assert result.exit_code == 2
    assert "field 'results.amount'" in result.stderr and "usage_report/messages" in result.stderr


def test_otel_prices_children_not_the_agent_span(cli: Any) -> None:
    # gpt-4o: (1,976 × 2.5 + 1,024 × 1.25 + 500 × 10) + (200 × 2.5 + 20 × 10) = $0.01192;
    # Bedrock Claude: 14 × 3 + 18,000 × 0.30 + 2,048 × 3.75 + 410 × 15 = $0.019272;
    # Anthropic span (cache added to its input): 14 × 3 + 18,000 × 0.30 + 30 × 15 = $0.005892
    baseline = _baseline(cli, DATA / "otel_genai_traces.json")
    assert _cost(baseline) == Decimal("0.037084")


def test_otel_frame_columns() -> None:
    from llmcost.logs import read_logs

    frame = read_logs([str(DATA / "otel_genai_traces.json")]).frame
    assert list(frame["provider"]) == ["openai", "openai", "bedrock", "anthropic"]
    assert list(frame["latency_ms"]) == [2500.0, 1000.0, 4000.0, 1000.0]
    assert list(frame["status"]) == ["ok", "ok", "ok", "error"]
    assert frame["service_tier"].iloc[0] == "default"
    assert frame["task"].iloc[0] == "conv_5j66UpCpwteGg4YSxUnt7lPY"
    assert str(frame["timestamp"].iloc[0]) == "2025-10-05 10:00:00.100000+00:00"


def test_otel_bad_attribute_names_line_and_attribute(cli: Any) -> None:
    log = DATA / "otel_genai_bad.jsonl"
    result = cli("logs", "inspect", log, "--catalog", CATALOG)
    assert result.exit_code == 2
    assert f"{log}:2: field 'gen_ai.usage.input_tokens': must be a whole number" in result.stderr
    assert "Traceback" not in result.stderr
    kept = _inspect(cli, log, "--skip-bad")
    assert (kept["files"][0]["rows"], kept["tokens"]["input_tokens"]) == (1, 3000)


def test_otel_console_spans_one_per_line(cli: Any, tmp_path: Path) -> None:
    """The Python SDK's span JSON: attributes as a plain object, ISO start/end times."""
    spans = [{"name": "chat gpt-4o", "context": {"trace_id": "0x1", "span_id": "0x2"}, "parent_id": None,
              "start_time": "2025-10-05T10:00:00.000000Z", "end_time": "2025-10-05T10:00:01.500000Z",
              "status": {"status_code": "UNSET"}, "attributes": {
                  "gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o",
                  "gen_ai.response.model": "gpt-4o-2024-08-06", "gen_ai.usage.input_tokens": 100,
                  "gen_ai.usage.output_tokens": 10}}]
    log = tmp_path / "spans.jsonl"
    log.write_text("".join(json.dumps(s) + "\n" for s in spans))
    data = _inspect(cli, log)
    assert (data["files"][0]["format"], data["tokens"]["input_tokens"], data["requests"]) == ("otel-genai", 100, 1)


def test_codex_events_copied_into_a_forked_session_are_counted_once(cli: Any) -> None:
    """ccusage's branch fixture: the branch file starts with a copy of the parent's event (same time, same
    totals). Read together, each request is counted once, also when the estimate streams in chunks."""
    parent, branch = REAL / "codex_rollout_totals_only.jsonl", REAL / "codex_rollout_totals_only_branch.jsonl"
    data = _inspect(cli, parent, branch)
    assert [f["skipped"] for f in data["files"]] == [
        {}, {"token_count copied from an earlier session file (a resumed or forked session; counted once)": 1}]
    assert (data["requests"], data["tokens"]["input_tokens"], data["tokens"]["output_tokens"]) == (2, 1600, 450)
    # 1,300 uncached × 1.75 + 300 cached × 0.175 + 450 × 14 = $0.0086275
    whole = _baseline(cli, parent, branch)
    streamed = _baseline(cli, parent, branch, "--chunk-rows", "1")
    assert _cost(whole) == _cost(streamed) == Decimal("0.008628")


def test_bedrock_records_inside_cloudwatch_events(cli: Any, tmp_path: Path) -> None:
    """``aws logs filter-log-events`` output: each invocation record is the JSON string in ``events[].message``."""
    lines = (DATA / "bedrock_invocations.jsonl").read_text().splitlines()
    events = [{"logStreamName": "aws/bedrock/modelinvocations", "timestamp": 1759658400000 + i,
               "message": line, "ingestionTime": 1759658401000 + i, "eventId": str(i)} for i, line in enumerate(lines)]
    log = tmp_path / "filter-log-events.json"
    log.write_text(json.dumps({"events": events, "searchedLogStreams": []}, indent=2))
    data = _inspect(cli, log)
    assert (data["files"][0]["format"], data["requests"]) == ("bedrock", 2)
    assert data["files"][0]["skipped"] == {"failed invocation (errorCode; not billed)": 1}
    assert tuple(data["tokens"][c] for c in TOKENS) == (20062 + 1200, 18000, 2048, 0, 410 + 95, 0)
    events[1]["message"] = events[1]["message"].replace('"inputTokenCount": 1200', '"inputTokenCount": -5')
    log.write_text(json.dumps({"events": events}))
    failed = cli("logs", "inspect", log, "--catalog", CATALOG)
    assert failed.exit_code == 2
    assert f"{log}: field 'input.inputTokenCount': array item 2: must not be negative" in failed.stderr
