"""Charts of a ``check`` result: each rule's actual figure against its limit, coloured pass/warn/fail."""

from __future__ import annotations

from typing import Any

from llmcost.report.html.model import Chart, altair, finish

STATUS_COLORS = {"pass": "#2e7d32", "warn": "#ef8f00", "fail": "#c62828"}
# Verdict units grouped by the axis they can share: rates (0-1) are shown as percents.
AXES = {"usd": ("USD", "$", 1.0), "pct": ("percent", "%", 1.0), "rate": ("percent", "%", 100.0),
        "ms": ("milliseconds", "ms", 1.0)}


def check_charts(result: dict[str, Any]) -> tuple[list[Chart], list[str]]:
    """One chart per unit (dollars, percents, milliseconds); skipped rules are left out with a note."""
    verdicts = result.get("verdicts") or []
    measured = [v for v in verdicts if v.get("actual") is not None and v.get("limit") is not None]
    notes = []
    skipped = [v for v in verdicts if v not in measured]
    if skipped:
        names = ", ".join(f"{v['rule']} ({v.get('note') or 'not measured'})" for v in skipped)
        notes.append(f"Not charted (no measured figure): {names}.")
    groups: dict[str, list[dict[str, Any]]] = {}
    for v in measured:
        name, _, _ = AXES.get(v["unit"], (v["unit"], v["unit"], 1.0))
        groups.setdefault(name, []).append(v)
    charts = [_rules_chart(name, group) for name, group in groups.items()]
    if not verdicts:
        notes.append("No rules in this policy: nothing to chart.")
    return charts, notes


def _rules_chart(axis: str, verdicts: list[dict[str, Any]]) -> Chart:
    alt = altair()
    rows = []
    for i, v in enumerate(verdicts):
        _, symbol, scale = AXES.get(v["unit"], (v["unit"], v["unit"], 1.0))
        rows.append({"rule": f"{i + 1}. {v['rule']} · {v['subject']}", "metric": v["metric"],
                     "status": v["status"], "bound": v["bound"], "actual": float(v["actual"]) * scale,
                     "limit": float(v["limit"]) * scale, "message": v.get("message") or ""})
    symbol = AXES.get(verdicts[0]["unit"], ("", verdicts[0]["unit"], 1.0))[1]
    base = alt.Chart(alt.Data(values=rows))
    y = alt.Y("rule:N", title=None, sort=None)
    unit = f"{axis} ({symbol})" if symbol != axis else axis
    bars = base.mark_bar().encode(
        y=y, x=alt.X("actual:Q", title=f"actual and limit, {unit}",
                     axis=alt.Axis(format="$,.0f") if symbol == "$" else alt.Axis()),
        color=alt.Color("status:N", title="status", scale=alt.Scale(domain=list(STATUS_COLORS),
                                                                   range=list(STATUS_COLORS.values()))),
        tooltip=["rule:N", "metric:N", "message:N"])
    limits = base.mark_tick(color="#111", thickness=3, size=22).encode(
        y=y, x="limit:Q", tooltip=["rule:N", "bound:N", alt.Tooltip("limit:Q", title=f"limit ({symbol})")])
    title = f"Budget rules in {axis}: actual (bar) against limit (black tick)"
    return finish(alt.layer(bars, limits), f"check-{axis.lower()}", title, height=max(60, 28 * len(rows)))
