"""Shared fixtures: an isolated environment for every test, and a CLI runner that keeps stderr apart."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmcost.cli.main import app

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FORMATS = SHARED / "formats"
TRACES = SHARED / "traces"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No LLMCOST_* setting, API key or GitHub variable from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("LLMCOST_", "GITHUB_")) or name.endswith("_API_KEY"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "140")
    yield


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli() -> object:
    """Run ``llmcost ARGS`` in-process; returns exit code, stdout and stderr separately."""
    runner = CliRunner()

    def run(*args: str, input: str | bytes | None = None) -> CliResult:
        result = runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return run
