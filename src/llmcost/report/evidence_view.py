"""Quality and latency beside cost (``llmcost.evidence``) in every estimate format: pure renderers the
estimate's table, JSON, CSV and Markdown renderers call. Nothing here computes a figure."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from llmcost.estimate import Estimate, ScenarioOutcome
from llmcost.report.money import count

if TYPE_CHECKING:  # rich only for the table format: JSON, CSV and Markdown never import it
    from rich.console import RenderableType
    from rich.table import Table

    from llmcost.evidence.latency import LatencyFigure
    from llmcost.evidence.quality import QualityFigure

CSV_FIELDS = ("scenario", "task", "requests", "pass_rate", "pass_rate_low", "pass_rate_high", "unmeasured_share",
              "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "ttft_p50_ms", "ttft_p95_ms", "ttft_p99_ms",
              "latency_source", "ttft_source", "latency_unmeasured_share", "note")
MAX_TASK_ROWS = 40


def evidence_json(s: ScenarioOutcome) -> dict[str, Any]:
    """The scenario's additive JSON fields: ``quality`` and ``latency`` with evidence, else a ``note``
    when its quality is unmeasured."""
    if s.evidence is not None:
        return s.evidence.to_json()
    note = quality_note(s)
    return {} if note is None else {"note": note}


def evidence_tables(est: Estimate) -> list[RenderableType]:
    parts: list[RenderableType] = []
    with_evidence = [s for s in est.scenarios if s.evidence is not None]
    if with_evidence:
        parts.append(_summary_table(with_evidence))
        tasks = [(s.name, t) for s in with_evidence for t in s.evidence.quality.by_task]  # type: ignore[union-attr]
        if len({t.task for _, t in tasks}) > 1 and len(tasks) <= MAX_TASK_ROWS:
            parts.append(_task_table(tasks))
    notes = _notes(est)
    if notes:
        from rich.text import Text

        parts.append(Text("\n".join(notes), style="yellow"))
    return parts


def _summary_table(outcomes: list[ScenarioOutcome]) -> Table:
    from rich.table import Table

    table = Table(title="Quality and latency (pass rate: 95% interval; latency from the logs, else the bench)",
                  title_justify="left")
    for col in ("Scenario", "Pass rate", "Interval", "Unmeasured", "Latency p50", "p95", "p99", "TTFT p95",
                "Latency from"):
        table.add_column(col, justify="left" if col in ("Scenario", "Latency from") else "right")
    for s in outcomes:
        assert s.evidence is not None
        q, lat = s.evidence.quality.overall, s.evidence.latency
        table.add_row(s.name, _rate(q.point), _interval(q), _share(q.unmeasured_share), _ms(lat.e2e_ms.p50),
                      _ms(lat.e2e_ms.p95), _ms(lat.e2e_ms.p99), _ms(lat.ttft_ms.p95), _source(lat.e2e_ms))
    return table


def _task_table(rows: list[tuple[str, QualityFigure]]) -> Table:
    from rich.table import Table

    table = Table(title="Quality by task", title_justify="left")
    for col in ("Scenario", "Task", "Requests", "Pass rate", "Interval", "Unmeasured"):
        table.add_column(col, justify="left" if col in ("Scenario", "Task") else "right")
    for name, t in rows:
        table.add_row(name, t.task or "", count(t.requests), _rate(t.point), _interval(t), _share(t.unmeasured_share))
    return table


def _notes(est: Estimate) -> list[str]:
    unmeasured = [s.name for s in est.scenarios if quality_note(s) is not None]
    from llmcost.evidence.wiring import UNMEASURED_NOTE

    out = [f"{', '.join(unmeasured)}: {UNMEASURED_NOTE}"] if unmeasured else []
    for s in est.scenarios:
        if s.evidence is not None and s.evidence.quality.overall.unmeasured_share:
            pairs = ", ".join(f"{m}/{t or 'all tasks'}" for m, t, _ in s.evidence.quality.unmeasured[:5])
            more = len(s.evidence.quality.unmeasured) - 5
            out.append(f"{s.name}: {_share(s.evidence.quality.overall.unmeasured_share)} of requests go to a "
                       f"(model, task) the bench never scored ({pairs}{f', +{more} more' if more > 0 else ''}); "
                       "the pass rate covers the rest")
        if s.evidence is not None and s.evidence.latency.unmeasured_models:
            out.append(f"{s.name}: no latency measured for {', '.join(s.evidence.latency.unmeasured_models)} "
                       "(neither in the logs nor in the bench); left out of the percentiles")
    return out


def evidence_csv(est: Estimate) -> str:
    """A CSV block after the main table (a blank line, a header, the rows): per scenario its overall
    figures (task empty) and one row per task."""
    rows = []
    for s in est.scenarios:
        note = quality_note(s) or ""
        if s.evidence is None:
            if note:
                rows.append([s.name, "", *[""] * (len(CSV_FIELDS) - 3), note])
            continue
        q, lat = s.evidence.quality, s.evidence.latency
        times = [lat.e2e_ms.p50, lat.e2e_ms.p95, lat.e2e_ms.p99, lat.ttft_ms.p50, lat.ttft_ms.p95, lat.ttft_ms.p99]
        rows.append([s.name, "", *_quality_cells(q.overall), *_cells(times), lat.e2e_ms.source or "",
                     lat.ttft_ms.source or "", f"{lat.e2e_ms.shares.get('unmeasured', 0.0):g}", note])
        for t in q.by_task:
            rows.append([s.name, t.task or "", *_quality_cells(t), *[""] * 9, ""])
    if not rows:
        return ""
    buf = io.StringIO()
    buf.write("\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    writer.writerows(rows)
    return buf.getvalue()


def evidence_markdown(est: Estimate) -> list[str]:
    """Markdown lines (none when there is nothing to say) to append after the scenario tables."""
    lines: list[str] = []
    outcomes = [s for s in est.scenarios if s.evidence is not None]
    if outcomes:
        lines += ["", "### Quality and latency", "",
                  "| Scenario | Pass rate | 95% interval | Unmeasured | Latency p50 | p95 | p99 | TTFT p95 | From |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
        for s in outcomes:
            assert s.evidence is not None
            q, lat = s.evidence.quality.overall, s.evidence.latency
            lines.append(f"| {s.name} | {_rate(q.point)} | {_interval(q)} | {_share(q.unmeasured_share)} | "
                         f"{_ms(lat.e2e_ms.p50)} | {_ms(lat.e2e_ms.p95)} | {_ms(lat.e2e_ms.p99)} | "
                         f"{_ms(lat.ttft_ms.p95)} | {_source(lat.e2e_ms)} |")
    notes = _notes(est)
    if notes:
        lines += [""] + [f"> {n}" for n in notes]
    return lines


def _quality_cells(q: QualityFigure) -> list[str]:
    return [count(q.requests), *_cells([q.point, q.low, q.high]), f"{q.unmeasured_share:g}"]


def _cells(values: list[float | None]) -> list[str]:
    return ["" if v is None else f"{round(v, 6):g}" for v in values]


def _rate(value: float | None) -> str:
    return "unmeasured" if value is None else f"{value * 100:.1f}%"


def _interval(q: QualityFigure) -> str:
    if q.low is None or q.high is None:
        return "—"
    return f"{q.low * 100:.1f}–{q.high * 100:.1f}%"


def _share(value: float) -> str:
    return "—" if not value else f"{value * 100:.1f}%"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


def _source(fig: LatencyFigure) -> str:
    """Where the figures came from; traffic without latency is always named, so percentiles of a small
    measured part never read as the whole scenario's."""
    if fig.source is None:
        return "unmeasured"
    if fig.source == "mixed" or "unmeasured" in fig.shares:
        return f"{fig.source} (" + ", ".join(f"{k} {v * 100:.0f}%" for k, v in fig.shares.items()) + ")"
    return fig.source


def quality_note(s: ScenarioOutcome) -> str | None:
    """``evidence.wiring.quality_note``, importing the evidence package only for a scenario that could have
    a note (one with details: a plain baseline's JSON never loads it)."""
    if s.evidence is None and not s.details:
        return None
    from llmcost.evidence.wiring import quality_note as note

    return note(s)
