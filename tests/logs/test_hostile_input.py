"""Hostile log input (issue 18): one decoding policy, one token-value validator, pipes, deep nesting.
Every refusal is exit 2 with one stderr line naming the file (and line and field where there is one)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"
NATIVE = "timestamp,model,input_tokens,output_tokens\n2025-01-01T00:00:00Z,gpt-4o,100,10\n" \
         "2025-01-02T00:00:00Z,gpt-4o,200,20\n"


def _total(cli: Any, *args: str) -> str:
    result = cli("estimate", *args, "--baseline-only", "-f", "json")
    assert result.exit_code == 0, result.stderr
    baseline = json.loads(result.stdout)["scenarios"][0]
    return json.dumps([baseline["observed_cost_usd"], baseline["by_model"]], sort_keys=True)


def _refused(cli: Any, path: Path, *args: str) -> str:
    result = cli("estimate", str(path), "--baseline-only", *args)
    assert result.exit_code == 2, result.stdout + result.stderr
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in message, message
    assert message.startswith(f"llmcost: error: {path}"), message
    return str(message)


@pytest.mark.parametrize(("name", "text", "line", "field"), [
    ("bad.csv", NATIVE.replace("gpt-4o,200", "gpt-\xff4o,200"), 3, "model"),
    ("bad.jsonl", (DATA / "openai_chat.jsonl").read_text().replace('"model":"gpt-4o-mini"', '"model":"gpt\xfe"', 1),
     None, "model"),
])
def test_invalid_utf8_names_file_line_and_field(cli: Any, tmp_path: Path, name: str, text: str, line: int | None,
                                                field: str) -> None:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8").replace("\xff".encode(), b"\xff").replace("\xfe".encode(), b"\xfe"))
    message = _refused(cli, path)
    assert "not UTF-8" in message and f"field '{field}'" in message, message
    if line is not None:
        assert f"{path}:{line}:" in message


def test_utf16_and_bom_files_read_like_utf8(cli: Any, tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_text(NATIVE)
    reference = _total(cli, str(plain))
    for encoding in ("utf-16", "utf-32", "utf-8-sig"):
        other = tmp_path / f"{encoding}.csv"
        other.write_bytes(NATIVE.encode(encoding))
        assert _total(cli, str(other)) == reference, encoding
    chat = (DATA / "openai_chat.jsonl").read_text()
    (tmp_path / "a.jsonl").write_text(chat)
    (tmp_path / "b.jsonl").write_bytes(chat.encode("utf-16"))
    assert _total(cli, str(tmp_path / "b.jsonl")) == _total(cli, str(tmp_path / "a.jsonl"))


@pytest.mark.parametrize("opener", ["[", '{"a":'])
@pytest.mark.parametrize("name", ["native.jsonl", "chat.jsonl"])
def test_deep_nesting_is_refused_not_a_crash(cli: Any, tmp_path: Path, opener: str, name: str) -> None:
    """pyarrow's JSON reader segfaults near 20,000 levels; Python's parser raises RecursionError."""
    first = (DATA / "openai_chat.jsonl").read_text().splitlines()[0] if name == "chat.jsonl" else \
        '{"timestamp":"2025-01-01T00:00:00Z","model":"gpt-4o","input_tokens":1,"output_tokens":1}'
    closer = "]" if opener == "[" else "}"
    deep = first[:-1] + ',"x":' + opener * 200_000 + "1" + closer * 200_000 + "}"
    path = tmp_path / name
    path.write_text(first + "\n" + deep + "\n")
    message = _refused(cli, path)
    assert f"{path}:2:" in message and "nested deeper than" in message


def test_brackets_inside_strings_are_not_nesting(cli: Any, tmp_path: Path) -> None:
    rows = [{"timestamp": f"2025-01-0{d}T00:00:00Z", "model": "gpt-4o", "input_tokens": 10, "output_tokens": 1,
             "prompt_hash": "[" * 5000} for d in (1, 2)]
    path = tmp_path / "strings.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert _total(cli, str(path))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_read(cli: Any, tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_text(NATIVE)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("w") as fh:
            fh.write(NATIVE)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        assert _total(cli, str(fifo)) == _total(cli, str(plain))
    finally:
        writer.join(timeout=10)


def test_a_broken_gzip_is_refused(cli: Any, tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "logs.csv.gz"
    path.write_bytes(gzip.compress((NATIVE * 2000).encode())[:-40])
    assert "decompress" in _refused(cli, path)
    garbage = tmp_path / "garbage.jsonl.gz"
    garbage.write_bytes(b"\x1f\x8b" + os.urandom(200))
    _refused(cli, garbage)


CHAT_LINE = (DATA / "openai_chat.jsonl").read_text().splitlines()[0]


@pytest.mark.parametrize(("value", "expected"), [
    ('""', 'must be a whole number (got "")'),
    ("true", "must be a number, not a boolean"),
    ("12345678901234567890123", "is too large"),
    ("NaN", "NaN is not a JSON number"),
    ("-Infinity", "-Infinity is not a JSON number"),
    ("1e400", "beyond the range of a float"),
    ("1e300", "is too large"),
    ("-1", "must not be negative"),
    ("2.5", "must be a whole number of tokens"),
])
def test_bad_token_values_in_a_source_field(cli: Any, tmp_path: Path, value: str, expected: str) -> None:
    obj = json.loads(CHAT_LINE)
    line = json.dumps(obj).replace(f'"prompt_tokens": {obj["usage"]["prompt_tokens"]}', f'"prompt_tokens": {value}')
    path = tmp_path / "chat.jsonl"
    path.write_text(line + "\n")
    message = _refused(cli, path)
    assert f"{path}:1:" in message and expected in message, message


@pytest.mark.parametrize(("cell", "expected"), [
    ("true", "must be a whole number (got 'true')"),
    ("123456789012345678901234567890", "is too large"),
    ("inf", "must be a finite whole number (got Infinity)"),
    ("1e300", "is too large"),
    ("-5", "must not be negative"),
])
def test_bad_token_values_in_llmcost_csv(cli: Any, tmp_path: Path, cell: str, expected: str) -> None:
    path = tmp_path / "native.csv"
    path.write_text(NATIVE.replace(",200,", f",{cell},"))
    message = _refused(cli, path)
    assert f"{path}:3: field 'input_tokens': {expected}" in message, message
    skipped = cli("estimate", str(path), "--baseline-only", "--skip-bad", "--window-days", "1", "-f", "json")
    assert skipped.exit_code == 0 and "skipped 1 row" in skipped.stderr, skipped.stderr


@pytest.mark.parametrize(("value", "expected"), [
    ("true", "must be a number, not true/false"),
    ('""', 'must be a whole number (got "")'),
    ("123456789012345678901234567890", "is too large"),
])
def test_bad_token_values_in_llmcost_jsonl(cli: Any, tmp_path: Path, value: str, expected: str) -> None:
    rows = [f'{{"timestamp":"2025-01-0{d}T00:00:00Z","model":"gpt-4o","input_tokens":{value},"output_tokens":1}}'
            for d in (1, 2)]
    path = tmp_path / "native.jsonl"
    path.write_text("\n".join(rows) + "\n")
    message = _refused(cli, path)
    assert f"{path}:1: field 'input_tokens': {expected}" in message, message


def test_negative_zero_is_zero(cli: Any, tmp_path: Path) -> None:
    zero, negative = tmp_path / "zero.csv", tmp_path / "negative.csv"
    zero.write_text(NATIVE.replace(",10\n", ",0\n"))
    negative.write_text(NATIVE.replace(",10\n", ",-0\n"))
    assert _total(cli, str(negative)) == _total(cli, str(zero))


def test_a_column_named_twice(cli: Any, tmp_path: Path) -> None:
    header = "timestamp,model,input_tokens,output_tokens,input_tokens\n"
    same, differ = tmp_path / "same.csv", tmp_path / "differ.csv"
    same.write_text(header + "2025-01-01T00:00:00Z,gpt-4o,100,10,100\n2025-01-02T00:00:00Z,gpt-4o,200,20,200\n")
    differ.write_text(header + "2025-01-01T00:00:00Z,gpt-4o,100,10,100\n2025-01-02T00:00:00Z,gpt-4o,200,20,999\n")
    plain = tmp_path / "plain.csv"
    plain.write_text(NATIVE)
    result = cli("logs", "inspect", str(same))
    assert result.exit_code == 0, result.stderr
    message = cli("logs", "inspect", str(differ)).stderr.strip()
    assert message == (f"llmcost: error: {differ}:3: field 'input_tokens': columns 3 and 5 are both named "
                       "'input_tokens' and differ (200 vs 999); keep one of them"), message


@pytest.mark.parametrize("stamp", ["1e30", "inf", "-99999999999999"])
def test_epoch_out_of_range_in_llmcost_csv(cli: Any, tmp_path: Path, stamp: str) -> None:
    path = tmp_path / "native.csv"
    path.write_text(NATIVE.replace("2025-01-02T00:00:00Z", stamp).replace("2025-01-01T00:00:00Z", "1735689600"))
    message = _refused(cli, path)
    assert f"{path}:3: field 'timestamp': not a date/time" in message, message


@pytest.mark.parametrize("stamp", ['"2025-13-45T00:00:00Z"', "1e30", '"99999-01-01T00:00:00Z"'])
def test_gemini_time_errors_name_createtime(cli: Any, tmp_path: Path, stamp: str) -> None:
    text = (DATA / "gemini_responses.jsonl").read_text()
    path = tmp_path / "gemini.jsonl"
    path.write_text(text.replace('"2025-10-05T10:00:00Z"', stamp, 1))
    message = _refused(cli, path)
    assert f"{path}:1: field 'createTime': not a date/time" in message, message


def _inspect_json(cli: Any, path: Path) -> Any:
    result = cli("logs", "inspect", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("fast", [True, False])
def test_claude_code_usage_without_counts_is_counted(cli: Any, tmp_path: Path, fast: bool) -> None:
    lines = (DATA / "claude_code.jsonl").read_text().splitlines()
    usage_line = next(json.loads(x) for x in lines if '"usage"' in x)
    usage_line["message"].update(usage={}, id="msg_empty")
    usage_line["requestId"] = "req_empty"
    extra = [json.dumps(usage_line)]
    if not fast:  # a line whose message is a string sends the file down the line-by-line path
        extra.append(json.dumps({**usage_line, "message": "text", "uuid": "x"}))
    path = tmp_path / "session.jsonl"
    path.write_text("\n".join([*lines, *extra]) + "\n")
    skipped = _inspect_json(cli, path)["files"][0]["skipped"]
    assert skipped.get("usage without token counts (usage: {})") == 1, skipped


def test_usage_api_results_that_are_not_objects_are_counted(cli: Any, tmp_path: Path) -> None:
    page = json.loads((DATA / "openai_usage_api.json").read_text())
    page["data"][0]["results"] += [5, "x", None]
    path = tmp_path / "usage.json"
    path.write_text(json.dumps(page))
    skipped = _inspect_json(cli, path)["files"][0]["skipped"]
    assert skipped.get("bucket result that is not an object") == 3, skipped


def test_the_same_file_twice_is_refused(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "native.csv"
    path.write_text(NATIVE)
    link = tmp_path / "link.csv"
    link.symlink_to(path)
    result = cli("estimate", str(path), str(tmp_path / "*.csv"), "--baseline-only")
    assert result.exit_code == 2 and "given twice" in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1
    message = cli("logs", "inspect", str(path), str(link)).stderr.strip()
    assert message == (f"llmcost: error: {link}: this file is given twice (also given as {path}); each log is "
                       "read once: name it once"), message


@pytest.mark.parametrize("chunks", [(), ("--chunk-rows", "1")])
@pytest.mark.parametrize("row", ["2025-01-03T00:00:00Z,gpt-4o,5", "2025-01-03T00:00:00Z,gpt-4o,5,5,5"])
def test_short_or_long_llmcost_csv_row(cli: Any, tmp_path: Path, row: str, chunks: tuple[str, ...]) -> None:
    path = tmp_path / "native.csv"
    path.write_text(NATIVE + row + "\n")
    message = _refused(cli, path, *chunks)
    fields = row.count(",") + 1
    assert message == f"llmcost: error: {path}:4: row has {fields} fields, expected 4", message
    result = cli("estimate", str(path), "--baseline-only", "--skip-bad", *chunks)
    assert result.exit_code == 0, result.stderr
    assert "skipped 1 row(s): malformed CSV row (wrong number of fields)" in result.stderr
    clean = tmp_path / "clean.csv"
    clean.write_text(NATIVE)
    assert _total(cli, str(path), "--skip-bad", *chunks) == _total(cli, str(clean))


def test_blank_lines_do_not_shift_the_line_when_streaming(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "native.csv"
    path.write_text(NATIVE + "\n\n2025-01-03T00:00:00Z,gpt-4o,lots,5\n")
    message = _refused(cli, path, "--chunk-rows", "1")
    assert message.startswith(f"llmcost: error: {path}:6: field 'input_tokens'"), message


@pytest.mark.parametrize(("name", "column"), [("native", "input_tokens"), ("helicone_export.csv", "completion_tokens"),
                                              ("openrouter_activity.csv", "tokens_completion"),
                                              ("burstgpt.csv", "Response tokens")])
def test_blank_lines_do_not_shift_the_reported_line(cli: Any, tmp_path: Path, name: str, column: str) -> None:
    import csv
    import io

    text = NATIVE if name == "native" else (DATA / name).read_text()
    rows = list(csv.reader(io.StringIO(text)))
    rows[-1][rows[0].index(column)] = "lots"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(rows[:-1])
    out.write("\n\n")
    writer.writerow(rows[-1])
    path = tmp_path / "blank.csv"
    path.write_text(out.getvalue())
    message = _refused(cli, path)
    assert f"{path}:{out.getvalue().count(chr(10))}: field '{column}'" in message, message
    skipped = cli("estimate", str(path), "--baseline-only", "--skip-bad", "--window-days", "1")
    assert "skipped 0" not in skipped.stderr and "skipped 1 row(s)" in skipped.stderr, skipped.stderr


@pytest.mark.parametrize("name", ["native", "litellm_spendlogs.csv"])
def test_a_50_mb_quoted_cell_reads(cli: Any, tmp_path: Path, name: str) -> None:
    """pyarrow parses CSV in 1 MiB blocks and could not take a row longer than one."""
    import csv
    import io

    text = NATIVE if name == "native" else (DATA / name).read_text()
    rows = list(csv.reader(io.StringIO(text)))
    column = "messages" if name != "native" else "note"
    if column not in rows[0]:
        rows = [[*r, "x"] for r in rows]
        rows[0][-1] = column
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    small = tmp_path / "small.csv"
    small.write_text(out.getvalue())
    # llmcost's own CSV has no newlines in values (it is read in line-cut pieces); exports' text columns do
    rows[1][rows[0].index(column)] = ("a, " if name == "native" else "a,\n") * ((50 << 20) // 3)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    big = tmp_path / "big.csv"
    big.write_text(out.getvalue())
    assert big.stat().st_size > 50 << 20
    assert _total(cli, str(big), "--window-days", "1") == _total(cli, str(small), "--window-days", "1")
