"""Real export shapes the readers once got wrong (issue 11): each test names the shape, with the source's
real field names, and fails on the code before the fix."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from llmcost.logs import read_logs

DATA = Path(__file__).parent / "data"


def _write(path: Path, records: list[Any] | Any, *, lines: bool = True) -> Path:
    if lines:
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    else:
        path.write_text(json.dumps(records, indent=2))
    return path


def _column(frame: Any, name: str) -> list[Any]:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) or str(v) == "<NA>" else v
            for v in frame[name].tolist()]


# --- Langfuse -------------------------------------------------------------------------------------------

def _observation(oid: str, usage: dict[str, int], **extra: Any) -> dict[str, Any]:
    return {"id": oid, "traceId": "t-1", "type": "GENERATION", "name": "chat", "model": "claude-sonnet-4",
            "startTime": "2025-10-05T10:00:00.000Z", "endTime": "2025-10-05T10:00:02.500Z",
            "completionStartTime": None, "level": "DEFAULT", "usageDetails": usage, **extra}


def test_langfuse_trace_download_is_read_with_its_user_and_tags(tmp_path: Path) -> None:
    # Langfuse's own "download trace" JSON: {"trace": {...}, "observations": [...]}
    doc = {
        "trace": {"id": "t-1", "name": "support", "timestamp": "2025-10-05T10:00:00.000Z", "userId": "user-7",
                  "sessionId": "sess-3", "tags": ["prod", "support"], "environment": "default", "public": False},
        "observations": [
            _observation("o-1", {"input": 86, "input_cached_tokens": 1920, "output": 300, "total": 2306},
                         costDetails={"input": 0.0004, "input_cached_tokens": 0.0001, "output": 0.003,
                                      "total": 0.0035}, totalCost=0.0035, latency=2500),
            {"id": "o-2", "traceId": "t-1", "type": "SPAN", "name": "retrieve",
             "startTime": "2025-10-05T10:00:00.000Z", "usageDetails": {}},
        ],
    }
    path = _write(tmp_path / "trace.json", doc, lines=False)
    logset = read_logs([str(path)])
    frame = logset.frame
    assert logset.files[0].format == "langfuse"
    assert logset.files[0].skipped == {"not a GENERATION observation": 1}
    assert frame["input_tokens"].tolist() == [86 + 1920]
    assert frame["cache_read_tokens"].tolist() == [1920]
    assert frame["output_tokens"].tolist() == [300]
    assert frame["cost_logged"].tolist() == pytest.approx([0.0035])
    assert frame["latency_ms"].tolist() == pytest.approx([2500.0])  # from endTime - startTime
    assert _column(frame, "user") == ["user-7"]
    assert _column(frame, "tags") == ["prod,support"]


def test_langfuse_trace_with_observations_inside(tmp_path: Path) -> None:
    # GET /api/public/traces/{id}: the trace itself carries "observations"
    doc = {"id": "t-1", "timestamp": "2025-10-05T10:00:00.000Z", "userId": "u1", "tags": [], "totalCost": 0.02,
           "observations": [_observation("o-1", {"input": 100, "output": 10, "total": 110},
                                         calculatedTotalCost=0.02)]}
    frame = read_logs([str(_write(tmp_path / "trace.json", doc, lines=False))]).frame
    assert (frame["input_tokens"].tolist(), frame["cost_logged"].tolist()) == ([100], [0.02])
    assert _column(frame, "user") == ["u1"]


def test_langfuse_logged_cost_from_total_cost_or_cost_details(tmp_path: Path) -> None:
    usage = {"input": 100, "output": 10, "total": 110}
    path = _write(tmp_path / "obs.jsonl", [
        _observation("a", usage, calculatedTotalCost=0.5, totalCost=0.9),  # the calculated cost wins
        _observation("b", usage, totalCost=0.25),  # newer API: totalCost
        _observation("c", usage, costDetails={"total": 0.125}),
        _observation("d", usage, costDetails={"input": 0.03, "output": 0.07}),  # no total: their sum
        _observation("e", usage),  # no cost logged at all
    ])
    frame = read_logs([str(path)]).frame
    assert frame["cost_logged"].tolist() == pytest.approx([0.5, 0.25, 0.125, 0.1, math.nan], nan_ok=True)


def test_langfuse_usage_written_by_litellm_callback_bills_cache_writes_once(tmp_path: Path) -> None:
    # An Anthropic call through LiteLLM: prompt_tokens = 14 + 2048 (written) + 18000 (read) = 20062.
    # LiteLLM's Langfuse callback logs input = prompt_tokens - cache reads (writes still inside it),
    # total = prompt_tokens + completion_tokens; older LiteLLM logged input = prompt_tokens.
    litellm = {"input": 20062 - 18000, "output": 410, "total": 20062 + 410,
               "cache_creation_input_tokens": 2048, "cache_read_input_tokens": 18000}
    older = {"input": 20062, "output": 410, "total": 20062 + 410,
             "cache_creation_input_tokens": 2048, "cache_read_input_tokens": 18000}
    native = {"input": 14, "output": 410, "total": 20062 + 410,  # Langfuse's own keys are disjoint
              "cache_creation_input_tokens": 2048, "cache_read_input_tokens": 18000}
    path = _write(tmp_path / "obs.json", {"data": [_observation("a", litellm), _observation("b", older),
                                                   _observation("c", native)]}, lines=False)
    frame = read_logs([str(path)]).frame
    assert frame["input_tokens"].tolist() == [20062, 20062, 20062]
    assert frame["cache_write_tokens"].tolist() == [2048, 2048, 2048]
    assert frame["cache_read_tokens"].tolist() == [18000, 18000, 18000]
    assert frame["output_tokens"].tolist() == [410, 410, 410]


def test_langfuse_litellm_layout_with_an_unknown_usage_key(tmp_path: Path) -> None:
    # a key the reader does not know sends it down the generic path: the layout rule must hold there too
    usage = {"input": 2062, "output": 410, "total": 20472 + 7, "cache_creation_input_tokens": 2048,
             "cache_read_input_tokens": 18000, "input_video_tokens": 7}
    frame = read_logs([str(_write(tmp_path / "obs.jsonl", [_observation("a", usage)]))]).frame
    assert frame["input_tokens"].tolist() == [20062 + 7]


# --- detection of big documents -------------------------------------------------------------------------

def _responses_object(text: str) -> dict[str, Any]:
    return {"id": "resp_1", "object": "response", "created_at": 1759650000, "status": "completed",
            "model": "gpt-4o-mini", "output": [{"type": "message", "content": [{"type": "output_text",
                                                                                 "text": text}]}],
            "usage": {"input_tokens": 50, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 7,
                      "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 57}}


@pytest.mark.parametrize("pretty", [True, False], ids=["pretty", "one-line"])
def test_a_json_document_bigger_than_the_sniffed_head_is_detected(tmp_path: Path, pretty: bool) -> None:
    big = "x" * 200_000
    path = tmp_path / "response.json"
    path.write_text(json.dumps(_responses_object(big), indent=2 if pretty else None))
    assert path.stat().st_size > 1 << 16
    logset = read_logs([str(path)])
    assert logset.files[0].format == "openai-responses"
    assert logset.frame["input_tokens"].tolist() == [50]


def test_a_big_langfuse_api_page_and_a_long_first_jsonl_line(tmp_path: Path) -> None:
    page = {"data": [_observation(f"o{i}", {"input": 10, "output": 1, "total": 11}, input="y" * 5000)
                     for i in range(40)], "meta": {"page": 1, "totalItems": 40}}
    pretty = _write(tmp_path / "page.json", page, lines=False)
    one_line = tmp_path / "page_one_line.json"  # what `curl .../api/public/observations > file` writes
    one_line.write_text(json.dumps(page))
    first = {"sessionId": "s", "type": "user", "message": {"role": "user", "content": "z" * 100_000},
             "timestamp": "2025-10-05T10:00:00Z"}
    lines = (DATA / "claude_code.jsonl").read_text().splitlines()
    session = tmp_path / "session.jsonl"
    session.write_text(json.dumps(first) + "\n" + "\n".join(lines[1:]) + "\n")
    logset = read_logs([str(pretty), str(one_line), str(session)])
    assert [f.format for f in logset.files] == ["langfuse", "langfuse", "claude-code"]
    assert [f.rows for f in logset.files] == [40, 40, 2]


# --- LiteLLM 1-hour cache writes ------------------------------------------------------------------------

def _spend_row(rid: str, metadata: dict[str, Any]) -> dict[str, Any]:
    return {"request_id": rid, "call_type": "acompletion", "spend": 0.05, "prompt_tokens": 20062,
            "completion_tokens": 410, "total_tokens": 20472, "startTime": "2025-10-05T10:00:00Z",
            "endTime": "2025-10-05T10:00:05Z", "model": "claude-sonnet-4-20250514",
            "custom_llm_provider": "anthropic", "status": "success", "metadata": metadata}


def test_litellm_one_hour_cache_writes_are_their_own_column(tmp_path: Path) -> None:
    details = {"cached_tokens": 18000, "cache_creation_tokens": 2048,
               "cache_creation_token_details": {"ephemeral_5m_input_tokens": 48, "ephemeral_1h_input_tokens": 2000}}
    usage_object = {"prompt_tokens": 20062, "completion_tokens": 410, "prompt_tokens_details": details,
                    "cache_creation_input_tokens": 2048, "cache_read_input_tokens": 18000}
    rows = [
        _spend_row("a", {"usage_object": usage_object}),
        _spend_row("b", {"additional_usage_values": {"prompt_tokens_details": details,
                                                     "cache_creation_input_tokens": 2048,
                                                     "cache_read_input_tokens": 18000}}),
    ]
    frame = read_logs([str(_write(tmp_path / "spend.json", rows, lines=False))]).frame
    assert frame["cache_write_1h_tokens"].tolist() == [2000, 2000]
    assert frame["cache_write_tokens"].tolist() == [48, 48]
    assert frame["cache_read_tokens"].tolist() == [18000, 18000]
    assert frame["input_tokens"].tolist() == [20062, 20062]
    assert _column(frame, "provider") == ["anthropic", "anthropic"]


# --- OpenAI Usage API without group_by=model ------------------------------------------------------------

def _usage_page(model: str | None) -> dict[str, Any]:
    result = {"object": "organization.usage.completions.result", "input_tokens": 64000, "output_tokens": 9100,
              "num_model_requests": 12, "input_cached_tokens": 12800, "input_audio_tokens": 0,
              "output_audio_tokens": 0, "project_id": None, "user_id": None, "api_key_id": None,
              "model": model, "batch": None}
    return {"object": "page", "has_more": False, "next_page": None, "data": [
        {"object": "bucket", "start_time": 1759622400, "end_time": 1759708800, "results": [result]}]}


def test_usage_api_without_group_by_model_says_how_to_fix_it(cli: Any, tmp_path: Path) -> None:
    path = _write(tmp_path / "usage.json", _usage_page(None), lines=False)
    result = cli("logs", "inspect", path)
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert "\n" not in message and str(path) in message and "field 'model'" in message, message
    assert "group_by=model" in message and "--model" in message, message
    ok = cli("logs", "inspect", path, "--model", "gpt-4o-mini", "--json")
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(ok.stdout)["tokens"]["input_tokens"] == 64000


# --- records that are not billable are skipped and counted ----------------------------------------------

def test_queued_responses_blocked_gemini_and_string_messages_are_counted(tmp_path: Path) -> None:
    queued = {**_responses_object("hi"), "id": "resp_q", "status": "queued", "usage": None, "output": []}
    running = {**queued, "id": "resp_r", "status": "in_progress"}
    responses = _write(tmp_path / "responses.jsonl", [_responses_object("hi"), queued, running])
    blocked = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
               "usageMetadata": {"totalTokenCount": 0}, "modelVersion": "gemini-2.5-flash"}
    gemini_lines = (DATA / "gemini_responses.jsonl").read_text().splitlines()
    gemini = tmp_path / "gemini.jsonl"
    gemini.write_text(gemini_lines[0] + "\n" + json.dumps(blocked) + "\n" + gemini_lines[1] + "\n")
    text_message = {"sessionId": "s", "type": "system", "message": "Claude Code was interrupted",
                    "timestamp": "2025-10-05T10:00:01Z"}
    code_lines = (DATA / "claude_code.jsonl").read_text().splitlines()
    claude = tmp_path / "claude.jsonl"
    claude.write_text("\n".join([*code_lines[:2], json.dumps(text_message), *code_lines[2:]]) + "\n")
    logset = read_logs([str(responses), str(gemini), str(claude)])
    files = {Path(f.path).name: f for f in logset.files}
    assert files["responses.jsonl"].rows == 1
    assert files["responses.jsonl"].skipped == {"response in_progress without usage (not billed)": 1,
                                                "response queued without usage (not billed)": 1}
    assert files["gemini.jsonl"].rows == 2
    assert files["gemini.jsonl"].skipped == {
        "blocked prompt (PROHIBITED_CONTENT) without token counts (not billed)": 1}
    assert files["claude.jsonl"].rows == 2
    assert files["claude.jsonl"].skipped["message is not an object (an event, not a request)"] == 1


# --- Gemini time per line; --skip-bad keeps every valid row ---------------------------------------------

def _gemini(i: int, create: bool) -> dict[str, Any]:
    record: dict[str, Any] = {"candidates": [{"content": {"parts": [{"text": "ok"}], "role": "model"},
                                              "finishReason": "STOP"}],
                              "usageMetadata": {"promptTokenCount": 100 + i, "candidatesTokenCount": 10,
                                                "totalTokenCount": 110 + i},
                              "modelVersion": "gemini-2.0-flash", "responseId": f"r{i}"}
    if create:
        record["createTime"] = f"2025-10-05T10:{i:02d}:00.123456Z"
    return record


def test_gemini_lines_with_and_without_create_time(tmp_path: Path) -> None:
    records = [_gemini(i, create=i % 3 != 1) for i in range(37)]
    path = _write(tmp_path / "gemini.jsonl", records)
    frame = read_logs([str(path)]).frame
    assert len(frame) == 37
    stamped = frame["provider"].astype(str) == "vertex_ai"
    assert int(stamped.sum()) == sum(1 for r in records if "createTime" in r)
    assert set(frame["provider"].astype(str)) == {"vertex_ai", "gemini"}
    assert frame["timestamp"][0].isoformat() == "2025-10-05T10:00:00.123456+00:00"


def test_gemini_bad_create_time_names_the_source_field(cli: Any, tmp_path: Path) -> None:
    records = [_gemini(0, True), {**_gemini(1, True), "createTime": "yesterday-ish"}]
    path = _write(tmp_path / "gemini.jsonl", records)
    result = cli("logs", "inspect", path)
    assert result.exit_code == 2
    assert f"{path}:2:" in result.stderr and "field 'createTime'" in result.stderr, result.stderr


def _gemini_file(tmp_path: Path) -> tuple[Path, int]:
    records: list[Any] = [_gemini(i, create=i % 3 != 1) for i in range(37)]
    records.insert(20, {**_gemini(99, True), "usageMetadata": {"promptTokenCount": "many"}})
    return _write(tmp_path / "gemini.jsonl", records), 37


def _claude_file(tmp_path: Path) -> tuple[Path, int]:
    lines = (DATA / "claude_code.jsonl").read_text().splitlines()
    bad = json.loads(lines[-1])
    bad["message"]["id"] = "msg_bad"
    bad["message"]["usage"]["output_tokens"] = "12x"
    path = tmp_path / "claude.jsonl"
    path.write_text("\n".join([*lines, json.dumps(bad)]) + "\n")
    return path, 2


def _langfuse_file(tmp_path: Path) -> tuple[Path, int]:
    good = [_observation(f"o{i}", {"input": 10 + i, "output": 1, "total": 11 + i}) for i in range(12)]
    bad = _observation("bad", {"input": -3, "output": 1})
    return _write(tmp_path / "obs.jsonl", [*good[:5], bad, *good[5:]]), 12


def _litellm_file(tmp_path: Path) -> tuple[Path, int]:
    rows = [_spend_row(f"r{i}", {}) for i in range(9)]
    rows.insert(4, {**_spend_row("bad", {}), "startTime": "not a time"})
    return _write(tmp_path / "spend.json", rows, lines=False), 9


@pytest.mark.parametrize("build", [_gemini_file, _claude_file, _langfuse_file, _litellm_file],
                         ids=["gemini", "claude-code", "langfuse", "litellm"])
def test_skip_bad_keeps_every_valid_row(tmp_path: Path, build: Any) -> None:
    path, valid = build(tmp_path)
    logset = read_logs([str(path)], skip_bad=True)
    assert len(logset.frame) == valid
    assert logset.files[0].skipped_total >= 1


# --- cost the source logged -----------------------------------------------------------------------------

def test_claude_code_cost_usd_and_openrouter_usage_cost(tmp_path: Path) -> None:
    lines = [json.loads(line) for line in (DATA / "claude_code.jsonl").read_text().splitlines()]
    for record in lines:
        if isinstance(record.get("message"), dict) and "usage" in record["message"]:
            record["costUSD"] = 0.0123
    claude = _write(tmp_path / "claude.jsonl", lines)
    openrouter = {"id": "gen-1759650000-abc", "provider": "Anthropic", "model": "anthropic/claude-sonnet-4",
                  "object": "chat.completion", "created": 1759650000,
                  "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                               "finish_reason": "stop"}],
                  "usage": {"prompt_tokens": 194, "completion_tokens": 2, "total_tokens": 196, "cost": 0.000612,
                            "is_byok": False, "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                            "cost_details": {"upstream_inference_cost": None},
                            "completion_tokens_details": {"reasoning_tokens": 0}}}
    chat = _write(tmp_path / "openrouter.json", openrouter, lines=False)
    claude_frame = read_logs([str(claude)]).frame
    assert claude_frame["cost_logged"].tolist() == pytest.approx([0.0123, 0.0123])
    chat_frame = read_logs([str(chat)]).frame
    assert chat_frame["cost_logged"].tolist() == pytest.approx([0.000612])
    assert _column(chat_frame, "provider") == ["openrouter"]


# --- service tier, provider and audio columns -----------------------------------------------------------

def test_service_tier_provider_and_audio_columns(tmp_path: Path) -> None:
    chat = {"id": "chatcmpl-A1", "object": "chat.completion", "created": 1759650000,
            "model": "gpt-4o-audio-preview-2024-12-17", "service_tier": "default",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": None}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 300, "total_tokens": 420,
                      "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 80},
                      "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 250,
                                                    "accepted_prediction_tokens": 0,
                                                    "rejected_prediction_tokens": 0}}}
    flex = {**chat, "id": "chatcmpl-A2", "service_tier": "flex", "model": "o3",
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}
    chat_frame = read_logs([str(_write(tmp_path / "chat.jsonl", [chat, flex]))]).frame
    assert _column(chat_frame, "service_tier") == ["default", "flex"]
    assert chat_frame["audio_input_tokens"].tolist() == [80, 0]
    assert chat_frame["audio_output_tokens"].tolist() == [250, 0]

    response = {**_responses_object("hi"), "service_tier": "priority"}
    resp_frame = read_logs([str(_write(tmp_path / "resp.json", response, lines=False))]).frame
    assert _column(resp_frame, "service_tier") == ["priority"]

    anthropic = read_logs([str(DATA / "anthropic_messages.jsonl")]).frame
    assert _column(anthropic, "service_tier")[0] == "standard"

    helicone = read_logs([str(DATA / "helicone_request.jsonl")]).frame
    assert set(_column(helicone, "provider")) <= {"openai", "anthropic", None}
    assert any(_column(helicone, "provider"))
    openrouter = read_logs([str(DATA / "openrouter_activity.csv")]).frame
    assert _column(openrouter, "provider") == ["openrouter", "openrouter"]


@pytest.mark.parametrize("lines", [True, False], ids=["jsonl", "json-array"])
def test_gemini_audio_modalities_become_audio_columns(tmp_path: Path, lines: bool) -> None:
    audio = {**_gemini(0, False), "usageMetadata": {
        "promptTokenCount": 130, "candidatesTokenCount": 40, "totalTokenCount": 170,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 30}, {"modality": "AUDIO", "tokenCount": 100}],
        "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": 25}, {"modality": "TEXT", "tokenCount": 15}]}}
    text = {**_gemini(1, False), "usageMetadata": {
        "promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 10}]}}
    frame = read_logs([str(_write(tmp_path / "gemini.json", [audio, text], lines=lines))]).frame
    assert frame["audio_input_tokens"].tolist() == [100, 0]
    assert frame["audio_output_tokens"].tolist() == [25, 0]
    assert _column(frame, "provider") == ["gemini", "gemini"]


def test_chat_completion_from_litellm_proxy_splits_one_hour_cache_writes(tmp_path: Path) -> None:
    # LiteLLM's chat usage for Anthropic: prompt_tokens includes reads and writes; the TTL split is in
    # prompt_tokens_details.cache_creation_token_details
    usage = {"completion_tokens": 40, "prompt_tokens": 20062, "total_tokens": 20102,
             "completion_tokens_details": {"reasoning_tokens": 0, "text_tokens": 40},
             "prompt_tokens_details": {"cached_tokens": 18000, "text_tokens": 14, "cache_creation_tokens": 2048,
                                       "cache_creation_token_details": {"ephemeral_5m_input_tokens": 48,
                                                                        "ephemeral_1h_input_tokens": 2000}},
             "cache_creation_input_tokens": 2048, "cache_read_input_tokens": 18000}
    chat = {"id": "chatcmpl-x1", "created": 1759650000, "model": "claude-haiku-4-5", "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": usage}
    frame = read_logs([str(_write(tmp_path / "chat.jsonl", [chat]))]).frame
    assert frame["input_tokens"].tolist() == [20062]
    assert frame["cache_read_tokens"].tolist() == [18000]
    assert (frame["cache_write_tokens"].tolist(), frame["cache_write_1h_tokens"].tolist()) == ([48], [2000])


def test_langfuse_traces_list_with_observation_ids_is_not_taken_for_a_trace_download(cli: Any,
                                                                                     tmp_path: Path) -> None:
    # GET /api/public/traces lists traces whose "observations" are ids: no usage to read
    page = {"data": [{"id": "t-1", "timestamp": "2025-10-05T10:00:00.000Z", "observations": ["o-1", "o-2"],
                      "totalCost": 0.1, "latency": 2.5}], "meta": {"page": 1}}
    result = cli("logs", "inspect", _write(tmp_path / "traces.json", page, lines=False))
    assert result.exit_code == 2
    assert "cannot detect the log format" in result.stderr and "Traceback" not in result.stderr


def test_usage_csv_without_a_model_column_says_how_to_fix_it(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "usage.csv"
    path.write_text("start_time,end_time,num_model_requests,input_tokens,output_tokens,input_cached_tokens\n"
                    "1759622400,1759708800,12.0,64000.0,9100.0,0.0\n")
    result = cli("logs", "inspect", path)
    assert result.exit_code == 2
    assert "field 'model'" in result.stderr and "group_by=model" in result.stderr, result.stderr
    assert cli("logs", "inspect", path, "--model", "gpt-4o-mini").exit_code == 0


def test_files_with_and_without_audio_counts_read_together(tmp_path: Path) -> None:
    # a file without audio counts contributes zeros, not NaN (which pricing would call unpriced)
    logset = read_logs([str(DATA / "openai_chat.jsonl"), str(DATA / "helicone_request.jsonl")])
    audio = logset.frame["audio_input_tokens"]
    assert str(audio.dtype) == "int64" and audio.tolist() == [0] * len(audio)


@pytest.mark.parametrize("lines", [True, False], ids=["jsonl", "json-array"])
def test_gemini_stream_chunks_before_the_final_one_are_not_requests(tmp_path: Path, lines: bool) -> None:
    # streamGenerateContent: every chunk carries usageMetadata; the first a provisional promptTokenCount,
    # the one with finishReason the billed counts (chunk shapes as the Gemini API sends them)
    first = {"candidates": [{"content": {"parts": [{"text": "Percy"}], "role": "model"}}],
             "usageMetadata": {"promptTokenCount": 10, "totalTokenCount": 10}, "modelVersion": "gemini-2.0-flash"}
    last = {"candidates": [{"content": {"parts": [{"text": "\n"}], "role": "model"}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 2, "totalTokenCount": 11},
            "modelVersion": "gemini-2.0-flash"}
    blocked = {"promptFeedback": {"blockReason": "SAFETY"}, "modelVersion": "gemini-2.0-flash",
               "usageMetadata": {"promptTokenCount": 7, "totalTokenCount": 7}}  # no candidates: billed input
    records = [first, last, blocked, _gemini(3, False)]
    logset = read_logs([str(_write(tmp_path / "stream.json", records, lines=lines))])
    assert logset.frame["input_tokens"].tolist() == [9, 7, 103]
    assert logset.files[0].skipped == {"stream chunk before the final one (provisional usage, not a request)": 1}
