"""Malformed input, per format: exit 2 with file, line and field on one line — or, with --skip-bad,
skipped, counted on stderr and in ``logs inspect``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"

# fixture, line to corrupt (1-based), a required field to delete, (field, wrong value), expected rows left
JSONL = [
    ("openai_chat.jsonl", 4, "usage.prompt_tokens", ("usage.completion_tokens", "many"), 2),
    ("openai_batch.jsonl", 4, "response.body.usage.input_tokens", ("response.body.usage.output_tokens", {"n": 1}), 1),
    ("anthropic_messages.jsonl", 2, "usage.input_tokens", ("usage.cache_read_input_tokens", -5), 2),
    ("anthropic_batch.jsonl", 1, "result.message.usage.output_tokens", ("result.message.usage.input_tokens", "x"), 0),
    ("claude_code.jsonl", 6, "timestamp", ("message.usage.output_tokens", "12x"), 1),
    ("helicone_request.jsonl", 2, "prompt_tokens", ("completion_tokens", "lots"), 1),
    ("gemini_responses.jsonl", 2, "usageMetadata.promptTokenCount", ("usageMetadata.candidatesTokenCount", [1]), 1),
    ("mooncake_trace.jsonl", 2, "input_length", ("output_length", 1.5), 2),
]
# fixture, a required column, a token column to fill with a non-number
CSV = [
    ("openai_usage.csv", "input_tokens", "num_model_requests"),
    ("litellm_spendlogs.csv", "prompt_tokens", "completion_tokens"),
    ("helicone_export.csv", "prompt_tokens", "completion_tokens"),
    ("openrouter_activity.csv", "tokens_prompt", "tokens_completion"),
    ("azure_trace.csv", "ContextTokens", "GeneratedTokens"),
    ("burstgpt.csv", "Request tokens", "Response tokens"),
]


def _set(obj: dict[str, Any], dotted: str, value: Any, delete: bool = False) -> None:
    *parents, leaf = dotted.split(".")
    for key in parents:
        obj = obj[key]
    if delete:
        del obj[leaf]
    else:
        obj[leaf] = value


def _rewrite_line(src: str, dst: Path, lineno: int, change: Any) -> None:
    lines = (DATA / src).read_text().splitlines()
    lines[lineno - 1] = change(lines[lineno - 1])
    dst.write_text("\n".join(lines) + "\n")


def _one_line_error(result: Any, path: Path, line: int | None, field: str | None) -> str:
    assert result.exit_code == 2, result.stdout + result.stderr
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in message, message
    assert message.startswith("llmcost: error: ")
    where = str(path) + (f":{line}" if line is not None else "")
    assert where + ":" in message, message
    if field is not None:
        assert f"field '{field}'" in message, message
    return message


def _skipped(cli: Any, path: Path, *extra: str) -> dict[str, Any]:
    result = cli("logs", "inspect", path, "--skip-bad", "--json", *extra)
    assert result.exit_code == 0, result.stderr
    assert "warning:" in result.stderr and "skipped" in result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize(("name", "line", "missing", "wrong", "left"), JSONL, ids=[c[0] for c in JSONL])
def test_jsonl_malformed(cli: Any, tmp_path: Path, name: str, line: int, missing: str,
                         wrong: tuple[str, Any], left: int) -> None:
    extra = ("--model", "m-1") if name.startswith("mooncake") else ()
    truncated = tmp_path / f"truncated-{name}"
    _rewrite_line(name, truncated, line, lambda text: text[: len(text) // 2])
    message = _one_line_error(cli("logs", "inspect", truncated, *extra), truncated, line, None)
    assert "invalid JSON" in message
    if left:
        data = _skipped(cli, truncated, *extra)
        assert data["files"][0]["skipped"].get("invalid JSON line") == 1
        assert data["rows"] == left
    else:  # the only request was the bad line
        nothing = cli("logs", "inspect", truncated, "--skip-bad", *extra)
        assert nothing.exit_code == 2 and "hold no requests" in nothing.stderr
        assert "skipped 1 row(s): invalid JSON line" in nothing.stderr

    def drop(text: str) -> str:
        obj = json.loads(text)
        _set(obj, missing, None, delete=True)
        return json.dumps(obj)

    absent = tmp_path / f"missing-{name}"
    _rewrite_line(name, absent, line, drop)
    message = _one_line_error(cli("logs", "inspect", absent, *extra), absent, line, missing)
    assert "is missing" in message

    def spoil(text: str) -> str:
        obj = json.loads(text)
        _set(obj, wrong[0], wrong[1])
        return json.dumps(obj)

    typed = tmp_path / f"wrong-{name}"
    _rewrite_line(name, typed, line, spoil)
    _one_line_error(cli("logs", "inspect", typed, *extra), typed, line, wrong[0])
    if left:
        data = _skipped(cli, typed, *extra)
        assert data["rows"] == left
        assert data["skipped_rows"] >= 1
        assert any(wrong[0] in why for why in data["files"][0]["skipped"])


def _rewrite_csv(src: str, dst: Path, change: Any) -> None:
    rows = list(csv.reader(io.StringIO((DATA / src).read_text(), newline="")))
    change(rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    dst.write_text(out.getvalue())


@pytest.mark.parametrize(("name", "required", "token"), CSV, ids=[c[0] for c in CSV])
def test_csv_malformed(cli: Any, tmp_path: Path, name: str, required: str, token: str) -> None:
    extra = ("--model", "m-1") if name.startswith("azure") else ()
    original = list(csv.reader(io.StringIO((DATA / name).read_text(), newline="")))
    data_rows = len(original) - 1
    # data row 2 starts on file line 3, except in the LiteLLM fixture, whose row 1 spans two lines
    line = 4 if name.startswith("litellm") else 3
    header = original[0]

    def blank(rows: list[list[str]]) -> None:
        rows[2][header.index(required)] = ""

    absent = tmp_path / f"blank-{name}"
    _rewrite_csv(name, absent, blank)
    message = _one_line_error(cli("logs", "inspect", absent, *extra), absent, line, required)
    assert "is missing" in message

    def spoil(rows: list[list[str]]) -> None:
        rows[2][header.index(token)] = "abc"

    typed = tmp_path / f"wrong-{name}"
    _rewrite_csv(name, typed, spoil)
    message = _one_line_error(cli("logs", "inspect", typed, *extra), typed, line, token)
    assert "whole number" in message
    data = _skipped(cli, typed, *extra)
    assert data["skipped_rows"] >= 1
    assert data["files"][0]["skipped"].get(f"{token}: must be a whole number (got non-numeric value)") == 1

    def no_column(rows: list[list[str]]) -> None:
        at = header.index(required)
        for row in rows:
            del row[at]

    gone = tmp_path / f"nocol-{name}"
    _rewrite_csv(name, gone, no_column)
    message = _one_line_error(cli("logs", "inspect", gone, "--log-format", _format_of(name), *extra),
                              gone, None, required)
    assert "missing required column" in message

    def short(rows: list[list[str]]) -> None:
        rows[2] = rows[2][:2]

    cut = tmp_path / f"short-{name}"
    _rewrite_csv(name, cut, short)
    message = _one_line_error(cli("logs", "inspect", cut, *extra), cut, line, None)
    assert "fields, expected" in message
    data = _skipped(cli, cut, *extra)
    assert data["files"][0]["skipped"].get("malformed CSV row (wrong number of fields)") == 1
    assert data["rows"] <= data_rows - 1


def _format_of(name: str) -> str:
    return {"openai_usage.csv": "openai-usage", "litellm_spendlogs.csv": "litellm",
            "helicone_export.csv": "helicone", "openrouter_activity.csv": "openrouter",
            "azure_trace.csv": "azure-trace", "burstgpt.csv": "burstgpt"}[name]


@pytest.mark.parametrize("name", [c[0] for c in JSONL] + [c[0] for c in CSV] + ["langfuse_observations.json"])
def test_empty_file(cli: Any, tmp_path: Path, name: str) -> None:
    empty = tmp_path / name
    empty.write_text("")
    message = _one_line_error(cli("logs", "inspect", empty), empty, None, None)
    assert "file is empty" in message


def test_json_array_item_errors_name_the_item_and_field(cli: Any, tmp_path: Path) -> None:
    doc = json.loads((DATA / "langfuse_observations.json").read_text())
    doc["data"][1]["usageDetails"]["output"] = "ten"
    bad = tmp_path / "langfuse.json"
    bad.write_text(json.dumps(doc, indent=1))
    message = _one_line_error(cli("logs", "inspect", bad), bad, None, "usageDetails.output")
    assert "array item 2" in message
    data = _skipped(cli, bad)
    assert data["rows"] == 2

    truncated = tmp_path / "cut.json"
    truncated.write_text(json.dumps(doc, indent=1)[:-40])
    message = _one_line_error(cli("logs", "inspect", truncated, "--log-format", "langfuse"), truncated, None, None)
    assert "invalid JSON" in message


def test_estimate_skip_bad_warns_and_prices_the_rest(cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "chat.jsonl"
    _rewrite_line("cross_openai.jsonl", bad, 2, lambda text: text[:30])
    catalog = DATA / "cross_catalog.yaml"
    failed = cli("estimate", bad, "--catalog", catalog, "--baseline-only", "--format", "json")
    _one_line_error(failed, bad, 2, None)
    result = cli("estimate", bad, "--catalog", catalog, "--baseline-only", "--format", "json", "--skip-bad")
    assert result.exit_code == 0
    assert "skipped 1 row(s): invalid JSON line" in result.stderr
    baseline = json.loads(result.stdout)["scenarios"][0]
    assert baseline["by_model"][0]["requests"] == 2
    assert baseline["observed_cost_usd"] == pytest.approx(0.288 + 1.065)


def test_fallback_reads_in_runs_and_keeps_line_numbers(cli: Any, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from llmcost.logs.formats import _records

    monkeypatch.setattr(_records, "RUN_BYTES", 900)  # a few lines per run
    monkeypatch.setattr(_records, "SMALLEST_RUN", 400)  # rejected runs are split once more
    good = (DATA / "cross_openai.jsonl").read_text().splitlines()
    lines = good * 4
    lines[5] = lines[5][:40]  # truncated: its run is parsed line by line
    obj = json.loads(lines[9])
    obj["usage"]["completion_tokens"] = -3
    lines[9] = json.dumps(obj)  # negative: found after parsing, named by its real line
    path = tmp_path / "chat.jsonl"
    path.write_text("\n".join(lines) + "\n")
    message = _one_line_error(cli("logs", "inspect", path), path, 6, None)
    assert "invalid JSON" in message
    data = _skipped(cli, path)
    assert data["rows"] == 10
    assert data["files"][0]["skipped"] == {"invalid JSON line": 1,
                                           "usage.completion_tokens: must not be negative": 1}
    lines[5] = good[2]
    path.write_text("\n".join(lines) + "\n")
    message = _one_line_error(cli("logs", "inspect", path), path, 10, "usage.completion_tokens")
    assert "must not be negative" in message


# JSON documents (arrays): file, item (1-based), field to delete, (field, wrong value)
DOCUMENTS = [
    ("openai_responses.json", 2, "usage.input_tokens", ("usage.output_tokens", "7 tokens")),
    ("litellm_spendlogs.json", 1, "prompt_tokens", ("completion_tokens", {"n": 300})),
    ("langfuse_observations.json", 3, "startTime", ("usageDetails.input", -1)),
]


@pytest.mark.parametrize(("name", "item", "missing", "wrong"), DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_json_document_malformed(cli: Any, tmp_path: Path, name: str, item: int, missing: str,
                                 wrong: tuple[str, Any]) -> None:
    def items(doc: Any) -> list[dict[str, Any]]:
        return doc["data"] if isinstance(doc, dict) else doc  # type: ignore[no-any-return]

    doc = json.loads((DATA / name).read_text())
    _set(items(doc)[item - 1], missing, None, delete=True)
    absent = tmp_path / f"missing-{name}"
    absent.write_text(json.dumps(doc, indent=2))
    message = _one_line_error(cli("logs", "inspect", absent), absent, None, missing)
    assert f"array item {item}: " in message and "missing" in message

    doc = json.loads((DATA / name).read_text())
    _set(items(doc)[item - 1], wrong[0], wrong[1])
    typed = tmp_path / f"wrong-{name}"
    typed.write_text(json.dumps(doc, indent=2))
    message = _one_line_error(cli("logs", "inspect", typed), typed, None, wrong[0])
    assert f"array item {item}: " in message
    if len(items(doc)) > 1:
        data = _skipped(cli, typed)
        assert sum(n for why, n in data["files"][0]["skipped"].items() if why.startswith(wrong[0])) == 1


def test_normalized_checks_name_the_source_line_and_field(cli: Any, tmp_path: Path) -> None:
    """Checks made on the normalized frame (cache ⊆ input, timestamps) report the source's line and field,
    also after rows that were dropped before them (the stream chunk on line 2)."""
    def cached_over_prompt(text: str) -> str:
        obj = json.loads(text)
        obj["usage"]["prompt_tokens_details"] = {"cached_tokens": 50}
        return json.dumps(obj)

    over = tmp_path / "over.jsonl"
    _rewrite_line("openai_chat.jsonl", over, 4, cached_over_prompt)
    message = _one_line_error(cli("logs", "inspect", over), over, 4, "usage.prompt_tokens_details.cached_tokens")
    assert "cache tokens exceed input_tokens" in message

    def bad_time(text: str) -> str:
        obj = json.loads(text)
        obj["created"] = "yesterday"
        return json.dumps(obj)

    when = tmp_path / "when.jsonl"
    _rewrite_line("openai_chat.jsonl", when, 3, bad_time)
    _one_line_error(cli("logs", "inspect", when), when, 3, "created")
    data = _skipped(cli, when)
    assert data["files"][0]["skipped"] == {"stream chunk without usage": 1,
                                           "created: must be a number (got non-numeric value)": 1}
    assert data["rows"] == 2
