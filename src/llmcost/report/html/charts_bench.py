"""Charts of a ``bench`` result: cost per request against pass rate (with the cheapest-at-each-quality
frontier), TTFT and end-to-end latency distributions, and errors by type."""

from __future__ import annotations

from typing import Any

from llmcost.report.html.model import Chart, altair, finish


def bench_charts(summary: dict[str, Any]) -> tuple[list[Chart], list[str]]:
    charts: list[Chart] = []
    notes: list[str] = []
    models = summary.get("models") or []
    for build in (_cost_quality, _latency("ttft_ms", "Time to first token"),
                  _latency("latency_ms", "End-to-end latency"), _errors):
        chart, note = build(models)
        if chart is not None:
            charts.append(chart)
        if note:
            notes.append(note)
    return charts, notes


def frontier(points: list[dict[str, Any]]) -> set[str]:
    """Models no cheaper model matches on quality: walking up in cost per request, each one that passes
    more prompts than every cheaper one (ties on cost: the better pass rate first)."""
    best = -1.0
    out = set()
    for p in sorted(points, key=lambda p: (p["cost_per_request"], -p["pass_rate"])):
        if p["pass_rate"] > best:
            out.add(p["model"])
            best = p["pass_rate"]
    return out


def _cost_quality(models: list[dict[str, Any]]) -> tuple[Chart | None, str | None]:
    points = [{"model": m["model"], "cost_per_request": float(m["cost_per_request_usd"]),
               "pass_rate": float(m["quality_pass_rate"]) * 100}
              for m in models if m.get("cost_per_request_usd") is not None and m.get("quality_pass_rate") is not None]
    left = [m["model"] for m in models if m["model"] not in {p["model"] for p in points}]
    note = (f"Cost against quality leaves out {', '.join(left)}: no successful, scored and priced request."
            if left else None)
    if not points:
        return None, note
    best = frontier(points)
    for p in points:
        p["frontier"] = "on the frontier" if p["model"] in best else "dominated"
    alt = altair()
    base = alt.Chart(alt.Data(values=points))
    x = alt.X("cost_per_request:Q", title="cost per request ($)", scale=alt.Scale(zero=False),
              axis=alt.Axis(format="$.2~g"))
    y = alt.Y("pass_rate:Q", title="quality pass rate (%)", scale=alt.Scale(domain=[0, 100]))
    dots = base.mark_point(size=140, filled=True).encode(
        x=x, y=y, color=alt.Color("model:N", title="model"),
        shape=alt.Shape("frontier:N", title="cheapest at its quality",
                        scale=alt.Scale(domain=["on the frontier", "dominated"], range=["diamond", "circle"])),
        tooltip=["model:N", alt.Tooltip("cost_per_request:Q", title="$ per request", format="$.6~g"),
                 alt.Tooltip("pass_rate:Q", title="pass rate %", format=".1f")])
    line = base.transform_filter(alt.datum.frontier == "on the frontier").mark_line(
        color="#555", strokeDash=[4, 3], interpolate="step-after").encode(x=x, y=y, order="cost_per_request:Q")
    title = "Cost per request against quality pass rate (dashed: cheapest-at-each-quality frontier)"
    return finish(alt.layer(line, dots), "bench-cost-quality", title), note


def _latency(field: str, label: str) -> Any:
    def build(models: list[dict[str, Any]]) -> tuple[Chart | None, str | None]:
        rows = []
        for m in models:
            rows += [{"model": m["model"], "percentile": q, "ms": ms} for q, ms in _cdf(m, field)]
        if not rows:
            return None, f"{label} is left out: no request was timed (non-streaming or no success)."
        alt = altair()
        few = len(rows) <= 5 * len(models)  # p50/p95/p99 only: mark them; whole distributions: a line
        chart = alt.Chart(alt.Data(values=rows)).mark_line(point=few, interpolate="monotone").encode(
            x=alt.X("ms:Q", title=f"{label.lower()} (ms)"),
            y=alt.Y("percentile:Q", title="requests at or below (%)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color("model:N", title="model"),
            tooltip=["model:N", alt.Tooltip("percentile:Q", title="percentile"),
                     alt.Tooltip("ms:Q", format=",.1f")])
        key = "bench-ttft" if field == "ttft_ms" else "bench-latency"
        return finish(chart, key, f"{label} per model (cumulative distribution, ms)"), None

    return build


def _cdf(model: dict[str, Any], field: str) -> list[tuple[float, float]]:
    """(percentile, ms) points: every whole percentile of the summary's latency samples when it carries
    them (``ttft_samples_ms``, ``latency_samples_ms``), else its p50/p95/p99."""
    samples = sorted(float(v) for v in model.get(field.replace("_ms", "_samples_ms")) or [] if v is not None)
    if samples:
        return [(float(q), _percentile(samples, q)) for q in range(101)]
    stats = model.get(field) or {}
    return [(float(k[1:]), float(v)) for k, v in stats.items() if k.startswith("p") and v is not None]


def _percentile(data: list[float], q: int) -> float:
    """Linear interpolation between closest ranks, as the bench summary computes its percentiles."""
    pos = (len(data) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def _errors(models: list[dict[str, Any]]) -> tuple[Chart | None, str | None]:
    rows = [{"model": m["model"], "error": kind, "requests": n}
            for m in models for kind, n in (m.get("errors_by_type") or {}).items()]
    if not rows:
        return None, "Errors by type is left out: no request failed."
    alt = altair()
    chart = alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        y=alt.Y("model:N", title="model"), x=alt.X("sum(requests):Q", title="failed requests (count)"),
        color=alt.Color("error:N", title="error type"), tooltip=["model:N", "error:N", "requests:Q"])
    return finish(chart, "bench-errors", "Failed requests by error type", height=max(60, 32 * len(models))), None
