"""A bench with known answers: on task ``classify`` (4 prompts) ``cheap`` answers 3 right and ``big`` 4;
on ``extract`` (4 prompts) ``cheap`` answers 1 right and ``big`` 4. Each prompt is sent twice, so the
bench scores cheap/classify 6/8, cheap/extract 2/8, big/* 8/8. ``cheap`` answers faster than ``big``.

The catalog prices both (cheap in the 'economy' tier, big in 'premium'); the log has 40 classify and
20 extract requests on ``big`` (logged latency on half the rows) and 10 ``summarize`` requests the bench
never ran.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml
from bench_fake_llm import Behavior, serve
from typer.testing import CliRunner

from llmcost.cli.main import app

WORDS = {"classify": ["alpha", "bravo", "charlie", "delta"], "extract": ["echo", "foxtrot", "golf", "hotel"]}
CHEAP_RIGHT = {"alpha", "bravo", "charlie", "echo"}
PASS = {("cheap", "classify"): (6, 8), ("cheap", "extract"): (2, 8), ("big", "classify"): (8, 8),
        ("big", "extract"): (8, 8)}
CATALOG_SOURCE = "evidence test catalog"


@dataclass(frozen=True)
class BenchRun:
    root: Path
    catalog: Path
    summary: Path  # bench --format json
    results: Path  # bench --results (JSONL)
    log: Path


def _reply(right: set[str] | None):  # type: ignore[no-untyped-def]
    def reply(prompt: str) -> str:
        word = prompt.rsplit(" ", 1)[-1]
        return word if right is None or word in right else "no idea"

    return reply


def suite() -> dict[str, object]:
    prompts = [{"id": f"{task}-{w}", "task": task, "prompt": f"Repeat the word {w}", "max_tokens": 5,
                "assert": [{"icontains": w}]} for task, words in WORDS.items() for w in words]
    return {"name": "evidence", "prompts": prompts}


def catalog(url: str | None) -> dict[str, object]:
    def model(mid: str, tier: str, inp: float, out: float) -> dict[str, object]:
        entry: dict[str, object] = {"id": mid, "provider": "openai", "tier": tier, "input_mtok": inp,
                                    "output_mtok": out}
        if url is not None:
            entry["endpoint"] = {"base_url": url + "/v1", "api": "openai"}
        return entry

    return {"source": CATALOG_SOURCE, "as_of": "2026-11-01", "tiers": ["economy", "premium"],
            "models": [model("cheap", "economy", 0.1, 0.4), model("big", "premium", 3, 15)]}


def write_log(path: Path) -> Path:
    rows = []
    for i in range(70):
        task = "classify" if i < 40 else "extract" if i < 60 else "summarize"
        row: dict[str, object] = {"timestamp": f"2026-11-01T{i // 60:02d}:{i % 60:02d}:00Z", "model": "big",
                                  "input_tokens": 1000 + i, "output_tokens": 100, "task": task}
        if i % 2 == 0:
            row["latency_ms"] = 1000 + 10 * i
            row["ttft_ms"] = 200 + i
        rows.append(json.dumps(row))
    path.write_text("\n".join(rows) + "\n")
    return path


def run_bench(root: Path) -> BenchRun:
    (root / "suite.yaml").write_text(yaml.safe_dump(suite(), sort_keys=False))
    cheap = Behavior(reply=_reply(CHEAP_RIGHT), ttft_s=0.01)
    big = Behavior(reply=_reply(None), ttft_s=0.05)
    runner = CliRunner()
    with serve({"cheap": cheap, "big": big}) as fake:
        cat = root / "bench-catalog.yaml"
        cat.write_text(yaml.safe_dump(catalog(fake.url), sort_keys=False))
        out = runner.invoke(app, ["bench", str(root / "suite.yaml"), "-c", str(cat), "--models", "cheap,big",
                                  "-n", "2", "--concurrency", "4", "-f", "json", "-o", str(root / "bench.json"),
                                  "--results", str(root / "results.jsonl")], catch_exceptions=False)
    assert out.exit_code == 0, out.stderr
    return BenchRun(root, cat, root / "bench.json", root / "results.jsonl", write_log(root / "log.jsonl"))
