"""``llmcost bench`` end to end against a real HTTP server on 127.0.0.1 speaking OpenAI and Anthropic SSE."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from bench_fake_llm import Behavior, closed_port_url, serve

from llmcost.bench.summary import load_bench_summary

Cli = Callable[..., Any]

SECRET = "sk-llmcost-SENTINEL-7f3a9c2e"
SUITE = {
    "name": "e2e",
    "prompts": [
        {"id": "capital", "task": "qa", "prompt": "What is the capital of France?", "max_tokens": 50,
         "assert": [{"icontains": "paris"}]},
        {"id": "sum", "task": "math", "prompt": "What is two plus two?", "max_tokens": 10,
         "assert": [{"number": {"value": 4}}]},
    ],
}


def model_entry(mid: str, url: str, *, api: str = "openai", key_env: str | None = "BENCH_TEST_KEY",
                input_mtok: float = 1, output_mtok: float = 2) -> dict[str, Any]:
    endpoint: dict[str, Any] = {"base_url": url + ("/v1" if api == "openai" else ""), "api": api}
    if key_env:
        endpoint["api_key_env"] = key_env
    return {"id": mid, "provider": api, "input_mtok": input_mtok, "output_mtok": output_mtok, "endpoint": endpoint}


@pytest.fixture
def write_catalog(tmp_path: Path) -> Callable[[list[dict[str, Any]]], Path]:
    def write(models: list[dict[str, Any]]) -> Path:
        path = tmp_path / "catalog.yaml"
        path.write_text(yaml.safe_dump({"source": "test", "as_of": "2026-11-01", "models": models}))
        return path

    return write


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(SUITE, sort_keys=False))
    return path


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BENCH_TEST_KEY", SECRET)
    return SECRET


def smart(prompt: str) -> str:
    return "The answer is 4." if "two plus two" in prompt else "Paris is the capital of France."


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def within(measured: float, injected: float) -> bool:
    return abs(measured - injected) <= max(0.10 * injected, 20.0)


def test_streaming_timing_tokens_and_cost_both_apis(cli: Cli, write_catalog: Any, suite_file: Path, key: str,
                                                    tmp_path: Path) -> None:
    """Injected delays come back in the measurements. The server schedules each token relative to the
    request's arrival, so a measured TTFT can never be below the injected one; the p50 over 6 requests per
    model must be within 10 % or 20 ms of it (the median keeps a busy machine's scheduler hiccups out)."""
    behaviors = {"oa": Behavior(reply=smart, ttft_s=0.12, itl_s=0.03, cost=0.00002),
                 "an": Behavior(reply=smart, ttft_s=0.08, itl_s=0.02, cached_tokens=2)}
    with serve(behaviors) as fake:
        catalog = write_catalog([model_entry("oa", fake.url),
                                 model_entry("an", fake.url, api="anthropic", input_mtok=3, output_mtok=15)])
        results = tmp_path / "r.jsonl"
        out = cli("bench", suite_file, "--catalog", catalog, "--models", "oa,an", "--format", "json",
                  "--results", results, "--concurrency", "2", "-n", "3")
    assert out.exit_code == 0, out.stderr
    assert sorted(fake.auth) == sorted([f"Bearer {SECRET}"] * 6 + [SECRET] * 6)
    rows = {(r["model"], r["prompt_id"], r["repetition"]): r for r in records(results)}
    assert len(rows) == 12
    injected = {"oa": (120.0, 30.0), "an": (80.0, 20.0)}
    for (model, _, _), r in rows.items():
        ttft, itl = injected[model]
        assert r["ok"] and r["usage_source"] == "api" and r["passed"] is True
        assert r["ttft_ms"] >= ttft and r["latency_ms"] > r["ttft_ms"]
        assert r["itl_ms"] > 0 and r["tpot_ms"] > 0  # one token per event here: ITL and TPOT agree (below)
    summary = json.loads(out.stdout)
    for m in summary["models"]:
        ttft, itl = injected[m["model"]]
        assert within(m["ttft_ms"]["p50"], ttft), m["ttft_ms"]
        assert abs(m["itl_ms"]["p50"] - itl) <= max(0.10 * itl, 10.0), m["itl_ms"]
        assert abs(m["tpot_ms"]["p50"] - itl) <= max(0.10 * itl, 10.0), m["tpot_ms"]
    capital = rows[("oa", "capital", 0)]
    assert (capital["input_tokens"], capital["output_tokens"]) == (6, 6)
    assert Decimal(capital["cost_usd"]) == Decimal("0.000018")  # 6 × $1/M + 6 × $2/M
    assert capital["provider_cost_usd"] == "0.00002"
    an = rows[("an", "sum", 2)]  # Anthropic: 3 uncached + 2 cached input (cache read billed at input rate), 4 output
    assert (an["input_tokens"], an["cache_read_tokens"], an["output_tokens"]) == (5, 2, 4)
    assert Decimal(an["cost_usd"]) == Decimal("0.000075")  # 5 × $3/M + 4 × $15/M
    oa = summary["models"][0]
    assert (oa["model"], oa["requests"], oa["errors"], oa["quality_pass_rate"]) == ("oa", 6, 0, 1.0)
    assert oa["cost_usd"] == 0.000093 and oa["cost_per_request_usd"] == 0.0000155
    assert oa["provider_cost_usd"] == 0.00012
    assert [t["task"] for t in oa["by_task"]] == ["math", "qa"]
    assert summary["recommendation"][0] == {
        "task": None, "model": "oa",
        "reason": "cheapest with a successful request (no gates given) ($0.0000155/request)"}
    assert SECRET not in out.stdout + out.stderr + results.read_text()


def test_json_output_file_round_trips_through_load_bench_summary(cli: Cli, write_catalog: Any, suite_file: Path,
                                                                 key: str, tmp_path: Path) -> None:
    with serve({"oa": Behavior(reply=smart)}) as fake:
        catalog = write_catalog([model_entry("oa", fake.url)])
        target = tmp_path / "bench.json"
        out = cli("bench", suite_file, "-c", catalog, "--models", "oa", "-n", "2", "-f", "json", "-o", target,
                  "--slo-ttft-ms", "1000")
    assert out.exit_code == 0 and out.stdout == ""
    loaded = load_bench_summary(target)
    m = loaded.model("oa")
    assert loaded.suite == "e2e" and m is not None
    assert (m.requests, m.errors, m.quality_pass_rate, m.goodput) == (4, 0, 1.0, 1.0)
    assert m.cost_per_request_usd == 0.0000155 and m.cost_per_1k_usd == 0.0155
    assert m.pass_rate("qa") == 1.0 and m.ttft_ms.p50 is not None
    assert loaded.recommendation[0]["model"] == "oa"


def test_retries_honour_retry_after_and_back_off(cli: Cli, write_catalog: Any, suite_file: Path, key: str,
                                                 tmp_path: Path) -> None:
    behaviors = {"limited": Behavior(reply=smart, fail_first=1, fail_status=429, retry_after="0.2"),
                 "flaky": Behavior(reply=smart, fail_first=2, fail_status=500),
                 "broken": Behavior(reply=smart, fail_first=99, fail_status=503)}
    with serve(behaviors) as fake:
        catalog = write_catalog([model_entry(m, fake.url) for m in behaviors])
        results = tmp_path / "r.jsonl"
        out = cli("bench", suite_file, "-c", catalog, "--models", "limited,flaky,broken", "--retries", "2",
                  "--backoff", "0.02", "--results", results, "-f", "json", "--concurrency", "1")
    assert out.exit_code == 0, out.stderr
    rows = {(r["model"], r["prompt_id"]): r for r in records(results)}
    assert rows[("limited", "capital")]["attempts"] == 2 and rows[("limited", "sum")]["attempts"] == 1
    assert rows[("flaky", "capital")]["attempts"] == 3 and rows[("flaky", "capital")]["ok"]
    broken = rows[("broken", "capital")]
    assert (broken["ok"], broken["error_type"], broken["attempts"]) == (False, "http_503", 3)
    assert broken["error"] == "http_503: HTTP 503: injected 503"
    assert fake.seen == {"limited": 3, "flaky": 4, "broken": 6}
    summary = {m["model"]: m for m in json.loads(out.stdout)["models"]}
    assert summary["broken"]["errors_by_type"] == {"http_503": 2}
    assert summary["broken"]["quality_pass_rate"] == 0.0


def test_every_failure_is_recorded_and_the_run_finishes(cli: Cli, write_catalog: Any, suite_file: Path, key: str,
                                                        tmp_path: Path) -> None:
    behaviors = {"slow": Behavior(mode="hang", hang_s=1.0), "drop": Behavior(mode="drop", reply=smart),
                 "garbled": Behavior(mode="malformed", reply=smart), "reset": Behavior(mode="reset")}
    with serve(behaviors) as fake:
        catalog = write_catalog([*(model_entry(m, fake.url) for m in behaviors),
                                 model_entry("down", closed_port_url())])
        results = tmp_path / "r.jsonl"
        out = cli("bench", suite_file, "-c", catalog, "--models", "slow,drop,garbled,reset,down", "--retries", "0",
                  "--timeout", "0.5", "--results", results, "-f", "json", "--concurrency", "10")
    assert out.exit_code == 0, out.stderr
    got = {m["model"]: m["errors_by_type"] for m in json.loads(out.stdout)["models"]}
    assert got == {"slow": {"timeout": 2}, "drop": {"incomplete_stream": 2}, "garbled": {"malformed_chunk": 2},
                   "reset": {"connection": 2}, "down": {"connection": 2}}
    lines = records(results)
    assert len(lines) == 10 and not any(r["ok"] for r in lines)
    assert all(r["error"] for r in lines)
    assert "Traceback" not in out.stderr and SECRET not in out.stdout + out.stderr + results.read_text()


def test_missing_usage_falls_back_to_counted_tokens(cli: Cli, write_catalog: Any, suite_file: Path, key: str,
                                                    tmp_path: Path) -> None:
    with serve({"nousage": Behavior(reply=smart, usage=False)}) as fake:
        catalog = write_catalog([model_entry("nousage", fake.url)])
        results = tmp_path / "r.jsonl"
        out = cli("bench", suite_file, "-c", catalog, "--models", "nousage", "--results", results)
    assert out.exit_code == 0, out.stderr
    rows = {r["prompt_id"]: r for r in records(results)}
    capital = rows["capital"]
    assert capital["usage_source"] == "estimated (tiktoken)"
    assert capital["output_tokens"] == 7  # o200k_base: "Paris is the capital of France."
    assert capital["input_tokens"] == 7 + 3 + 3  # prompt text + per-message and priming overhead
    assert "2 response(s) had no usage" in out.stdout


def test_sentinel_key_never_leaks(cli: Cli, write_catalog: Any, suite_file: Path, key: str, tmp_path: Path) -> None:
    with serve({"echo": Behavior(mode="error_echo"), "ok": Behavior(reply=smart)}) as fake:
        catalog = write_catalog([model_entry("echo", fake.url), model_entry("ok", fake.url, api="anthropic"),
                                 model_entry("down", closed_port_url())])
        results, summary = tmp_path / "r.jsonl", tmp_path / "s.md"
        out = cli("bench", suite_file, "-c", catalog, "--models", "echo,ok,down", "--retries", "1", "--backoff",
                  "0.01", "--results", results, "-f", "markdown", "-o", summary)
    assert out.exit_code == 0, out.stderr
    assert SECRET in fake.auth[0]  # the server did receive it ...
    for text in (out.stdout, out.stderr, results.read_text(), summary.read_text()):
        assert SECRET not in text  # ... and it appears nowhere we write
    echo = [r for r in records(results) if r["model"] == "echo"]
    assert echo[0]["error"] == "http_401: HTTP 401: invalid key Bearer [REDACTED]"


def test_missing_key_is_exit_2_before_any_request(cli: Cli, write_catalog: Any, suite_file: Path) -> None:
    with serve({}) as fake:
        catalog = write_catalog([model_entry("oa", fake.url), model_entry("free", fake.url, key_env=None)])
        out = cli("bench", suite_file, "-c", catalog, "--models", "free,oa")
    assert out.exit_code == 2
    assert out.stderr.strip() == ("llmcost: error: API key not set: environment variable BENCH_TEST_KEY (for oa) "
                                  "is empty or missing")
    assert sum(fake.seen.values()) == 0


def test_dry_run_sends_nothing_and_projects_cost(cli: Cli, write_catalog: Any, suite_file: Path, key: str) -> None:
    with serve({}) as fake:
        catalog = write_catalog([model_entry("oa", fake.url)])
        out = cli("bench", suite_file, "-c", catalog, "--models", "oa", "-n", "3", "--dry-run", "-f", "json")
    assert out.exit_code == 0 and sum(fake.seen.values()) == 0
    plan = json.loads(out.stdout)
    # prompt tokens (o200k_base + 3 per message + 3 priming): capital 7+6 = 13, sum 6+6 = 12
    assert plan["requests"] == 6 and plan["models"][0]["prompt_tokens"] == 3 * (13 + 12)
    assert plan["models"][0]["max_output_tokens"] == 3 * (50 + 10)
    assert plan["projected_cost_usd"] == 0.000435  # (75 × $1 + 180 × $2) / 1M
    text = cli("bench", suite_file, "-c", catalog, "--models", "oa", "--dry-run")
    assert "Dry run: no request sent." in text.stdout and " $0.000145\n" in text.stdout


def test_max_cost_stops_before_the_cap(cli: Cli, write_catalog: Any, suite_file: Path, key: str) -> None:
    with serve({"oa": Behavior(reply=smart)}) as fake:
        catalog = write_catalog([model_entry("oa", fake.url)])
        # projected per request: capital 13 + 100 = $0.000113, sum 12 + 20 = $0.000032 (actual is lower)
        out = cli("bench", suite_file, "-c", catalog, "--models", "oa", "-n", "3", "--max-cost", "0.00015",
                  "--concurrency", "1", "-f", "json")
    summary = json.loads(out.stdout)
    assert out.exit_code == 0 and fake.seen["oa"] == summary["models"][0]["requests"] < 6
    assert summary["not_run"] == {"max_cost": 6 - fake.seen["oa"]}
    assert summary["models"][0]["cost_usd"] <= 0.00015


def test_resume_skips_finished_requests(cli: Cli, write_catalog: Any, suite_file: Path, key: str,
                                        tmp_path: Path) -> None:
    results = tmp_path / "r.jsonl"
    with serve({"oa": Behavior(reply=smart)}) as fake:
        catalog = write_catalog([model_entry("oa", fake.url)])
        first = cli("bench", suite_file, "-c", catalog, "--models", "oa", "--results", results)
        assert first.exit_code == 0 and fake.seen["oa"] == 2
        again = cli("bench", suite_file, "-c", catalog, "--models", "oa", "-n", "2", "--results", results,
                    "--resume", "-f", "json")
    assert again.exit_code == 0 and fake.seen["oa"] == 4  # only repetition 1 was sent
    assert json.loads(again.stdout)["models"][0]["requests"] == 4
    assert len(records(results)) == 4
    fewer = cli("bench", suite_file, "-c", catalog, "--models", "oa", "-n", "1", "--results", results,
                "--resume", "-f", "json", "--dry-run")
    assert json.loads(fewer.stdout)["requests"] == 0 and json.loads(fewer.stdout)["already_done"] == 2


def test_min_quality_gate_exit_codes(cli: Cli, write_catalog: Any, suite_file: Path, key: str) -> None:
    with serve({"wrong": Behavior(reply="London."), "right": Behavior(reply=smart)}) as fake:
        catalog = write_catalog([model_entry("wrong", fake.url, input_mtok=0.1, output_mtok=0.1),
                                 model_entry("right", fake.url)])
        ok = cli("bench", suite_file, "-c", catalog, "--models", "wrong,right", "--min-quality", "0.9")
        bad = cli("bench", suite_file, "-c", catalog, "--models", "wrong", "--min-quality", "0.9")
    assert ok.exit_code == 0 and "all prompts: right — cheapest meeting quality ≥ 90%" in ok.stdout
    assert bad.exit_code == 1
    assert "no model meets quality ≥ 90% (wrong: quality 0%)" in bad.stderr


def test_non_streaming_and_adhoc_endpoint(cli: Cli, write_catalog: Any, suite_file: Path, tmp_path: Path) -> None:
    with serve({"local-model": Behavior(reply=smart, ttft_s=0.05), "oa": Behavior(reply=smart)}) as fake:
        catalog = write_catalog([model_entry("oa", fake.url, key_env=None)])
        results = tmp_path / "r.jsonl"
        out = cli("bench", suite_file, "-c", catalog, "--endpoint", fake.url + "/v1", "--model", "local-model",
                  "--no-stream", "--results", results, "-f", "json")
        priced = cli("bench", suite_file, "-c", catalog, "--endpoint", fake.url + "/v1", "--model", "oa", "-f",
                     "json")
    assert out.exit_code == 0, out.stderr
    rows = records(results)
    assert all(r["ttft_ms"] is None and r["latency_ms"] >= 50 and r["streamed"] is False for r in rows)
    m = json.loads(out.stdout)["models"][0]
    assert (m["model"], m["cost_usd"], m["quality_pass_rate"]) == ("local-model", None, 1.0)
    assert json.loads(priced.stdout)["models"][0]["cost_usd"] == 0.000031


def test_reasoning_delta_starts_ttft(cli: Cli, write_catalog: Any, suite_file: Path, key: str,
                                     tmp_path: Path) -> None:
    """The first reasoning delta arrives at 60 ms, the first text delta at 60 + 3 × 40 = 180 ms."""
    with serve({"thinker": Behavior(reply=smart, reasoning="let me think", ttft_s=0.06, itl_s=0.04)}) as fake:
        catalog = write_catalog([model_entry("thinker", fake.url)])
        results = tmp_path / "r.jsonl"
        out = cli("bench", suite_file, "-c", catalog, "--models", "thinker", "--results", results)
    assert out.exit_code == 0
    rows = {r["prompt_id"]: r for r in records(results)}
    assert all(60.0 <= r["ttft_ms"] < 120.0 for r in rows.values()), [r["ttft_ms"] for r in rows.values()]
    capital = rows["capital"]
    assert (capital["reasoning_tokens"], capital["output_tokens"]) == (3, 9)  # 3 reasoning + 6 text tokens
    assert capital["output"] == "Paris is the capital of France."


def test_usage_errors(cli: Cli, write_catalog: Any, suite_file: Path, tmp_path: Path) -> None:
    catalog = write_catalog([{"id": "nope", "provider": "x", "input_mtok": 1, "output_mtok": 1}])
    cases = [
        (["--models", "nope"], "'nope' has no 'endpoint' in the catalog"),
        (["--models", "ghost"], "--models: 'ghost' is not in the catalog"),
        (["--endpoint", "http://127.0.0.1:9"], "--endpoint goes with --model NAME or --models a,b"),
        (["--resume"], "--resume needs --results FILE"),
        ([], "no models to bench"),
    ]
    for args, message in cases:
        out = cli("bench", suite_file, "-c", catalog, *args)
        assert out.exit_code == 2 and message in out.stderr, (args, out.stderr)
        assert "Traceback" not in out.stderr
    bad_suite = tmp_path / "bad.yaml"
    bad_suite.write_text("prompts:\n  - prompt: hi\n    asert: []\n")
    out = cli("bench", bad_suite, "-c", catalog, "--models", "nope")
    assert out.exit_code == 2 and "bad.yaml: field 'prompts[0].asert': unknown field" in out.stderr


def test_judge_rubric_scores_answers(cli: Cli, write_catalog: Any, tmp_path: Path, key: str) -> None:
    suite = tmp_path / "judged.yaml"
    suite.write_text("judge: {model: judge, min_score: 4}\n"
                     "prompts:\n  - {id: poem, prompt: Write a haiku about rain., rubric: 'Is a haiku about rain.'}\n")
    behaviors = {"poet": Behavior(reply="Soft rain on the roof"), "judge": Behavior(reply="Good.\nSCORE: 5")}
    with serve(behaviors) as fake:
        catalog = write_catalog([model_entry("poet", fake.url), model_entry("judge", fake.url)])
        results = tmp_path / "r.jsonl"
        out = cli("bench", suite, "-c", catalog, "--models", "poet", "--results", results, "-f", "json")
    assert out.exit_code == 0, out.stderr
    row = records(results)[0]
    assert (row["judge_score"], row["passed"], row["checks"]) == (5, True, [
        {"kind": "judge", "passed": True, "detail": "score 5"}])
    judged = next(b for b in fake.bodies if b["model"] == "judge")
    assert "Is a haiku about rain." in judged["messages"][0]["content"] and "stream" not in judged
    assert json.loads(out.stdout)["models"][0]["quality_pass_rate"] == 1.0


def test_table_and_markdown_views(cli: Cli, write_catalog: Any, suite_file: Path, key: str) -> None:
    from llmcost.report.bench_view import COLUMNS, render_markdown, summary_rows

    with serve({"oa": Behavior(reply=smart), "bad": Behavior(fail_first=9, fail_status=500)}) as fake:
        catalog = write_catalog([model_entry("oa", fake.url), model_entry("bad", fake.url)])
        out = cli("bench", suite_file, "-c", catalog, "--models", "oa,bad", "--retries", "0", "-f", "json")
        table = cli("bench", suite_file, "-c", catalog, "--models", "oa,bad", "--retries", "0")
    summary = json.loads(out.stdout)
    rows = summary_rows(summary)
    assert rows[0][:6] == ["oa", "2", "0", "100%", "$0.0000155", "$0.0155"]
    assert rows[1][:6] == ["bad", "2", "2 (http_500 2)", "0%", "no success", "no success"]
    assert len(rows[0]) == len(COLUMNS) - 1  # no response reported its own cost: no "Provider $/req" column
    md = render_markdown(summary).splitlines()
    assert md[2] == "| " + " | ".join(c for c in COLUMNS if c != "Provider $/req") + " |"
    assert md[4].startswith("| oa | 2 | 0 | 100% |")
    assert "- all prompts: oa — cheapest with a successful request (no gates given) ($0.0000155/request)" in md
    assert "Bench: e2e" in table.stdout and "all prompts: oa" in table.stdout


def test_deadline_and_rate_through_the_cli(cli: Cli, write_catalog: Any, suite_file: Path, key: str,
                                           tmp_path: Path) -> None:
    with serve({"slow": Behavior(mode="hang", hang_s=1.0, reply=smart)}) as fake:
        catalog = write_catalog([model_entry("slow", fake.url)])
        results = tmp_path / "r.jsonl"
        out = cli("bench", suite_file, "-c", catalog, "--models", "slow", "-n", "3", "--concurrency", "2",
                  "--rate", "20", "--arrivals", "poisson", "--seed", "3", "--deadline", "0.3",
                  "--results", results, "-f", "json")
    assert out.exit_code == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["models"][0]["errors_by_type"] == {"deadline": 2}
    assert summary["not_run"] == {"deadline": 4}
    assert [r["error_type"] for r in records(results)] == ["deadline", "deadline"]
