"""Renderers for ``llmcost diff``: table, JSON and Markdown, for estimate and bench comparisons. Pure."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from llmcost.diff import BenchDiff, Change, EstimateDiff, Metric
from llmcost.report.money import json_usd, usd

if TYPE_CHECKING:
    from rich.console import RenderableType

SCHEMA_VERSION = 1
BENCH_COLUMNS = (
    ("quality_pass_rate", "Quality", "rate"),
    ("p95_latency_ms", "p95 latency", "ms"),
    ("p95_ttft_ms", "p95 TTFT", "ms"),
    ("cost_per_1k_usd", "Cost / 1k", "usd"),
    ("error_rate", "Errors", "rate"),
)


def signed_usd(amount: Any) -> str:
    text = usd(amount)
    return text if text.startswith("-") or amount == 0 else f"+{text}"


def change_cells(c: Change) -> list[str]:
    """Before, after, $ change, % change (or the added/removed status) for tables."""
    before = "—" if c.before is None else usd(c.before)
    after = "—" if c.after is None else usd(c.after)
    if c.status in ("added", "removed"):
        return [before, after, signed_usd(c.delta), c.status]
    pct = c.pct
    return [before, after, signed_usd(c.delta), "—" if pct is None else f"{float(pct):+.1f}%"]


def _change_dict(c: Change) -> dict[str, Any]:
    pct = c.pct
    return {"name": c.name, "status": c.status, "before_usd": json_usd(c.before), "after_usd": json_usd(c.after),
            "change_usd": json_usd(c.delta), "change_pct": None if pct is None else round(float(pct), 4)}


def estimate_diff_dict(d: EstimateDiff) -> dict[str, Any]:
    scenarios = []
    for s in d.scenarios:
        entry = _change_dict(s.total)
        entry["models"] = [_change_dict(m) for m in s.models]
        entry["added_models"] = [m.name for m in s.models if m.status == "added"]
        entry["removed_models"] = [m.name for m in s.models if m.status == "removed"]
        scenarios.append(entry)
    return {"schema_version": SCHEMA_VERSION, "kind": "diff", "of": "estimate", "base": d.base, "head": d.head,
            "projection_days": d.projection_days, "scenarios": scenarios}


def bench_diff_dict(d: BenchDiff) -> dict[str, Any]:
    models = []
    for m in d.models:
        entry: dict[str, Any] = {"model": m.model, "status": m.status}
        for key, _, _ in BENCH_COLUMNS:
            metric: Metric = getattr(m, key)
            entry[key] = {"before": metric.before, "after": metric.after, "change": metric.delta}
        models.append(entry)
    return {"schema_version": SCHEMA_VERSION, "kind": "diff", "of": "bench", "base": d.base, "head": d.head,
            "warnings": list(d.warnings), "models": models}


def render_json(d: EstimateDiff | BenchDiff) -> str:
    data = estimate_diff_dict(d) if isinstance(d, EstimateDiff) else bench_diff_dict(d)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _metric_text(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "rate":
        return f"{value * 100:.1f}%"
    if unit == "ms":
        return f"{value:,.0f} ms"
    return f"${value:,.4f}"


def _metric_change(metric: Metric, unit: str) -> str:
    delta = metric.delta
    if delta is None:
        return "—"
    if unit == "rate":
        return f"{delta * 100:+.1f} pts"
    if unit == "ms":
        return f"{delta:+,.0f} ms"
    return f"{'+' if delta >= 0 else '-'}${abs(delta):,.4f}"


def _bench_rows(d: BenchDiff) -> list[list[str]]:
    rows = []
    for m in d.models:
        row = [m.model, m.status]
        for key, _, unit in BENCH_COLUMNS:
            metric: Metric = getattr(m, key)
            row.append(f"{_metric_text(metric.before, unit)} → {_metric_text(metric.after, unit)} "
                       f"({_metric_change(metric, unit)})")
        rows.append(row)
    return rows


def render_table(d: EstimateDiff | BenchDiff) -> RenderableType:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    header = Text(f"{d.base} → {d.head}", style="dim")
    if isinstance(d, BenchDiff):
        table = Table(title="Bench results by model", title_justify="left")
        for col in ("Model", "Status", *(label for _, label, _ in BENCH_COLUMNS)):
            table.add_column(col)
        for row in _bench_rows(d):
            table.add_row(*row)
        return Group(header, table)
    tables: list[RenderableType] = [header]
    for s in d.scenarios:
        table = Table(title=f"{s.name}: monthly cost ({d.projection_days} days)", title_justify="left",
                      show_footer=True)
        total = change_cells(s.total)
        for i, col in enumerate(("Model", "Before", "After", "Change", "Change %")):
            table.add_column(col, footer="Total" if i == 0 else total[i - 1], justify="left" if i == 0 else "right")
        for m in s.models:
            table.add_row(m.name, *change_cells(m))
        tables.append(table)
    return Group(*tables)


def render_markdown(d: EstimateDiff | BenchDiff) -> str:
    if isinstance(d, BenchDiff):
        lines = [f"## Bench change: `{d.base}` → `{d.head}`", "",
                 "| Model | Status | " + " | ".join(label for _, label, _ in BENCH_COLUMNS) + " |",
                 "|---|---|" + "---:|" * len(BENCH_COLUMNS)]
        lines += ["| " + " | ".join(row) + " |" for row in _bench_rows(d)]
        lines += ["", *(f"> **Warning:** {w}" for w in d.warnings)] if d.warnings else []
        return "\n".join(lines) + "\n"
    lines = [f"## Cost change: `{d.base}` → `{d.head}`", "",
             f"Monthly cost ({d.projection_days} days) per scenario:", "",
             "| Scenario | Before | After | Change | Change % |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {s.name} | " + " | ".join(change_cells(s.total)) + " |" for s in d.scenarios]
    for s in d.scenarios:
        lines += ["", f"### {s.name} by model", "", "| Model | Before | After | Change | Change % |",
                  "|---|---:|---:|---:|---:|"]
        lines += [f"| {m.name} | " + " | ".join(change_cells(m)) + " |" for m in s.models]
    return "\n".join(lines) + "\n"
