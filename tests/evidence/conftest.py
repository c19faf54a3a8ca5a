"""Bench results with known pass rates per (model, task), made once per module by running the real
``llmcost bench`` against a fake OpenAI-compatible server on 127.0.0.1 (tests/bench/bench_fake_llm.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from evidence_support import BenchRun, run_bench


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> BenchRun:
    return run_bench(tmp_path_factory.mktemp("evidence"))
