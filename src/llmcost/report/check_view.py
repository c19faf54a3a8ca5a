"""Renderers for ``llmcost check``: table, JSON, Markdown (PR comment), JUnit XML, GitHub annotations.

All pure: they take a ``CheckResult`` and return a string or a rich renderable.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmcost.budget.verdict import CheckResult, Verdict
from llmcost.budget.verdict_set import as_verdicts
from llmcost.report.money import count, json_usd, usd

if TYPE_CHECKING:
    from rich.console import RenderableType

SCHEMA_VERSION = 1
ICON = {"pass": "✅", "warn": "⚠️", "fail": "❌", "skip": "⏭️"}
LABEL = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}


def value(amount: Decimal | None, unit: str) -> str:
    """A verdict figure for people: $ for money, % for percents and rates, ms for latency."""
    if amount is None:
        return "n/a"
    if unit == "usd":
        return usd(amount)
    if unit == "pct":
        return f"{float(amount):,.1f}%"
    if unit == "rate":
        return f"{float(amount) * 100:,.1f}%"
    return f"{float(amount):,.0f} ms"


def amount_past(v: Verdict, amount: Decimal) -> str:
    """A distance from the limit: dollars or milliseconds, or percentage points for percents and rates."""
    if v.unit == "pct":
        return f"{float(amount):,.1f} pts"
    if v.unit == "rate":
        return f"{float(amount) * 100:,.1f} pts"
    return value(amount, v.unit)


def describe(v: Verdict) -> str:
    """One sentence: what was measured, the limit, and by how much it was missed."""
    limit = f"{'max' if v.bound == 'max' else 'min'} {value(v.limit, v.unit)}"
    if v.actual is None:
        return f"{v.subject}: {v.metric} {v.note or 'unknown'} (limit {limit})"
    text = f"{v.subject}: {v.metric} {value(v.actual, v.unit)} (limit {limit})"
    excess = v.excess
    if v.breached and excess is not None:
        word = "over" if v.bound == "max" else "under"
        text += f", {amount_past(v, excess)} {word}"
        if v.limit and v.unit in ("usd", "ms"):
            text += f" ({float(excess / v.limit * 100):,.1f}%)"
    return text


def headline(r: CheckResult) -> str:
    n_fail, n_warn, n_skip = r.count("fail"), r.count("warn"), r.count("skip")
    n_pass = len(r.verdicts) - n_fail - n_warn - n_skip
    state = "FAILED" if n_fail else "passed"
    skipped = f", {n_skip} skipped" if n_skip else ""
    what = ("bench gates only, no logs" if r.bench_only
            else f"scenario '{r.scenario}' projects {usd(r.monthly_cost)} per {r.projection_days} days")
    return (f"Budget check {state}: {n_fail} failed, {n_warn} warning{'s' * (n_warn != 1)}, {n_pass} passed"
            f"{skipped} — {what}")


def _window(r: CheckResult) -> str:
    if r.bench_only:
        return "bench results only (no logs)"
    return f"window {float(r.window_days):.2f} days, {r.requests:,} requests"


def _margin(v: Verdict) -> str:
    excess = v.excess
    if excess is None:
        return v.note or "n/a"
    if v.breached:
        return f"{amount_past(v, excess)} {'over' if v.bound == 'max' else 'under'}"
    return f"{amount_past(v, -excess)} headroom"


def render_table(r: CheckResult) -> RenderableType:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Budget check", title_justify="left")
    for col in ("Status", "Rule", "Subject", "Metric", "Actual", "Limit", "Margin"):
        table.add_column(col, justify="right" if col in ("Actual", "Limit", "Margin") else "left")
    style = {"pass": "green", "warn": "yellow", "fail": "red", "skip": "dim"}
    shown, rest = shown_verdicts(r.verdicts)
    for v in shown:
        table.add_row(Text(LABEL[v.status], style=style[v.status]), v.rule, v.subject, v.metric,
                      value(v.actual, v.unit), f"{v.bound} {value(v.limit, v.unit)}", _margin(v))
    if rest:
        table.add_row("", f"{sum(rest.values()):,} more", _counted(rest), "", "", "", "all in --format json")
    info = Text(f"Policy {r.policy}; {_window(r)}.", style="dim")
    parts: list[RenderableType] = [info, table, Text(headline(r), style="red" if r.count("fail") else "green")]
    return Group(*parts)


# Verdicts a table or PR comment shows: a per-task rule over 1,000,000 tasks gives 1,000,000 verdicts.
SHOWN_VERDICTS = 50


def shown_verdicts(verdicts: Sequence[Verdict], limit: int = SHOWN_VERDICTS) -> tuple[list[Verdict], dict[str, int]]:
    """The verdicts to show, in their order: every failure and warning first in line for the ``limit``
    places, then passes; and how many of each status the rest holds (counted in one row; JSON and JUnit keep
    every verdict). Only the shown verdicts are built (a per-task rule may hold a million)."""
    shown, rest = as_verdicts(verdicts).shown(limit)
    return shown, {str(status): n for status, n in rest.items()}


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {LABEL[status].lower()}" for status, n in sorted(counts.items()))


def to_dict(r: CheckResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "check",
        "passed": r.passed,
        "exit_code": r.exit_code,
        "policy": r.policy,
        "scenario": r.scenario,
        "window": None if r.bench_only else {"days": float(round(r.window_days, 6)), "requests": r.requests},
        "projection_days": r.projection_days,
        "monthly_cost_usd": None if r.bench_only else json_usd(r.monthly_cost),
        "summary": {"failed": r.count("fail"), "warnings": r.count("warn"), "skipped": r.count("skip"),
                    "passed": r.count("pass")},
        "verdicts": [_verdict(v) for v in r.verdicts],
        "top_drivers": [{"by": d.by, "name": d.name, "requests": count_json(d.requests),
                         "monthly_cost_usd": json_usd(d.monthly_cost), "share_pct": round(float(d.share_pct), 4)}
                        for d in r.drivers],
        "unpriced": [{"model": m, "requests": count_json(n)} for m, n in r.unpriced],
    }
    if r.diff is not None:
        from llmcost.report.diff_view import estimate_diff_dict

        out["baseline"] = r.baseline_source
        out["change_vs_baseline"] = estimate_diff_dict(r.diff)
    return out


def count_json(n: float) -> int | float:
    return int(n) if float(n).is_integer() else round(float(n), 3)


def _verdict(v: Verdict) -> dict[str, Any]:
    def num(x: Decimal | None) -> float | None:
        if x is None:
            return None
        return json_usd(x) if v.unit == "usd" else round(float(x), 6)

    return {"rule": v.rule, "kind": v.kind, "subject": v.subject, "metric": v.metric, "status": v.status,
            "severity": v.severity, "bound": v.bound, "limit": num(v.limit), "actual": num(v.actual),
            "excess": num(v.excess), "unit": v.unit, "note": v.note or None, "message": describe(v)}


def render_json(r: CheckResult) -> str:
    """``json.dumps(to_dict(r), indent=2)``, byte for byte (``json_text``: a per-task rule's long verdict list
    is not written by Python's indenting encoder)."""
    from llmcost.report.json_text import dumps

    return dumps(to_dict(r), ensure_ascii=False) + "\n"


def render_markdown(r: CheckResult) -> str:
    """A PR-comment-ready summary: what failed and by how much, top cost drivers, change vs baseline."""
    icon = ICON["fail"] if r.count("fail") else ICON["warn"] if r.count("warn") else ICON["pass"]
    lines = [f"## {icon} llmcost budget check", "", f"**{headline(r)}.**", "",
             f"{_window(r).capitalize()}; policy `{r.policy}`.", ""]
    breached = as_verdicts(r.verdicts).with_status("fail", "warn")
    if breached:
        lines += ["### What needs attention", "", "| | Rule | Subject | Actual | Limit | By how much |",
                  "|---|---|---|---:|---:|---:|"]
        shown, rest = shown_verdicts(breached)
        lines += [f"| {ICON[v.status]} | {_md(v.rule)} | {_md(v.subject)} — {v.metric} | {value(v.actual, v.unit)} "
                  f"| {v.bound} {value(v.limit, v.unit)} | {_md(_margin(v))} |" for v in shown]
        if rest:
            lines.append(f"| | | {sum(rest.values()):,} more ({_counted(rest)}): every one is in the JSON result "
                         "| | | |")
        lines.append("")
    if r.diff is not None:
        lines += _change_vs_baseline(r)
    if r.drivers:
        lines += ["### Top cost drivers", "", "| By | Name | Requests | Monthly | Share |", "|---|---|---:|---:|---:|"]
        lines += [f"| {d.by} | {_md(d.name)} | {count(d.requests)} | {usd(d.monthly_cost)} | "
                  f"{float(d.share_pct):.1f}% |" for d in r.drivers]
        lines.append("")
    if r.unpriced:
        ranked = sorted(r.unpriced, key=lambda mn: (-mn[1], mn[0]))
        names = ", ".join(f"`{_md(m)}` ({count(n)} requests)" for m, n in ranked[:SHOWN_VERDICTS])
        if len(ranked) > SHOWN_VERDICTS:
            names += f" and {len(ranked) - SHOWN_VERDICTS:,} more"
        lines += [f"> Unpriced traffic left out of the totals: {names}.", ""]
    lines += ["<details><summary>All rules</summary>", "", "| Status | Rule | Check |", "|---|---|---|"]
    shown, rest = shown_verdicts(r.verdicts)
    lines += [f"| {ICON[v.status]} {LABEL[v.status]} | {_md(v.rule)} | {_md(describe(v))} |" for v in shown]
    if rest:
        lines.append(f"| | {sum(rest.values()):,} more | {_counted(rest)}: every one is in the JSON result |")
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def _change_vs_baseline(r: CheckResult) -> list[str]:
    from llmcost.report.diff_view import change_cells

    assert r.diff is not None
    scenario = r.diff.scenario(r.scenario)
    if scenario is None:
        return []
    lines = [f"### Change vs baseline (`{r.baseline_source}`)", "",
             "| Model | Before | After | Change | Change % |", "|---|---:|---:|---:|---:|"]
    for c in (scenario.total, *scenario.models):
        name = "**total**" if c is scenario.total else _md(c.name)
        lines.append("| " + " | ".join([name, *change_cells(c)]) + " |")
    return [*lines, ""]


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_junit(r: CheckResult) -> str:
    """JUnit XML: one testcase per verdict; failed rules are <failure>, warnings go to <system-out>."""
    import xml.etree.ElementTree as ET

    suites = ET.Element("testsuites", name="llmcost check", tests=str(len(r.verdicts)),
                        failures=str(r.count("fail")), errors="0")
    suite = ET.SubElement(suites, "testsuite", name=f"llmcost budget: {r.policy}", tests=str(len(r.verdicts)),
                          failures=str(r.count("fail")), errors="0", skipped=str(r.count("skip")))
    props = ET.SubElement(suite, "properties")
    for name, val in (("scenario", r.scenario), ("monthly_cost_usd", str(json_usd(r.monthly_cost)))):
        ET.SubElement(props, "property", name=name, value=val)
    for v in r.verdicts:
        case = ET.SubElement(suite, "testcase", classname=f"llmcost.{v.kind}",
                             name=f"{v.rule}: {v.subject} {v.metric}")
        if v.status == "fail":
            failure = ET.SubElement(case, "failure", message=describe(v), type=v.kind)
            failure.text = describe(v)
        elif v.status == "skip":
            ET.SubElement(case, "skipped", message=describe(v))
        elif v.status == "warn":
            ET.SubElement(case, "system-out").text = f"warning: {describe(v)}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def escape_data(text: str) -> str:
    """Escape a GitHub workflow-command message (``%``, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a GitHub workflow-command property value (also ``:`` and ``,``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_annotations(r: CheckResult, file: str | None = None) -> str:
    """``::error``/``::warning`` lines for every breached rule, pointing at the rule in the policy file
    (``file``: the policy's path relative to the repository, when it differs from ``r.policy``)."""
    lines = []
    for v in as_verdicts(r.verdicts).with_status("fail", "warn"):
        level = "error" if v.status == "fail" else "warning"
        props = [f"file={escape_property(file or r.policy)}"]
        if v.line is not None:
            props.append(f"line={v.line}")
        props.append(f"title={escape_property(f'llmcost budget: {v.rule}')}")
        lines.append(f"::{level} {','.join(props)}::{escape_data(describe(v))}")
    return "".join(f"{line}\n" for line in lines)
