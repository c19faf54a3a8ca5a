"""``llmcost estimate``: price logs, project the month, compare scenarios."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from llmcost.cli.common import (
    check_writable,
    finite,
    info,
    out_console,
    progress,
    render_text,
    speaks_errors,
    warn,
    write_output,
)
from llmcost.cli.engine_opts import EngineName, EngineOpt, JobsOpt, SchedulerOpt, engine_from

if TYPE_CHECKING:
    from llmcost.breakdowns import BreakdownSpec
    from llmcost.catalog import Catalog
    from llmcost.focus import FocusExport


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    html = "html"
    focus = "focus"


_LIGHT_FORMATS = (Format.json, Format.table, Format.csv, Format.markdown)
LogsArg = Annotated[list[str], typer.Argument(help="Log files, globs, or - for stdin.", show_default=False)]
CatalogOpt = Annotated[
    str | None,
    typer.Option("--catalog", "-c", help="Catalog YAML file or bundled catalog name [env: LLMCOST_CATALOG].",
                 envvar="LLMCOST_CATALOG", show_default="bundled 'default'"),
]
LogFormatOpt = Annotated[str | None, typer.Option("--log-format", help="Skip detection: read logs as this format.")]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Model for log rows that name none.")]
SkipBadOpt = Annotated[bool, typer.Option("--skip-bad", help="Skip and count malformed rows instead of failing.")]


@speaks_errors
def estimate(
    logs: LogsArg,
    catalog: CatalogOpt = None,
    scenarios: Annotated[
        str | None, typer.Option("--scenarios", "-s", help="Scenario YAML file (default: the built-in set).")
    ] = None,
    baseline_only: Annotated[bool, typer.Option("--baseline-only", help="Price the logged traffic only.")] = False,
    model: ModelOpt = None,
    days: Annotated[int, typer.Option("--days", help="Days to project to.", min=1)] = 30,
    window_days: Annotated[
        float | None, typer.Option("--window-days", min=0.001, callback=finite,
                                   help="Days the logs cover (default: first to last timestamp).")
    ] = None,
    log_format: LogFormatOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write results here (- = stdout).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Unpriced traffic is an error (exit 2).")] = False,
    skip_bad: SkipBadOpt = False,
    chunk_rows: Annotated[
        int | None, typer.Option("--chunk-rows", min=1, help="Stream the logs in chunks of N rows (constant "
                                 "memory; automatic for logs too big for memory).")
    ] = None,
    bench: Annotated[
        list[str] | None, typer.Option("--bench", help="Bench results (bench --format json, or --results JSONL): "
                                       "every scenario then reports quality and latency beside cost (repeatable).",
                                       show_default="the scenario file's bench_results")
    ] = None,
    hit_latency_ms: Annotated[
        float, typer.Option("--hit-latency-ms", min=0, callback=finite, help="Latency of a response-cache hit.")
    ] = 10.0,
    by: Annotated[
        list[str] | None, typer.Option("--by", help="Add a table of the baseline's cost by day, week, hour, task, "
                                       "user, tag, provider or model (repeatable; day,model groups by both).",
                                       show_default=False)
    ] = None,
    top: Annotated[
        int | None, typer.Option("--top", min=1, help="Rows of task/user/tag breakdowns (the rest as 'other').",
                                 show_default="20")
    ] = None,
    jobs: JobsOpt = None,
    engine: EngineOpt = EngineName.local,
    scheduler: SchedulerOpt = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only requests at or after this UTC date/time (ISO 8601); "
                                 "a postgresql:// source filters in its query.", show_default=False)
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Only requests before this UTC date/time (ISO 8601).",
                                 show_default=False)
    ] = None,
    sweep: Annotated[
        str | None, typer.Option("--sweep", help="Semantic cache thresholds FROM:TO:STEP (e.g. 0.80:0.99:0.01): "
                                 "hit rate, saving and answer risk per threshold from one replay.", show_default=False)
    ] = None,
) -> None:
    """Price request logs exactly from a catalog, project the month, and compare what-if scenarios."""
    from llmcost.breakdowns import parse_by
    from llmcost.catalog import load_catalog
    from llmcost.errors import UsageError
    from llmcost.logs.timerange import time_range
    from llmcost.pipeline import estimate_logs
    from llmcost.pricing import describe_unpriced
    from llmcost.scenarios import select_scenarios

    window = time_range(since, until)  # --since/--until checked before any work
    if scenarios and baseline_only:
        raise UsageError("--scenarios and --baseline-only cannot be used together")
    specs = parse_by(by or [], top)
    check_writable(output)  # before the work, not after minutes of it
    # a plain baseline (breakdowns too) only resolves names and prices: a bundled catalog without pydantic
    cat = load_catalog(catalog, light=baseline_only and not (bench or sweep) and fmt in _LIGHT_FORMATS)
    chosen = select_scenarios(scenarios, baseline_only=baseline_only, catalog=cat)
    if sweep is not None:
        from llmcost.scenarios.semantic_sweep import with_sweep

        chosen = with_sweep(chosen, sweep)
    evidence = None
    if bench or not baseline_only:  # a plain baseline has no bench evidence (nor imports it)
        from llmcost.evidence.wiring import evidence_for, lend_bench, tallied

        chosen = lend_bench(chosen, bench or [])
        evidence = evidence_for(chosen, cat, bench or [])
    if evidence is not None:  # quality and latency beside cost (llmcost.evidence)
        chosen, tally = tallied(chosen, cat, evidence, hit_latency_ms)
    focus = _focus_export(fmt, cat, output)
    if engine is EngineName.dask and not baseline_only:
        from llmcost.engines.dask_replays import placement_notes

        for note in placement_notes(chosen):  # what the cluster leaves to this machine, and why
            info(note)
    with engine_from(engine, jobs, scheduler) as runner, progress(
            "reading and pricing logs", unit="rows") as bar:
        result, read = estimate_logs(
            logs, cat, chosen, log_format=log_format, default_model=model, skip_bad=skip_bad,
            chunk_rows=chunk_rows, projection_days=days, window_days=window_days,
            breakdowns=_html_breakdowns(specs, fmt, top), engine=runner, on_frame=focus.add if focus else None,
            window=window,
            on_progress=(lambda n: bar.advance(bar.task_ids[0], n)) if bar else None,
            on_scenario=(lambda name: bar.update(bar.task_ids[0], description=f"scenario {name}")) if bar else None)
    for note in getattr(runner, "notes", ()):  # e.g. --engine dask on logs the cluster cannot partition
        info(note)
    if evidence is not None:
        from llmcost.evidence.wiring import with_evidence

        result = with_evidence(result, tally)
    if read.chunk_rows and chunk_rows is None:
        info(f"logs are large: streamed in chunks of {read.chunk_rows:,} rows")
    for path, reasons in read.skipped.items():
        for why, n in reasons.items():
            warn(f"{path}: skipped {n:,} row(s): {why}")
    if strict:
        result.require_priced()
    elif result.baseline.priced.unpriced_count:
        warn(f"unpriced models, left out of the totals: {describe_unpriced(result.baseline.priced)} "
             "(use --strict to fail)")
    for s in result.scenarios[1:]:
        beyond = result.unpriced_beyond_baseline(s)
        if beyond:
            warn(f"scenario '{s.name}' is incomplete: unpriced traffic on {describe_unpriced(beyond)}; "
                 "no savings shown (use --strict to fail)")
    for note in result.warnings:
        warn(note)
    if result.window.short:
        warn(f"the logs cover only {float(result.window.days) * 24:.1f} hours; the projection extrapolates")
    if focus is not None:
        from llmcost.cli.focus_out import write_focus

        write_focus(focus, result, output)
    else:
        write_output(_render(result, fmt, output, logs), output)
    if output not in (None, "-"):
        info(f"wrote {output}")


def _focus_export(fmt: Format, cat: Catalog, output: str | None) -> FocusExport | None:
    """``--format focus``: the FOCUS rows are summed from the same chunks as the baseline (llmcost.focus)."""
    if fmt is not Format.focus:
        return None
    from llmcost.cli.focus_out import check_focus_output
    from llmcost.focus import FocusExport

    check_focus_output(output)
    return FocusExport(cat)


def _html_breakdowns(specs: tuple[BreakdownSpec, ...], fmt: Format, top: int | None) -> tuple[BreakdownSpec, ...]:
    """The breakdowns the HTML page charts (cost over time by model, by task, user and tag) when the user
    asked for none: hourly and daily, so the page can chart whichever suits the window."""
    if fmt is not Format.html or specs:
        return specs
    from llmcost.breakdowns import parse_by

    return parse_by(["hour,model", "day,model", "task", "user", "tag"], top)


def _render(result: object, fmt: Format, output: str | None, logs: list[str] | None = None) -> str:
    from llmcost.estimate import Estimate
    from llmcost.report import estimate_json

    assert isinstance(result, Estimate)
    if fmt is Format.json:  # the other renderers (and rich) only for their formats
        return estimate_json.render_json(result)
    from llmcost.report import estimate_flat

    if fmt is Format.html:
        from llmcost.report.html.load import page_for

        return page_for(estimate_json.estimate_to_dict(result), ", ".join(logs or []) or "estimate")
    if fmt is Format.csv:
        return estimate_flat.render_csv(result)
    if fmt is Format.markdown:
        from llmcost.report.semantic import judge_markdown, sweep_markdown

        return estimate_flat.render_markdown(result) + sweep_markdown(result) + judge_markdown(result)
    from llmcost.report import estimate_table

    renderable = estimate_table.render_table(result)
    from llmcost.report.semantic import sweep_tables

    if sweep_tables(result):
        from rich.console import Group

        renderable = Group(renderable, *sweep_tables(result))
    if output in (None, "-"):
        out_console().print(renderable)
        return ""
    return render_text(renderable)
