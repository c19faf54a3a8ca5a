"""``estimate --baseline-only`` on Parquet starts fast: the Arrow path imports neither pandas nor anything
else it does not use (rich, the scenario replays, YAML, httpx), and its output stays what the full reader
prints (issue 16: within 1.5x of a DuckDB hand query, so start-up counts)."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from llmcost.errors import UsageError
from llmcost.projection import WindowBounds, window_of_ns
from startup_probe import probe_imports

# never needed by a baseline-only run on Parquet in llmcost's columns (JSON, CSV or Markdown output)
UNUSED = ("pandas", "pydantic", "llmcost.catalog.schema", "rich", "yaml", "httpx", "tiktoken", "pyarrow.dataset",
          "llmcost.evidence",
          "llmcost.scenarios.engine", "llmcost.scenarios.exact_cache", "llmcost.scenarios.prompt_cache")


def _log(path: Path, rows: int = 20_000) -> str:
    rng = np.random.default_rng(7)
    start = np.datetime64("2026-11-01", "ms")
    inputs = rng.integers(10, 4000, rows)
    table = pa.table({
        "timestamp": pa.array(start + np.sort(rng.integers(0, 3 * 86_400_000, rows)).astype("timedelta64[ms]"),
                              pa.timestamp("ms", tz="UTC")),
        "model": pa.array(rng.choice(["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "no-such-model-x"], rows))
        .dictionary_encode(),
        "input_tokens": inputs, "cache_read_tokens": inputs // 4, "output_tokens": rng.integers(1, 900, rows),
        "batch": rng.random(rows) < 0.1,
    })
    pq.write_table(table, path, row_group_size=5000)
    return str(path)


def _probe(args: list[str], cwd: Path) -> tuple[str, set[str]]:
    return probe_imports(args, UNUSED, cwd)


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown"])
def test_baseline_only_on_parquet_imports_no_pandas(tmp_path: Path, fmt: str) -> None:
    log = _log(tmp_path / "log.parquet")
    _, imported = _probe([log, "--baseline-only", "--format", fmt, "--output", str(tmp_path / "out")], tmp_path)
    if fmt == "markdown":  # its renderer reads the evidence notes itself
        imported.discard("llmcost.evidence")
    assert imported == set(), f"the baseline-only Arrow path imported {sorted(imported)}"
    assert (tmp_path / "out").read_text().strip()


def test_the_probe_sees_pandas_when_the_full_reader_runs(tmp_path: Path) -> None:
    """The same probe on a log the Arrow path does not cover (CSV): pandas is imported, so the test above
    can fail."""
    log = tmp_path / "log.csv"
    pq.read_table(_log(tmp_path / "log.parquet")).to_pandas().to_csv(log, index=False)
    _, imported = _probe([str(log), "--baseline-only", "--format", "json", "--output", str(tmp_path / "o")], tmp_path)
    assert "pandas" in imported


@pytest.mark.parametrize("fmt", ["json", "table", "csv", "markdown"])
def test_the_fast_start_prints_what_the_full_reader_prints(cli: object, tmp_path: Path, fmt: str) -> None:
    """The Arrow path (Parquet) and the full reader (the same rows as CSV) write the same bytes."""
    parquet = _log(tmp_path / "log.parquet")
    csv = tmp_path / "log.csv"
    frame = pq.read_table(parquet).to_pandas()
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    frame.to_csv(csv, index=False)
    outputs = []
    for log in (parquet, str(csv)):
        result = cli("estimate", log, "--baseline-only", "--format", fmt)  # type: ignore[operator]
        assert result.exit_code == 0, result.stderr
        outputs.append((result.stdout, result.stderr))
    assert outputs[0] == outputs[1]
    assert "no-such-model-x" in outputs[0][1]  # the unpriced warning, on both paths


@pytest.mark.parametrize(("start_ns", "end_ns"), [
    (1_767_225_600_000_000_000, 1_767_312_000_000_000_000),  # whole days
    (1_767_225_600_000_000_999, 1_767_225_600_001_000_000),  # ns cut: 1 µs apart once floored, 0.999001 µs long
    (1_767_225_600_123_456_789, 1_769_900_000_987_654_321),
    (-1_000_000_001, 5),  # before the epoch: floored like pandas
])
def test_window_of_ns_equals_the_pandas_window(start_ns: int, end_ns: int) -> None:
    bounds = WindowBounds()
    bounds.start = pd.Timestamp(start_ns, unit="ns", tz="UTC")
    bounds.end = pd.Timestamp(end_ns, unit="ns", tz="UTC")
    bounds.requests = 12
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas: "Discarding nonzero nanoseconds"
        expected, given = bounds.window(None), bounds.window(2.5)
    assert window_of_ns(start_ns, end_ns, 12) == expected
    assert window_of_ns(start_ns, end_ns, 12).start.isoformat() == expected.start.isoformat()
    assert window_of_ns(start_ns, end_ns, 12).end.isoformat() == expected.end.isoformat()
    assert window_of_ns(start_ns, end_ns, 12, 2.5) == given


def test_window_of_ns_refuses_what_the_pandas_window_refuses() -> None:
    stamp = 1_767_225_600_000_000_000
    with pytest.raises(UsageError, match="same timestamp"):
        window_of_ns(stamp, stamp + 999, 1)  # under a microsecond: the same instant to the projection
    with pytest.raises(UsageError, match="--window-days"):
        window_of_ns(stamp, stamp + 10**9, 1, 0)
    assert window_of_ns(stamp, stamp, 1, 1.0).start == datetime(2026, 1, 1, tzinfo=UTC)
    assert window_of_ns(stamp, stamp + 10**9, 1).end - window_of_ns(stamp, stamp, 1, 1).start == timedelta(seconds=1)


def _rich_stderr(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], call: object,
                 message: str, plain: bool) -> str:
    from llmcost.cli import common

    common.err_console.cache_clear()
    if not plain:
        monkeypatch.setattr(common, "_plain_stderr", lambda line: False)
    call(message)  # type: ignore[operator]
    common.err_console.cache_clear()
    monkeypatch.undo()
    return capsys.readouterr().err


@pytest.mark.parametrize("message", [
    "wrote /dev/null", "logs are large: streamed in chunks of 1,000,000 rows", "a [bold]model[/bold] \\[x]",
    "ends with spaces   ", "   leading", "emoji-like :warning: code", "x:y:z", "tab\there", "two\nlines",
    "non-ascii — dash", "ctrl \x1b[31m red", "unpriced models, left out of the totals: no-such-model-x (5 requests)",
    "", ":", "::", "a " * 100,
])
@pytest.mark.parametrize("kind", ["info", "warn"])
def test_info_and_warn_without_rich_print_what_rich_prints(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str],
                                                          message: str, kind: str) -> None:
    """Piped stderr: a message rich would print unchanged is written directly (no rich import); every other
    message still goes through rich. Either way the bytes are rich's."""
    from llmcost.cli import common

    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    call = getattr(common, kind)
    assert _rich_stderr(monkeypatch, capsys, call, message, True) == _rich_stderr(monkeypatch, capsys, call,
                                                                                  message, False)


THP_PROBE = """
import sys
sys.argv = ["llmcost", "estimate", *{ARGS}]
from llmcost.engines import local


def thp():
    return next(line.split()[1] for line in open("/proc/self/status") if line.startswith("THP_enabled"))


summing = local.LocalEngine.baseline


def seen(self, *args, **kwargs):
    print("THP while summing:" + thp(), file=sys.stderr)
    return summing(self, *args, **kwargs)


local.LocalEngine.baseline = seen
from llmcost.cli.main import main
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
print("THP after:" + thp(), file=sys.stderr)
"""


STATUS = Path("/proc/self/status")


@pytest.mark.skipif(not STATUS.exists() or "THP_enabled" not in STATUS.read_text(),
                    reason="no transparent huge page status on this system")
@pytest.mark.parametrize(("fmt", "parquet"), [("json", True), ("json", False)])
def test_the_partitioned_baseline_runs_on_small_pages(tmp_path: Path, fmt: str, parquet: bool) -> None:
    """Huge pages made every first touch of Arrow's arenas zero 2 MB (a third of a 10M-row baseline's CPU);
    the partitioned baseline turns them off while it sums, and back to what they were after; the full
    reader (CSV) never sums there."""
    inherited = next(line.split()[1] for line in STATUS.read_text().splitlines() if line.startswith("THP_enabled"))
    log = _log(tmp_path / "log.parquet")
    if not parquet:
        csv = tmp_path / "log.csv"
        pq.read_table(log).to_pandas().to_csv(csv, index=False)
        log = str(csv)
    code = THP_PROBE.replace("{ARGS}", repr([log, "--baseline-only", "--format", fmt, "--output", str(tmp_path / "o")]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMCOST_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
    assert out.returncode == 0, out.stderr
    assert ("THP while summing:0" in out.stderr) is parquet
    assert f"THP after:{inherited}" in out.stderr
