"""``llmcost bench``: run a suite of prompts against candidate models and compare cost, latency and quality."""

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

if TYPE_CHECKING:
    from collections.abc import Callable

    from llmcost.bench.results import Record
    from llmcost.bench.session import BenchPlan, BenchRun
    from llmcost.bench.suite import Suite
    from llmcost.bench.targets import Target
    from llmcost.catalog import Catalog


class Format(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


class ApiName(StrEnum):
    openai = "openai"
    anthropic = "anthropic"


class ArrivalsName(StrEnum):
    fixed = "fixed"
    poisson = "poisson"


Opt = typer.Option


@speaks_errors
def bench(
    ctx: typer.Context,
    suite: Annotated[str, typer.Argument(help="Suite YAML file (prompts, assertions, defaults).", show_default=False)],
    catalog: Annotated[str | None, Opt("--catalog", "-c", envvar="LLMCOST_CATALOG",
                                       help="Catalog YAML file or bundled catalog name.")] = None,
    models: Annotated[str | None, Opt("--models", help="Comma-separated models: catalog models that have an "
                                      "endpoint (default: every catalog model with one), or with --endpoint the "
                                      "names served there, each priced from the catalog.")] = None,
    endpoint: Annotated[str | None, Opt("--endpoint", help="Ad-hoc endpoint base URL (with --model).")] = None,
    model: Annotated[str | None, Opt("--model", help="Model name served at --endpoint.")] = None,
    api: Annotated[ApiName, Opt("--api", help="Wire format of --endpoint.")] = ApiName.openai,
    api_key_env: Annotated[str | None, Opt("--api-key-env", help="NAME of the env variable holding the "
                                           "--endpoint key.")] = None,
    repetitions: Annotated[int, Opt("--repetitions", "-n", min=1, help="Times each prompt is sent.")] = 1,
    concurrency: Annotated[int, Opt("--concurrency", min=1, help="Requests in flight at most.")] = 4,
    rate: Annotated[float | None, Opt("--rate", min=0.001, callback=finite,
                                      help="Requests started per second.")] = None,
    arrivals: Annotated[ArrivalsName, Opt("--arrivals", help="Spacing with --rate.")] = ArrivalsName.fixed,
    timeout: Annotated[float, Opt("--timeout", min=0.01, callback=finite,
                                  help="Per-request timeout, seconds.")] = 60.0,
    retries: Annotated[int, Opt("--retries", min=0, help="Retries on 429/5xx/timeouts/dropped connections.")] = 2,
    backoff: Annotated[float, Opt("--backoff", min=0, callback=finite,
                                  help="Base of the exponential backoff between retries, "
                                  "seconds (doubles each retry, with jitter).")] = 0.5,
    deadline: Annotated[float | None, Opt("--deadline", min=0.01, callback=finite,
                                          help="Stop the whole run after this many "
                                          "seconds; unfinished requests are recorded as 'deadline'.")] = None,
    max_cost: Annotated[float | None, Opt("--max-cost", min=0, callback=finite,
                                          help="Stop scheduling before the projected "
                                          "spend (USD) would cross this cap.")] = None,
    no_stream: Annotated[bool, Opt("--no-stream", help="Non-streaming requests (no TTFT).")] = False,
    dry_run: Annotated[bool, Opt("--dry-run", help="Print the request count and projected cost; send "
                                 "nothing.")] = False,
    results: Annotated[str | None, Opt("--results", help="JSONL file: one record per request, written as "
                                       "each completes.")] = None,
    resume: Annotated[bool, Opt("--resume", help="Skip requests that already succeeded in --results.")] = False,
    slo_ttft_ms: Annotated[float | None, Opt("--slo-ttft-ms", min=0, callback=finite,
                                             help="TTFT SLO for goodput and the "
                                             "recommendation (p95).")] = None,
    slo_latency_ms: Annotated[float | None, Opt("--slo-latency-ms", min=0, callback=finite,
                                                help="Latency SLO (p95).")] = None,
    min_quality: Annotated[float | None, Opt("--min-quality", min=0, max=1, callback=finite,
                                             help="Gate: pass rate the "
                                             "recommended model needs; none meeting it exits 1.")] = None,
    seed: Annotated[int | None, Opt("--seed", help="Seed for jitter and Poisson arrivals.")] = None,
    fmt: Annotated[Format, Opt("--format", "-f", help="Output format.")] = Format.table,
    output: Annotated[str | None, Opt("--output", "-o", help="Write the summary here (- = stdout).")] = None,
) -> None:
    """Benchmark candidate models on your prompts: cost, TTFT/latency and quality, with a recommendation.

    \b
    Assertions a suite prompt can list under `assert:` (one check per entry):
      contains, icontains, not-contains, regex, equals, is-json: true|false,
      json-path: {path, equals}, number: {value, tolerance, path}, max-output-tokens: N.
    A prompt with a `rubric:` is scored by the suite's judge model. See docs/bench.md.
    """
    from decimal import Decimal
    from pathlib import Path

    from llmcost.bench.runner import RunOptions
    from llmcost.bench.session import make_plan, run_bench
    from llmcost.bench.stats import Gates
    from llmcost.bench.suite import load_suite
    from llmcost.bench.targets import check_api_key_env, read_keys
    from llmcost.catalog import load_catalog
    from llmcost.errors import UsageError

    if resume and not results:
        raise UsageError("--resume needs --results FILE")
    check_api_key_env(api_key_env)  # a key pasted there is refused, unprinted, even where it would go unused
    check_writable(output, results)  # before any request is paid for
    cat = load_catalog(catalog)
    spec = load_suite(suite)
    targets = _targets(cat, models, endpoint, model, api.value, api_key_env)
    judge_target = _judge(cat, spec)
    keys = read_keys([*targets, *([judge_target] if judge_target else [])])
    results_path = Path(results) if results else None
    bench_plan = make_plan(spec, targets, repetitions=repetitions, results=results_path, resume=resume)
    if bench_plan.bad_lines:
        warn(f"{results}: ignored {bench_plan.bad_lines} unreadable line(s)")
    if dry_run:
        write_output(_render_plan(bench_plan, fmt), output)
        return
    if max_cost is not None and bench_plan.unpriced:
        warn("--max-cost cannot cap unpriced models: " + ", ".join(bench_plan.unpriced))
    options = RunOptions(concurrency=concurrency, rate=rate, arrivals=arrivals.value, timeout_s=timeout,
                         retries=retries, backoff_base_s=backoff, deadline_s=deadline,
                         max_cost=Decimal(str(max_cost)) if max_cost is not None else None,
                         stream=not no_stream, seed=seed)
    gates = Gates(min_quality, slo_ttft_ms, slo_latency_ms)
    run = _with_progress(ctx, len(bench_plan.jobs), results, lambda done: run_bench(
        spec, targets, keys, bench_plan, options, gates, results=results_path, resume=resume,
        judge_target=judge_target, judge_min_score=spec.judge.min_score if spec.judge else 4, on_record=done))
    run.summary["catalog"] = {"source": cat.source, "as_of": str(cat.as_of)}  # evidence checks it
    _render_out(run.summary, fmt, output)
    if results:
        info(f"wrote {len(run.outcome.records)} record(s) to {results}")
    overall = next(r for r in run.summary["recommendation"] if r["task"] is None)
    if min_quality is not None and overall["model"] is None:
        warn(overall["reason"])
        raise typer.Exit(code=1)


def _with_progress(ctx: typer.Context, total: int, results: str | None,
                   start: Callable[[Callable[[Record], None]], BenchRun]) -> BenchRun:
    """Run with a progress bar; on Ctrl-C say what was saved and how to resume, and exit 130."""
    saved = 0
    with progress("bench", total=total) as bar:
        def done(_r: Record) -> None:
            nonlocal saved
            saved += 1
            if bar:
                bar.advance(bar.task_ids[0])

        try:
            return start(done)
        except KeyboardInterrupt:
            warn(_interrupted(ctx, saved, results))
            raise typer.Exit(code=130) from None


def _interrupted(ctx: typer.Context, saved: int, results: str | None) -> str:
    """What Ctrl-C leaves behind and how to pick the run up again: this command with ``--resume``."""
    import shlex

    if results is None:
        return f"interrupted after {saved} request(s); nothing was saved (no --results FILE), so a rerun " \
               "starts over"
    argv = ["llmcost", ctx.info_name or "bench"]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if param.param_type_name == "argument":
            argv.append(str(value))
        elif value != param.default and value is not None and value is not False:
            flag = param.opts[0]
            argv += [flag] if value is True else [flag, str(value)]
    if "--resume" not in argv:
        argv.append("--resume")
    return (f"interrupted: {saved} record(s) of this run saved to {results}; resume with: "
            f"{shlex.join(argv)}")


def _targets(cat: Catalog, models: str | None, endpoint: str | None, model: str | None, api: str,
             api_key_env: str | None) -> list[Target]:
    from llmcost.bench.targets import adhoc_target, catalog_targets, endpoint_targets
    from llmcost.errors import UsageError

    names = [n.strip() for n in models.split(",") if n.strip()] if models else []
    if endpoint is not None and model is None and names:  # several models behind one gateway
        served = [adhoc_target(cat, url=endpoint, model=n, api=api, api_key_env=api_key_env)  # type: ignore[arg-type]
                  for n in names]
        return _unique(served)
    if (endpoint is None) != (model is None):
        raise UsageError("--endpoint goes with --model NAME or --models a,b")
    targets = catalog_targets(cat, names) if names else []
    if endpoint is not None and model is not None:
        targets.append(adhoc_target(cat, url=endpoint, model=model, api=api,  # type: ignore[arg-type]
                                    api_key_env=api_key_env))
    elif not names:
        targets = endpoint_targets(cat)
    if not targets:
        raise UsageError("no models to bench: give --models (catalog models with an endpoint) or "
                         "--endpoint URL --model NAME (or --models a,b)")
    return _unique(targets)


def _unique(targets: list[Target]) -> list[Target]:
    from llmcost.errors import UsageError

    seen: set[str] = set()
    for t in targets:
        if t.name in seen:
            raise UsageError(f"model '{t.name}' is given twice")
        seen.add(t.name)
    return targets


def _judge(cat: Catalog, spec: Suite) -> Target | None:
    from llmcost.bench.targets import catalog_targets
    from llmcost.errors import UsageError

    if spec.judge is None or not any(c.rubric for c in spec.cases):
        return None
    mid = cat.resolve(spec.judge.model)
    if mid is None or cat.model(mid).endpoint is None:
        raise UsageError(f"judge model '{spec.judge.model}' must be a catalog model with an 'endpoint'")
    return catalog_targets(cat, [mid])[0]


def _render_plan(bench_plan: BenchPlan, fmt: Format) -> str:
    import json

    from llmcost.report.bench_view import plan_json, render_plan, render_plan_markdown

    if fmt is Format.json:
        return json.dumps(plan_json(bench_plan), indent=2) + "\n"
    if fmt is Format.markdown:
        return render_plan_markdown(bench_plan)
    if fmt is Format.html:
        from llmcost.errors import UsageError

        raise UsageError("--dry-run sends nothing, so there is no run to chart: use --format table, json or "
                         "markdown for the plan")
    return render_plan(bench_plan)


def _render_out(summary: dict[str, object], fmt: Format, output: str | None) -> None:
    from llmcost.report.bench_view import render_json, render_markdown, render_table

    if fmt is Format.json:
        write_output(render_json(summary), output)
    elif fmt is Format.html:
        from llmcost.report.html.load import page_for

        write_output(page_for(summary, f"suite {summary.get('suite')}"), output)
    elif fmt is Format.markdown:
        write_output(render_markdown(summary), output)
    elif output in (None, "-"):
        out_console().print(render_table(summary))
    else:
        write_output(render_text(render_table(summary)), output)
    if output not in (None, "-"):
        info(f"wrote {output}")
