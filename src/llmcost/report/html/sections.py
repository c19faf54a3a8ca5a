"""One page section per result: its facts (window, catalog, policy), charts, notes and tables, all read
from the JSON dict the command writes with ``--format json``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from llmcost.errors import InputError
from llmcost.report.html.charts_bench import bench_charts
from llmcost.report.html.charts_check import check_charts
from llmcost.report.html.charts_estimate import TIME_KEYS, estimate_charts, has_values, time_breakdown
from llmcost.report.html.model import Section, Table
from llmcost.report.money import count, usd

KINDS = ("estimate", "bench", "check")


def result_kind(result: Any, source: str = "result") -> str:
    """``estimate``, ``bench`` or ``check``; anything else is not an llmcost result."""
    kind = result.get("kind") if isinstance(result, dict) else None
    if kind not in KINDS:
        raise InputError("not an llmcost estimate, bench or check JSON result (expected a 'kind' of "
                         f"{', '.join(KINDS)}; write one with --format json)", source=source, field="kind")
    return str(kind)


def section_for(result: dict[str, Any], source: str = "result") -> Section:
    kind = result_kind(result, source)
    build = {"estimate": _estimate, "bench": _bench, "check": _check}[kind]
    return build(result, source)


def _when(iso: str) -> str:
    """An ISO timestamp of the JSON as the terminal shows it: ``2026-11-02 00:00`` (UTC)."""
    from datetime import UTC, datetime

    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(iso)


def _money(value: Any) -> str:
    return usd(Decimal(str(value))) if value is not None else "—"


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
    tables = [_scenarios_table(result)]
    if result.get("scenarios"):
        tables.append(_models_table(result["scenarios"][0]))
    tables += [_breakdown_table(b) for b in _shown_breakdowns(result)]
    return Section("estimate", f"Estimate: {source}", facts, charts, notes, tables)


def _shown_breakdowns(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every breakdown, except a time-by-model one the cost-over-time chart did not use when there are
    two (``--format html`` asks for hourly and daily and charts the one that suits the window)."""
    every = result.get("breakdowns") or []
    charted = time_breakdown(result)
    by_time = [b for b in every if len(b["by"]) == 2 and b["by"][0] in TIME_KEYS and b["by"][1] == "model"]
    empty = [b for b in every if len(b["by"]) == 1 and b["by"][0] in ("task", "user", "tag")
             and not has_values(b, b["by"][0])]  # a log without users: the chart's note says so
    return [b for b in every if (b is charted or b not in by_time or len(by_time) == 1) and b not in empty]


def _scenarios_table(result: dict[str, Any]) -> Table:
    rows = []
    for s in result.get("scenarios") or []:
        models = s.get("by_model") or []
        saved, pct = s.get("savings_vs_baseline_usd"), s.get("savings_vs_baseline_pct")
        first = s is result["scenarios"][0]
        rows.append([s["name"], count(sum(m["requests"] for m in models)),
                     count(sum(m["input_tokens"] for m in models)), count(sum(m["cache_read_tokens"] for m in models)),
                     count(sum(m["output_tokens"] for m in models)), _money(s["observed_cost_usd"]),
                     _money(s["monthly_cost_usd"]), "—" if first or saved is None else _money(saved),
                     "—" if first or pct is None else f"{pct:.1f}%"])
    headers = ["Scenario", "Provider requests", "Input tokens", "Cached input", "Output tokens", "Observed",
               "Monthly", "Saves / month", "Saves %"]
    return Table("Scenarios", headers, rows, frozenset(range(1, 9)))


def _models_table(s: dict[str, Any]) -> Table:
    rows = [[m["model"], count(m["requests"]), count(m["input_tokens"]), count(m["cache_read_tokens"]),
             count(m["cache_write_tokens"] + (m.get("cache_write_1h_tokens") or 0)), count(m["output_tokens"]),
             _money(m["observed_cost_usd"]), _money(m["monthly_cost_usd"]), f"{m['share_pct']:.1f}%"]
            for m in s.get("by_model") or []]
    headers = ["Model", "Requests", "Input", "Cache read", "Cache write", "Output", "Observed", "Monthly", "Share"]
    return Table(f"{s['name']}: cost by model", headers, rows, frozenset(range(1, 9)))


def _breakdown_table(b: dict[str, Any]) -> Table:
    keys = list(b["by"])
    names = {"input_tokens": "Input", "cached_input_tokens": "Cached input", "cache_write_tokens": "Cache write",
             "output_tokens": "Output"}
    token_cols = [c for c in names if b["rows"] and c in b["rows"][0]]
    headers = [*keys, "Requests", *[names[c] for c in token_cols], "Cost"]
    body = [*b["rows"], *([{**b["other"], **dict.fromkeys(keys, "other")}] if b.get("other") else [])]
    rows = [[str(r.get(k)) for k in keys] + [count(r.get("requests") or 0)]
            + [count(r.get(c) or 0) for c in token_cols] + [_money(r.get("cost_usd"))] for r in body]
    return Table(f"Cost by {', '.join(keys)}", headers, rows, frozenset(range(len(keys), len(headers))))


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
              f"'{result.get('scenario')}' projects {_money(result.get('monthly_cost_usd'))} per "
              f"{result.get('projection_days')} days")]
    charts, notes = check_charts(result)
    rows = [[LABEL.get(v["status"], v["status"]), v["rule"], v["subject"], v["metric"], _value(v["actual"], v["unit"]),
             f"{v['bound']} {_value(v['limit'], v['unit'])}", _margin(v)] for v in result.get("verdicts") or []]
    tables = [Table("Budget check", ["Status", "Rule", "Subject", "Metric", "Actual", "Limit", "Margin"], rows,
                    frozenset({4, 5, 6}))]
    drivers = result.get("top_drivers") or []
    if drivers:
        tables.append(Table("Top cost drivers", ["By", "Name", "Requests", "Monthly", "Share"],
                            [[d["by"], d["name"], count(d["requests"]), _money(d["monthly_cost_usd"]),
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
