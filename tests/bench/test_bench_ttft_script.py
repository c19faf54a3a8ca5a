"""benchmarks/bench_ttft.py on tiny settings: it runs the real `llmcost bench` and the raw-socket client against
its own timing server on 127.0.0.1, and writes the table docs/bench.md quotes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_ttft.py"
TTFT_MS = 30


def table_rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def test_script_writes_its_table_and_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "ttft.md"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--ttft-ms", str(TTFT_MS), "--concurrency", "1,3", "--requests", "8",
         "--tokens", "3", "--itl-ms", "1", "--rounds", "2", "--output", str(out)],
        capture_output=True, text=True, timeout=90, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    written = out.read_text()
    assert written.strip() in run.stdout
    assert "Traceback" not in run.stderr
    rows = table_rows(written)
    assert [(r[0], r[1], r[2]) for r in rows] == [(str(TTFT_MS), "1", "16"), (str(TTFT_MS), "3", "16")]
    for row in rows:
        concurrency = int(row[1])
        ours_p50, ours_p95 = (float(v) for v in row[3].split(" / "))
        raw_p50, raw_p95 = (float(v) for v in row[4].split(" / "))
        # the server sends the first token TTFT after the request arrives: no client can see it sooner
        assert TTFT_MS <= ours_p50 <= ours_p95
        assert TTFT_MS <= raw_p50 <= raw_p95
        d50, d95 = (float(v) for v in row[5].split(" / "))
        assert abs(d50 - (ours_p50 - raw_p50)) <= 0.11 and abs(d95 - (ours_p95 - raw_p95)) <= 0.11
        assert all(float(v) >= TTFT_MS for v in row[6].split(" / "))  # steady state: the last 8 - 2C requests
        ours_conns, raw_conns = (int(v) for v in row[7].split(" / "))
        assert raw_conns == concurrency  # one keep-alive connection per worker, counted at the server
        assert 1 <= ours_conns <= 8  # the most one run of 8 requests opened
        assert row[8] == "0 / 0"
    assert "Bar met." in written or "Bar NOT met." in written
