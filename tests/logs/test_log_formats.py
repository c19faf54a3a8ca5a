"""Every reader on a fixture built from its source's real field names: exact normalized token columns."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from llmcost.logs import read_logs

DATA = Path(__file__).parent / "data"
TOKENS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens",
          "reasoning_tokens")

# file, detected format, {column: values per row}, skipped {reason: n}
CASES: list[tuple[str, str, dict[str, list[Any]], dict[str, int]]] = [
    ("openai_chat.jsonl", "openai-chat", {  # prompt_tokens already includes cached_tokens
        "model": ["gpt-4o-2024-08-06", "gpt-4o-mini", "gpt-4o-mini"],
        "input_tokens": [3000, 200, 10], "cache_read_tokens": [1024, 0, 0], "cache_write_tokens": [0, 0, 0],
        "cache_write_1h_tokens": [0, 0, 0], "output_tokens": [500, 20, 5], "reasoning_tokens": [128, 0, 0],
        "timestamp": ["2025-10-05T07:40:00Z", "2025-10-05T07:41:00Z", "2025-10-05T08:40:00Z"],
    }, {"stream chunk without usage": 1}),
    ("openai_responses.json", "openai-responses", {
        "input_tokens": [2006, 50], "cache_read_tokens": [1920, 0], "cache_write_tokens": [0, 0],
        "cache_write_1h_tokens": [0, 0], "output_tokens": [300, 7], "reasoning_tokens": [64, 0],
        "status": ["completed", "incomplete"],
    }, {}),
    ("openai_batch.jsonl", "openai-batch", {  # a chat body and a responses body; errors counted, not priced
        "model": ["gpt-4o-mini-2024-07-18", "gpt-4o"],
        "input_tokens": [812, 400], "cache_read_tokens": [256, 100], "cache_write_tokens": [0, 0],
        "cache_write_1h_tokens": [0, 0], "output_tokens": [95, 40], "reasoning_tokens": [0, 10],
        "batch": [True, True],
    }, {"batch error line (not billed): batch_expired": 1,
        "batch request failed (status != 200, not billed)": 1}),
    ("openai_usage.csv", "openai-usage", {  # buckets: weight = num_model_requests
        "input_tokens": [64000, 450000], "cache_read_tokens": [12800, 0], "cache_write_tokens": [0, 0],
        "cache_write_1h_tokens": [0, 0], "output_tokens": [9100, 60000], "reasoning_tokens": [0, 0],
        "weight": [12, 300], "batch": [False, True],
        "timestamp": ["2025-10-05T00:00:00Z"] * 2, "period_end": ["2025-10-06T00:00:00Z"] * 2,
    }, {"empty bucket (0 requests)": 1}),
    ("openai_usage_api.json", "openai-usage", {  # the Usage API's page of buckets, same numbers
        "input_tokens": [64000, 450000], "cache_read_tokens": [12800, 0], "cache_write_tokens": [0, 0],
        "cache_write_1h_tokens": [0, 0], "output_tokens": [9100, 60000], "reasoning_tokens": [0, 0],
        "weight": [12, 300], "batch": [False, True],
        "timestamp": ["2025-10-05T00:00:00Z"] * 2, "period_end": ["2025-10-06T00:00:00Z"] * 2,
    }, {}),
    ("anthropic_messages.jsonl", "anthropic-messages", {  # input = input + cache writes + cache reads
        "input_tokens": [14 + 2048 + 18000, 100 + 5000, 300 + 700], "cache_read_tokens": [18000, 0, 0],
        "cache_write_tokens": [2048, 1000, 700], "cache_write_1h_tokens": [0, 4000, 0],
        "output_tokens": [410, 900, 50], "reasoning_tokens": [0, 0, 0],
    }, {}),
    ("anthropic_batch.jsonl", "anthropic-batch", {
        "input_tokens": [20062], "cache_read_tokens": [18000], "cache_write_tokens": [2048],
        "cache_write_1h_tokens": [0], "output_tokens": [410], "reasoning_tokens": [0], "batch": [True],
    }, {"batch result errored (not billed)": 1, "batch result expired (not billed)": 1}),
    ("claude_code.jsonl", "claude-code", {  # the LAST of two streamed entries of msg_C1 is kept
        "model": ["claude-sonnet-4-20250514", "claude-3-5-haiku-20241022"],
        "input_tokens": [4 + 21300, 500 + 21300], "cache_read_tokens": [0, 21300],
        "cache_write_tokens": [21300, 0], "cache_write_1h_tokens": [0, 0], "output_tokens": [120, 30],
        "reasoning_tokens": [0, 0], "timestamp": ["2025-10-05T10:00:04Z", "2025-10-05T10:02:00Z"],
    }, {"synthetic entry (model <synthetic>)": 1,
        "repeated streaming entry (same message.id + requestId; last kept)": 1}),
    ("litellm_spendlogs.csv", "litellm", {  # cached tokens from metadata; cache_hit row skipped
        "input_tokens": [2006, 25300, 0], "cache_read_tokens": [1920, 18000, 0], "cache_write_tokens": [0, 7000, 0],
        "cache_write_1h_tokens": [0, 0, 0], "output_tokens": [300, 210, 0], "reasoning_tokens": [12, 0, 0],
        "cost_logged": [0.000513, 0.0421, 0.0], "ttft_ms": [350.0, 1000.0, math.nan],
        "latency_ms": [2400.0, 5000.0, 500.0], "status": ["success", "success", "failure"],
        "tags": ['["prod", "search"]', None, None], "user": ["alice", "bob", "alice"],
    }, {"LiteLLM cache hit (answered by the proxy, no provider call)": 1}),
    ("litellm_spendlogs.json", "litellm", {
        "input_tokens": [2006], "cache_read_tokens": [1920], "cache_write_tokens": [0], "cache_write_1h_tokens": [0],
        "output_tokens": [300], "reasoning_tokens": [0], "cost_logged": [0.000513], "ttft_ms": [350.0],
        "tags": ['["prod"]'],
    }, {}),
    ("langfuse_observations.json", "langfuse", {  # usageDetails.input EXCLUDES cached tokens
        "input_tokens": [86 + 1920, 14 + 18000 + 2048, 400 + 100], "cache_read_tokens": [1920, 18000, 100],
        "cache_write_tokens": [0, 2048, 0], "cache_write_1h_tokens": [0, 0, 0],
        "output_tokens": [300, 410, 200 + 800], "reasoning_tokens": [0, 0, 800],
        "latency_ms": [2400.0, 9000.0, 5000.0], "ttft_ms": [350.0, math.nan, 1250.0],
        "cost_logged": [0.0003369, 0.019, 0.004], "status": ["success", "error", "success"],
    }, {"not a GENERATION observation": 1}),
    ("helicone_export.csv", "helicone", {
        "input_tokens": [2006, 120], "cache_read_tokens": [0, 0], "cache_write_tokens": [0, 0],
        "cache_write_1h_tokens": [0, 0], "output_tokens": [300, 0], "reasoning_tokens": [0, 0],
        "latency_ms": [2400.0, 1000.0], "cost_logged": [0.0003369, 0.0], "status": ["200", "500"],
    }, {}),
    ("helicone_request.jsonl", "helicone", {  # row 2: total_tokens shows the cache was counted outside
        "input_tokens": [2006, 14 + 18000 + 2048], "cache_read_tokens": [1920, 18000],
        "cache_write_tokens": [0, 2048], "cache_write_1h_tokens": [0, 0], "output_tokens": [300, 410],
        "reasoning_tokens": [0, 0], "ttft_ms": [350.0, 500.0], "cost_logged": [0.0003369, 0.019],
    }, {}),
    ("openrouter_activity.csv", "openrouter", {  # tokens_prompt includes tokens_cached
        "model": ["anthropic/claude-sonnet-4", "openai/o3-mini"],
        "input_tokens": [10389, 500], "cache_read_tokens": [8192, 0], "cache_write_tokens": [0, 0],
        "cache_write_1h_tokens": [0, 0], "output_tokens": [137, 1200], "reasoning_tokens": [0, 800],
        "status": ["success", "cancelled"], "cost_logged": [0.00412, 0.0031], "ttft_ms": [350.0, 900.0],
    }, {}),
    ("gemini_responses.jsonl", "gemini", {  # thoughts are billed as output, not inside candidates
        "input_tokens": [5000, 100 + 30], "cache_read_tokens": [4096, 0], "cache_write_tokens": [0, 0],
        "cache_write_1h_tokens": [0, 0], "output_tokens": [200 + 350, 20], "reasoning_tokens": [350, 0],
    }, {}),
    ("azure_trace.csv", "azure-trace", {
        "input_tokens": [4808, 3180, 110], "output_tokens": [10, 8, 27], "cache_read_tokens": [0, 0, 0],
        "cache_write_tokens": [0, 0, 0], "cache_write_1h_tokens": [0, 0, 0], "reasoning_tokens": [0, 0, 0],
        "model": ["gpt-4o"] * 3,
        "timestamp": ["2023-11-16T18:17:03.979960Z", "2023-11-16T18:17:04.031960Z", "2023-11-16T18:17:04.078149Z"],
    }, {}),
    ("mooncake_trace.jsonl", "mooncake-trace", {
        "input_tokens": [6758, 15597, 19399], "output_tokens": [500, 138, 285], "cache_read_tokens": [0, 0, 0],
        "cache_write_tokens": [0, 0, 0], "cache_write_1h_tokens": [0, 0, 0], "reasoning_tokens": [0, 0, 0],
        "timestamp": ["2025-01-01T00:00:00Z", "2025-01-01T00:02:45Z", "2025-01-01T00:05:30Z"],
    }, {}),
    ("burstgpt.csv", "burstgpt", {  # failed (0 response tokens) rows are kept, priced on their input
        "model": ["ChatGPT", "GPT-4", "ChatGPT"], "input_tokens": [472, 1087, 390], "output_tokens": [18, 0, 112],
        "cache_read_tokens": [0, 0, 0], "cache_write_tokens": [0, 0, 0], "cache_write_1h_tokens": [0, 0, 0],
        "reasoning_tokens": [0, 0, 0], "status": ["success", "failed", "success"],
        "timestamp": ["2025-01-01T00:00:05Z", "2025-01-01T00:00:45Z", "2025-01-01T00:01:58.500Z"],
    }, {}),
]


def _values(series: pd.Series, column: str) -> list[Any]:
    if column in ("timestamp", "period_end"):
        return [ts.isoformat() for ts in series]
    if column in ("model", "status", "tags", "user"):
        return [None if pd.isna(v) else str(v) for v in series]
    return series.tolist()


def _expected(column: str, values: list[Any]) -> list[Any]:
    if column in ("timestamp", "period_end"):
        return [pd.Timestamp(v).isoformat() for v in values]
    return values


@pytest.mark.parametrize(("name", "fmt", "columns", "skipped"), CASES, ids=[c[0] for c in CASES])
def test_reader_normalizes_tokens_exactly(name: str, fmt: str, columns: dict[str, list[Any]],
                                          skipped: dict[str, int]) -> None:
    logset = read_logs([str(DATA / name)], default_model="gpt-4o")
    frame = logset.frame
    assert logset.files[0].format == fmt
    assert logset.files[0].skipped == skipped
    assert len(frame) == len(next(iter(columns.values())))
    assert set(TOKENS) <= set(columns), "every case asserts every token column"
    for column, expected in columns.items():
        got = _values(frame[column], column)
        want = _expected(column, expected)
        if column in ("cost_logged", "ttft_ms", "latency_ms"):
            assert got == pytest.approx(want, nan_ok=True), column
        else:
            assert got == want, column
    for column in TOKENS:
        assert str(frame[column].dtype) == "int64", column


def test_mooncake_hash_ids_become_prefix_hashes() -> None:
    frame = read_logs([str(DATA / "mooncake_trace.jsonl")], default_model="gpt-4o").frame
    first = list(frame["prefix_hashes"].iloc[0])
    assert first == list(range(14))
    assert [len(h) for h in frame["prefix_hashes"]] == [14, 31, 38]  # ceil(input_length / 512)


def test_log_format_overrides_detection(cli: Any, tmp_path: Path) -> None:
    # A Chat Completions file forced through the LiteLLM reader fails on that reader's fields.
    result = cli("logs", "inspect", DATA / "openai_chat.jsonl", "--log-format", "openai-chat", "--json")
    assert result.exit_code == 0
    result = cli("logs", "inspect", DATA / "openai_chat.jsonl", "--log-format", "litellm")
    assert result.exit_code == 2
    assert "field 'startTime'" in result.stderr
    result = cli("logs", "inspect", DATA / "openai_chat.jsonl", "--log-format", "nope")
    assert result.exit_code == 2
    assert "unknown --log-format 'nope'" in result.stderr


def test_traces_without_model_need_one(cli: Any) -> None:
    result = cli("logs", "inspect", DATA / "azure_trace.csv")
    assert result.exit_code == 2
    assert "field 'model'" in result.stderr and "--model" in result.stderr


def test_gzip_and_stdin(cli: Any, tmp_path: Path) -> None:
    import gzip
    import json

    packed = tmp_path / "session.jsonl.gz"
    packed.write_bytes(gzip.compress((DATA / "claude_code.jsonl").read_bytes()))
    result = cli("logs", "inspect", packed, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["tokens"]["cache_write_tokens"] == 21300
    piped = cli("logs", "inspect", "-", "--json", input=(DATA / "litellm_spendlogs.csv").read_text())
    assert piped.exit_code == 0, piped.stderr
    data = json.loads(piped.stdout)
    assert (data["files"][0]["format"], data["rows"], data["tokens"]["cache_read_tokens"]) == ("litellm", 3, 19920)
