"""One page section per result: its facts (window, catalog, policy), charts, notes and tables, all read
from the JSON dict the command writes with ``--format json``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from llmcost.errors import InputError
from llmcost.report.html.charts_bench import bench_charts
from llmcost.report.html.charts_check import check_charts
from llmcost.report.html.charts_estimate import estimate_charts
from llmcost.report.html.charts_quality import quality_charts, quality_tables
from llmcost.report.html.model import Section, Table
from llmcost.report.html.tables_estimate import estimate_tables, money
from llmcost.report.money import count

KINDS = ("estimate", "bench", "check", "plan")


def result_kind(result: Any, source: str = "result") -> str:
    """``estimate``, ``bench`` or ``check``; anything else is not an llmcost result."""
    kind = result.get("kind") if isinstance(result, dict) else None
    if kind not in KINDS:
        raise InputError("not an llmcost estimate, bench, check or plan JSON result (expected a 'kind' of "
                         f"{', '.join(KINDS)}; write one with --format json)", source=source, field="kind")
    return str(kind)


def section_for(result: dict[str, Any], source: str = "result") -> Section:
    kind = result_kind(result, source)
    build = {"estimate": _estimate, "bench": _bench, "check": _check, "plan": _plan}[kind]
    return build(result, source)


def _when(iso: str) -> str:
    """An ISO timestamp of the JSON as the terminal shows it: ``2026-11-02 00:00`` (UTC)."""
    from datetime import UTC, datetime

    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(iso)


def _estimate(result: dict[str, Any], source: str) -> Section:
    w = result["window"]
    facts = [("Window", f"{_when(w['start'])} → {_when(w['end'])} UTC ({w['days']:.2f} days, "
                        f"{count(w['requests'])} requests)"),
             ("Projection", f"{result['projection_days']} days at the observed rate"),
             ("Catalog", str(result.get("catalog") or "—"))]
    facts += [("Warning", str(n)) for n in result.get("warnings") or []]
    if result.get("unpriced"):
        names = "; ".join(f"{u['model']} ({count(u['requests'])} requests: {u.get('reason')})"
                          for u in result["unpriced"])
        facts.append(("Unpriced (left out of the totals)", names))
    charts, notes = estimate_charts(result)
    more_charts, more_notes = quality_charts(result)  # scenarios' quality and latency (estimate --bench)
    quality, quality_notes = quality_tables(result)
    tables = estimate_tables(result)
    return Section("estimate", f"Estimate: {source}", facts, charts + more_charts, notes + more_notes + quality_notes,
                   tables[:1] + quality + tables[1:])


def _plan(result: dict[str, Any], source: str) -> Section:
    from llmcost.report.html.section_plan import plan_section

    return plan_section(result, source)


def _bench(summary: dict[str, Any], source: str) -> Section:
    from llmcost.report.bench_view import columns, summary_rows

    gates = summary.get("gates") or {}
    given = ", ".join(f"{k} {v}" for k, v in gates.items() if v is not None) or "none"
    facts = [("Suite", str(summary.get("suite"))), ("Gates", given)]
    catalog = summary.get("catalog")
    if isinstance(catalog, dict):
        facts.append(("Catalog", f"{catalog.get('source')} (as of {catalog.get('as_of')})"))
    if summary.get("not_run"):
        facts.append(("Not run", ", ".join(f"{k} ({v})" for k, v in summary["not_run"].items())))
    charts, notes = bench_charts(summary)
    headers = columns(summary)
    tables = [Table("Models", headers, summary_rows(summary), frozenset(range(1, len(headers)))),
              Table("Recommendation", ["Prompts", "Model", "Why"],
                    [["all prompts" if r["task"] is None else f"task '{r['task']}'", r["model"] or "none",
                      r["reason"]] for r in summary.get("recommendation") or []])]
    return Section("bench", f"Bench: {source}", facts, charts, notes, tables)


def _check(result: dict[str, Any], source: str) -> Section:
    from llmcost.report.check_view import LABEL

    s = result["summary"]
    state = "FAILED" if s["failed"] else "passed"
    facts = [("Policy", str(result.get("policy"))),
             ("Verdict", f"{state}: {s['failed']} failed, {s['warnings']} warning{'s' * (s['warnings'] != 1)}, "
                         f"{s['passed']} passed, "
                         f"{s['skipped']} skipped"),
             ("Window", "bench results only (no logs)" if result.get("window") is None else
              f"{result['window']['days']:.2f} days, {count(result['window']['requests'])} requests; scenario "
              f"'{result.get('scenario')}' projects {money(result.get('monthly_cost_usd'))} per "
              f"{result.get('projection_days')} days")]
    charts, notes = check_charts(result)
    rows = [[LABEL.get(v["status"], v["status"]), v["rule"], v["subject"], v["metric"], _value(v["actual"], v["unit"]),
             f"{v['bound']} {_value(v['limit'], v['unit'])}", _margin(v)] for v in result.get("verdicts") or []]
    tables = [Table("Budget check", ["Status", "Rule", "Subject", "Metric", "Actual", "Limit", "Margin"], rows,
                    frozenset({4, 5, 6}))]
    change = result.get("change_vs_baseline")
    if change:
        tables.append(Table(f"Change against the baseline ({result.get('baseline')})",
                            ["Scenario", "Baseline", "This change", "Change", "Change %"],
                            [[c["name"], money(c["before_usd"]), money(c["after_usd"]), money(c["change_usd"]),
                              "—" if c["change_pct"] is None else f"{c['change_pct']:+.1f}%"]
                             for c in change.get("scenarios") or []], frozenset({1, 2, 3, 4})))
    drivers = result.get("top_drivers") or []
    if drivers:
        tables.append(Table("Top cost drivers", ["By", "Name", "Requests", "Monthly", "Share"],
                            [[d["by"], d["name"], count(d["requests"]), money(d["monthly_cost_usd"]),
                              f"{d['share_pct']:.1f}%"] for d in drivers], frozenset({2, 3, 4})))
    return Section("check", f"Budget check: {source}", facts, charts, notes, tables)


def _value(amount: Any, unit: str) -> str:
    from llmcost.report.check_view import value

    return value(None if amount is None else Decimal(str(amount)), unit)


def _margin(v: dict[str, Any]) -> str:
    from llmcost.report.check_view import value

    excess = v.get("excess")
    if excess is None:
        return str(v.get("note") or "n/a")
    amount = Decimal(str(abs(excess)))
    shown = f"{float(amount):,.1f} pts" if v["unit"] == "pct" else (
        f"{float(amount) * 100:,.1f} pts" if v["unit"] == "rate" else value(amount, v["unit"]))
    if v["status"] in ("warn", "fail"):
        return f"{shown} {'over' if v['bound'] == 'max' else 'under'}"
    return f"{shown} headroom"
