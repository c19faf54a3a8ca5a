"""``llmcost diff``: estimate vs estimate (added/removed models, exact $ and %), bench vs bench, errors."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from check_support import CATALOG, SCENARIOS

from llmcost.diff import Change, diff_files


def _bench(path: Path, models: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"kind": "bench", "schema_version": 1, "suite": "s", "models": models}))
    return path


def test_estimate_diff_added_and_removed_models(baseline_json: Path, head_json: Path) -> None:
    d = diff_files(baseline_json, head_json)
    assert not isinstance(d, Exception)
    scenario = d.scenario("baseline")  # type: ignore[union-attr]
    assert scenario is not None
    assert scenario.total == Change("baseline", Decimal("102.0"), Decimal("153.0"))
    assert scenario.total.delta == Decimal(51) and scenario.total.pct == Decimal(50)
    by_name = {m.name: m for m in scenario.models}
    assert (by_name["small"].status, by_name["small"].delta) == ("added", Decimal(81))
    assert (by_name["old"].status, by_name["old"].delta) == ("removed", Decimal(-30))
    assert (by_name["big"].status, by_name["big"].delta) == ("unchanged", Decimal(0))
    assert by_name["small"].pct is None


def test_diff_json(cli: Any, baseline_json: Path, head_json: Path) -> None:
    result = cli("diff", baseline_json, head_json, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["kind"], data["of"], data["projection_days"]) == ("diff", "estimate", 30)
    s = data["scenarios"][0]
    assert (s["name"], s["before_usd"], s["after_usd"], s["change_usd"], s["change_pct"]) == \
        ("baseline", 102.0, 153.0, 51.0, 50.0)
    assert s["added_models"] == ["small"] and s["removed_models"] == ["old"]
    assert s["models"][0] == {"name": "small", "status": "added", "before_usd": None, "after_usd": 81.0,
                              "change_usd": 81.0, "change_pct": None}


def test_diff_table_and_markdown(cli: Any, baseline_json: Path, head_json: Path, tmp_path: Path) -> None:
    table = cli("diff", baseline_json, head_json)
    assert table.exit_code == 0
    rows = {line.split("│")[1].strip(): line for line in table.stdout.splitlines() if line.startswith("│")}
    assert "added" in rows["small"] and "+$81.00" in rows["small"]
    assert "removed" in rows["old"] and "-$30.00" in rows["old"]
    assert "$102.00" in rows["Total"] and "+$51.00" in rows["Total"] and "+50.0%" in rows["Total"]
    out = tmp_path / "diff.md"
    md = cli("diff", baseline_json, head_json, "--format", "markdown", "--output", out)
    assert md.exit_code == 0 and md.stdout == ""
    text = out.read_text()
    assert "| baseline | $102.00 | $153.00 | +$51.00 | +50.0% |" in text
    assert "| small | — | $81.00 | +$81.00 | added |" in text
    assert "| old | $30.00 | — | -$30.00 | removed |" in text


def test_diff_added_scenario(cli: Any, baseline_json: Path, tmp_path: Path) -> None:
    from check_support import HEAD

    head = tmp_path / "with-scenarios.json"
    made = cli("estimate", HEAD, "--catalog", CATALOG, "--scenarios", SCENARIOS, "-f", "json", "-o", head)
    assert made.exit_code == 0, made.stderr
    data = json.loads(cli("diff", baseline_json, head, "-f", "json").stdout)
    names = [(s["name"], s["status"], s["after_usd"]) for s in data["scenarios"]]
    assert names == [("baseline", "changed", 153.0), ("chat-to-small", "added", 90.6)]


def test_bench_diff(cli: Any, tmp_path: Path) -> None:
    base = _bench(tmp_path / "a.json", [
        {"model": "small", "requests": 10, "quality_pass_rate": 0.9, "cost_per_1k_usd": 0.5, "error_rate": 0.1,
         "latency_ms": {"p95": 1500.0}, "ttft_ms": {"p95": 300.0}},
        {"model": "old", "requests": 10, "quality_pass_rate": 0.5},
    ])
    head = _bench(tmp_path / "b.json", [
        {"model": "small", "requests": 10, "quality_pass_rate": 0.95, "cost_per_1k_usd": 0.25, "error_rate": 0.0,
         "latency_ms": {"p95": 1200.0}, "ttft_ms": {"p95": 350.0}},
        {"model": "big", "requests": 10, "quality_pass_rate": 1.0},
    ])
    data = json.loads(cli("diff", base, head, "--format", "json").stdout)
    assert data["of"] == "bench"
    models = {m["model"]: m for m in data["models"]}
    assert [m["status"] for m in data["models"]] == ["changed", "removed", "added"]
    small = models["small"]
    assert small["quality_pass_rate"]["change"] == 0.95 - 0.9
    assert small["p95_latency_ms"] == {"before": 1500.0, "after": 1200.0, "change": -300.0}
    assert small["p95_ttft_ms"]["change"] == 50.0
    assert small["cost_per_1k_usd"]["change"] == -0.25
    table = cli("diff", base, head)
    assert table.exit_code == 0
    small_row = next(line for line in table.stdout.splitlines() if "small" in line)
    assert "1,500 ms → 1,200 ms" in small_row and "90.0% → 95.0%" in small_row
    md = cli("diff", base, head, "-f", "markdown").stdout
    assert "| small | changed | 90.0% → 95.0% (+5.0 pts) | 1,500 ms → 1,200 ms (-300 ms) | 300 ms → 350 ms (+50 ms) |" \
        " $0.5000 → $0.2500 (-$0.2500) | 10.0% → 0.0% (-10.0 pts) |" in md
    assert "| big | added | — → 100.0% (—) |" in md


def _fails(result: Any, *needles: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    for needle in needles:
        assert needle in result.stderr


def test_diff_mismatched_kinds(cli: Any, baseline_json: Path, tmp_path: Path) -> None:
    bench = _bench(tmp_path / "bench.json", [])
    _fails(cli("diff", baseline_json, bench), "cannot compare a estimate result", "field 'kind'")


def test_diff_unreadable_and_invalid(cli: Any, baseline_json: Path, tmp_path: Path) -> None:
    _fails(cli("diff", baseline_json, tmp_path / "nope.json"), "nope.json", "cannot read file")
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "estimate",\n  oops}')
    _fails(cli("diff", baseline_json, bad), f"{bad}:2", "invalid JSON")
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    _fails(cli("diff", other, baseline_json), "other.json", "not an estimate or bench result")


def test_diff_bad_fields(cli: Any, baseline_json: Path, tmp_path: Path) -> None:
    data = json.loads(baseline_json.read_text())
    data["scenarios"][0]["by_model"][0]["monthly_cost_usd"] = "lots"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data))
    _fails(cli("diff", baseline_json, broken), "field 'scenarios[0].by_model[0].monthly_cost_usd'", "must be a number")
    data = json.loads(baseline_json.read_text())
    data["projection_days"] = 7
    week = tmp_path / "week.json"
    week.write_text(json.dumps(data))
    _fails(cli("diff", baseline_json, week), "field 'projection_days'", "projection days differ")
