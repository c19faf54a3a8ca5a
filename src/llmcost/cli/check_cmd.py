"""``llmcost check``: the CI budget gate. Exit 0 pass (warnings allowed), 1 a rule failed, 2 invalid input."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from llmcost.cli.common import check_writable, info, out_console, render_text, speaks_errors, warn, write_output
from llmcost.cli.engine_opts import EngineName, EngineOpt, JobsOpt, SchedulerOpt, engine_from

if TYPE_CHECKING:
    from llmcost.budget import CheckResult


class Format(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    junit = "junit"
    html = "html"


@speaks_errors
def check(
    policy: Annotated[
        str | None,
        typer.Option("--policy", "-p", help="Policy YAML file.", envvar="LLMCOST_POLICY",
                     show_default="llmcost.yaml"),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write results here (- = stdout).")] = None,
    markdown: Annotated[
        str | None, typer.Option("--markdown", help="Also write a PR-comment-ready Markdown summary here.")
    ] = None,
    baseline: Annotated[
        str | None, typer.Option("--baseline", help="Baseline estimate JSON (overrides inputs.baseline).")
    ] = None,
    bench: Annotated[str | None, typer.Option("--bench", help="Bench results JSON (overrides inputs.bench).")] = None,
    save_estimate: Annotated[
        str | None, typer.Option("--save-estimate", help="Write this run's estimate JSON here (a future baseline).")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Unpriced traffic is an error (exit 2).")] = False,
    jobs: JobsOpt = None,
    engine: EngineOpt = EngineName.local,
    scheduler: SchedulerOpt = None,
) -> None:
    """Gate a change on the LLM bill: evaluate every rule of a budget policy and print the verdicts.

    Exit codes: 0 every rule passed (warnings allowed), 1 a rule failed, 2 invalid input.

    Under GitHub Actions (GITHUB_ACTIONS=true) breached rules also become ::error/::warning annotations,
    and the Markdown summary is appended to $GITHUB_STEP_SUMMARY.
    """
    from llmcost.budget import load_policy, run_check
    from llmcost.report.estimate_json import render_json as estimate_json

    loaded = load_policy(policy)
    overrides: dict[str, object] = {}
    if baseline is not None:
        overrides["baseline"] = baseline
    if bench is not None:
        overrides["bench"] = bench
    if strict:
        overrides["strict"] = True
    if overrides:
        loaded.inputs = loaded.inputs.model_copy(update=overrides)
    check_writable(output, markdown, save_estimate)  # all outputs or none: never one written, then a failure
    with engine_from(engine, jobs, scheduler):  # replays on the engine's cores (check rules need the frame)
        if engine is EngineName.dask:
            info("check replays its scenarios on this machine: its rules read the replayed rows, which stay "
                 "here (--engine dask runs estimate's replays on the cluster)")
        run = run_check(loaded)
    for report in run.files:
        for why, n in report.skipped.items():
            warn(f"{report.path}: skipped {n:,} row(s): {why}")
    result = run.result
    if result.unpriced:
        from llmcost.pricing import LISTED_NAMES

        ranked = sorted(result.unpriced, key=lambda mn: (-mn[1], mn[0]))
        names = ", ".join(f"{m} ({int(n):,} requests)" for m, n in ranked[:LISTED_NAMES])
        if len(ranked) > LISTED_NAMES:
            names += f" and {len(ranked) - LISTED_NAMES:,} more (every one is listed in --format json)"
        warn(f"unpriced models, left out of the totals: {names} (set inputs.strict or --strict to fail)")
    if save_estimate:
        if run.estimate is None:
            from llmcost.errors import UsageError

            raise UsageError("--save-estimate needs inputs.logs: this policy has bench gates only")
        write_output(estimate_json(run.estimate), save_estimate)
    _emit(result, fmt, output, markdown)
    raise typer.Exit(code=result.exit_code)


def _emit(result: CheckResult, fmt: Format, output: str | None, markdown: str | None) -> None:
    from llmcost.report import check_view

    to_stdout = output in (None, "-")
    summary = check_view.render_markdown(result)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        annotations = check_view.render_annotations(result, _repo_relative(result.policy))
        # Workflow commands are read from stdout and stderr alike; keep machine output on stdout clean.
        stream = sys.stderr if to_stdout and fmt in (Format.json, Format.junit, Format.html) else sys.stdout
        stream.write(annotations)
        stream.flush()
        _append_step_summary(summary)
    if fmt is Format.table:
        renderable = check_view.render_table(result)
        if to_stdout:
            out_console().print(renderable)
        else:
            write_output(render_text(renderable), output)
    else:
        renderers = {Format.json: check_view.render_json, Format.markdown: check_view.render_markdown,
                     Format.junit: check_view.render_junit, Format.html: _render_html}
        write_output(renderers[fmt](result), output)
    if markdown:
        write_output(summary, markdown)
        info(f"wrote {markdown}")
    if not to_stdout:
        info(check_view.headline(result))


def _render_html(result: CheckResult) -> str:
    """The page is rendered from the very dict ``--format json`` writes."""
    from llmcost.report import check_view
    from llmcost.report.html.load import page_for

    return page_for(check_view.to_dict(result), result.policy)


def _repo_relative(path: str) -> str:
    """The policy path relative to $GITHUB_WORKSPACE, which is what annotations must name."""
    from pathlib import Path

    workspace = os.environ.get("GITHUB_WORKSPACE")
    if not workspace:
        return path
    try:
        return Path(path).resolve().relative_to(Path(workspace).resolve()).as_posix()
    except ValueError:
        return path


def _append_step_summary(text: str) -> None:
    from pathlib import Path

    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    try:
        with Path(target).open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    except OSError as exc:
        warn(f"cannot append to $GITHUB_STEP_SUMMARY ({target}): {exc.strerror or exc}")
