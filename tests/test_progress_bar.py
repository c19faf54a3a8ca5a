"""Progress on stderr, only on a terminal; an unknown total shows a spinner and the count, never "0/None"."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from llmcost.cli import common

SAMPLE = str(Path(__file__).resolve().parents[1] / "sample_logs" / "support_workload.jsonl.gz")


class _TerminalStderr:
    """``sys`` as the CLI sees it, but with stderr a terminal (the CLI runner swaps the real streams)."""

    class _Stderr:
        def isatty(self) -> bool:
            return True

    stderr = _Stderr()

    def __getattr__(self, name: str) -> Any:
        return getattr(sys, name)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    screen = io.StringIO()
    monkeypatch.setattr(common, "sys", _TerminalStderr())
    monkeypatch.setattr(common, "err_console", lambda: Console(file=screen, force_terminal=True, width=100))
    return screen


def _shown(bar: Any) -> str:
    bar.refresh()
    return bar.console.file.getvalue()  # type: ignore[no-any-return]


def test_unknown_total_shows_spinner_and_count(terminal: io.StringIO) -> None:
    with common.progress("reading logs", unit="rows") as bar:
        assert bar is not None
        assert "None" not in _shown(bar) and "0/" not in _shown(bar)
        bar.advance(bar.task_ids[0], 1_234_567)
        text = _shown(bar)
        assert "1,234,567 rows" in text and "None" not in text
        assert any(frame in text for frame in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")  # rich's default "dots" spinner


def test_known_total_shows_done_of_total(terminal: io.StringIO) -> None:
    with common.progress("bench", total=10) as bar:
        assert bar is not None
        bar.advance(bar.task_ids[0], 3)
        assert "3/10" in _shown(bar)


def test_no_bar_off_a_terminal() -> None:
    with common.progress("reading logs") as bar:  # pytest's stderr is not a terminal
        assert bar is None


def test_estimate_reports_rows_on_a_terminal(terminal: io.StringIO, cli: Any) -> None:
    result = cli("estimate", SAMPLE, "--baseline-only", "--by", "day", "--chunk-rows", "1000")
    assert result.exit_code == 0
    shown = terminal.getvalue()
    assert "4,200 rows" in shown and "None" not in shown
    assert "4,200 rows" not in result.stdout  # the bar is on stderr, never in the results
