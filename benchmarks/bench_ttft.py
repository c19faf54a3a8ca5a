#!/usr/bin/env python3
"""TTFT under load: `llmcost bench` next to a raw-socket reference client, against the same local server.

    .venv/bin/python benchmarks/bench_ttft.py                      # 50 and 200 ms TTFT, concurrency 1 and 16
    .venv/bin/python benchmarks/bench_ttft.py --ttft-ms 50 --concurrency 16 --requests 160 --check

For each injected TTFT and each concurrency it starts benchmarks/timing_server.py on 127.0.0.1 (an
OpenAI-compatible streaming server: first token at TTFT after the request arrives, then --tokens tokens
--itl-ms apart; it counts the TCP connections it accepts), once for the raw-socket client
(benchmarks/raw_sse_client.py: HTTP/1.1 keep-alive, one connection per worker) and once for the real
`llmcost bench` CLI (streaming, a one-prompt suite written here, `-n REQUESTS --concurrency C`), and reads
llmcost's TTFT from its --results file. Both sides' percentiles use llmcost's own definition (linear
interpolation). A second p50 leaves out each run's first two waves (2 × concurrency completions): at the
start every worker sends at once, so every first token arrives at once, which is where a client's CPU per
event shows. The two clients run one after the other, never at the same time, so neither steals the
other's CPU; with --rounds R each pair is repeated R times (alternating which goes first) and pooled.

The bar (issue 12): at the highest concurrency, llmcost's TTFT p50 within 10 ms of the raw client's, and
no streamed run opening more TCP connections than it has concurrent workers. The Markdown table is printed
and written to --output; --check exits 1 when the bar is not met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from raw_sse_client import run_raw

from llmcost.bench.stats import percentile

HERE = Path(__file__).resolve().parent
SERVER = HERE / "timing_server.py"
MODEL = "timing-model"
BAR_P50_MS = 10.0


@dataclass(frozen=True)
class Setting:
    ttft_ms: float
    concurrency: int
    requests: int
    tokens: int
    itl_ms: float


@dataclass
class Side:
    """What one client measured over all rounds of one setting."""

    ttft_ms: list[float] = field(default_factory=list)
    steady_ms: list[float] = field(default_factory=list)
    failed: int = 0
    connections: list[int] = field(default_factory=list)

    def p(self, q: float) -> float | None:
        return percentile(self.ttft_ms, q)

    def add_run(self, ttft_ms: list[float], s: Setting, connections: int) -> None:
        """One run's TTFTs in completion order; the steady state drops the first two waves (2 × concurrency
        completions), when every worker's first request starts, and finishes, at the same moment."""
        self.ttft_ms += ttft_ms
        self.steady_ms += ttft_ms[2 * s.concurrency:]
        self.failed += s.requests - len(ttft_ms)
        self.connections.append(connections)


@dataclass(frozen=True)
class ServerStats:
    connections: int
    requests: int
    max_open: int


@contextmanager
def timing_server(s: Setting) -> Iterator[tuple[int, list[ServerStats]]]:
    """Run the timing server for the block; after it, the list holds what the server counted."""
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "--ttft-ms", f"{s.ttft_ms:g}", "--tokens", str(s.tokens),
         "--itl-ms", f"{s.itl_ms:g}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    stats: list[ServerStats] = []
    try:
        first = proc.stdout.readline().split()
        if len(first) != 2 or first[0] != "port":
            raise RuntimeError("the timing server did not start")
        yield int(first[1]), stats
        proc.stdin.close()
        stats.append(ServerStats(**json.loads(proc.stdout.readline())))
    finally:
        if proc.poll() is None:
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def request_body(s: Setting) -> bytes:
    """The body llmcost sends for the suite written by :func:`write_suite` (the raw client sends the same)."""
    return json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "Count for me."}],
                       "max_tokens": s.tokens, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}}).encode()


def write_suite(path: Path, s: Setting) -> None:
    path.write_text(json.dumps({"name": "ttft-under-load", "defaults": {"temperature": 0, "max_tokens": s.tokens},
                                "prompts": [{"id": "count", "prompt": "Count for me."}]}))


def measure_raw(s: Setting, side: Side) -> None:
    with timing_server(s) as (port, stats):
        results = run_raw("127.0.0.1", port, "/v1/chat/completions", request_body(s),
                          requests=s.requests, concurrency=s.concurrency)
    side.add_run([r.ttft_s * 1000 for r in results], s, stats[0].connections)


def measure_llmcost(s: Setting, side: Side, llmcost: list[str], work: Path) -> None:
    suite, results = work / "suite.json", work / "results.jsonl"
    write_suite(suite, s)
    results.unlink(missing_ok=True)
    with timing_server(s) as (port, stats):
        cmd = [*llmcost, "bench", str(suite), "--endpoint", f"http://127.0.0.1:{port}/v1", "--model", MODEL,
               "-n", str(s.requests), "--concurrency", str(s.concurrency), "--retries", "0",
               "--results", str(results), "--format", "json", "--output", str(work / "summary.json")]
        run = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    if run.returncode != 0:
        raise RuntimeError(f"llmcost bench exited {run.returncode}: {run.stderr.strip()[-600:]}")
    records = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    ok = [r for r in records if r.get("ok") and r.get("ttft_ms") is not None]
    side.add_run([float(r["ttft_ms"]) for r in ok], s, stats[0].connections)


def llmcost_command(given: str | None) -> list[str]:
    if given:
        return [given]
    beside = Path(sys.executable).parent / "llmcost"
    found = str(beside) if beside.exists() else shutil.which("llmcost")
    if not found:
        raise SystemExit("llmcost not found: install it (pip install -e .) or pass --llmcost PATH")
    return [found]


def fmt_ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def fmt_diff(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None else f"{a - b:+.1f}"


def table(rows: list[tuple[Setting, Side, Side]]) -> str:
    lines = ["| injected TTFT ms | concurrency | requests | llmcost TTFT p50 / p95 ms | raw TTFT p50 / p95 ms "
             "| Δ p50 / p95 ms | p50 after 2 waves llmcost / raw ms | TCP connections per run llmcost / raw "
             "| failed llmcost / raw |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s, ours, raw in rows:
        lines.append(
            f"| {s.ttft_ms:g} | {s.concurrency} | {len(ours.connections) * s.requests} "
            f"| {fmt_ms(ours.p(50))} / {fmt_ms(ours.p(95))} | {fmt_ms(raw.p(50))} / {fmt_ms(raw.p(95))} "
            f"| {fmt_diff(ours.p(50), raw.p(50))} / {fmt_diff(ours.p(95), raw.p(95))} "
            f"| {fmt_ms(percentile(ours.steady_ms, 50))} / {fmt_ms(percentile(raw.steady_ms, 50))} "
            f"| {_conns(ours)} / {_conns(raw)} | {ours.failed} / {raw.failed} |")
    return "\n".join(lines)


def _conns(side: Side) -> str:
    """The most connections any one run of this setting opened."""
    return str(max(side.connections))


def verdict(rows: list[tuple[Setting, Side, Side]]) -> tuple[bool, list[str]]:
    """Whether the issue's bar is met, and one line per criterion saying why."""
    top = max(s.concurrency for s, _, _ in rows)
    notes, met = [], True
    for s, ours, raw in rows:
        if s.concurrency == top:
            mine, theirs = ours.p(50), raw.p(50)
            ok = mine is not None and theirs is not None and abs(mine - theirs) <= BAR_P50_MS and not ours.failed
            met &= ok
            notes.append(f"TTFT {s.ttft_ms:g} ms, concurrency {s.concurrency}: llmcost p50 "
                         f"{fmt_diff(ours.p(50), raw.p(50))} ms vs raw — {'met' if ok else 'NOT met'} "
                         f"(bar: within {BAR_P50_MS:g} ms)")
        most = max(ours.connections)
        ok = most <= s.concurrency
        met &= ok
        notes.append(f"TTFT {s.ttft_ms:g} ms, concurrency {s.concurrency}: llmcost opened {most} TCP "
                     f"connection(s) per run — {'met' if ok else 'NOT met'} (bar: ≤ {s.concurrency})")
    return met, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ttft-ms", default="50,200", help="injected TTFTs, comma-separated")
    parser.add_argument("--concurrency", default="1,16", help="concurrency levels, comma-separated")
    parser.add_argument("--requests", type=int, default=64, help="requests per client, setting and round")
    parser.add_argument("--tokens", type=int, default=16, help="content events per response")
    parser.add_argument("--itl-ms", type=float, default=5.0, help="gap between content events")
    parser.add_argument("--rounds", type=int, default=1, help="repeat each pair, alternating who goes first")
    parser.add_argument("--llmcost", default=None, help="the llmcost executable (default: beside python)")
    parser.add_argument("--output", type=Path, default=HERE / "out" / "bench_ttft.md")
    parser.add_argument("--check", action="store_true", help="exit 1 when the bar is not met")
    args = parser.parse_args()
    if min(args.requests, args.tokens, args.rounds) < 1:
        parser.error("--requests, --tokens and --rounds must be at least 1")
    llmcost = llmcost_command(args.llmcost)
    settings = [Setting(float(t), int(c), args.requests, args.tokens, args.itl_ms)
                for t in args.ttft_ms.split(",") for c in args.concurrency.split(",")]
    rows: list[tuple[Setting, Side, Side]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-ttft-") as tmp:
        for s in settings:
            ours, raw = Side(), Side()
            for r in range(args.rounds):
                steps = [partial(measure_raw, s, raw), partial(measure_llmcost, s, ours, llmcost, Path(tmp))]
                for step in steps if r % 2 == 0 else steps[::-1]:
                    step()
            rows.append((s, ours, raw))
            print(f"  TTFT {s.ttft_ms:g} ms, concurrency {s.concurrency}: llmcost p50 {fmt_ms(ours.p(50))}, "
                  f"raw p50 {fmt_ms(raw.p(50))} ms", file=sys.stderr, flush=True)
    met, notes = verdict(rows)
    report = "\n".join([
        f"Server: {args.tokens} tokens per response, {args.itl_ms:g} ms apart after the injected TTFT; "
        f"{args.rounds} round(s); {os.cpu_count()} CPU(s), Python {platform.python_version()}; "
        f"{time.perf_counter() - started:.0f} s.", "", table(rows), "",
        *(f"- {n}" for n in notes), "", f"Bar {'met' if met else 'NOT met'}.", ""])
    print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print(f"wrote {args.output}", file=sys.stderr)
    if args.check and not met:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
