"""``estimate --format csv`` and ``--format markdown``."""

from __future__ import annotations

import csv
import io

from llmcost.estimate import Estimate
from llmcost.report.breakdown_view import breakdowns_csv, breakdowns_markdown
from llmcost.report.evidence_view import evidence_csv, evidence_markdown
from llmcost.report.money import count, pct, usd

CSV_FIELDS = (
    "scenario", "model", "provider", "requests", "input_tokens", "cache_read_tokens", "cache_write_tokens",
    "cache_write_1h_tokens", "output_tokens", "reasoning_tokens", "observed_cost_usd", "monthly_cost_usd",
    "cost_logged_usd", "priced",
)


def render_csv(est: Estimate) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for s in est.scenarios:
        for m in s.priced.by_model:
            t = m.tokens
            writer.writerow([
                s.name, m.model, m.provider or "", t.requests, t.input_tokens, t.cache_read_tokens,
                t.cache_write_tokens, t.cache_write_1h_tokens, t.output_tokens, t.reasoning_tokens,
                "" if m.cost is None else m.cost, "" if m.cost is None else s.monthly(m.cost),
                "" if m.cost_logged is None else m.cost_logged, m.cost is not None,
            ])
    buf.write(evidence_csv(est))
    return buf.getvalue() + breakdowns_csv(est)


def render_markdown(est: Estimate) -> str:
    w = est.window
    lines = [
        "## LLM cost estimate",
        "",
        f"Observed {w.start:%Y-%m-%d %H:%M} → {w.end:%Y-%m-%d %H:%M} UTC ({float(w.days):.2f} days, "
        f"{w.requests:,} requests), projected to {est.projection_days} days.",
        "",
    ]
    growth = any(s.monthly_growth for s in est.scenarios)
    lines += ["| Scenario | Observed | Monthly | Saves / month | Saves % |" + (" With growth |" if growth else ""),
              "|---|---:|---:|---:|---:|" + ("---:|" if growth else "")]
    for s in est.scenarios:
        saved, p = est.savings(s)
        if s is est.baseline:
            cells = "— | —"
        elif not est.comparable(s):
            cells = "n/a | incomplete"
        else:
            cells = f"{usd(saved)} | {pct(p)}"
        grown = f" {usd(s.monthly_cost_with_growth) if s.monthly_growth else '—'} |" if growth else ""
        lines.append(f"| {s.name} | {usd(s.observed_cost)} | {usd(s.monthly_cost)} | {cells} |{grown}")
    for s in est.scenarios[1:]:
        for m in est.unpriced_beyond_baseline(s):
            lines.append(f"\n> Incomplete: `{s.name}` leaves traffic unpriced or prices other traffic than the "
                         f"baseline (`{m.model}`: {m.unpriced_reason}); no savings shown.")
    if growth:
        lines.append("\nSavings compare scenarios at the observed volume; *With growth* compounds each "
                     "scenario's monthly growth month by month.")
    b = est.baseline
    lines += ["", "| Model | Requests | Input | Cache read | Output | Observed | Monthly |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for m in b.priced.by_model:
        t = m.tokens
        monthly = usd(b.monthly(m.cost)) if m.cost is not None else "unpriced"
        lines.append(f"| {m.model} | {count(t.requests)} | {count(t.input_tokens)} | "
                     f"{count(t.cache_read_tokens)} | {count(t.output_tokens)} | {usd(m.cost)} | {monthly} |")
    for m in b.priced.unpriced:
        lines.append(f"\n> Unpriced: `{m.model}`, {count(m.tokens.requests)} requests ({m.unpriced_reason}).")
    lines += evidence_markdown(est)
    return "\n".join(lines) + "\n" + breakdowns_markdown(est)
