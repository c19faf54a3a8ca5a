"""The semantic cache in reports: its summary line (hit rate, saving and answer risk side by side) and the
threshold sweep as a table (terminal and Markdown). Pure: Estimate or details in, renderables out."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmcost.report.money import count, pct, usd

if TYPE_CHECKING:
    from rich.console import RenderableType

    from llmcost.estimate import Estimate, ScenarioOutcome

HEADERS = ("Threshold", "Hit rate", "Hits", "Saves / month", "Saves %", "Answers differ", "Dissimilar answers")


def _pct(value: Any) -> str:
    return f"{float(value) * 100:.1f}%"


def _money(value: Any) -> Decimal:
    """Dollars from the estimate's details (Decimal) or from its JSON dict (a number, for the HTML page)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            count_ = int(seconds // size)
            return f"{count_} {unit}" if unit != "d" else f"{count_ * 24} h" if count_ == 1 else f"{count_} d"
    return f"{seconds:g} s"


def _risk(d: dict[str, Any]) -> str:
    if "compared_hits" not in d:
        return "no responses logged"
    if not d["compared_hits"]:
        return "no hit with both answers logged"
    return (f"answers differ on {_pct(d['answers_differ_share'])} of {count(d['compared_hits'])} compared hits "
            f"({_pct(d['answers_dissimilar_share'])} below the answer similarity threshold)")


def summary_line(d: dict[str, Any]) -> str:
    """One line for the scenario details: hit rate and saving always with the answer risk."""
    bound = f", max {d['max_entries']:,} entries" if d.get("max_entries") else ""
    scope = f", per {'/'.join(d['scope'])}" if d.get("scope") else ""
    text = (f"semantic cache (cosine ≥ {d['threshold']:g}, TTL {_duration(float(d['ttl_s']))}{bound}{scope}, "
            f"{d['embedder']} embeddings): {_pct(d['hit_rate'])} hit rate ({count(d['hits'])} of "
            f"{count(d['requests'])} requests), {usd(_money(d['cost_saved_usd']))} of the observed cost saved; "
            f"{_risk(d)}")
    if d.get("embedding_model"):
        text += (f"; every request embedded: {count(d['embedding_requests'])} calls, "
                 f"{count(d['embedding_tokens'])} tokens on {d['embedding_model']} (in the scenario's cost)")
    elif d.get("embedding_note"):
        text += f"; {d['embedding_note']}"
    if d.get("judge"):
        text += f"; {judge_text(d['judge'])}"
    return text


def judge_text(g: dict[str, Any]) -> str:
    """The judge's grades of the sampled hit pairs (``scenarios.semantic_judge``)."""
    if not g.get("sample_size"):
        return f"judge {g['model']}: {g.get('note', 'nothing judged')}"
    return (f"judge {g['model']}: {_pct(g['judged_wrong_share'])} of {g['sample_size']:,} sampled hits judged "
            f"wrong (score < {g['min_score']}; 95% CI {_pct(g['judged_wrong_low'])}–{_pct(g['judged_wrong_high'])}"
            f", seed {g['seed']}, of {g['pairs_available']:,} hits with both answers; "
            f"{g['calls']:,} judge calls in the scenario's cost)")


def sweeps(est: Estimate) -> list[tuple[ScenarioOutcome, list[dict[str, Any]], Decimal | None]]:
    """(scenario, sweep rows, monthly embedding cost or None when unpriced) of each scenario with a sweep."""
    out = []
    for s in est.scenarios:
        d = s.details.get("semantic_cache") or {}
        if d.get("sweep"):
            out.append((s, d["sweep"], _embedding_cost(s, d)))
    return out


def _embedding_cost(s: ScenarioOutcome, d: dict[str, Any]) -> Decimal | None:
    model = d.get("embedding_model")
    if model is None:
        return Decimal(0)
    for m in s.priced.by_model:
        if m.model == model or str(model) in (m.model,):
            return None if m.cost is None else s.monthly(m.cost)
    return None


def _cells(est: Estimate, s: ScenarioOutcome, row: dict[str, Any], embedding: Decimal | None) -> list[str]:
    base = est.baseline.monthly_cost
    saved = s.monthly(_money(row["cost_saved_usd"]))
    net = saved - embedding if embedding is not None else None
    share = f"{pct(net / base * 100)}" if net is not None and base else "n/a"
    differ = _pct(row["answers_differ_share"]) if row.get("compared_hits") else "—"
    dissimilar = _pct(row["answers_dissimilar_share"]) if row.get("compared_hits") else "—"
    return [f"{row['threshold']:.2f}", _pct(row["hit_rate"]), count(row["hits"]),
            usd(net) if net is not None else "n/a (embeddings unpriced)", share, differ, dissimilar]


def _footer(s: ScenarioOutcome, embedding: Decimal | None) -> str:
    d = s.details["semantic_cache"]
    if embedding is None:
        return (f"'{s.name}': the embedding calls on {d.get('embedding_model')} are unpriced in this catalog, so no "
                "net saving is shown")
    cost = f"embedding every request costs {usd(embedding)}/month at every threshold, taken from the savings" \
        if d.get("embedding_model") else d.get("embedding_note", "")
    judge = f" At {d['threshold']:g}, {judge_text(d['judge'])}." if d.get("judge") else ""
    return (f"'{s.name}': Saves = requests answered from the cache, less lookups and embeddings; {cost}. "
            "Answers differ: share of hits whose cached answer is not the logged one (text); dissimilar: "
            f"below {d['answer_threshold']:g} cosine between the two answers.{judge}")


def sweep_tables(est: Estimate) -> list[RenderableType]:
    from rich.table import Table
    from rich.text import Text

    out: list[RenderableType] = []
    for s, rows, embedding in sweeps(est):
        table = Table(title=f"Semantic cache threshold sweep — {s.name}", title_justify="left")
        for i, h in enumerate(HEADERS):
            table.add_column(h, justify="left" if i == 0 else "right")
        for row in rows:
            table.add_row(*_cells(est, s, row, embedding))
        out += [table, Text(_footer(s, embedding), style="dim")]
    return out


def sweep_markdown(est: Estimate) -> str:
    parts = []
    for s, rows, embedding in sweeps(est):
        lines = [f"### Semantic cache threshold sweep — {s.name}", "", "| " + " | ".join(HEADERS) + " |",
                 "|---|" + "---:|" * (len(HEADERS) - 1)]
        lines += ["| " + " | ".join(_cells(est, s, row, embedding)) + " |" for row in rows]
        lines += ["", _footer(s, embedding), ""]
        parts.append("\n".join(lines))
    return "\n" + "\n".join(parts) if parts else ""


def judge_markdown(est: Estimate) -> str:
    """The semantic-cache line (saving with its answer risk and the judge's grades) of each scenario whose
    cache has a judge and no sweep (a sweep's footer carries it)."""
    lines = [f"- **{s.name}**: {summary_line(s.details['semantic_cache'])}" for s in est.scenarios
             if (s.details.get("semantic_cache") or {}).get("judge") and not s.details["semantic_cache"].get("sweep")]
    return "\n### Semantic cache judge\n\n" + "\n".join(lines) + "\n" if lines else ""
