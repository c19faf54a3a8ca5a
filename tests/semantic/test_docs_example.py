"""The BANKING77 run shown in docs/scenarios.md ("A real run: BANKING77 queries") gives the numbers shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "semantic"


def test_banking77_example(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wordllama")
    monkeypatch.setenv("LLMCOST_CACHE_DIR", str(tmp_path / "cache"))
    result = cli("estimate", EXAMPLE / "banking77_log.csv", "-c", EXAMPLE / "catalog.yaml", "-s",
                 EXAMPLE / "scenarios.yaml", "--sweep", "0.80:0.99:0.01", "-f", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    d = out["scenarios"][1]["details"]["semantic_cache"]
    assert (d["hits"], d["answers_differ"], d["embedding_tokens"]) == (437, 23, 38059)
    rows = {r["threshold"]: r for r in d["sweep"]}
    assert (rows[0.8]["hits"], rows[0.8]["answers_differ"]) == (1165, 121)
    assert rows[0.97]["answers_differ"] == 0
    assert round(out["scenarios"][1]["monthly_cost_usd"], 2) == 11.5
