"""``llmcost plan`` as tables (rich) and Markdown: pure renderers of a ``Plan``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmcost.report.money import count, pct, usd

if TYPE_CHECKING:
    from decimal import Decimal

    from rich.console import RenderableType

    from llmcost.plan.run import Plan, Policy


def headline(plan: Plan) -> str:
    p = plan.policy
    saved = plan.baseline_monthly_cost - p.monthly_cost
    share = saved / plan.baseline_monthly_cost * 100 if plan.baseline_monthly_cost else 0
    status = "meets" if plan.met else "NO POLICY MEETS"
    head = (f"Plan ({status} {plan.options.bars.describe()}): {usd(p.monthly_cost)} per "
            f"{plan.options.projection_days} days vs {usd(plan.baseline_monthly_cost)} as logged "
            f"(saves {usd(saved)}, {pct(share)}); quality {_q(p)}; latency {_lat(p)}")
    if not plan.met:
        head += "\nClosest policy misses: " + "; ".join(plan.misses)
    c = plan.classifier
    if c is not None:
        head += (f"\nClassifier (does {c['model']} pass the prompt?): held-out accuracy {c['held_out_accuracy']:.1%} "
                 f"on {c['held_out']} of {c['prompts']} bench prompts (majority class: "
                 f"{c['majority_baseline_accuracy']:.1%})")
    return head


def _q(p: Policy) -> str:
    return f"{p.quality_point:.1%} [{p.quality_low:.1%}–{p.quality_high:.1%}]"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _lat(p: Policy) -> str:
    p50, p95, p99 = p.latency_ms
    return f"p50/p95/p99 {_ms(p50)}/{_ms(p95)}/{_ms(p99)} ms"


SEGMENT_HEADERS = ("Segment", "Requests", "Model", "Monthly", "As logged", "Quality [95% interval]", "n",
                   "p95 ms", "Latency from")
FRONTIER_HEADERS = ("Quality ≥", "Quality [95% interval]", "Monthly", "Saves", "p95 ms", "Models")


def segment_rows(plan: Plan) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for c in plan.policy.choices:
        q = c.quality
        rows.append((c.segment.label, count(c.requests), c.label, usd(c.monthly_cost), usd(c.logged_monthly_cost),
                     f"{q.point:.1%} [{q.low:.1%}–{q.high:.1%}]", f"{q.passed}/{q.trials}",
                     _ms(c.latency_p95_ms), c.latency_source or "unmeasured"))
    return rows


def frontier_rows(plan: Plan) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for point in plan.frontier:
        p = point.policy
        mix = ", ".join(f"{m} {v:.0%}" for m, v in sorted(p.share_by_model().items(), key=lambda kv: -kv[1]))
        rows.append((f"{point.level:.1%}", _q(p), usd(p.monthly_cost), _saves(plan.baseline_monthly_cost,
                                                                             p.monthly_cost),
                     _ms(p.latency_ms[1]), mix))
    return rows


def _saves(base: Decimal, cost: Decimal) -> str:
    share = (base - cost) / base * 100 if base else 0
    return f"{usd(base - cost)} ({pct(share)})"


def render_table(plan: Plan) -> RenderableType:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    seg = Table(title="Chosen policy per segment", title_justify="left")
    for i, h in enumerate(SEGMENT_HEADERS):
        seg.add_column(h, justify="left" if i in (0, 2, 8) else "right")
    for row in segment_rows(plan):
        seg.add_row(*row)
    parts: list[RenderableType] = [Text(headline(plan)), seg]
    if plan.frontier:
        front = Table(title="Cost–quality frontier (cheapest policy at each quality level)", title_justify="left")
        for i, h in enumerate(FRONTIER_HEADERS):
            front.add_column(h, justify="left" if i == 5 else "right")
        for row in frontier_rows(plan):
            front.add_row(*row)
        parts.append(front)
    parts.extend(Text(f"note: {n}") for n in plan.notes)
    return Group(*parts)


def render_markdown(plan: Plan) -> str:
    lines = [headline(plan).replace("\n", "\n\n"), "", "### Chosen policy per segment", "",
             _md_row(SEGMENT_HEADERS), _md_rule(len(SEGMENT_HEADERS))]
    lines += [_md_row(r) for r in segment_rows(plan)]
    if plan.frontier:
        lines += ["", "### Cost–quality frontier", "", _md_row(FRONTIER_HEADERS), _md_rule(len(FRONTIER_HEADERS))]
        lines += [_md_row(r) for r in frontier_rows(plan)]
    lines += [f"\nNote: {n}" for n in plan.notes]
    return "\n".join(lines) + "\n"


def _md_row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _md_rule(n: int) -> str:
    return "|" + "---|" * n
