"""The judge grading a seeded sample of semantic-cache hit pairs: a chat server started here scores each
pair 5 when the cached answer equals the logged one, else 1, and records what it was sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from tests.semantic.embed_server import embeddings_server
from tests.semantic.test_semantic_cli import details, make_log, scenario

from llmcost.evidence.wilson import wilson

CATALOG = """source: test
as_of: 2026-01-01
models:
  - {id: chat-model, provider: acme, input_mtok: 2, output_mtok: 8}
  - {id: other-model, provider: acme, input_mtok: 1, output_mtok: 4}
  - {id: embed-small, provider: acme, input_mtok: 0.5, output_mtok: 0}
  - {id: judge-model, provider: acme, input_mtok: 3, output_mtok: 15}
"""
REF = "logged for the same request (wording may differ):\n"


@dataclass
class Judge:
    url: str = ""
    fail: bool = False
    pairs: list[tuple[str, str, str]] = field(default_factory=list)  # prompt, reference, candidate


@contextmanager
def judge_server(**settings: object) -> Iterator[Judge]:
    state = Judge(**settings)  # type: ignore[arg-type]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if state.fail:
                self._send(500, {"error": {"message": "judge overloaded"}})
                return
            text = body["messages"][-1]["content"]
            reference = text.split(REF, 1)[1].split("\n\n## Conversation", 1)[0]
            prompt = text.split("## Conversation\n[user]\n", 1)[1].split("\n\n## Answer\n", 1)[0]
            candidate = text.split("\n\n## Answer\n", 1)[1]
            with lock:
                state.pairs.append((prompt, reference, candidate))
            score = 5 if reference == candidate else 1
            self._send(200, {"id": "x", "object": "chat.completion", "model": body["model"],
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": f"ok\nSCORE: {score}"}}],
                             "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}})

        def _send(self, status: int, payload: object) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.handle_error = lambda *_: None  # type: ignore[method-assign]  # a cancelled request's broken pipe
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LLMCOST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("EMBED_API_KEY", "sk-embed")
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    make_log(tmp_path / "log.csv", n=240)
    return tmp_path


def run(cli, env: Path, judge: dict[str, object] | None, *extra: str):
    with embeddings_server() as server:
        scen = scenario(env / "s.yaml", server.url, **({"judge": judge} if judge is not None else {}))
        return cli("estimate", env / "log.csv", "-c", env / "catalog.yaml", "-s", scen, "-f", "json", *extra)


def judged(cli, env: Path, judge: dict[str, object], *extra: str) -> tuple[dict, Judge]:
    with judge_server() as j:
        result = run(cli, env, {"model": "judge-model", "base_url": j.url, **judge}, *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), j


def test_share_judged_wrong_equals_the_hand_count_and_calls_are_priced(cli, env: Path) -> None:
    out, j = judged(cli, env, {"sample": 1000})
    d = details(out)
    g = d["judge"]
    assert g["sample_size"] == len(j.pairs) == g["pairs_available"] == d["compared_hits"] > 20
    wrong = sum(1 for _, ref, cand in j.pairs if ref != cand)
    assert 0 < wrong < len(j.pairs)
    assert g["judged_wrong"] == wrong == d["answers_differ"]
    assert g["judged_wrong_share"] == pytest.approx(wrong / len(j.pairs))
    low, high = wilson(wrong, len(j.pairs))
    assert (g["judged_wrong_low"], g["judged_wrong_high"]) == pytest.approx((low, high))
    by_model = {m["model"]: m for m in out["scenarios"][1]["by_model"]}
    calls = len(j.pairs)
    assert by_model["judge-model"]["requests"] == calls
    expected = Decimal(calls) * (Decimal(100) * 3 + Decimal(10) * 15) / 10**6
    assert abs(Decimal(str(by_model["judge-model"]["observed_cost_usd"])) - expected) <= Decimal("0.0000005")


def test_sample_is_seeded_and_reproducible(cli, env: Path) -> None:
    first, a = judged(cli, env, {"sample": 10, "seed": 7})
    again, b = judged(cli, env, {"sample": 10, "seed": 7})
    _, c = judged(cli, env, {"sample": 10, "seed": 8})
    assert len(a.pairs) == 10 and details(first)["judge"]["sample_size"] == 10
    assert sorted(a.pairs) == sorted(b.pairs)
    assert sorted(a.pairs) != sorted(c.pairs)
    assert details(first)["judge"] == details(again)["judge"]


def test_failing_judge_exits_2_and_writes_nothing(cli, env: Path) -> None:
    out = env / "out.json"
    with judge_server(fail=True) as j:
        result = run(cli, env, {"model": "judge-model", "base_url": j.url}, "-o", out)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "judge" in lines[0] and "Traceback" not in result.stderr
    assert not out.exists()


def test_unpriced_judge_leaves_the_scenario_incomplete(cli, env: Path) -> None:
    with judge_server() as j:
        result = run(cli, env, {"model": "judge-unknown", "base_url": j.url, "sample": 5})
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    sc = out["scenarios"][1]
    assert sc["complete"] is False and sc["savings_vs_baseline_usd"] is None  # never a $0 judge
    assert [(u["model"], u["requests"]) for u in sc["unpriced"]] == [("judge-unknown", 5)]


def test_no_judge_block_no_calls(cli, env: Path) -> None:
    with judge_server() as j:
        result = run(cli, env, None)
    assert result.exit_code == 0, result.stderr
    assert j.pairs == [] and "judge" not in details(json.loads(result.stdout))


def test_terminal_shows_the_judged_share_next_to_the_saving(cli, env: Path) -> None:
    with judge_server() as j, embeddings_server() as server:
        scen = scenario(env / "s.yaml", server.url, judge={"model": "judge-model", "base_url": j.url, "sample": 20})
        result = cli("estimate", env / "log.csv", "-c", env / "catalog.yaml", "-s", scen, "-f", "markdown")
    assert result.exit_code == 0, result.stderr
    assert "judged wrong" in result.stdout and "judge-model" in result.stdout


def test_judge_with_chunk_rows_exits_2_before_any_call(cli, env: Path) -> None:
    with judge_server() as j:
        result = run(cli, env, {"model": "judge-model", "base_url": j.url}, "--chunk-rows", "50")
    assert result.exit_code == 2
    assert "--chunk-rows" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert j.pairs == []


def test_missing_judge_key_exits_2_before_any_call(cli, env: Path) -> None:
    with judge_server() as j:
        result = run(cli, env, {"model": "judge-model", "base_url": j.url, "api_key_env": "JUDGE_API_KEY"})
    assert result.exit_code == 2
    assert "JUDGE_API_KEY" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert j.pairs == []


def test_sweep_footer_carries_the_judge(cli, env: Path) -> None:
    with judge_server() as j, embeddings_server() as server:
        scen = scenario(env / "s.yaml", server.url, sweep=[0.7, 0.9],
                        judge={"model": "judge-model", "base_url": j.url, "sample": 5})
        result = cli("estimate", env / "log.csv", "-c", env / "catalog.yaml", "-s", scen, "-f", "markdown")
    assert result.exit_code == 0, result.stderr
    assert "At 0.8, judge judge-model:" in result.stdout and "of 5 sampled hits judged wrong" in result.stdout


def test_catalog_judge_uses_its_endpoint_and_key(cli, env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUDGE_KEY", "sk-judge")
    with judge_server() as j:
        (env / "catalog.yaml").write_text(CATALOG.replace(
            "  - {id: judge-model, provider: acme, input_mtok: 3, output_mtok: 15}",
            "  - {id: judge-model, provider: acme, input_mtok: 3, output_mtok: 15, "
            f"endpoint: {{api: openai, base_url: '{j.url}', api_key_env: JUDGE_KEY}}}}"))
        result = run(cli, env, {"model": "judge-model", "sample": 4, "seed": 1})
    assert result.exit_code == 0, result.stderr
    g = details(json.loads(result.stdout))["judge"]
    assert (g["model"], g["sample_size"], len(j.pairs)) == ("judge-model", 4, 4)
