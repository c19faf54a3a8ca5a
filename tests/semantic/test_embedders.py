"""The offline wordllama embedder (weights from the installed wheel, no download) and embeddings given in
the log (embedder kind column), through the CLI."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

PROMPTS = ["What is the capital of France?", "what is the capital of france", "How do I bake bread?",
           "What's the capital city of France?", "How can I bake a loaf of bread?", "Reset my password please"]


def test_wordllama_loads_offline_and_embeds(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wordllama")
    from llmcost.embedders.wordllama_local import WordLlamaEmbedder

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("wordllama tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    embedder = WordLlamaEmbedder()
    vectors = embedder.embed(PROMPTS)
    assert vectors.shape == (6, 256) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 3] > sims[0, 2] and sims[2, 4] > sims[2, 5] and sims[0, 1] > sims[0, 5]


def test_wordllama_scenario(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wordllama")
    monkeypatch.setenv("LLMCOST_CACHE_DIR", str(tmp_path / "cache"))
    pd.DataFrame({"timestamp": [f"2026-01-01T00:0{i}:00Z" for i in range(6)], "model": "gpt-4o-mini",
                  "input_tokens": 100, "output_tokens": 50, "prompt": PROMPTS,
                  "response": ["Paris", "Paris", "Knead", "Paris", "Knead", "Click reset"]}).to_csv(
        tmp_path / "log.csv", index=False)
    (tmp_path / "s.yaml").write_text(json.dumps({"scenarios": [
        {"name": "sem", "semantic_cache": {"threshold": 0.9, "ttl": "1h"}}]}))
    result = cli("estimate", tmp_path / "log.csv", "-s", tmp_path / "s.yaml", "-f", "json")
    assert result.exit_code == 0, result.stderr
    d = json.loads(result.stdout)["scenarios"][1]["details"]["semantic_cache"]
    assert d["embedder"] == "wordllama" and d["hits"] >= 1 and d["compared_hits"] == d["hits"]
    assert "no per-call charge" in d["embedding_note"]
    assert list((tmp_path / "cache" / "embeddings").glob("wordllama*"))


def _column_log(path: Path, vectors: list[object]) -> None:
    pd.DataFrame({"timestamp": pd.date_range("2026-01-01", periods=len(vectors), freq="1min", tz="UTC"),
                  "model": "gpt-4o-mini", "input_tokens": 100, "output_tokens": 50,
                  "embedding": vectors}).to_json(path, orient="records", lines=True, date_format="iso")


def test_column_embeddings(cli, tmp_path: Path) -> None:
    vectors = [[1, 0, 0], [0.99, 0.1, 0], [0, 1, 0], None, [0, 0.98, 0.2], [1, 0, 0]]
    _column_log(tmp_path / "log.jsonl", vectors)
    (tmp_path / "s.yaml").write_text(json.dumps({"scenarios": [
        {"name": "sem", "semantic_cache": {"threshold": 0.95, "embedder": {"kind": "column"}}}]}))
    result = cli("estimate", tmp_path / "log.jsonl", "-s", tmp_path / "s.yaml", "-f", "json")
    assert result.exit_code == 0, result.stderr
    d = json.loads(result.stdout)["scenarios"][1]["details"]["semantic_cache"]
    # rows 2, 5 and 6 hit (cosine 0.995, 0.98 and identical); row 4 has no vector: not eligible
    assert d["hits"] == 3 and d["embedded_requests"] == 5


def test_column_dimension_mismatch(cli, tmp_path: Path) -> None:
    _column_log(tmp_path / "log.jsonl", [[1, 0, 0], [0, 1], [0, 0, 1]])
    (tmp_path / "s.yaml").write_text(json.dumps({"scenarios": [
        {"name": "sem", "semantic_cache": {"embedder": {"kind": "column"}}}]}))
    result = cli("estimate", tmp_path / "log.jsonl", "-s", tmp_path / "s.yaml")
    assert result.exit_code == 2
    assert "semantic_cache.embedder.column" in result.stderr and "2-dimension" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_html_report_with_a_semantic_cache(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The HTML page reads the scenario's summary line back from the JSON dict, where money is a number."""
    pytest.importorskip("wordllama")
    pytest.importorskip("altair")
    monkeypatch.setenv("LLMCOST_CACHE_DIR", str(tmp_path / "cache"))
    example = Path(__file__).resolve().parents[2] / "examples" / "semantic"
    result = cli("estimate", example / "banking77_log.csv", "-c", example / "catalog.yaml", "-s",
                 example / "scenarios.yaml", "--sweep", "0.8:0.9:0.05", "-f", "html", "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.stderr
    assert "semantic cache (cosine ≥ 0.9" in (tmp_path / "r.html").read_text()
