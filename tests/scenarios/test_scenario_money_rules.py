"""Scenario rules that used to give wrong money (issue 11), each checked through ``llmcost estimate``:
independent hash splits, unpriced scenario traffic, month-by-month growth, bucket long-context
warnings and rounded table rows."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

CATALOG = """\
source: "money-rule tests"
as_of: 2026-11-01
tiers: [economy, hot]
models:
  - {id: orig, provider: acme, tier: hot, input_mtok: 10, output_mtok: 20, batch_discount: 0.5}
  - {id: a, provider: acme, tier: economy, input_mtok: 1, output_mtok: 2, batch_discount: 0.5}
  - {id: b, provider: acme, tier: economy, input_mtok: 2, output_mtok: 4, batch_discount: 0.5}
  - {id: c, provider: acme, tier: economy, input_mtok: 3, output_mtok: 6, batch_discount: 0.5}
  - {id: nullp, provider: acme, tier: economy, input_mtok: null, output_mtok: 0.5}
  - id: longc
    provider: acme
    tier: hot
    input_mtok: 3
    output_mtok: 15
    long_context: {threshold_tokens: 200000, input_mtok: 6, output_mtok: 22.5}
"""
T0 = 1_794_000_000  # 2026-11-07, seconds since the epoch


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_log(path: Path, rows: list[dict[str, Any]]) -> Path:
    return write(path, "".join(json.dumps(r) + "\n" for r in rows))


def iso(seconds: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(T0 + seconds, UTC).isoformat().replace("+00:00", "Z")


def many_rows(n: int, **extra: Any) -> list[dict[str, Any]]:
    """``n`` requests on ``orig``, 1,000 in / 100 out, one every 7 seconds (no prompt_hash)."""
    return [{"timestamp": iso(7 * i), "model": "orig", "input_tokens": 1000, "output_tokens": 100, **extra}
            for i in range(n)]


def estimate_json(cli: Any, *args: Any) -> dict[str, Any]:
    result = cli("estimate", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def scenario(data: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in data["scenarios"] if s["name"] == name)
    return found


def requests_on(s: dict[str, Any], model: str) -> float:
    return float(sum(m["requests"] for m in s["by_model"] if m["model"] == model))


# --- 1. hash splits are independent --------------------------------------------------------------

SPLITS = """\
scenarios:
  - name: thirds
    routing:
      rules:
        - {when: {share: 0.5}, to: a}
        - {when: {share: 0.5}, to: b}
        - {to: c}
  - name: route-and-batch
    routing:
      rules:
        - {when: {share: 0.5}, to: a}
    batch: {share: 0.5}
"""


@pytest.mark.parametrize("prompt_hash", [False, True])
def test_share_rules_split_independently(cli: Any, tmp_path: Path, prompt_hash: bool) -> None:
    rows = many_rows(20_000)
    if prompt_hash:
        for i, r in enumerate(rows):
            r["prompt_hash"] = f"p{i}"
    log = write_log(tmp_path / "log.jsonl", rows)
    data = estimate_json(cli, log, "--catalog", write(tmp_path / "cat.yaml", CATALOG),
                         "--scenarios", write(tmp_path / "s.yaml", SPLITS))
    thirds = scenario(data, "thirds")
    shares = {m: requests_on(thirds, m) / 20_000 for m in ("a", "b", "c")}
    assert shares["a"] == pytest.approx(0.50, abs=0.02)
    assert shares["b"] == pytest.approx(0.25, abs=0.02)  # half of the remaining half (was 0%)
    assert shares["c"] == pytest.approx(0.25, abs=0.02)
    both = scenario(data, "route-and-batch")
    for model in ("a", "orig"):  # the batch half is drawn independently of the routed half
        row = next(m for m in both["by_model"] if m["model"] == model)
        assert row["requests"] == pytest.approx(10_000, abs=400)
        assert row["batch_requests"] / row["requests"] == pytest.approx(0.5, abs=0.02)


# --- 2. unpriced traffic in a scenario ----------------------------------------------------------

TO_NULL = """\
scenarios:
  - name: to-unpriced
    routing: {rules: [{to: nullp}]}
  - name: to-a
    routing: {rules: [{to: a}]}
"""


def unpriced_setup(tmp_path: Path) -> list[Path]:
    log = write_log(tmp_path / "log.jsonl", many_rows(100))
    return [log, "--catalog", write(tmp_path / "cat.yaml", CATALOG),  # type: ignore[list-item]
            "--scenarios", write(tmp_path / "s.yaml", TO_NULL)]


def test_a_route_to_an_unpriced_model_is_incomplete_not_savings(cli: Any, tmp_path: Path) -> None:
    args = unpriced_setup(tmp_path)
    data = estimate_json(cli, *args)
    bad = scenario(data, "to-unpriced")
    assert bad["complete"] is False
    assert bad["savings_vs_baseline_usd"] is None and bad["savings_vs_baseline_pct"] is None
    assert [(u["model"], u["requests"]) for u in bad["unpriced"]] == [("nullp", 100)]
    assert "input" in bad["unpriced"][0]["reason"]
    good = scenario(data, "to-a")
    assert good["complete"] is True and good["savings_vs_baseline_pct"] == pytest.approx(90.0)
    assert scenario(data, "baseline")["complete"] is True
    table = cli("estimate", *args)
    assert table.exit_code == 0
    line = next(x for x in table.stdout.splitlines() if "to-unpriced" in x)
    assert "100.0%" not in line and "n/a" in line and "to-unpriced *" in line  # marked, no savings
    footer = next(x for x in table.stdout.splitlines() if x.startswith("* Incomplete: to-unpriced"))
    assert "nullp" in footer and "100 requests" in footer and "input" in footer  # model, requests, why
    assert "to-unpriced" in table.stderr and "nullp" in table.stderr  # and a warning says so


def test_strict_fails_on_unpriced_scenario_traffic(cli: Any, tmp_path: Path) -> None:
    result = cli("estimate", *unpriced_setup(tmp_path), "--strict")
    assert result.exit_code == 2
    assert "to-unpriced" in result.stderr and "nullp" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_markdown_and_csv_show_no_savings_for_an_incomplete_scenario(cli: Any, tmp_path: Path) -> None:
    args = unpriced_setup(tmp_path)
    md = cli("estimate", *args, "--format", "markdown")
    line = next(x for x in md.stdout.splitlines() if x.startswith("| to-unpriced"))
    assert "n/a" in line and "100.0%" not in line


# --- 3. growth ----------------------------------------------------------------------------------

def month_by_month(daily: Decimal, days: int, growth: Decimal) -> Decimal:
    """Each 30-day month k = 1, 2, … of the projection carries (1 + g)^k of the observed daily volume;
    a final partial month counts pro rata."""
    total = Decimal(0)
    for k in range(1, days // 30 + 1):
        total += 30 * daily * (1 + growth) ** k
    if days % 30:
        total += (days % 30) * daily * (1 + growth) ** (days // 30 + 1)
    return total


def test_the_growth_definition_matches_the_issue_figures() -> None:
    """The issue: 5%/month over 365 days gave $7,880.94 (the last month's factor on every day) where
    month-by-month compounding gives $6,091.84. Every daily rate the old figure allows (it is rounded to
    the cent) maps to a range of month-by-month figures that must hold $6,091.84."""
    g, days = Decimal("0.05"), 365
    old_factor = days * (1 + g) ** (Decimal(days) / 30)
    low, high = Decimal("7880.935") / old_factor, Decimal("7880.945") / old_factor
    new_low, new_high = month_by_month(low, days, g), month_by_month(high, days, g)
    assert new_low < Decimal("6091.845") and new_high > Decimal("6091.835")
    assert (new_high - new_low) < Decimal("0.01")  # tight enough to tell definitions apart


GROWTH = """\
scenarios:
  - name: grow
    monthly_growth: 0.05
  - name: grow-and-route
    monthly_growth: 0.05
    routing: {rules: [{to: a}]}
"""


def test_growth_compounds_month_by_month_and_savings_compare_equal_volume(cli: Any, tmp_path: Path) -> None:
    # Two requests one day apart on orig: 2 × (1000 × $10 + 100 × $20) / 1M = $0.024 observed per day.
    log = write_log(tmp_path / "log.jsonl", [
        {"timestamp": iso(0), "model": "orig", "input_tokens": 1000, "output_tokens": 100},
        {"timestamp": iso(86400), "model": "orig", "input_tokens": 1000, "output_tokens": 100}])
    data = estimate_json(cli, log, "--catalog", write(tmp_path / "cat.yaml", CATALOG),
                         "--scenarios", write(tmp_path / "s.yaml", GROWTH), "--days", "365")
    daily = Decimal("0.024")
    grow = scenario(data, "grow")
    expected = month_by_month(daily, 365, Decimal("0.05"))
    assert Decimal(str(grow["monthly_cost_with_growth_usd"])) == expected.quantize(Decimal("0.000001"))
    assert grow["monthly_cost_usd"] == pytest.approx(float(daily * 365))  # equal volume
    assert grow["savings_vs_baseline_usd"] == 0 and grow["savings_vs_baseline_pct"] == 0
    routed = scenario(data, "grow-and-route")
    assert routed["savings_vs_baseline_pct"] == pytest.approx(90.0)  # not negative: equal volume
    assert scenario(data, "baseline")["monthly_cost_with_growth_usd"] == pytest.approx(float(daily * 365))
    table = cli("estimate", log, "--catalog", tmp_path / "cat.yaml", "--scenarios", tmp_path / "s.yaml",
                "--days", "365")
    assert "With growth" in table.stdout
    line = next(x for x in table.stdout.splitlines() if x.startswith("│ grow "))
    assert f"${expected.quantize(Decimal('0.01'))}" in line


def test_thirty_days_of_growth_is_one_month_of_it(cli: Any, tmp_path: Path) -> None:
    log = write_log(tmp_path / "log.jsonl", many_rows(2))
    data = estimate_json(cli, log, "--catalog", write(tmp_path / "cat.yaml", CATALOG),
                         "--scenarios", write(tmp_path / "s.yaml", GROWTH), "--window-days", "1")
    grow = scenario(data, "grow")
    assert grow["monthly_cost_with_growth_usd"] == pytest.approx(grow["monthly_cost_usd"] * 1.05)


# --- 4. usage buckets and long-context tiers ------------------------------------------------------

@pytest.mark.parametrize("chunks", [[], ["--chunk-rows", "3"]])
def test_buckets_on_a_long_context_model_warn_once(cli: Any, tmp_path: Path, chunks: list[str]) -> None:
    rows = [{"timestamp": iso(3600 * i), "model": model, "input_tokens": 300_000, "output_tokens": 10,
             "weight": 3 if i else 1} for i in range(4) for model in ("longc", "orig")]  # buckets from chunk 2 on
    log = write_log(tmp_path / "log.jsonl", rows)
    cat = write(tmp_path / "cat.yaml", CATALOG)
    result = cli("estimate", log, "--catalog", cat, "--format", "json", *chunks)
    assert result.exit_code == 0
    notes = [x for x in result.stderr.splitlines() if "average" in x]
    assert len(notes) == 1 and "longc" in notes[0] and "orig" not in notes[0]
    assert any("longc" in w for w in json.loads(result.stdout)["warnings"])
    single = write_log(tmp_path / "single.jsonl", [{**r, "weight": 1} for r in rows])
    quiet = cli("estimate", single, "--catalog", cat, "--format", "json")
    assert "average" not in quiet.stderr and json.loads(quiet.stdout)["warnings"] == []


# --- 5. rounded rows and exact totals ---------------------------------------------------------------

def twelve_models(tmp_path: Path, tokens: int) -> list[Any]:
    models = "".join(f"  - {{id: m{i}, provider: acme, input_mtok: 1, output_mtok: 1}}\n" for i in range(12))
    cat = write(tmp_path / "twelve.yaml", f"source: twelve\nas_of: 2026-11-01\nmodels:\n{models}")
    rows = [{"timestamp": iso(60 * i), "model": f"m{i}", "input_tokens": tokens, "output_tokens": 0}
            for i in range(12)]
    log = write_log(tmp_path / f"log{tokens}.jsonl", rows)
    return [log, "--catalog", cat, "--baseline-only", "--window-days", "30", "--days", "30"]


def test_rounded_rows_that_do_not_add_up_say_so(cli: Any, tmp_path: Path) -> None:
    result = cli("estimate", *twelve_models(tmp_path, 1_004_400))  # 12 × $1.0044 = $12.0528
    assert result.exit_code == 0
    assert "$12.05" in result.stdout and "$1.00 " in result.stdout
    assert "rounded" in result.stdout and "exact" in result.stdout
    even = cli("estimate", *twelve_models(tmp_path, 1_000_000))  # 12 × $1.00: nothing to explain
    assert "$12.00" in even.stdout and "rounded" not in even.stdout


# --- the same rules as `llmcost check` sees them ---------------------------------------------------

def test_check_fails_a_savings_rule_on_an_incomplete_scenario(cli: Any, tmp_path: Path) -> None:
    unpriced_setup(tmp_path)
    policy = write(tmp_path / "policy.yaml", """\
version: 1
inputs: {logs: [log.jsonl], catalog: cat.yaml, scenarios: s.yaml, window_days: 1}
rules:
  - {name: unpriced-route-pays, kind: scenario_savings, scenario: to-unpriced, min_pct: 10}
  - {name: cheap-route-pays, kind: scenario_savings, scenario: to-a, min_pct: 10}
""")
    result = cli("check", "--policy", policy, "--format", "json")
    assert result.exit_code == 1, result.stderr  # was a pass: "saves 100%"
    verdicts = {v["rule"]: v for v in json.loads(result.stdout)["verdicts"]}
    assert verdicts["unpriced-route-pays"]["status"] == "fail"
    assert verdicts["cheap-route-pays"]["status"] == "pass"


def test_check_judges_spend_on_the_projected_bill_with_growth(cli: Any, tmp_path: Path) -> None:
    write_log(tmp_path / "log.jsonl", many_rows(2))  # $0.024 a day on orig
    write(tmp_path / "cat.yaml", CATALOG)
    write(tmp_path / "s.yaml", "scenarios:\n  - {name: baseline, monthly_growth: 0.1}\n")
    policy = write(tmp_path / "policy.yaml", """\
version: 1
inputs: {logs: [log.jsonl], catalog: cat.yaml, scenarios: s.yaml, window_days: 1}
rules:
  - {name: total, kind: monthly_spend, max_usd: 0.75}
""")
    result = cli("check", "--policy", policy, "--format", "json")
    data = json.loads(result.stdout)
    assert data["monthly_cost_usd"] == pytest.approx(0.792)  # 30 days × $0.024 × 1.1
    assert result.exit_code == 1  # $0.72 at the observed volume would pass


def test_savings_compare_what_both_price(cli: Any, tmp_path: Path) -> None:
    """The baseline's own unknown model stays out of every total alike: savings still compare. A scenario
    that prices traffic the baseline leaves unpriced covers other traffic: no savings figure."""
    rows = many_rows(10) + [{**r, "model": "mystery-9000"} for r in many_rows(3)]
    rows += [{**r, "model": "nullp"} for r in many_rows(4)]
    log = write_log(tmp_path / "log.jsonl", rows)
    scenarios = write(tmp_path / "s.yaml", """\
scenarios:
  - {name: only-orig, routing: {rules: [{when: {model: orig}, to: a}]}}
  - {name: all-to-a, routing: {rules: [{to: a}]}}
""")
    data = estimate_json(cli, log, "--catalog", write(tmp_path / "cat.yaml", CATALOG), "--scenarios", scenarios)
    only = scenario(data, "only-orig")
    assert only["complete"] is False  # mystery-9000 and nullp are unpriced here as in the baseline
    assert only["savings_vs_baseline_pct"] == pytest.approx(90.0)
    moved = scenario(data, "all-to-a")
    assert [u["model"] for u in moved["unpriced"]] == ["mystery-9000"]  # unknown models are never rerouted
    assert moved["savings_vs_baseline_pct"] is None  # it prices nullp's 4 requests, the baseline does not
