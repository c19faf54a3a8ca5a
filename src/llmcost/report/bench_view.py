"""``llmcost bench`` renderers: pure functions from the summary dict (the JSON contract) or a plan to a
rich renderable or a string. The CLI decides where they go."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmcost.bench.stats import fine_usd
from llmcost.report.money import usd

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.table import Table

    from llmcost.bench.session import BenchPlan

PROVIDER = "Provider $/req"
COLUMNS = ("Model", "Req", "Errors", "Pass", "$/req", PROVIDER, "$/1k req", "TTFT p50/p95 ms",
           "Latency p50/p95/p99 ms", "ITL p50 ms", "tok/s", "Goodput")
NO_SUCCESS = "no success"


def render_json(summary: dict[str, Any]) -> str:
    return json.dumps(summary, indent=2, ensure_ascii=False) + "\n"


def columns(summary: dict[str, Any]) -> list[str]:
    """:data:`COLUMNS`, without "Provider $/req" when no response reported its own cost."""
    if any(m.get("provider_cost_usd") is not None for m in summary["models"]):
        return list(COLUMNS)
    return [c for c in COLUMNS if c != PROVIDER]


def summary_rows(summary: dict[str, Any]) -> list[list[str]]:
    """One row of display strings per model, in :func:`columns` order. Money is per request (the
    catalog's and the provider's own figure side by side) or per 1k requests; a model without a successful
    request has no cost to show and says so instead of "unpriced"."""
    keep_provider = PROVIDER in columns(summary)
    rows = []
    for m in summary["models"]:
        errors = str(m["errors"])
        if m["errors_by_type"]:
            errors += " (" + ", ".join(f"{k} {v}" for k, v in m["errors_by_type"].items()) + ")"
        unpriced = "unpriced" if _successes(m) else NO_SUCCESS
        rows.append([
            m["model"], str(m["requests"]), errors, _rate(m["quality_pass_rate"]),
            _usd(m["cost_per_request_usd"], unpriced), _usd(_provider_per_request(m), "—"),
            _usd(m["cost_per_1k_usd"], unpriced),
            _ms(m["ttft_ms"], "p50", "p95"), _ms(m["latency_ms"], "p50", "p95", "p99"),
            _ms(m.get("itl_ms") or {}, "p50"), _num(m["output_tokens_per_s"]), _rate(m["goodput"]),
        ])
        if not keep_provider:
            del rows[-1][5]
    return rows


def _successes(m: dict[str, Any]) -> int:
    successes = m.get("successes")
    return int(successes) if successes is not None else int(m["requests"]) - int(m["errors"])


def _provider_per_request(m: dict[str, Any]) -> float | None:
    """``provider_cost_usd`` is the run total over successful requests; the table shows it per request."""
    total, n = m.get("provider_cost_usd"), _successes(m)
    return None if total is None or not n else total / n


def recommendation_lines(summary: dict[str, Any]) -> list[str]:
    out = []
    for rec in summary["recommendation"]:
        scope = "all prompts" if rec["task"] is None else f"task '{rec['task']}'"
        out.append(f"{scope}: {rec['model'] or 'none'} — {rec['reason']}")
    return out


def notes(summary: dict[str, Any]) -> list[str]:
    out = []
    for m in summary["models"]:
        if m.get("estimated_usage_requests"):
            out.append(f"{m['model']}: {m['estimated_usage_requests']} response(s) had no usage; "
                       "their tokens were counted locally (estimated)")
        if m["cost_per_request_usd"] is None and m.get("successes"):
            out.append(f"{m['model']}: unpriced (not in the catalog, or a rate is unknown)")
    for reason, n in (summary.get("not_run") or {}).items():
        out.append(f"{n} request(s) not sent: {reason.replace('_', ' ')} reached")
    return out


def render_table(summary: dict[str, Any]) -> RenderableType:
    """The summary as a table that fits the console it is printed on: one row per model when that fits,
    else one column per model (metrics as rows), else one block per model. Numbers and model names are
    never cut."""
    from rich.console import Group
    from rich.text import Text

    text = Text()
    text.append("Recommendation\n", style="bold")
    text.append("\n".join(recommendation_lines(summary)))
    extra = notes(summary)
    parts: list[RenderableType] = [_FittedTable(summary), text]
    if extra:
        parts.append(Text("\n".join(extra), style="dim"))
    return Group(*parts)


class _FittedTable:
    """A rich renderable that picks its layout from the width it is given (see :func:`render_table`)."""

    def __init__(self, summary: dict[str, Any]) -> None:
        self.summary = summary

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.measure import Measurement

        unbounded = options.update_width(1_000_000)  # the natural width, not clamped to the console's
        for layout in (wide_table, transposed_table):
            table = layout(self.summary)
            if Measurement.get(console, unbounded, table).maximum <= options.max_width:
                yield table
                return
        yield from model_blocks(self.summary)


def wide_table(summary: dict[str, Any]) -> Table:
    """One row per model, one column per metric."""
    from rich.table import Table

    table = Table(title=f"Bench: {summary['suite']}", title_justify="left")
    for col in columns(summary):
        table.add_column(col, justify="left" if col == "Model" else "right", no_wrap=True)
    for row in summary_rows(summary):
        table.add_row(*row)
    return table


def transposed_table(summary: dict[str, Any]) -> Table:
    """One column per model, one row per metric: for consoles too narrow for :func:`wide_table`."""
    from rich.table import Table

    cols, rows = columns(summary), summary_rows(summary)
    table = Table(title=f"Bench: {summary['suite']}", title_justify="left")
    table.add_column("Model", no_wrap=True)
    for row in rows:
        table.add_column(row[0], justify="right", no_wrap=True)
    for i, label in enumerate(cols[1:], start=1):
        table.add_row(label, *(row[i] for row in rows))
    return table


def model_blocks(summary: dict[str, Any]) -> list[RenderableType]:
    """One two-column block per model (metric, value): fits any console; long values wrap, never cut."""
    from rich.table import Table
    from rich.text import Text

    cols = columns(summary)
    out: list[RenderableType] = [Text(f"Bench: {summary['suite']}")]
    for row in summary_rows(summary):
        out.append(Text(row[0], style="bold", overflow="fold"))
        block = Table(show_header=False)
        block.add_column("metric", no_wrap=True)
        block.add_column("value", justify="right", overflow="fold")
        for label, cell in zip(cols[1:], row[1:], strict=True):
            block.add_row(label, cell)
        out.append(block)
    return out


def render_markdown(summary: dict[str, Any]) -> str:
    cols = columns(summary)
    lines = [f"## Bench: {summary['suite']}", "", "| " + " | ".join(cols) + " |",
             "|" + "|".join(":---" if c == "Model" else "---:" for c in cols) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in summary_rows(summary)]
    lines += ["", "**Recommendation**", ""]
    lines += [f"- {line}" for line in recommendation_lines(summary)]
    extra = notes(summary)
    if extra:
        lines += ["", *[f"> {line}" for line in extra]]
    return "\n".join(lines) + "\n"


def plan_json(bench_plan: BenchPlan) -> dict[str, Any]:
    total = bench_plan.projected_cost_usd
    return {
        "kind": "bench-plan",
        "requests": len(bench_plan.jobs),
        "already_done": len([r for r in bench_plan.previous if r.ok]),
        "projected_cost_usd": None if total is None else float(total),
        "unpriced": bench_plan.unpriced,
        "models": [{"model": m.model, "requests": m.requests, "prompt_tokens": m.prompt_tokens,
                    "max_output_tokens": m.max_output_tokens,
                    "projected_cost_usd": None if m.projected_cost_usd is None else float(m.projected_cost_usd)}
                   for m in bench_plan.by_model],
    }


def render_plan(bench_plan: BenchPlan) -> str:
    """``--dry-run`` as text: what would be sent and what it could cost at most."""
    lines = [f"{'Model':<28} {'Requests':>8} {'Prompt tok':>11} {'Max out tok':>11} {'Projected':>12}"]
    for m in bench_plan.by_model:
        lines.append(f"{m.model:<28} {m.requests:>8,} {m.prompt_tokens:>11,} {m.max_output_tokens:>11,} "
                     f"{_usd(_f(m.projected_cost_usd)):>12}")
    total = bench_plan.projected_cost_usd
    lines.append(f"{'Total':<28} {len(bench_plan.jobs):>8,} {'':>11} {'':>11} {_usd(_f(total)):>12}")
    lines.append("Dry run: no request sent. Projected cost = counted prompt tokens + max_tokens of output "
                 "per request (an upper bound).")
    if bench_plan.unpriced:
        lines.append("Unpriced (not in the total): " + ", ".join(bench_plan.unpriced))
    return "\n".join(lines) + "\n"


def render_plan_markdown(bench_plan: BenchPlan) -> str:
    lines = ["| Model | Requests | Prompt tokens | Max output tokens | Projected |", "|:---|---:|---:|---:|---:|"]
    for m in bench_plan.by_model:
        lines.append(f"| {m.model} | {m.requests:,} | {m.prompt_tokens:,} | {m.max_output_tokens:,} | "
                     f"{_usd(_f(m.projected_cost_usd))} |")
    lines.append(f"| **Total** | {len(bench_plan.jobs):,} | | | {_usd(_f(bench_plan.projected_cost_usd))} |")
    return "\n".join(lines) + "\n"


def _usd(value: float | None, missing: str = "unpriced") -> str:
    if value is None:
        return missing
    return usd(Decimal(str(value))) if value == 0 or abs(value) >= 1 else fine_usd(value)


def _ms(stats: dict[str, float | None], *keys: str) -> str:
    values = [stats.get(k) for k in keys]
    if all(v is None for v in values):
        return "—"
    return " / ".join("—" if v is None else f"{v:,.0f}" if v >= 10 else f"{v:.1f}" for v in values)


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
