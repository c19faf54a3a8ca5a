"""Charts of an ``estimate`` result: cost over time stacked by model, the monthly projection per scenario
with its savings, cost by task, user and tag (top N plus "other"), the token mix per model and the cache
replays' hit rate over time. Every figure is read from the estimate's JSON dict."""

from __future__ import annotations

from typing import Any

from llmcost.report.html.model import Chart, altair, finish

TIME_KEYS = ("hour", "day", "week")
SHORT_LOG_DAYS = 3.0
NONE_LABEL = "(none)"  # what a breakdown calls requests without a value (llmcost.breakdowns.keys)
OUTCOME_COLORS = {"baseline": "#607d8b", "saves": "#2e7d32", "costs more": "#c62828", "incomplete": "#9e9e9e"}


def estimate_charts(result: dict[str, Any]) -> tuple[list[Chart], list[str]]:
    charts: list[Chart] = []
    notes: list[str] = []
    builders = [_over_time, _projection, *[_by_dimension(d) for d in ("task", "user", "tag")], _token_mix,
                _cache_hit_rate]
    for build in builders:
        chart, note = build(result)
        if chart is not None:
            charts.append(chart)
        if note:
            notes.append(note)
    return charts, notes


def breakdown(result: dict[str, Any], by: list[str]) -> dict[str, Any] | None:
    """The breakdown of the baseline traffic grouped by exactly ``by``, if the result has one."""
    for b in result.get("breakdowns") or []:
        if list(b.get("by") or []) == by and b.get("scenario", "baseline") == "baseline":
            found: dict[str, Any] = b
            return found
    return None


def has_values(found: dict[str, Any], dimension: str) -> bool:
    """Whether a breakdown names any value (not only requests without a task, user or tag)."""
    return any(str(r.get(dimension)) != NONE_LABEL for r in found["rows"])


def _money(value: Any) -> float:
    """A dollar amount from the JSON (a number, or a Decimal string) as a chart number: the last step."""
    return float(value) if value is not None else 0.0


def time_breakdown(result: dict[str, Any]) -> dict[str, Any] | None:
    """Hourly cost for logs under three days, else daily (whichever the result has)."""
    days = float((result.get("window") or {}).get("days") or 0)
    order = ["hour", "day", "week"] if days < SHORT_LOG_DAYS else ["day", "hour", "week"]
    for unit in order:
        found = breakdown(result, [unit, "model"])
        if found is not None:
            return found
    return None


def _over_time(result: dict[str, Any]) -> tuple[Chart | None, str | None]:
    found = time_breakdown(result)
    if found is None:
        return None, "Cost over time is left out: the result has no time-by-model breakdown " \
                     "(estimate --by day,model)."
    unit = found["by"][0]
    rows = [{"period": r[unit], "model": r["model"], "cost": _money(r["cost_usd"]),
             "requests": r.get("requests")} for r in found["rows"]]
    if not rows:
        return None, "Cost over time is left out: no priced traffic."
    alt = altair()
    time_unit = "utcyearmonthdatehours" if unit == "hour" else "utcyearmonthdate"  # a week: its first day
    chart = alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=alt.X("period:T", timeUnit=time_unit, title=f"{unit} (UTC)", scale=alt.Scale(type="utc")),
        y=alt.Y("sum(cost):Q", title="observed cost ($)", axis=alt.Axis(format="$,.2f")),
        color=alt.Color("model:N", title="model"),
        tooltip=[alt.Tooltip("period:T", timeUnit=time_unit, title=unit), "model:N",
                 alt.Tooltip("cost:Q", format="$,.2f", title="cost"), "requests:Q"])
    return finish(chart, f"estimate-cost-by-{unit}", f"Observed cost per {unit}, stacked by model ($)"), None


def _projection(result: dict[str, Any]) -> tuple[Chart | None, str | None]:
    scenarios = result.get("scenarios") or []
    if not scenarios:
        return None, "Monthly projection is left out: no scenarios."
    days = result.get("projection_days", 30)
    rows = []
    for i, s in enumerate(scenarios):
        saved = s.get("savings_vs_baseline_usd")
        pct = s.get("savings_vs_baseline_pct")
        if i == 0:
            outcome, label = "baseline", ""
        elif saved is None:
            outcome, label = "incomplete", "no savings (unpriced traffic)"
        else:
            outcome = "saves" if saved >= 0 else "costs more"
            label = f"{'saves' if saved >= 0 else 'costs'} ${abs(saved):,.2f} ({abs(pct):.1f}%)"
        rows.append({"scenario": s["name"], "monthly": _money(s["monthly_cost_usd"]),
                     "savings": _money(saved) if saved is not None else None, "outcome": outcome, "label": label})
    alt = altair()
    base = alt.Chart(alt.Data(values=rows))
    y = alt.Y("scenario:N", title=None, sort=None)
    bars = base.mark_bar().encode(
        y=y, x=alt.X("monthly:Q", title=f"projected cost per {days} days ($)", axis=alt.Axis(format="$,.0f")),
        color=alt.Color("outcome:N", title="against baseline",
                        scale=alt.Scale(domain=list(OUTCOME_COLORS), range=list(OUTCOME_COLORS.values()))),
        tooltip=["scenario:N", alt.Tooltip("monthly:Q", format="$,.2f", title="monthly"),
                 alt.Tooltip("savings:Q", format="$,.2f", title="saves"), "label:N"])
    text = base.mark_text(align="left", dx=4).encode(y=y, x="monthly:Q", text="label:N")
    title = f"Projected cost per {days} days by scenario, with savings against the baseline ($)"
    return finish(alt.layer(bars, text), "estimate-projection", title, height=max(80, 34 * len(rows))), None


def _by_dimension(dimension: str) -> Any:
    def build(result: dict[str, Any]) -> tuple[Chart | None, str | None]:
        found = breakdown(result, [dimension])
        if found is None or not has_values(found, dimension):
            return None, f"Cost by {dimension} is left out: the log has no {dimension} values " \
                         f"(or the result has no --by {dimension} breakdown)."
        rows = [{dimension: str(r[dimension]), "cost": _money(r["cost_usd"]), "requests": r.get("requests")}
                for r in found["rows"]]
        other = found.get("other")
        if other:
            rows.append({dimension: "other", "cost": _money(other["cost_usd"]), "requests": other.get("requests")})
        alt = altair()
        chart = alt.Chart(alt.Data(values=rows)).mark_bar().encode(
            y=alt.Y(f"{dimension}:N", title=dimension, sort=None),
            x=alt.X("cost:Q", title="observed cost ($)", axis=alt.Axis(format="$,.2f")),
            color=alt.Color(f"{dimension}:N", title=dimension, sort=None),
            tooltip=[f"{dimension}:N", alt.Tooltip("cost:Q", format="$,.2f"), "requests:Q"])
        top = found.get("top_n")
        scope = f"top {top} plus other" if top and other else "all"
        return finish(chart, f"estimate-cost-by-{dimension}", f"Observed cost by {dimension} ({scope}, $)",
                      height=max(60, 26 * len(rows))), None

    return build


TOKEN_KINDS = ("uncached input", "cache read", "cache write (5 min)", "cache write (1 h)", "output")


def token_mix_rows(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for m in scenario.get("by_model") or []:
        writes_1h = m.get("cache_write_1h_tokens") or 0
        parts = {"cache read": m["cache_read_tokens"], "cache write (5 min)": m["cache_write_tokens"],
                 "cache write (1 h)": writes_1h, "output": m["output_tokens"]}
        parts["uncached input"] = m["input_tokens"] - m["cache_read_tokens"] - m["cache_write_tokens"] - writes_1h
        rows += [{"model": m["model"], "kind": k, "tokens": parts[k]} for k in TOKEN_KINDS if parts[k]]
    return rows


def _token_mix(result: dict[str, Any]) -> tuple[Chart | None, str | None]:
    scenarios = result.get("scenarios") or []
    rows = token_mix_rows(scenarios[0]) if scenarios else []
    if not rows:
        return None, "Token mix is left out: no priced traffic."
    alt = altair()
    chart = alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        y=alt.Y("model:N", title="model"), x=alt.X("sum(tokens):Q", title="tokens", axis=alt.Axis(format="~s")),
        color=alt.Color("kind:N", title="token kind", sort=list(TOKEN_KINDS),
                        scale=alt.Scale(domain=list(TOKEN_KINDS))),
        order=alt.Order("kind_order:Q"),
        tooltip=["model:N", "kind:N", alt.Tooltip("tokens:Q", format=",")])
    chart = chart.transform_calculate(kind_order=f"indexof({list(TOKEN_KINDS)!r}, datum.kind)")
    models = len({r["model"] for r in rows})
    return finish(chart, "estimate-token-mix", "Token mix per model, baseline traffic (tokens)",
                  height=max(60, 30 * models)), None


def cache_series(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Hit rate per hour (logs under three days) or per day of every cache replay whose details carry
    ``over_time`` (hits and requests per hour); a day's rate is its hits over its requests."""
    days = float((result.get("window") or {}).get("days") or 0)
    unit = "hour" if days < SHORT_LOG_DAYS else "day"
    rows = []
    for s in result.get("scenarios") or []:
        details = s.get("details") or {}
        for kind, label in (("exact_cache", "exact cache"), ("prompt_cache", "prompt cache")):
            series = (details.get(kind) or {}).get("over_time")
            if not series:
                continue
            buckets: dict[str, list[float]] = {}
            for start, sums in series.items():
                key = start if unit == "hour" else start[:10]
                bucket = buckets.setdefault(key, [0.0, 0.0])
                bucket[0] += float(sums["hits"])
                bucket[1] += float(sums["requests"])
            rows += [{"period": key, "series": f"{s['name']}: {label}", "hit_rate": hits / total * 100,
                      "hits": hits, "requests": total, "unit": unit}
                     for key, (hits, total) in sorted(buckets.items()) if total]
    return rows


def _cache_hit_rate(result: dict[str, Any]) -> tuple[Chart | None, str | None]:
    rows = cache_series(result)
    if not rows:
        return None, "Cache hit rate over time is left out: no scenario replays a cache."
    unit = rows[0]["unit"]
    alt = altair()
    time_unit = "utcyearmonthdatehours" if unit == "hour" else "utcyearmonthdate"
    chart = alt.Chart(alt.Data(values=rows)).mark_line(point=True).encode(
        x=alt.X("period:T", timeUnit=time_unit, title=f"{unit} (UTC)", scale=alt.Scale(type="utc")),
        y=alt.Y("hit_rate:Q", title="requests answered from the cache (%)", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("series:N", title="scenario: cache"),
        tooltip=["series:N", alt.Tooltip("period:T", timeUnit=time_unit, title=unit),
                 alt.Tooltip("hit_rate:Q", format=".1f", title="hit rate %"), "hits:Q", "requests:Q"])
    return finish(chart, "estimate-cache-hit-rate", f"Cache replay hit rate per {unit} (%)"), None
