"""Quality and latency beside cost in an estimate's HTML: each scenario's monthly cost against its expected
pass rate (the 95% interval as error bars), its p95 latency, and the quality/latency tables. Every figure is
read from the scenarios' ``quality`` and ``latency`` fields of the estimate's JSON dict (``--bench``)."""

from __future__ import annotations

from typing import Any

from llmcost.report.html.model import Chart, Table, altair, finish
from llmcost.report.money import count


def _measured(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Scenarios whose JSON carries quality evidence (``--bench`` was given)."""
    return [s for s in result.get("scenarios") or [] if isinstance(s.get("quality"), dict)]


def _pct(value: Any) -> float | None:
    """A 0-1 fraction of the JSON (six decimals) as a percent, without float noise."""
    return None if value is None else round(float(value) * 100, 4)


def quality_charts(result: dict[str, Any]) -> tuple[list[Chart], list[str]]:
    """The cost-against-quality chart and the p95 latency chart, each left out with a note when no scenario
    has the figure. Without any quality evidence (no ``--bench``) nothing is added and nothing is said."""
    scenarios = _measured(result)
    if not scenarios:
        return [], []
    charts: list[Chart] = []
    notes: list[str] = []
    for build in (_cost_quality, _latency):
        chart, note = build(scenarios, int(result.get("projection_days") or 30))
        if chart is not None:
            charts.append(chart)
        if note:
            notes.append(note)
    return charts, notes


def _cost_quality(scenarios: list[dict[str, Any]], days: int) -> tuple[Chart | None, str | None]:
    rows = []
    for s in scenarios:
        q = s["quality"]
        if q.get("pass_rate") is None or s.get("monthly_cost_usd") is None:
            continue
        p95 = ((s.get("latency") or {}).get("latency_ms") or {}).get("p95")
        rows.append({"scenario": s["name"], "monthly_cost": float(s["monthly_cost_usd"]),
                     "pass_rate": _pct(q["pass_rate"]), "low": _pct(q.get("low")), "high": _pct(q.get("high")),
                     "unmeasured": _pct(q.get("unmeasured_share") or 0.0), "p95_ms": p95})
    left = [s["name"] for s in scenarios if s["name"] not in {r["scenario"] for r in rows}]
    note = (f"Cost against quality leaves out {', '.join(left)}: no measured pass rate." if left else None)
    if not rows:
        return None, note
    alt = altair()
    base = alt.Chart(alt.Data(values=rows))
    x = alt.X("monthly_cost:Q", title=f"monthly cost per {days} days ($)", scale=alt.Scale(zero=False),
              axis=alt.Axis(format="$,.0f"))
    color = alt.Color("scenario:N", title="scenario", sort=[r["scenario"] for r in rows])  # scenario order
    bars = base.mark_rule(strokeWidth=2).encode(x=x, y=alt.Y("low:Q", title="expected pass rate (%)",
                                                              scale=alt.Scale(domain=[0, 100])),
                                                y2="high:Q", color=color)
    dots = base.mark_point(size=120, filled=True).encode(
        x=x, y="pass_rate:Q", color=color,
        tooltip=["scenario:N", alt.Tooltip("monthly_cost:Q", title="monthly $", format="$,.2f"),
                 alt.Tooltip("pass_rate:Q", title="pass rate %", format=".1f"),
                 alt.Tooltip("low:Q", title="95% low %", format=".1f"),
                 alt.Tooltip("high:Q", title="95% high %", format=".1f"),
                 alt.Tooltip("unmeasured:Q", title="unmeasured %", format=".1f"),
                 alt.Tooltip("p95_ms:Q", title="p95 latency ms", format=",.0f")])
    title = "Monthly cost against expected quality per scenario (%; bars: 95% interval)"
    return finish(alt.layer(bars, dots), "estimate-cost-quality", title), note


def _latency(scenarios: list[dict[str, Any]], days: int) -> tuple[Chart | None, str | None]:
    rows = []
    for s in scenarios:
        e2e = (s.get("latency") or {}).get("latency_ms") or {}
        if e2e.get("p95") is None:
            continue
        rows.append({"scenario": s["name"], "p50_ms": e2e.get("p50"), "p95_ms": float(e2e["p95"]),
                     "p99_ms": e2e.get("p99"), "source": latency_source(e2e),
                     "monthly_cost": float(s["monthly_cost_usd"]) if s.get("monthly_cost_usd") is not None else None})
    left = [s["name"] for s in scenarios if s["name"] not in {r["scenario"] for r in rows}]
    note = (f"p95 latency leaves out {', '.join(left)}: no latency measured (neither in the logs nor in the bench)."
            if left else None)
    if not rows:
        return None, note
    alt = altair()
    y = alt.Y("scenario:N", title=None, sort=None)
    chart = alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        y=y, x=alt.X("p95_ms:Q", title="p95 end-to-end latency (ms)", axis=alt.Axis(format=",.0f")),
        color=alt.Color("scenario:N", title="scenario", sort=[r["scenario"] for r in rows]),
        tooltip=["scenario:N", alt.Tooltip("p50_ms:Q", title="p50 ms", format=",.0f"),
                 alt.Tooltip("p95_ms:Q", title="p95 ms", format=",.0f"),
                 alt.Tooltip("p99_ms:Q", title="p99 ms", format=",.0f"), "source:N",
                 alt.Tooltip("monthly_cost:Q", title=f"$ per {days} days", format="$,.2f")])
    return finish(chart, "estimate-latency-p95", "p95 end-to-end latency per scenario (ms)",
                  height=max(60, 28 * len(rows))), note


def latency_source(fig: dict[str, Any]) -> str:
    """Where a latency figure came from, as the terminal says it: traffic without latency is always named."""
    source, shares = fig.get("source"), fig.get("source_shares") or {}
    if source is None:
        return "unmeasured"
    if source == "mixed" or "unmeasured" in shares:
        return f"{source} (" + ", ".join(f"{k} {float(v) * 100:.0f}%" for k, v in shares.items()) + ")"
    return str(source)


def _rate(value: Any) -> str:
    return "unmeasured" if value is None else f"{float(value) * 100:.1f}%"


def _interval(q: dict[str, Any]) -> str:
    if q.get("low") is None or q.get("high") is None:
        return "—"
    return f"{float(q['low']) * 100:.1f}–{float(q['high']) * 100:.1f}%"


def _share(value: Any) -> str:
    return "—" if not value else f"{float(value) * 100:.1f}%"


def _ms(value: Any) -> str:
    return "—" if value is None else f"{float(value):,.0f} ms"


def quality_tables(result: dict[str, Any]) -> tuple[list[Table], list[str]]:
    """The terminal's "Quality and latency" table and, with more than one task, "Quality by task"; notes for
    scenarios whose quality is unmeasured (their JSON ``note``) or partly unmeasured."""
    from llmcost.report.html.tables_estimate import money

    every = result.get("scenarios") or []
    notes = [f"{s['name']}: {s['note']}" for s in every if s.get("note") and not isinstance(s.get("quality"), dict)]
    scenarios = _measured(result)
    if not scenarios:
        return [], notes
    rows = []
    for s in scenarios:
        q, lat = s["quality"], s.get("latency") or {}
        e2e, ttft = lat.get("latency_ms") or {}, lat.get("ttft_ms") or {}
        rows.append([s["name"], money(s.get("monthly_cost_usd")), _rate(q.get("pass_rate")), _interval(q),
                     _share(q.get("unmeasured_share")), _ms(e2e.get("p50")), _ms(e2e.get("p95")), _ms(e2e.get("p99")),
                     _ms(ttft.get("p95")), latency_source(e2e)])
        if q.get("unmeasured_share"):
            pairs = ", ".join(f"{u['model']}/{u.get('task') or 'all tasks'}" for u in (q.get("unmeasured") or [])[:5])
            notes.append(f"{s['name']}: {_share(q['unmeasured_share'])} of requests go to a (model, task) the bench "
                         f"never scored ({pairs}); the pass rate covers the rest")
    headers = ["Scenario", "Monthly", "Pass rate", "Interval", "Unmeasured", "Latency p50", "p95", "p99", "TTFT p95",
               "Latency from"]
    tables = [Table("Quality and latency (pass rate: 95% interval; latency from the logs, else the bench)", headers,
                    rows, frozenset(range(1, 9)))]
    tasks = [(s["name"], t) for s in scenarios for t in s["quality"].get("by_task") or []]
    if len({t.get("task") for _, t in tasks}) > 1:
        tables.append(Table("Quality by task", ["Scenario", "Task", "Requests", "Pass rate", "Interval", "Unmeasured"],
                            [[name, str(t.get("task") or ""), count(t.get("requests") or 0), _rate(t.get("pass_rate")),
                              _interval(t), _share(t.get("unmeasured_share"))] for name, t in tasks],
                            frozenset({2, 3, 4, 5})))
    return tables, notes
