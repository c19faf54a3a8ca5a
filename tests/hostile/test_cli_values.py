"""Option values and text from logs on their way to a terminal: NaN and infinity are refused by every float option
of every command, a bad option is one line (exit 2), and terminal controls, bidi overrides and rich markup in a
model name are shown as text, never obeyed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main

from llmcost.cli.main import app
from llmcost.sanitize import printable


def float_options() -> list[tuple[list[str], str]]:
    """(command path, option) for every float option in the whole command tree."""
    from typer._click.types import FloatParamType

    found = []

    def walk(command: Any, path: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])
        for param in getattr(command, "params", []):
            if isinstance(param.type, FloatParamType) and param.opts and param.opts[0].startswith("--"):
                found.append((path, param.opts[0]))

    walk(typer.main.get_command(app), [])
    return found


FLOAT_OPTIONS = float_options()


def test_the_walk_finds_the_float_options() -> None:
    assert (["estimate"], "--window-days") in FLOAT_OPTIONS
    assert (["bench"], "--timeout") in FLOAT_OPTIONS


@pytest.mark.parametrize(("path", "option"), FLOAT_OPTIONS, ids=lambda v: " ".join(v) if isinstance(v, list) else v)
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
def test_every_float_option_refuses_non_finite_values(cli: Any, path: list[str], option: str, value: str) -> None:
    out = cli(*path, f"{option}={value}")
    assert out.exit_code == 2, (path, option, out.stdout, out.stderr)
    assert "not a finite number" in out.stderr or "not in the range" in out.stderr, out.stderr


def run_llmcost(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = "import sys; sys.argv = ['llmcost', *sys.argv[1:]]; from llmcost.cli.main import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("args", [
    ["estimate", "x.jsonl", "--window-days", "nan"],
    ["estimate", "x.jsonl", "--no-such-option"],
    ["estimate", "x.jsonl", "--days", "zero"],
    ["bench", "s.yaml", "--timeout", "inf"],
    ["catalog", "nosuch"],
])
def test_a_bad_option_is_one_line_on_stderr(args: list[str], tmp_path: Path) -> None:
    out = run_llmcost(*args, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("llmcost: error: "), out.stderr
    assert "--help" in lines[0]


def test_printable_escapes_controls_and_bidi_but_keeps_text() -> None:
    assert printable("gpt-4o\x1b[2J\x1b]0;x\x07") == "gpt-4o\\x1b[2J\\x1b]0;x\\x07"
    assert printable("abc\u202eevil\u2066") == "abc\\u202eevil\\u2066"
    assert printable("modèle 模型 [bold]x[/]\ttab\nline") == "modèle 模型 [bold]x[/]\ttab\nline"
    assert printable("a\nb\tc", one_line=True) == "a\\nb\\tc"
    assert printable("\x9b31m\x7f") == "\\x9b31m\\x7f"


HOSTILE = ["gpt-4o\x1b[2J\x1b]0;pwned\x07", "[bold red]evil[/]", "abc\u202eevil", "two\nlines"]


@pytest.fixture
def hostile_log(tmp_path: Path) -> Path:
    rows = [{"timestamp": f"2026-11-02T0{i}:00:00Z", "model": m, "input_tokens": 1000, "output_tokens": 10}
            for i, m in enumerate(["gpt-4o", *HOSTILE])]
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("fmt", ["table"])
def test_model_names_reach_the_terminal_as_text(cli: Any, hostile_log: Path, fmt: str) -> None:
    out = cli("estimate", hostile_log, "--baseline-only", "--catalog", "frontier", "--format", fmt)
    assert out.exit_code == 0, out.stderr
    for stream in (out.stdout, out.stderr):
        assert "\x1b" not in stream and "\u202e" not in stream and "\x07" not in stream
    if fmt == "table":
        assert "\\x1b[2J" in out.stdout and "\\u202e" in out.stdout
        assert "[bold" in out.stdout  # with markup on, rich would have eaten it and styled the name
    warning = [line for line in out.stderr.splitlines() if line.startswith("warning: unpriced")]
    assert len(warning) == 1 and "two\\nlines" in warning[0]


def test_a_strict_error_naming_hostile_models_stays_one_plain_line(cli: Any, hostile_log: Path) -> None:
    out = cli("estimate", hostile_log, "--baseline-only", "--catalog", "frontier", "--strict")
    assert out.exit_code == 2
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and "\x1b" not in lines[0] and "\u202e" not in lines[0]
    assert "[bold red]evil[/]" in lines[0] and "two\\nlines" in lines[0]


def test_json_keeps_the_exact_names(cli: Any, hostile_log: Path) -> None:
    out = cli("estimate", hostile_log, "--baseline-only", "--catalog", "frontier", "--format", "json")
    assert out.exit_code == 0
    assert set(HOSTILE) <= set(_strings(json.loads(out.stdout)))


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


class FakeTerminal:
    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_text_formats_are_escaped_on_a_terminal_and_exact_in_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmcost.cli.common import write_output

    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    write_output("| gpt-4o\x1b[2J |\n", None)
    assert terminal.text == "| gpt-4o\\x1b[2J |\n"
    terminal.isatty = lambda: False  # type: ignore[method-assign]
    terminal.text = ""
    write_output("| gpt-4o\x1b[2J |\n", "-")
    assert terminal.text == "| gpt-4o\x1b[2J |\n"
