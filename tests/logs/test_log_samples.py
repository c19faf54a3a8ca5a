"""The shared sample of every format (../shared/formats) is detected and normalized as its README says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmcost.logs import read_logs

SHARED = Path(__file__).resolve().parents[2].parent / "shared"  # as tests/conftest.py FORMATS / TRACES
FORMATS = SHARED / "formats"
TRACES = SHARED / "traces"

pytestmark = pytest.mark.skipif(not FORMATS.is_dir(), reason="../shared/formats is not present")

# sample, format, (input, cache_read, cache_write, cache_write_1h, output, reasoning) summed, requests
SAMPLES = [
    ("openai_chat_completion.json", "openai-chat", (2006, 1920, 0, 0, 300, 0), 1),
    ("openai_batch_output.jsonl", "openai-batch", (812, 0, 0, 0, 95, 0), 1),
    ("openai_usage_export_completions.csv", "openai-usage", (514000, 12800, 0, 0, 69100, 0), 312),
    ("anthropic_message.json", "anthropic-messages", (20062, 18000, 2048, 0, 410, 0), 1),
    ("anthropic_batch_results.jsonl", "anthropic-batch", (20062, 18000, 2048, 0, 410, 0), 1),
    ("litellm_spendlogs.csv", "litellm", (2006, 1920, 0, 0, 300, 0), 1),
    ("langfuse_observation.json", "langfuse", (2006, 1920, 0, 0, 300, 0), 1),
    ("helicone_export.csv", "helicone", (2006, 0, 0, 0, 300, 0), 1),
    ("helicone_request.jsonl", "helicone", (2006, 1920, 0, 0, 300, 0), 1),
    ("openrouter_activity.csv", "openrouter", (10389, 8192, 0, 0, 137, 0), 1),
    ("claude_code_session.jsonl", "claude-code", (21304, 0, 21300, 0, 120, 0), 1),
]
TOKENS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens",
          "reasoning_tokens")


@pytest.mark.parametrize(("name", "fmt", "tokens", "requests"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_shared_sample(name: str, fmt: str, tokens: tuple[int, ...], requests: int) -> None:
    logset = read_logs([str(FORMATS / name)])
    assert logset.files[0].format == fmt
    assert tuple(int(logset.frame[c].sum()) for c in TOKENS) == tokens
    assert int(logset.frame["weight"].sum()) == requests


def test_inspect_reports_everything_for_mixed_samples(cli: Any) -> None:
    result = cli("logs", "inspect", FORMATS / "openai_batch_output.jsonl", FORMATS / "litellm_spendlogs.csv",
                 FORMATS / "openai_usage_export_completions.csv", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(f["format"], f["rows"], f["skipped_total"]) for f in data["files"]] == [
        ("openai-batch", 1, 1), ("litellm", 1, 0), ("openai-usage", 2, 0)]
    assert data["files"][0]["skipped"] == {"batch error line (not billed): batch_expired": 1}
    assert (data["rows"], data["requests"], data["batch_rows"], data["skipped_rows"]) == (4, 314, 2, 1)
    assert data["window"] == {"start": "2025-10-05T00:00:00+00:00", "end": "2025-10-06T00:00:00+00:00",
                              "days": 1.0}
    assert data["tokens"]["input_tokens"] == 812 + 2006 + 514000
    assert data["tokens"]["cache_read_tokens"] == 1920 + 12800
    assert data["unresolved_models"] == []
    assert data["cost_logged_usd"] == 0.000513
    assert "skipped 1 row(s): batch error line (not billed): batch_expired" in result.stderr
    table = cli("logs", "inspect", FORMATS / "openai_batch_output.jsonl", FORMATS / "openrouter_activity.csv")
    assert table.exit_code == 0
    for text in ("openai-batch", "openrouter", "requests (weighted)", "Skipped rows (1)", "batch_expired",
                 "input_tokens", "2 resolved, 0 unresolved"):
        assert text in table.stdout, text


@pytest.mark.skipif(not TRACES.is_dir(), reason="../shared/traces is not present")
def test_real_traces(cli: Any) -> None:
    azure = read_logs([str(TRACES / "azure2023_code.csv")], default_model="gpt-4o-mini")
    assert (azure.files[0].format, len(azure.frame)) == ("azure-trace", 8819)
    assert round(azure.frame["input_tokens"].mean()) == 2048  # the README's stated mean
    mooncake = read_logs([str(TRACES / "mooncake_conversation_trace.jsonl")], default_model="gpt-4o-mini")
    frame = mooncake.frame
    assert (mooncake.files[0].format, len(frame)) == ("mooncake-trace", 12031)
    assert frame["timestamp"].min().isoformat() == "2025-01-01T00:00:00+00:00"
    blocks = frame["prefix_hashes"].list.len().to_numpy()
    assert ((frame["input_tokens"].to_numpy() + 511) // 512 == blocks).all()
    result = cli("logs", "inspect", TRACES / "azure2023_conv.csv", "--model", "nonexistent-model", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["unresolved_models"] == ["nonexistent-model"]
