"""The terminal's estimate tables, as HTML tables read from the estimate's JSON dict: the scenarios, requests
and monthly cost by model under each scenario, what each replay found, the baseline by model, and the
breakdowns."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from llmcost.report.html.charts_estimate import TIME_KEYS, has_values, time_breakdown
from llmcost.report.html.model import Table
from llmcost.report.money import count, usd


def money(value: Any) -> str:
    return usd(Decimal(str(value))) if value is not None else "—"


def estimate_tables(result: dict[str, Any]) -> list[Table]:
    scenarios = result.get("scenarios") or []
    tables = [_scenarios_table(result)]
    if len(scenarios) > 1:
        tables.append(_requests_by_model(scenarios))
    found = _details_table(scenarios)
    if found is not None:
        tables.append(found)
    if scenarios:
        tables.append(_models_table(scenarios[0]))
    return tables + [_breakdown_table(b) for b in _shown_breakdowns(result)]


def _requests_by_model(scenarios: list[dict[str, Any]]) -> Table:
    """Requests and monthly cost per model under each scenario, side by side (as the terminal shows)."""
    models: dict[str, None] = {}
    tiers: dict[str, str] = {}
    for s in scenarios:
        models.update((m["model"], None) for m in s.get("by_model") or [])
        tiers.update((k, v) for k, v in ((s.get("details") or {}).get("model_tiers") or {}).items() if v)
    rows = []
    for name in models:
        row = [f"{name} ({tiers[name]})" if name in tiers else name]
        for s in scenarios:
            m = next((m for m in s.get("by_model") or [] if m["model"] == name), None)
            row.append("—" if m is None or not m["requests"] else f"{count(m['requests'])} · "
                       f"{money(m['monthly_cost_usd'])}")
        rows.append(row)
    headers = ["Model (tier)", *[s["name"] for s in scenarios]]
    return Table("Requests and monthly cost by model (tier)", headers, rows, frozenset(range(1, len(headers))))


def _details_table(scenarios: list[dict[str, Any]]) -> Table | None:
    from llmcost.report.scenario_details import summary_lines

    rows = []
    for s in scenarios:
        details = s.get("details") or {}
        rows += [[s["name"], line] for line in summary_lines(details)]
        rows += [[s["name"], f"ASSUMPTION: {note}"] for note in details.get("assumptions") or []]
    return Table("What each scenario's replay found", ["Scenario", "Detail"], rows) if rows else None


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
                     count(sum(m["output_tokens"] for m in models)), money(s["observed_cost_usd"]),
                     money(s["monthly_cost_usd"]), "—" if first or saved is None else money(saved),
                     "—" if first or pct is None else f"{pct:.1f}%"])
    headers = ["Scenario", "Provider requests", "Input tokens", "Cached input", "Output tokens", "Observed",
               "Monthly", "Saves / month", "Saves %"]
    return Table("Scenarios", headers, rows, frozenset(range(1, 9)))


def _models_table(s: dict[str, Any]) -> Table:
    rows = [[m["model"], count(m["requests"]), count(m["input_tokens"]), count(m["cache_read_tokens"]),
             count(m["cache_write_tokens"] + (m.get("cache_write_1h_tokens") or 0)), count(m["output_tokens"]),
             money(m["observed_cost_usd"]), money(m["monthly_cost_usd"]), f"{m['share_pct']:.1f}%"]
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
            + [count(r.get(c) or 0) for c in token_cols] + [money(r.get("cost_usd"))] for r in body]
    return Table(f"Cost by {', '.join(keys)}", headers, rows, frozenset(range(len(keys), len(headers))))


