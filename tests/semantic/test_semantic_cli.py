"""The semantic cache through the CLI: an OpenAI-compatible embeddings server started here, the embedding
calls priced from the catalog, the disk cache, streaming, the sweep, the answer risk and bad input."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.semantic.embed_server import bag_of_words, embeddings_server

CATALOG = """source: test
as_of: 2026-01-01
models:
  - {id: chat-model, provider: acme, input_mtok: 2, output_mtok: 8}
  - {id: other-model, provider: acme, input_mtok: 1, output_mtok: 4}
  - {id: embed-small, provider: acme, input_mtok: 0.5, output_mtok: 0}
"""
TOPICS = ["what is the capital of france", "how do i bake sourdough bread at home", "reset my account password",
          "translate good morning into spanish", "explain the rules of chess briefly", "best way to learn python"]
FILLERS = ["please", "quickly", "now", "thanks", "today", "again", "kindly"]


def make_log(path: Path, n: int = 240, seed: int = 0, responses: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    topic = rng.integers(0, len(TOPICS), n)
    extra = rng.integers(0, len(FILLERS), (n, 2))
    prompts = [f"{TOPICS[t]} {FILLERS[a]} {FILLERS[b]}" if rng.random() < 0.7 else TOPICS[t]
               for t, (a, b) in zip(topic, extra, strict=True)]
    df = pd.DataFrame({
        "timestamp": pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(np.sort(rng.integers(0, 7200, n)), "s"),
        "model": np.where(rng.random(n) < 0.8, "chat-model", "other-model"),
        "input_tokens": rng.integers(50, 500, n), "output_tokens": rng.integers(10, 200, n),
        "prompt": prompts, "task": np.where(rng.random(n) < 0.5, "qa", "chat"),
        "user": [f"u{u}" for u in rng.integers(0, 4, n)],
    })
    if responses:
        df["response"] = [f"answer {t}" if rng.random() < 0.8 else f"answer {t} variant {i}"
                          for i, t in enumerate(topic)]
    df.to_csv(path, index=False)
    return df


def scenario(path: Path, url: str, **cache: object) -> Path:
    spec = {"threshold": 0.8, "ttl": "30m", "per_model": True,
            "embedder": {"kind": "openai-compatible", "model": "embed-small", "base_url": url,
                         "api_key_env": "EMBED_API_KEY", "batch_size": 16, "concurrency": 2, "retries": 1},
            **cache}
    path.write_text(json.dumps({"scenarios": [{"name": "sem", "semantic_cache": spec}]}))
    return path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LLMCOST_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    return tmp_path


def run_json(cli, env: Path, log: Path, scen: Path, *extra: str) -> dict:
    result = cli("estimate", log, "-c", env / "catalog.yaml", "-s", scen, "-f", "json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def details(out: dict) -> dict:
    return out["scenarios"][1]["details"]["semantic_cache"]


def reference_hits(df: pd.DataFrame, tau: float, ttl_s: float, per_model: bool, scope: list[str]) -> float:
    """The rules row by row on the server's vectors: every live entry of the partition compared."""
    vecs = np.asarray([bag_of_words(p, 64) for p in df["prompt"]], dtype=np.float64)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    entries: list[tuple[float, tuple, int]] = []
    hits = 0
    times = df["timestamp"].dt.as_unit("ns").astype("int64").to_numpy() / 1e9
    for i in range(len(df)):
        key = tuple(df[c].iloc[i] for c in scope) + ((df["model"].iloc[i],) if per_model else ())
        live = [j for t, k, j in entries if times[i] - t < ttl_s and k == key]
        if live and max(1.0 if df["prompt"].iloc[j] == df["prompt"].iloc[i] else float(vecs[j] @ vecs[i])
                        for j in live) >= tau:
            hits += 1
        else:
            entries.append((times[i], key, i))
    return hits


@pytest.mark.parametrize(("tau", "per_model", "scope"), [(0.8, True, []), (0.7, False, ["task"]),
                                                         (0.9, True, ["user"])])
def test_hits_match_the_reference_and_calls_are_priced(cli, env: Path, tau: float, per_model: bool,
                                                       scope: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    df = make_log(env / "log.csv")
    monkeypatch.setenv("EMBED_API_KEY", "sk-test-secret-123")
    with embeddings_server() as server:
        out = run_json(cli, env, env / "log.csv", scenario(env / "s.yaml", server.url, threshold=tau,
                                                              per_model=per_model, scope=scope))
    d = details(out)
    assert d["hits"] == reference_hits(df, tau, 1800, per_model, scope)
    assert 0 < d["hits"] < len(df)
    assert set(server.keys) == {"Bearer sk-test-secret-123"}
    assert len(server.texts) == len(set(server.texts))  # each distinct text embedded once
    # every request is embedded by a deployed cache: priced at embed-small's $0.50 per Mtok
    by_model = {m["model"]: m for m in out["scenarios"][1]["by_model"]}
    assert by_model["embed-small"]["requests"] == len(df)
    tokens = d["embedding_tokens"]
    expected = Decimal(tokens) * Decimal("0.5") / 10**6  # JSON keeps micro-dollars
    assert abs(Decimal(str(by_model["embed-small"]["observed_cost_usd"])) - expected) <= Decimal("0.0000005")
    assert tokens > len(df)


def test_embedding_model_missing_from_catalog_is_unpriced_never_free(cli, env: Path) -> None:
    make_log(env / "log.csv", n=60)
    with embeddings_server() as server:
        scen = scenario(env / "s.yaml", server.url)
        spec = json.loads(scen.read_text())
        spec["scenarios"][0]["semantic_cache"]["embedder"]["model"] = "text-embedding-unknown"
        scen.write_text(json.dumps(spec))
        result = cli("estimate", env / "log.csv", "-c", env / "catalog.yaml", "-s", scen, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert "scenario 'sem' is incomplete: unpriced traffic on text-embedding-unknown" in result.stderr
    out = json.loads(result.stdout)
    unpriced = [m for m in out["scenarios"][1]["unpriced"] if m["model"] == "text-embedding-unknown"]
    assert unpriced and unpriced[0]["requests"] == 60
    assert out["scenarios"][1]["savings_usd"] is None if "savings_usd" in out["scenarios"][1] else True


def test_second_run_embeds_nothing(cli, env: Path) -> None:
    make_log(env / "log.csv")
    with embeddings_server() as server:
        first = run_json(cli, env, env / "log.csv", scenario(env / "s.yaml", server.url))
        calls = server.requests
        second = run_json(cli, env, env / "log.csv", scenario(env / "s.yaml", server.url))
    assert calls > 0 and server.requests == calls  # the server saw no request the second time
    assert details(second)["texts_embedded_now"] == 0 and details(second)["texts_from_disk_cache"] > 0
    assert details(first)["hits"] == details(second)["hits"]
    assert first["scenarios"][1]["observed_cost_usd"] == second["scenarios"][1]["observed_cost_usd"]


def test_chunked_equals_whole(cli, env: Path) -> None:
    """Parquet, so that --chunk-rows 37 really cuts the log into chunks of 37 rows (CSV blocks are 1 MB)."""
    make_log(env / "log.csv", n=500, seed=3).to_parquet(env / "log.parquet")
    with embeddings_server() as server:
        scen = scenario(env / "s.yaml", server.url, max_entries=25)
        whole = run_json(cli, env, env / "log.parquet", scen, "--sweep", "0.6:0.95:0.05")
        chunked = run_json(cli, env, env / "log.parquet", scen, "--sweep", "0.6:0.95:0.05", "--chunk-rows", "37")
    assert whole["scenarios"][1]["observed_cost_usd"] == chunked["scenarios"][1]["observed_cost_usd"]
    a, b = details(whole), details(chunked)
    for key in ("hits", "hit_rate", "cost_saved_usd", "compared_hits", "answers_differ", "answers_dissimilar",
                "embedding_tokens", "embedding_requests"):
        assert a[key] == b[key], key
    assert a["sweep"] == b["sweep"]


def test_sweep_equals_separate_runs(cli, env: Path) -> None:
    make_log(env / "log.csv", n=300, seed=5)
    with embeddings_server() as server:
        swept = details(run_json(cli, env, env / "log.csv", scenario(env / "s.yaml", server.url),
                                 "--sweep", "0.60:0.90:0.10"))["sweep"]
        assert [r["threshold"] for r in swept] == [0.6, 0.7, 0.8, 0.9]
        for row in swept:
            alone = details(run_json(cli, env, env / "log.csv",
                                     scenario(env / "s.yaml", server.url, threshold=row["threshold"])))
            for key in ("hits", "cost_saved_usd", "compared_hits", "answers_differ", "answers_dissimilar"):
                assert alone[key] == row[key], (row["threshold"], key)
    assert swept[0]["hits"] > swept[-1]["hits"]


def test_answer_risk_counts_hits_whose_logged_answers_differ(cli, env: Path) -> None:
    rows = [("what is the capital of france", "Paris"), ("what is the capital of france", "Paris"),
            ("what is the capital of france please", "It is Paris."), ("reset my password", "Click reset"),
            ("what is the capital of france", "Lyon")]
    pd.DataFrame({"timestamp": [f"2026-01-01T00:0{i}:00Z" for i in range(5)], "model": "chat-model",
                  "input_tokens": 100, "output_tokens": 10, "prompt": [p for p, _ in rows],
                  "response": [r for _, r in rows]}).to_csv(env / "log.csv", index=False)
    with embeddings_server() as server:
        d = details(run_json(cli, env, env / "log.csv", scenario(env / "s.yaml", server.url, threshold=0.8)))
    # hits: rows 2, 3 and 5 (all answered by row 1's entry, "Paris"); differ: "It is Paris." and "Lyon"
    assert d["hits"] == 3 and d["compared_hits"] == 3
    assert d["answers_differ"] == 2 and d["answers_differ_share"] == pytest.approx(2 / 3, abs=1e-6)


def test_table_shows_sweep_with_risk(cli, env: Path) -> None:
    make_log(env / "log.csv", n=120)
    with embeddings_server() as server:
        result = cli("estimate", env / "log.csv", "-c", env / "catalog.yaml", "-s",
                     scenario(env / "s.yaml", server.url), "--sweep", "0.8:0.9:0.05")
    assert result.exit_code == 0, result.stderr
    assert "Semantic cache threshold sweep" in result.stdout and "Answers differ" in result.stdout
    assert "embedding every request costs" in result.stdout


# --- bad input: exit 2, one line naming the field, no partial output --------------------------------------


def test_no_prompt_column(cli, env: Path) -> None:
    make_log(env / "log.csv", n=20)
    pd.read_csv(env / "log.csv").drop(columns=["prompt"]).to_csv(env / "log.csv", index=False)
    with embeddings_server() as server:
        result = cli("estimate", env / "log.csv", "-c", env / "catalog.yaml", "-s",
                     scenario(env / "s.yaml", server.url), "-o", env / "out.json", "-f", "json")
    assert result.exit_code == 2
    assert "'prompt' column" in result.stderr and "semantic_cache" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (env / "out.json").exists()


def test_endpoint_failing_mid_run_writes_nothing(cli, env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_log(env / "log.csv", n=400, seed=9)
    monkeypatch.setenv("EMBED_API_KEY", "sk-never-printed-42")
    with embeddings_server(fail_after=2) as server:
        result = cli("estimate", env / "log.csv", "-c", env / "catalog.yaml", "-s",
                     scenario(env / "s.yaml", server.url, embedder={
                         "kind": "openai-compatible", "model": "embed-small", "base_url": server.url,
                         "api_key_env": "EMBED_API_KEY", "batch_size": 4, "concurrency": 1, "retries": 1}),
                     "-o", env / "out.json", "-f", "json")
    assert result.exit_code == 2
    assert "http_500" in result.stderr and "embed-small" in result.stderr
    assert "sk-never-printed-42" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (env / "out.json").exists() and not list(env.glob("out.json*"))
    assert server.requests > 2  # the failing batch was retried before giving up


def test_dimension_mismatch(cli, env: Path) -> None:
    make_log(env / "log.csv", n=200)
    with embeddings_server(wrong_dims_after=1) as server:
        result = cli("estimate", env / "log.csv", "-c", env / "catalog.yaml", "-s",
                     scenario(env / "s.yaml", server.url, embedder={
                         "kind": "openai-compatible", "model": "embed-small", "base_url": server.url,
                         "batch_size": 4, "concurrency": 1, "dimensions": 64}), "-f", "json")
    assert result.exit_code == 2
    assert "dimensions" in result.stderr and "65" in result.stderr and "64" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("value", [0, 1.5, -0.2])
def test_threshold_outside_0_1(cli, env: Path, value: float) -> None:
    make_log(env / "log.csv", n=10)
    result = cli("estimate", env / "log.csv", "-c", env / "catalog.yaml", "-s",
                 scenario(env / "s.yaml", "http://127.0.0.1:9", threshold=value))
    assert result.exit_code == 2
    assert "semantic_cache.threshold" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("sweep", ["0.8:0.99", "0.9:0.8:0.01", "0.8:1.2:0.1", "a:b:c", "0.8:0.99:0"])
def test_bad_sweep(cli, env: Path, sweep: str) -> None:
    make_log(env / "log.csv", n=10)
    result = cli("estimate", env / "log.csv", "-c", env / "catalog.yaml", "-s",
                 scenario(env / "s.yaml", "http://127.0.0.1:9"), "--sweep", sweep)
    assert result.exit_code == 2
    assert "--sweep" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_sweep_without_semantic_scenario(cli, env: Path) -> None:
    make_log(env / "log.csv", n=10)
    result = cli("estimate", env / "log.csv", "-c", env / "catalog.yaml", "--sweep", "0.8:0.9:0.05")
    assert result.exit_code == 2 and "semantic_cache" in result.stderr


def test_hit_cost_is_charged_per_hit(cli, env: Path) -> None:
    make_log(env / "log.csv", n=120, seed=4)
    with embeddings_server() as server:
        free = run_json(cli, env, env / "log.csv", scenario(env / "s.yaml", server.url))
        paid = run_json(cli, env, env / "log.csv", scenario(env / "s.yaml", server.url, hit_cost_usd="0.001"))
    hits = details(paid)["hits"]
    assert hits > 0 and details(paid)["lookup_cost_usd"] == pytest.approx(hits * 0.001)
    cost = [Decimal(str(out["scenarios"][1]["observed_cost_usd"])) for out in (paid, free)]
    extra = cost[0] - cost[1]
    assert extra == Decimal(str(hits)) * Decimal("0.001")
