"""``llmcost plan``: the cheapest routing policy for the logged traffic that meets a quality bar and
latency limits measured by the bench."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from llmcost.cli.common import check_writable, finite, info, out_console, render_text, speaks_errors, warn, write_output
from llmcost.cli.estimate_cmd import CatalogOpt, LogFormatOpt, LogsArg, ModelOpt, SkipBadOpt


class Format(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


@speaks_errors
def plan(
    logs: LogsArg,
    bench: Annotated[list[str], typer.Option("--bench", "-b", help="Bench results (bench --results JSONL or "
                                             "--format json summary); repeatable.", show_default=False)],
    catalog: CatalogOpt = None,
    min_quality: Annotated[float | None, typer.Option(
        "--min-quality", min=0, max=1, callback=finite, help="Traffic-weighted pass rate to keep (0-1).")] = None,
    per_task: Annotated[bool, typer.Option("--per-task-min-quality", help="Hold --min-quality on every task "
                                           "apart.")] = False,
    max_p95: Annotated[float | None, typer.Option("--max-p95-latency-ms", min=0, callback=finite,
                                                  help="Limit on the policy's p95 end-to-end latency.")] = None,
    max_p99: Annotated[float | None, typer.Option("--max-p99-latency-ms", min=0, callback=finite,
                                                  help="Limit on the policy's p99 end-to-end latency.")] = None,
    candidates: Annotated[str | None, typer.Option("--candidates", help="Comma-separated models to choose "
                                                   "from (default: every bench model).")] = None,
    segments: Annotated[str, typer.Option("--segments", help="Segment by: task, input_size, classifier.")
                        ] = "task,input_size",
    size_buckets: Annotated[str, typer.Option("--size-buckets", help="Input-token edges of the size "
                                              "buckets.")] = "1000,8000",
    optimistic: Annotated[bool, typer.Option("--optimistic", help="Use the measured pass rate, not its lower "
                                             "95% bound.")] = False,
    with_caching: Annotated[bool, typer.Option("--with-caching", help="Include the 24 h response cache and "
                                               "provider prompt caching replays.")] = False,
    cascades: Annotated[bool, typer.Option("--cascades", help="Also weigh two-model cascades per segment "
                                           "(cheaper model first, escalate the share it fails).")] = False,
    frontier: Annotated[int, typer.Option("--frontier", min=0, max=50, help="Quality levels in the "
                                          "cost-quality frontier (0: none).")] = 8,
    classifier: Annotated[str | None, typer.Option("--classifier", help="Train a complexity classifier on the "
                                                   "bench outcomes of this suite's prompts (needs --results "
                                                   "JSONL bench files).")] = None,
    classifier_model: Annotated[str | None, typer.Option("--classifier-model", help="Whose passes the "
                                                         "classifier learns (default: cheapest candidate).")] = None,
    write_scenario: Annotated[str | None, typer.Option("--write-scenario", help="Write the policy as a "
                                                       "scenario YAML (estimate --scenarios reproduces it).")] = None,
    write_litellm: Annotated[str | None, typer.Option("--write-litellm", help="Write a LiteLLM proxy config "
                                                      "(tag-based routing).")] = None,
    write_rules: Annotated[str | None, typer.Option("--write-rules", help="Write a plain JSON rules file.")] = None,
    model: ModelOpt = None,
    log_format: LogFormatOpt = None,
    skip_bad: SkipBadOpt = False,
    days: Annotated[int, typer.Option("--days", help="Days to project to.", min=1)] = 30,
    window_days: Annotated[float | None, typer.Option("--window-days", min=0.001, callback=finite,
                                                      help="Days the logs cover.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write results here (- = stdout).")] = None,
) -> None:
    """Find the cheapest routing policy (a model per task × input-size segment) that meets a quality bar
    and latency limits; exit 1 when none does (the closest policy is shown)."""
    from llmcost.catalog import load_catalog
    from llmcost.evidence import load_bench_evidence
    from llmcost.logs import read_logs
    from llmcost.logs.source import expand
    from llmcost.plan.problem import Bars
    from llmcost.plan.run import PlanOptions, make_plan
    from llmcost.plan.segments import parse_buckets, parse_dimensions

    _needs_route_extra()
    options = PlanOptions(
        Bars(min_quality, per_task, max_p95, max_p99, optimistic),
        tuple(c.strip() for c in (candidates or "").split(",") if c.strip()),
        parse_dimensions(segments), parse_buckets(size_buckets), with_caching, frontier, days, classifier,
        classifier_model, tuple(bench), cascades)
    if per_task and min_quality is None:
        from llmcost.errors import UsageError

        raise UsageError("--per-task-min-quality needs --min-quality")
    check_writable(output, write_scenario, write_litellm, write_rules)
    cat = load_catalog(catalog)
    evidence = load_bench_evidence(bench)
    logset = read_logs(expand(logs), log_format=log_format, default_model=model, skip_bad=skip_bad)
    for f in logset.files:
        for why, n in f.skipped.items():
            warn(f"{f.path}: skipped {n:,} row(s): {why}")
    result = make_plan(logset.frame, cat, evidence, options, window_days)
    text = _render(result, fmt, output)
    write_output(text, output)
    if not result.met:
        warn("no policy meets the bars; no files written. The closest policy misses: " + "; ".join(result.misses))
        raise typer.Exit(code=1)
    _write_files(result, cat, write_scenario, write_litellm, write_rules)


def _needs_route_extra() -> None:
    from llmcost.errors import UsageError

    try:
        import scipy.optimize  # noqa: F401
    except ImportError:
        raise UsageError("llmcost plan needs scipy (its exact solver): pip install 'llmcost[route]'") from None


def _write_files(result: object, cat: object, scenario: str | None, litellm: str | None, rules: str | None) -> None:
    from pathlib import Path

    from llmcost.catalog import Catalog
    from llmcost.cli.common import write_atomic
    from llmcost.plan.outputs import litellm_yaml, rules_json, scenario_yaml
    from llmcost.plan.run import Plan

    assert isinstance(result, Plan) and isinstance(cat, Catalog)
    command = "llmcost " + " ".join(sys.argv[1:]) if sys.argv and sys.argv[0].endswith("llmcost") else "llmcost plan"
    files: list[tuple[str, str]] = []  # every text rendered before the first write
    if scenario is not None:
        files.append((scenario, scenario_yaml(result, command)))
    if litellm is not None:
        files.append((litellm, litellm_yaml(result, cat)))
    if rules is not None:
        files.append((rules, rules_json(result, cat)))
    for path, text in files:
        write_atomic(Path(path), text)
        info(f"wrote {path}")


def _render(result: object, fmt: Format, output: str | None) -> str:
    import json

    from llmcost.plan.outputs import plan_to_json
    from llmcost.plan.run import Plan
    from llmcost.report import plan_view

    assert isinstance(result, Plan)
    if fmt is Format.json:
        return json.dumps(plan_to_json(result), indent=2) + "\n"
    if fmt is Format.markdown:
        return plan_view.render_markdown(result)
    if fmt is Format.html:  # the page `llmcost report PLAN.json` builds, from the same JSON dict
        from llmcost.report.html.load import page_for

        return page_for(plan_to_json(result), "llmcost plan")
    renderable = plan_view.render_table(result)
    if output in (None, "-"):
        out_console().print(renderable)
        return ""
    return render_text(renderable)
