"""``estimate --bench``: quality and latency beside cost, in every format, whole-file and streamed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from evidence_support import BenchRun

from llmcost.evidence import wilson

SCENARIOS = {"scenarios": [{"name": "cheap-classify", "routing": {"rules": [{"when": {"task": "classify"},
                                                                            "to": "cheap"}]}},
                           {"name": "cache", "exact_cache": {"ttl": "24h"}}]}


def scenario_file(root: Path, **extra: Any) -> Path:
    path = root / f"scenarios-{len(extra)}.yaml"
    path.write_text(yaml.safe_dump({**extra, **SCENARIOS}, sort_keys=False))
    return path


def estimate_json(cli: Any, run: BenchRun, *args: Any) -> dict[str, Any]:
    result = cli("estimate", run.log, "-c", run.catalog, "-s", scenario_file(run.root), "--bench", run.summary,
                 "-f", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in data["scenarios"]}


def test_quality_by_task_and_overall_match_a_hand_computation(cli: Any, bench_run: BenchRun) -> None:
    scenarios = by_name(estimate_json(cli, bench_run))
    base = scenarios["baseline"]["quality"]
    assert base["pass_rate"] == 1.0 and base["unmeasured_share"] == round(10 / 70, 6)
    assert {(u["model"], u["task"], u["requests"]) for u in base["unmeasured"]} == {("big", "summarize", 10)}
    routed = scenarios["cheap-classify"]["quality"]
    assert routed["pass_rate"] == pytest.approx((40 * 0.75 + 20 * 1.0) / 60, abs=1e-6)
    low = (40 * wilson(6, 8)[0] + 20 * wilson(8, 8)[0]) / 60
    high = (40 * wilson(6, 8)[1] + 20 * wilson(8, 8)[1]) / 60
    assert routed["low"] == pytest.approx(low, abs=1e-6) and routed["high"] == pytest.approx(high, abs=1e-6)
    tasks = {t["task"]: t for t in routed["by_task"]}
    assert tasks["classify"]["pass_rate"] == 0.75 and tasks["extract"]["pass_rate"] == 1.0
    assert tasks["summarize"]["pass_rate"] is None and tasks["summarize"]["unmeasured_share"] == 1.0
    assert "note" not in scenarios["cheap-classify"]  # measured: no 'unmeasured' note


def test_latency_comes_from_the_log_where_it_has_the_model_else_the_bench(cli: Any, bench_run: BenchRun) -> None:
    scenarios = by_name(estimate_json(cli, bench_run))
    logged = np.array([1000 + 10 * i for i in range(0, 70, 2)], dtype=float)
    base = scenarios["baseline"]["latency"]["latency_ms"]
    assert base["source"] == "log"
    for q in (50, 95, 99):
        assert base[f"p{q}"] == pytest.approx(np.percentile(logged, q, method="inverted_cdf"), rel=2e-3)
    routed = scenarios["cheap-classify"]["latency"]["latency_ms"]
    assert routed["source"] == "mixed"
    assert routed["source_shares"] == {"bench": round(40 / 70, 6), "log": round(30 / 70, 6)}
    assert routed["p50"] < base["p50"]  # the cheap model answers in tens of ms, big's log says ~1.3 s
    assert scenarios["cheap-classify"]["latency"]["ttft_ms"]["source"] == "mixed"


def test_streaming_gives_the_whole_file_figures(cli: Any, bench_run: BenchRun, tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.read_json(bench_run.log, lines=True)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    parquet = tmp_path / "log.parquet"  # Parquet streams in batches of exactly --chunk-rows rows
    frame.to_parquet(parquet)
    run = BenchRun(bench_run.root, bench_run.catalog, bench_run.summary, bench_run.results, parquet)
    whole = by_name(estimate_json(cli, run))
    streamed = by_name(estimate_json(cli, run, "--chunk-rows", "7"))
    assert whole == by_name(estimate_json(cli, bench_run))
    for name, s in whole.items():
        assert streamed[name]["quality"] == s["quality"], name
        assert streamed[name]["latency"] == s["latency"], name
        assert streamed[name]["monthly_cost_usd"] == s["monthly_cost_usd"]


def test_scenario_file_bench_results_equal_the_bench_option(cli: Any, bench_run: BenchRun) -> None:
    path = scenario_file(bench_run.root, bench_results=str(bench_run.results))
    result = cli("estimate", bench_run.log, "-c", bench_run.catalog, "-s", path, "-f", "json")
    assert result.exit_code == 0, result.stderr
    from_file = by_name(json.loads(result.stdout))
    from_option = by_name(estimate_json(cli, bench_run))
    assert from_file["cheap-classify"]["quality"] == from_option["cheap-classify"]["quality"]


def test_every_format_carries_quality_and_latency(cli: Any, bench_run: BenchRun) -> None:
    common = [bench_run.log, "-c", bench_run.catalog, "-s", scenario_file(bench_run.root), "--bench",
              bench_run.summary]
    table = cli("estimate", *common)
    assert table.exit_code == 0, table.stderr
    assert "Quality and latency" in table.stdout and "83.3%" in table.stdout and "Quality by task" in table.stdout
    markdown = cli("estimate", *common, "-f", "markdown").stdout
    assert "### Quality and latency" in markdown and "| cheap-classify | 83.3% |" in markdown
    text = cli("estimate", *common, "-f", "csv").stdout
    block = text.split("\n\n")[1]
    rows = list(csv.DictReader(io.StringIO(block)))
    overall = next(r for r in rows if r["scenario"] == "cheap-classify" and r["task"] == "")
    assert float(overall["pass_rate"]) == pytest.approx(50 / 60, abs=1e-6)
    assert overall["latency_source"] == "mixed" and float(overall["latency_p95_ms"]) > 0
    assert overall["latency_unmeasured_share"] == "0"
    assert all(len(r) == len(rows[0]) and None not in r for r in rows)


def test_cache_hits_answer_at_the_hit_latency(cli: Any, bench_run: BenchRun, tmp_path: Path) -> None:
    log = tmp_path / "repeats.jsonl"
    rows = [{"timestamp": f"2026-11-01T00:{i:02d}:00Z", "model": "big", "input_tokens": 10, "output_tokens": 5,
             "task": "classify", "prompt_hash": "same", "latency_ms": 900} for i in range(10)]
    log.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = cli("estimate", log, "-c", bench_run.catalog, "-s", scenario_file(bench_run.root), "--bench",
                 bench_run.summary, "--hit-latency-ms", "3", "-f", "json")
    cache = by_name(json.loads(result.stdout))["cache"]["latency"]
    assert cache["latency_ms"]["p50"] == pytest.approx(3.0, rel=2e-3)  # 9 of 10 are hits
    assert cache["latency_ms"]["p99"] == pytest.approx(900.0, rel=2e-3)
    assert cache["latency_ms"]["source_shares"] == {"hit": 0.9, "log": 0.1}


def test_bench_results_for_another_catalog_exit_2_naming_the_field(cli: Any, bench_run: BenchRun,
                                                                    tmp_path: Path) -> None:
    other = yaml.safe_load(bench_run.catalog.read_text())
    other["source"] = "someone else's catalog"
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(other))
    result = cli("estimate", bench_run.log, "-c", path, "--bench", bench_run.summary)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "catalog" in lines[0] and str(bench_run.summary) in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("content", "field"), [
    ("{not json", "bad.json:1: invalid JSON"),
    ('{"kind": "bench", "models": [{"model": "cheap", "quality_passed": 5, "quality_scored": 2}]}',
     "models[0].quality_passed"),
    ('{"kind": "bench", "models": [{"model": "cheap", "latency_samples_ms": [1, "slow"]}]}',
     "models[0].latency_samples_ms"),
    ('{"kind": "estimate"}', "kind"),
])
def test_malformed_bench_results_exit_2_naming_the_field(cli: Any, bench_run: BenchRun, tmp_path: Path,
                                                         content: str, field: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = cli("estimate", bench_run.log, "-c", bench_run.catalog, "--bench", path, "-o", tmp_path / "out.json")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and field in result.stderr and str(path) in result.stderr
    assert not (tmp_path / "out.json").exists()


def test_default_tiered_routing_says_its_quality_is_unmeasured(cli: Any, bench_run: BenchRun) -> None:
    data = json.loads(cli("estimate", bench_run.log, "-c", bench_run.catalog, "-f", "json").stdout)
    notes = {s["name"]: s.get("note") for s in data["scenarios"]}
    assert "quality unmeasured" in notes["tiered-routing"] and "llmcost plan" in notes["tiered-routing"]
    assert notes["baseline"] is None and "quality" not in data["scenarios"][1]
    for fmt in ("table", "markdown", "csv"):
        out = cli("estimate", bench_run.log, "-c", bench_run.catalog, "-f", fmt).stdout
        assert "quality unmeasured" in out and "llmcost plan" in out, fmt
    measured = json.loads(cli("estimate", bench_run.log, "-c", bench_run.catalog, "--bench", bench_run.summary,
                              "-f", "json").stdout)
    routed = by_name(measured)["tiered-routing"]
    assert "note" not in routed and routed["quality"]["pass_rate"] is not None


def test_a_cascade_counts_each_request_once_at_the_step_that_answers(cli: Any, bench_run: BenchRun,
                                                                    tmp_path: Path) -> None:
    path = tmp_path / "cascade.yaml"
    path.write_text(yaml.safe_dump({"scenarios": [{"name": "cascade", "cascade": {"steps": [
        {"model": "cheap", "accept": "measured"}, {"model": "big", "accept": 1.0}]}}]}))
    # --bench also serves `accept: measured` (the file has no bench_results)
    result = cli("estimate", bench_run.log, "-c", bench_run.catalog, "-s", path, "--bench", bench_run.summary,
                 "-f", "json")
    assert result.exit_code == 0, result.stderr
    cascade = by_name(json.loads(result.stdout))["cascade"]
    tasks = {t["task"]: t for t in cascade["quality"]["by_task"]}
    # classify: cheap accepts 75% and passes 75% of those; big answers the other 25% and passes all
    assert tasks["classify"]["pass_rate"] == pytest.approx(0.75 * 0.75 + 0.25, abs=1e-6)
    assert tasks["extract"]["pass_rate"] == pytest.approx(0.25 * 0.25 + 0.75, abs=1e-6)
    assert tasks["classify"]["requests"] == 40  # requests, not attempts
    shares = cascade["latency"]["latency_ms"]["source_shares"]
    # cheap answers 30 + 5 + 5 (summarize: the cascade's overall-rate acceptance) in one bench-timed step;
    # the rest wait for cheap (bench) and then big (log)
    assert shares == {"bench": round(40 / 70, 6), "bench+log": round(30 / 70, 6)}
    assert cascade["latency"]["latency_ms"]["source"] == "mixed"


def test_retries_count_answers_not_billed_attempts(cli: Any, bench_run: BenchRun, tmp_path: Path) -> None:
    path = tmp_path / "retries.yaml"
    path.write_text(yaml.safe_dump({"scenarios": [{
        "name": "retried", "routing": {"rules": [{"when": {"task": "classify"}, "to": "cheap"}]},
        "retries": {"error_rate": {"cheap": 0.5}, "max_retries": 1, "fallback": ["big"], "bill_failed": True}}]}))
    result = cli("estimate", bench_run.log, "-c", bench_run.catalog, "-s", path, "--bench", bench_run.summary,
                 "-f", "json")
    assert result.exit_code == 0, result.stderr
    retried = by_name(json.loads(result.stdout))["retried"]
    classify = next(t for t in retried["quality"]["by_task"] if t["task"] == "classify")
    # cheap answers 1 − 0.5² = 75% (after 1.5 billed attempts each), big the other 25%
    assert classify["requests"] == pytest.approx(40)
    assert classify["pass_rate"] == pytest.approx(0.75 * 0.75 + 0.25 * 1.0, abs=1e-6)
    assert retried["latency"]["latency_ms"]["source_shares"] == {"bench": round(30 / 70, 6), "log": round(40 / 70, 6)}


def test_traffic_without_latency_is_named_beside_the_percentiles(cli: Any, bench_run: BenchRun,
                                                                 tmp_path: Path) -> None:
    catalog = yaml.safe_load(bench_run.catalog.read_text())
    catalog["models"].append({"id": "untimed", "provider": "openai", "tier": "economy", "input_mtok": 0.01,
                              "output_mtok": 0.01})
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog))
    scenarios = tmp_path / "untimed.yaml"
    scenarios.write_text(yaml.safe_dump({"scenarios": [{"name": "untimed", "routing": {"rules": [
        {"when": {"task": "classify"}, "to": "untimed"}]}}]}))
    result = cli("estimate", bench_run.log, "-c", path, "-s", scenarios, "--bench", bench_run.summary)
    assert result.exit_code == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ untimed")]
    assert any("log (log 43%, unmeasured 57%)" in row for row in rows)
    assert "untimed: no latency measured for untimed" in result.stdout
