"""``estimate --format table``: a rich renderable (the CLI decides where it goes)."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from llmcost.estimate import Estimate, ScenarioOutcome
from llmcost.pricing import ModelCost
from llmcost.report.breakdown_view import breakdown_tables
from llmcost.report.evidence_view import evidence_tables
from llmcost.report.model_rows import RestRow, busiest_across, model_in
from llmcost.report.money import adds_up, count, pct, usd
from llmcost.report.scenario_details import summary_lines


def render_table(est: Estimate) -> RenderableType:
    parts: list[RenderableType] = [_header(est)]
    if len(est.scenarios) > 1:
        parts.append(_comparison(est))
        incomplete = _incomplete_lines(est)
        if incomplete is not None:
            parts.append(incomplete)
        parts.append(_requests_by_model(est))
        notes = _details(est)
        if notes is not None:
            parts.append(notes)
        measured = _measured(est)
        if measured is not None:
            parts.append(measured)
    parts.extend(evidence_tables(est))
    parts.append(_by_model(est, est.baseline))
    if not _adds_up(est):
        parts.append(Text(ROUNDING_NOTE, style="dim"))
    footer = _unpriced_lines(est.baseline)
    if footer:
        parts.append(footer)
    parts.extend(breakdown_tables(est))
    return Group(*parts)


ROUNDING_NOTE = ("Amounts are rounded to the cent, so rows may not add up to the total shown; totals and "
                 "savings are exact (--format json keeps micro-dollars).")


def _adds_up(est: Estimate) -> bool:
    """Whether every rounded row adds up to its rounded total (by-model table, savings column)."""
    b = est.baseline
    costs = [m.cost for m in b.priced.priced if m.cost is not None]
    checks = [(costs, b.priced.total), ([b.monthly(c) for c in costs], b.monthly(b.priced.total))]
    logged = [m.cost_logged for m in b.priced.models if m.cost_logged is not None]
    if b.priced.names and b.priced.names.logged is not None:
        logged += [c for c in map(b.priced.names.cost_logged, range(len(b.priced.names))) if c is not None]
    if b.priced.cost_logged is not None:
        checks.append((logged, b.priced.cost_logged))
    if len(est.scenarios) > 1:
        for s in est.scenarios[1:]:
            if est.comparable(s):
                checks.append(([b.monthly_cost, -s.monthly_cost], est.savings(s)[0]))
    return all(adds_up(parts, total) for parts, total in checks)


def _header(est: Estimate) -> Text:
    w = est.window
    days = float(w.days)
    text = Text()
    text.append(f"Observed window: {w.start:%Y-%m-%d %H:%M} → {w.end:%Y-%m-%d %H:%M} UTC "
                f"({days:.2f} days, {w.requests:,} requests); ", style="dim")
    text.append(f"projected to {est.projection_days} days at the observed rate.", style="dim")
    if any(s.monthly_growth for s in est.scenarios):
        grown = ", ".join(f"{s.name} +{float(s.monthly_growth):.1%}" for s in est.scenarios if s.monthly_growth)
        text.append(f"\nSavings compare scenarios at the observed volume; 'With growth' compounds monthly growth "
                    f"({grown} a month) month by month.", style="dim")
    if w.short:
        text.append("\nWarning: the window is shorter than a day; the projection extrapolates a lot.",
                    style="yellow")
    return text


def _comparison(est: Estimate) -> Table:
    table = Table(title="Scenarios", title_justify="left")
    growth = any(s.monthly_growth for s in est.scenarios)
    columns = ["Scenario", "Provider requests", "Input tokens", "Cached input", "Output tokens", "Observed",
               "Monthly", "Saves / month", "Saves %"]
    if growth:
        columns.append("With growth")
    for col in columns:
        table.add_column(col, justify="left" if col == "Scenario" else "right", no_wrap=col == "Scenario")
    for s in est.scenarios:
        t = s.priced.tokens
        row = [s.name if est.comparable(s) else f"{s.name} *", count(round(t.requests, 1)),
               count(round(t.input_tokens)), count(round(t.cache_read_tokens)), count(round(t.output_tokens)),
               usd(s.observed_cost), usd(s.monthly_cost), *_savings_cells(est, s)]
        if growth:
            row.append(usd(s.monthly_cost_with_growth) if s.monthly_growth else "—")
        table.add_row(*row)
    return table


def _savings_cells(est: Estimate, s: ScenarioOutcome) -> list[str]:
    """Savings at equal volume; none for the baseline, "n/a" for a scenario that leaves traffic unpriced."""
    if s is est.baseline:
        return ["—", "—"]
    if not est.comparable(s):
        return ["n/a", "n/a"]
    saved, p = est.savings(s)
    return [usd(saved), pct(p)]


def _incomplete_lines(est: Estimate) -> Text | None:
    """A footer line per scenario whose total leaves out traffic the baseline prices."""
    text = Text(style="yellow")
    for s in est.scenarios[1:]:
        for m in est.unpriced_beyond_baseline(s):
            found = model_in(s.priced, m.model)
            found = found if found is not None and found.cost is None else None
            if found is None:  # unpriced in the baseline, priced here: the totals cover different traffic
                text.append(f"* Incomplete: {s.name} prices {m.model}, which the baseline leaves unpriced "
                            f"({m.unpriced_reason}); no savings shown.\n")
            else:
                text.append(f"* Incomplete: {s.name} leaves {m.model} unpriced — {count(found.tokens.requests)} "
                            f"requests ({found.unpriced_reason}); not in its total, no savings shown.\n")
    return text if text.plain else None


def _requests_by_model(est: Estimate) -> Table:
    """Requests and monthly cost per model under each scenario, side by side: the busiest ``TABLE_ROWS``
    models (by requests across scenarios), then one row for the rest (summed as columns: ``model_rows``)."""
    table = Table(title="Requests and monthly cost by model (tier)", title_justify="left")
    table.add_column("Model (tier)")
    for s in est.scenarios:
        table.add_column(s.name, justify="right")
    tiers: dict[str, str] = {}
    for s in est.scenarios:
        tiers.update((m, t) for m, t in (s.details.get("model_tiers") or {}).items() if t)
    shown, rest, n_rest = busiest_across(est.scenarios, TABLE_ROWS)
    for name in shown:
        row = [f"{name} ({tiers[name]})" if name in tiers else name]
        for s in est.scenarios:
            found = model_in(s.priced, name)
            if found is None or not found.tokens.requests:
                row.append("—")
            else:
                money = usd(s.monthly(found.cost)) if found.cost is not None else "unpriced"
                row.append(f"{count(round(found.tokens.requests, 1))} · {money}")
        table.add_row(*row)
    if n_rest:
        row = [f"{n_rest:,} more models (all in --format json)"]
        for s, cell in zip(est.scenarios, rest, strict=True):
            money = usd(s.monthly(sum(cell.priced, Decimal(0)))) if cell.priced else "unpriced"
            if cell.priced and len(cell.priced) < cell.models:
                money += " + unpriced"
            row.append(f"{count(round(cell.requests, 1))} · {money}")
        table.add_row(*row)
    return table


# Rows a per-model table shows; the rest are summed in one row (a log can name 100,000 models).
TABLE_ROWS = 25


def _details(est: Estimate) -> Text | None:
    text = Text()
    for s in est.scenarios:
        lines = summary_lines(s.details)
        assumptions = s.details.get("assumptions") or []
        if not lines and not assumptions:
            continue
        text.append(f"{s.name}\n", style="bold")
        for line in lines:
            text.append(f"  {line}\n")
        for note in assumptions:
            text.append(f"  ASSUMPTION: {note}\n", style="yellow")
        if s.extra_cost:
            text.append(f"  non-token costs included: {usd(s.extra_cost)}\n", style="dim")
    return text if text.plain else None


def _measured(est: Estimate) -> Table | None:
    """Bench-measured quality and latency of the models each scenario uses."""
    rows = [(s.name, m) for s in est.scenarios for m in s.details.get("measured") or []]
    if not rows:
        return None
    table = Table(title="Measured quality and latency (bench results)", title_justify="left")
    for col in ("Scenario", "Model", "Share of requests", "Pass rate", "Error rate", "Latency p50",
                "Latency p95", "TTFT p50"):
        table.add_column(col, justify="left" if col in ("Scenario", "Model") else "right")
    for name, m in rows:
        table.add_row(name, m["model"], pct(m["request_share"] * 100), _rate(m["quality_pass_rate"]),
                      _rate(m["error_rate"]), _ms(m["latency_ms_p50"]), _ms(m["latency_ms_p95"]),
                      _ms(m["ttft_ms_p50"]))
    return table


def _rate(value: float | None) -> str:
    return "—" if value is None else pct(value * 100)


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


def _by_model(est: Estimate, s: ScenarioOutcome) -> Table:
    total = s.priced.total
    logged = s.priced.cost_logged is not None
    table = Table(title=f"{s.name}: cost by model", title_justify="left", show_footer=True)
    tokens = s.priced.tokens
    columns = [
        ("Model", "Total", "left"),
        ("Requests", count(tokens.requests), "right"),
        ("Input", count(tokens.input_tokens), "right"),
        ("Cache read", count(tokens.cache_read_tokens), "right"),
        ("Cache write", count(tokens.cache_write_tokens + tokens.cache_write_1h_tokens), "right"),
        ("Output", count(tokens.output_tokens), "right"),
        ("Observed", usd(s.observed_cost), "right"),
    ]
    if logged:
        columns.append(("Logged cost", usd(s.priced.cost_logged), "right"))
    columns += [("Monthly", usd(s.monthly_cost), "right"), ("Share", "100.0%" if total else "—", "right")]
    for name, footer, justify in columns:
        table.add_column(name, footer=footer, justify=justify)  # type: ignore[arg-type]
    shown, rest = _top_rows(s)  # the rest: summed as columns
    for m in shown:
        cost = m.cost
        row = [
            m.model if cost is not None else f"{m.model} (unpriced)",
            count(m.tokens.requests),
            count(m.tokens.input_tokens),
            count(m.tokens.cache_read_tokens),
            count(m.tokens.cache_write_tokens + m.tokens.cache_write_1h_tokens),
            count(m.tokens.output_tokens),
            usd(cost),
        ]
        if logged:
            row.append(usd(m.cost_logged))
        row += [usd(s.monthly(cost)) if cost is not None else "unpriced",
                pct(cost / total * 100) if cost is not None and total else "—"]
        table.add_row(*row)
    if rest.models:
        table.add_row(*_rest_row(s, rest, logged, total))
    return table


def _top_rows(s: ScenarioOutcome) -> tuple[list[ModelCost], RestRow]:
    """The priced models by cost, then the unpriced by requests: the first ``TABLE_ROWS``, and the rest summed."""
    priced = list(s.priced.priced)  # by_model keeps them by cost, highest first
    shown = (priced + s.priced.busiest_unpriced(max(0, TABLE_ROWS - len(priced))))[:TABLE_ROWS]
    return shown, RestRow.of(s.priced, shown)


def _rest_row(s: ScenarioOutcome, rest: RestRow, logged: bool, total: Decimal) -> list[str]:
    costs = rest.costs
    cost = sum(costs, Decimal(0)) if costs else None
    label = f"{rest.models:,} more models" + (" (some unpriced)" if len(costs) < rest.models else "")
    tokens = rest.tokens
    row = [label, count(tokens.requests), count(tokens.input_tokens), count(tokens.cache_read_tokens),
           count(tokens.cache_write_tokens + tokens.cache_write_1h_tokens), count(tokens.output_tokens), usd(cost)]
    if logged:
        row.append(usd(rest.logged))
    row += [usd(s.monthly(cost)) if cost is not None else "unpriced",
            pct(cost / total * 100) if cost is not None and total else "—"]
    return row


def _unpriced_lines(s: ScenarioOutcome) -> Text | None:
    if not s.priced.unpriced_count:
        return None
    text = Text(style="yellow")
    shown = s.priced.busiest_unpriced(TABLE_ROWS)
    for m in shown:
        text.append(f"Unpriced: {m.model} — {count(m.tokens.requests)} requests ({m.unpriced_reason}); "
                    "not included in the totals.\n")
    n_rest = s.priced.unpriced_count - len(shown)
    if n_rest:
        requests = s.priced.unpriced_total().requests - sum(m.tokens.requests for m in shown)
        text.append(f"Unpriced: {n_rest:,} more models — {count(requests)} "
                    "requests; not included in the totals (every one is listed in --format json).\n")
    return text
