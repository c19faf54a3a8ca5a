"""A ``plan`` result (``llmcost plan --format json``) as a page section: the cost–quality frontier with the
chosen policy marked and the quality bar drawn, the chosen policy per segment and the frontier's table. Every
figure is read from the plan's JSON dict."""

from __future__ import annotations

from typing import Any

from llmcost.report.html.model import Chart, Section, Table, altair, finish
from llmcost.report.money import count

BAR = "quality bar"
LOGGED = "as logged"
CLOSEST = "closest (misses the bars)"
BOUNDS = {"wilson_low": "lower 95% bound", "point": "point estimate"}


def _pct(value: Any) -> float | None:
    """A 0-1 fraction of the JSON (six decimals) as a percent, without float noise."""
    return None if value is None else round(float(value) * 100, 4)


def _money(value: Any) -> str:
    from llmcost.report.html.tables_estimate import money

    return money(value)


def _ms(value: Any) -> str:
    return "—" if value is None else f"{float(value):,.0f}"


def _quality(q: dict[str, Any]) -> str:
    return f"{float(q['point']) * 100:.1f}% [{float(q['low']) * 100:.1f}%–{float(q['high']) * 100:.1f}%]"


def _saves(p: dict[str, Any]) -> str:
    pct = p.get("saves_pct")
    return _money(p.get("saves_monthly_usd")) + ("" if pct is None else f" ({pct:.1f}%)")


def _bars(plan: dict[str, Any]) -> str:
    b = plan.get("bars") or {}
    parts = []
    if b.get("min_quality") is not None:
        scope = " on every task" if b.get("per_task") else ""
        parts.append(f"quality ≥ {float(b['min_quality']) * 100:.1f}%{scope} "
                     f"({BOUNDS.get(str(b.get('quality_bound')), b.get('quality_bound'))})")
    for key, label in (("max_p95_latency_ms", "p95"), ("max_p99_latency_ms", "p99")):
        if b.get(key) is not None:
            parts.append(f"{label} latency ≤ {float(b[key]):,.0f} ms")
    return ", ".join(parts) or "none (the cheapest policy)"


def plan_section(plan: dict[str, Any], source: str) -> Section:
    policy = plan["policy"]
    days = plan.get("projection_days") or 30
    w = plan.get("window") or {}
    facts = [("Bars", _bars(plan)),
             ("Verdict", "met" if plan.get("met") else "no policy meets the bars; the closest: "
              + "; ".join(plan.get("misses") or [])),
             ("Chosen policy", f"{_money(policy['monthly_cost_usd'])} per {days} days vs "
                               f"{_money(plan.get('baseline_monthly_cost_usd'))} as logged (saves {_saves(policy)}); "
                               f"quality {_quality(policy['quality'])}"),
             ("Candidates", ", ".join(plan.get("candidates") or [])),
             ("Catalog", str(plan.get("catalog") or "—"))]
    if w:
        facts.append(("Window", f"{float(w['days']):.2f} days, {count(w['requests'])} requests"))
    facts += [("Note", str(n)) for n in plan.get("notes") or []]
    charts, notes = [], []
    chart = frontier_chart(plan)
    charts.append(chart)
    if not plan.get("frontier"):
        notes.append("The frontier has no levels (plan --frontier 0): only the chosen policy is drawn.")
    return Section("plan", f"Plan: {source}", facts, charts, notes, [_policy_table(plan), *_frontier_table(plan)])


def frontier_rows(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The chart's rows, in one dataset: each frontier level, the chosen (or closest) policy, the quality
    bar and the as-logged monthly cost."""
    def row(p: dict[str, Any], kind: str) -> dict[str, Any]:
        q = p["quality"]
        return {"policy": kind, "monthly_cost": float(p["monthly_cost_usd"]), "quality": _pct(q["point"]),
                "low": _pct(q["low"]), "high": _pct(q["high"]), "p95_ms": (p.get("latency_ms") or {}).get("p95"),
                "models": ", ".join(f"{m} {float(v) * 100:.0f}%" for m, v in (p.get("share_by_model") or {}).items())}

    rows = [row(p, "frontier") for p in plan.get("frontier") or []]
    rows.append(row(plan["policy"], "chosen" if plan.get("met") else CLOSEST))
    bars = plan.get("bars") or {}
    if bars.get("min_quality") is not None:  # the bar, on the bound the plan holds it on
        rows.append({"policy": BAR, "quality": _pct(bars["min_quality"])})
    if plan.get("baseline_monthly_cost_usd") is not None:
        rows.append({"policy": LOGGED, "monthly_cost": float(plan["baseline_monthly_cost_usd"])})
    return rows


def frontier_chart(plan: dict[str, Any]) -> Chart:
    alt = altair()
    days = plan.get("projection_days") or 30
    rows = frontier_rows(plan)
    kinds = ["frontier", "chosen" if plan.get("met") else CLOSEST]
    base = alt.Chart(alt.Data(values=rows))
    x = alt.X("monthly_cost:Q", title=f"monthly cost per {days} days ($)", scale=alt.Scale(zero=False),
              axis=alt.Axis(format="$,.0f"))
    y = alt.Y("quality:Q", title="expected pass rate (%)", scale=alt.Scale(domain=[0, 100]))
    color = alt.Color("policy:N", title="policy", scale=alt.Scale(domain=kinds, range=["#1f77b4", "#c62828"]))
    shape = alt.Shape("policy:N", title="policy", scale=alt.Scale(domain=kinds, range=["circle", "diamond"]))
    tooltip = ["policy:N", alt.Tooltip("monthly_cost:Q", title="monthly $", format="$,.2f"),
               alt.Tooltip("quality:Q", title="pass rate %", format=".1f"),
               alt.Tooltip("low:Q", title="95% low %", format=".1f"), alt.Tooltip("high:Q", title="95% high %",
                                                                                format=".1f"),
               alt.Tooltip("p95_ms:Q", title="p95 ms", format=",.0f"), "models:N"]
    points = base.transform_filter(alt.FieldOneOfPredicate(field="policy", oneOf=kinds))
    front = base.transform_filter(alt.datum.policy == "frontier")
    layers = [front.mark_line(color="#1f77b4", strokeDash=[4, 3]).encode(x=x, y=y, order="monthly_cost:Q"),
              points.mark_rule(strokeWidth=2).encode(x=x, y="low:Q", y2="high:Q", color=color),
              points.mark_point(filled=True, size=130).encode(x=x, y=y, color=color, shape=shape, tooltip=tooltip)]
    if any(r["policy"] == BAR for r in rows):
        layers.append(base.transform_filter(alt.datum.policy == BAR).mark_rule(color="#111", strokeDash=[6, 3])
                      .encode(y="quality:Q", tooltip=["policy:N", alt.Tooltip("quality:Q", title="%", format=".1f")]))
    if any(r["policy"] == LOGGED for r in rows):
        layers.append(base.transform_filter(alt.datum.policy == LOGGED).mark_rule(color="#607d8b", strokeDash=[2, 2])
                      .encode(x="monthly_cost:Q", tooltip=["policy:N", alt.Tooltip("monthly_cost:Q", title="monthly $",
                                                                                   format="$,.2f")]))
    title = ("Cost–quality frontier: cheapest policy at each quality level (%; bars: 95% interval; "
             "dashed black: the quality bar, grey: as logged)")
    return finish(alt.layer(*layers), "plan-frontier", title)


def _policy_table(plan: dict[str, Any]) -> Table:
    rows = []
    for s in plan["policy"].get("segments") or []:
        q = s["quality"]
        rows.append([s["segment"], count(s["requests"]), _model(s), _money(s["monthly_cost_usd"]),
                     _money(s.get("logged_monthly_cost_usd")), _quality(q), f"{q['passed']}/{q['trials']}",
                     _ms(s.get("latency_p95_ms")), str(s.get("latency_source") or "—")])
    headers = ["Segment", "Requests", "Model", "Monthly", "As logged", "Quality [95% interval]", "n", "p95 ms",
               "Latency from"]
    title = "Chosen policy per segment" if plan.get("met") else "Closest policy per segment (misses the bars)"
    return Table(title, headers, rows, frozenset({1, 3, 4, 5, 6, 7}))


def _model(segment: dict[str, Any]) -> str:
    """The segment's model, or its cascade (``plan --cascades``): first model, the share it keeps, escalation."""
    c = segment.get("cascade")
    if isinstance(c, dict) and c.get("first"):
        share = c.get("accept_share")
        kept = "" if share is None else f" ({float(share) * 100:.0f}% accepted)"
        return f"{c['first']}{kept} → {c.get('then')}"
    return str(segment["model"])


def _frontier_table(plan: dict[str, Any]) -> list[Table]:
    levels = plan.get("frontier") or []
    if not levels:
        return []
    rows = [[f"{float(p['quality_level']) * 100:.1f}%", _quality(p["quality"]), _money(p["monthly_cost_usd"]),
             _saves(p), _ms((p.get("latency_ms") or {}).get("p95")),
             ", ".join(f"{m} {float(v) * 100:.0f}%" for m, v in (p.get("share_by_model") or {}).items())]
            for p in levels]
    return [Table("Cost–quality frontier (cheapest policy at each quality level)",
                  ["Quality ≥", "Quality [95% interval]", "Monthly", "Saves", "p95 ms", "Models"], rows,
                  frozenset({0, 1, 2, 3, 4}))]
