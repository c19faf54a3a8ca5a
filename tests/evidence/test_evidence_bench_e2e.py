"""Bench results from a real ``llmcost bench`` run → evidence with the known pass counts."""

from __future__ import annotations

from evidence_support import CATALOG_SOURCE, PASS, BenchRun

from llmcost.evidence import load_bench_evidence


def test_summary_and_results_give_the_known_pass_counts(bench_run: BenchRun) -> None:
    for path in (bench_run.summary, bench_run.results):
        ev = load_bench_evidence(path)
        for (model, task), counts in PASS.items():
            rate = ev.pass_rate(model, task)
            assert rate is not None and (rate.passed, rate.trials) == counts, (path, model, task)
        assert ev.pass_rate("cheap", "summarize") is None
        sample = ev.latency("big")
        assert sample is not None and len(sample.e2e_ms) == 16 and len(sample.ttft_ms) == 16
        assert list(sample.e2e_ms) == sorted(sample.e2e_ms)
        assert ev.tasks == ("classify", "extract")
    assert load_bench_evidence(bench_run.summary).catalog == CATALOG_SOURCE
