"""Fuzzing every log reader through the CLI (issue 18): seeded hypothesis mutations of each format's clean
sample, judged by llmcost's promise for log input.

- An input that is still valid exits 0 with the same money as the clean reference (neutral changes: a UTF-8
  byte-order mark, UTF-16, gzip, CRLF line ends, trailing blank lines; and read in chunks of one row).
- Any other input exits 0 or 2. On 2: exactly one stderr line, ``llmcost: error: <file>...``, no traceback;
  the existing ``--output`` is left intact and no temporary file is left beside it.
- Never a Python warning (pytest's filterwarnings=error turns one into a failure) or an uncaught exception
  (the runner does not catch them).

Byte mutations (a byte replaced, bytes inserted, the file cut, a line doubled or dropped) and value mutations
(a number in a JSON record replaced by a hostile value) run in-process; a few hostile files run as real
subprocesses too, since a crash in native code (pyarrow) only shows there. The budget is fixed and seeded
(``derandomize=True``) so CI runs the same cases every time.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from llmcost.cli.main import app

DATA = Path(__file__).resolve().parent.parent / "logs" / "data"
NATIVE = ("timestamp,model,input_tokens,cache_read_tokens,output_tokens\n"
          "2025-01-01T00:00:00Z,gpt-4o,1000,200,100\n2025-01-01T06:00:00Z,gpt-4o-mini,2000,0,300\n"
          "2025-01-02T00:00:00Z,gpt-4o,1500,500,50\n")
# every reader, from its clean sample (extra arguments where the format names no model)
SAMPLES: list[tuple[str, str, tuple[str, ...]]] = [
    ("openai-batch", "openai_batch.jsonl", ()),
    ("anthropic-batch", "anthropic_batch.jsonl", ()),
    ("claude-code", "claude_code.jsonl", ()),
    ("codex", "real/codex_rollout_totals_only.jsonl", ()),
    ("openai-chat", "openai_chat.jsonl", ()),
    ("openai-responses", "openai_responses.json", ()),
    ("anthropic-messages", "anthropic_messages.jsonl", ()),
    ("gemini", "gemini_responses.jsonl", ()),
    ("bedrock", "bedrock_invocations.jsonl", ()),
    ("openai-usage", "openai_usage.csv", ()),
    ("openai-usage-api", "openai_usage_api.json", ()),
    ("anthropic-usage", "anthropic_usage_pages.jsonl", ()),
    ("litellm", "litellm_spendlogs.csv", ()),
    ("helicone", "helicone_export.csv", ()),
    ("openrouter", "openrouter_activity.csv", ()),
    ("langfuse", "langfuse_observations.json", ()),
    ("otel-genai", "otel_genai_traces.json", ()),
    ("azure-trace", "azure_trace.csv", ("--model", "gpt-4o")),
    ("mooncake-trace", "mooncake_trace.jsonl", ("--model", "gpt-4o")),
    ("burstgpt", "burstgpt.csv", ()),
    ("llmcost", "", ()),
]
IDS = [s[0] for s in SAMPLES]
HOSTILE_VALUES = ['""', "true", "false", "null", "-1", "-0", "1.5", "1e400", "NaN", "Infinity", "1e300",
                  "12345678901234567890123", '"12"', '"x"', "[]", "{}", '"\\u202e"', '"\\udc80"']
NUMBER = re.compile(rb'(?<=": )-?\d+(?:\.\d+)?|(?<=":)-?\d+(?:\.\d+)?')


def _sample(name: str) -> bytes:
    return NATIVE.encode() if not name else (DATA / name).read_bytes()


def _suffix(name: str) -> str:
    return Path(name).suffix if name else ".csv"


def _run(content: bytes, suffix: str, args: tuple[str, ...]) -> tuple[int, str, str | None, list[str]]:
    """Run ``estimate`` on ``content`` with an existing --output: exit code, stderr, what became of the
    output, and the files left in the folder."""
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / f"log{suffix}"
        log.write_bytes(content)
        out = Path(folder) / "out.json"
        out.write_text("OLD")
        result = CliRunner().invoke(app, ["estimate", str(log), "--baseline-only", "--window-days", "1", "-f",
                                          "json", "-o", str(out), *args], catch_exceptions=False)
        left = sorted(p.name for p in Path(folder).iterdir())
        written = out.read_text() if out.exists() else None
        return result.exit_code, result.stderr.replace(folder, "<dir>"), written, left


def _money(written: str | None) -> Any:
    assert written is not None and written != "OLD"
    data = json.loads(written)
    baseline = data["scenarios"][0]
    return baseline["observed_cost_usd"], baseline["by_model"], data["unpriced"]


_REFERENCE: dict[str, Any] = {}


def _reference(name: str, args: tuple[str, ...]) -> Any:
    if name not in _REFERENCE:
        code, err, written, _ = _run(_sample(name), _suffix(name), args)
        assert code == 0, err
        _REFERENCE[name] = _money(written)
    return _REFERENCE[name]


def _judge(code: int, err: str, written: str | None, left: list[str], suffix: str) -> None:
    assert code in (0, 2), (code, err)
    assert "Traceback" not in err and "Warning:" not in err.replace("warning:", ""), err
    assert left == sorted([f"log{suffix}", "out.json"]), left  # no temporary file left
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith(f"llmcost: error: <dir>/log{suffix}"), err
        assert written == "OLD", "a refused input must leave the existing --output intact"
    else:
        json.loads(written or "")


FUZZ = settings(max_examples=3, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize(("fmt", "name", "args"), SAMPLES, ids=IDS)
def test_neutral_changes_keep_the_money(fmt: str, name: str, args: tuple[str, ...]) -> None:
    clean = _sample(name)
    reference = _reference(name, args)
    variants = {"bom": b"\xef\xbb\xbf" + clean, "utf16": clean.decode().encode("utf-16"),
                "gzip": gzip.compress(clean), "blank-tail": clean.rstrip(b"\n") + b"\n\n\n"}
    if not name.endswith(".json"):
        variants["crlf"] = clean.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    for label, content in [*variants.items(), ("chunks", clean)]:
        suffix = _suffix(name) + (".gz" if label == "gzip" else "")
        code, err, written, left = _run(content, suffix, (*args, "--chunk-rows", "1") if label == "chunks" else args)
        assert code == 0, (label, err)
        _judge(code, err, written, left, suffix)
        assert _money(written) == reference, label


@pytest.mark.parametrize(("fmt", "name", "args"), SAMPLES, ids=IDS)
@FUZZ
@given(data=st.data())
def test_byte_mutations_keep_the_promise(fmt: str, name: str, args: tuple[str, ...], data: st.DataObject) -> None:
    clean = _sample(name)
    kind = data.draw(st.sampled_from(["replace", "insert", "cut", "double-line", "drop-line"]))
    at = data.draw(st.integers(0, len(clean) - 1))
    if kind == "replace":
        content = clean[:at] + bytes([data.draw(st.integers(0, 255))]) + clean[at + 1:]
    elif kind == "insert":
        content = clean[:at] + data.draw(st.binary(min_size=1, max_size=8)) + clean[at:]
    elif kind == "cut":
        content = clean[:at]
    else:
        lines = clean.split(b"\n")
        i = data.draw(st.integers(0, len(lines) - 1))
        lines[i:i + 1] = [lines[i], lines[i]] if kind == "double-line" else []
        content = b"\n".join(lines)
    _judge(*_run(content, _suffix(name), args), _suffix(name))


JSON_SAMPLES = [s for s in SAMPLES if s[1].endswith((".json", ".jsonl"))]


@pytest.mark.parametrize(("fmt", "name", "args"), JSON_SAMPLES, ids=[s[0] for s in JSON_SAMPLES])
@FUZZ
@given(data=st.data())
def test_value_mutations_keep_the_promise(fmt: str, name: str, args: tuple[str, ...], data: st.DataObject) -> None:
    clean = _sample(name)
    numbers = list(NUMBER.finditer(clean))
    assert numbers, name
    match = numbers[data.draw(st.integers(0, len(numbers) - 1))]
    value = data.draw(st.sampled_from(HOSTILE_VALUES)).encode()
    content = clean[:match.start()] + value + clean[match.end():]
    _judge(*_run(content, _suffix(name), args), _suffix(name))


CSV_SAMPLES = [s for s in SAMPLES if _suffix(s[1]) == ".csv"]


@pytest.mark.parametrize(("fmt", "name", "args"), CSV_SAMPLES, ids=[s[0] for s in CSV_SAMPLES])
@FUZZ
@given(data=st.data())
def test_csv_cell_mutations_keep_the_promise(fmt: str, name: str, args: tuple[str, ...], data: st.DataObject) -> None:
    lines = _sample(name).decode().split("\n")
    row = data.draw(st.integers(1, max(1, len([x for x in lines if x]) - 1)))
    cells = lines[row].split(",")
    col = data.draw(st.integers(0, len(cells) - 1))
    cells[col] = data.draw(st.sampled_from(["", "true", "-1", "1e300", "inf", "nan", "1.5", "-0", "x",
                                            "123456789012345678901234567890", "2025-13-45", "\u202e"]))
    lines[row] = ",".join(cells)
    _judge(*_run("\n".join(lines).encode(), ".csv", args), ".csv")


# Real subprocesses: a crash in native code (pyarrow's JSON reader segfaulted on deep nesting) only shows here.
# Each hostile line follows a clean one, so detection succeeds and the reader meets it.
CLEAN = '{"timestamp":"2025-01-01T00:00:00Z","model":"gpt-4o","input_tokens":1,"output_tokens":1}\n'
DEEP = [
    ("native-deep-array", '{"timestamp":"2025-01-01T00:00:00Z","model":"gpt-4o","input_tokens":1,"output_tokens":1,'
     '"x":' + "[" * 100_000 + "]" * 100_000 + "}\n"),
    ("native-deep-object", '{"timestamp":"2025-01-01T00:00:00Z","model":"gpt-4o","input_tokens":1,'
     '"output_tokens":1,"x":' + '{"a":' * 100_000 + "1" + "}" * 100_001 + "\n"),
    ("chat-deep", (DATA / "openai_chat.jsonl").read_text().splitlines()[1][:-1] + ',"x":' + "[" * 100_000
     + "]" * 100_000 + "}\n"),
    ("chat-bad-utf8", (DATA / "openai_chat.jsonl").read_text().replace("gpt-4o-mini", "gpt-4o-mini\udcff", 1)),
    ("native-unclosed", '{"timestamp":"2025-01-01T00:00:00Z","model":"gpt-4o","input_tokens":1,'
     '"output_tokens":1,"x":' + "[" * 200_000 + "\n"),
]


@pytest.mark.parametrize(("label", "text"), DEEP, ids=[d[0] for d in DEEP])
def test_hostile_files_in_a_real_process(tmp_path: Path, label: str, text: str) -> None:
    log = tmp_path / "log.jsonl"
    first = (DATA / "openai_chat.jsonl").read_text().splitlines()[0] + "\n" if label.startswith("chat") else CLEAN
    log.write_bytes((first + text).encode("utf-8", errors="surrogateescape"))
    out = tmp_path / "out.json"
    out.write_text("OLD")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMCOST_")}
    result = subprocess.run([sys.executable, "-c", "from llmcost.cli.main import main; main()", "estimate", str(log),
                             "--baseline-only",
                             "--window-days", "1", "-o", str(out)], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"llmcost: error: {log}"), result.stderr[-2000:]
    assert out.read_text() == "OLD"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.jsonl", "out.json"]
