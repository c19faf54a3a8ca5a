"""``logs inspect``: what was read, as a dict (JSON) and as a table."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table

from llmcost.catalog import Catalog
from llmcost.frame import EXTRA_TOKEN_COLUMNS, TOKEN_COLUMNS
from llmcost.logs import LogSet
from llmcost.pricing import LISTED_NAMES, SUGGESTED_NAMES, resolve_models
from llmcost.report.estimate_table import TABLE_ROWS


def inspect_dict(logset: LogSet, catalog: Catalog) -> dict[str, Any]:
    """Formats, rows, weighted requests, window, models, token sums and skipped rows (JSON-ready)."""
    frame = logset.frame
    models = _models(logset, catalog)
    end = frame["timestamp"].max()
    if "period_end" in frame.columns:
        end = max(end, frame["period_end"].max())
    data: dict[str, Any] = {
        "files": [{"path": f.path, "format": f.format, "rows": f.rows, "skipped": f.skipped,
                   "skipped_total": f.skipped_total} for f in logset.files],
        "rows": len(frame),
        "requests": int(frame["weight"].sum()),
        "window": {"start": frame["timestamp"].min().isoformat(), "end": end.isoformat(),
                   "days": round((end - frame["timestamp"].min()).total_seconds() / 86400, 6)},
        "batch_rows": int(frame["batch"].sum()),
        "models": models,
        "unresolved_models": [m["model"] for m in models if m["resolved_to"] is None],
        # bucket rows already hold totals
        "tokens": {c: int(frame[c].sum()) for c in (*TOKEN_COLUMNS, *EXTRA_TOKEN_COLUMNS) if c in frame.columns},
        "skipped_rows": logset.skipped_total,
    }
    if "status" in frame.columns:
        counts = frame["status"].astype("string").fillna("(none)").value_counts()
        data["status"] = {str(k): int(v) for k, v in counts.items()}
    if "cost_logged" in frame.columns:
        logged = frame["cost_logged"].astype("float64")
        data["cost_logged_usd"] = round(float(logged.sum()), 6)
        data["cost_logged_rows"] = int(logged.notna().sum())
    return data


def _models(logset: LogSet, catalog: Catalog) -> list[dict[str, Any]]:
    frame = logset.frame
    ids = resolve_models(frame, catalog)
    per_model = frame.assign(model_id=ids.astype("string")).groupby("model", observed=True).agg(
        rows=("weight", "size"), requests=("weight", "sum"), model_id=("model_id", "first"))
    ranked = per_model.sort_values("requests", ascending=False, kind="stable")
    out = []
    suggested = 0  # a fuzzy search per name: only for the busiest unresolved names (see pricing.SUGGESTED_NAMES)
    # Column lists, not iterrows: a log can name 100,000 models.
    for name, rows, requests, model_id in zip(ranked.index.tolist(), ranked["rows"].tolist(),
                                              ranked["requests"].tolist(), ranked["model_id"].tolist(), strict=True):
        resolved = None if model_id is None or str(model_id) in ("<NA>", "nan") else str(model_id)
        row: dict[str, Any] = {"model": str(name), "resolved_to": resolved, "rows": int(rows),
                               "requests": int(requests)}
        if resolved is None and suggested < SUGGESTED_NAMES:
            row["did_you_mean"] = catalog.suggest(str(name))
            suggested += 1
        out.append(row)
    return out


def inspect_table(data: dict[str, Any]) -> RenderableType:
    files = Table(title="Files", title_justify="left")
    for col in ("path", "format", "rows", "skipped"):
        files.add_column(col, justify="right" if col in ("rows", "skipped") else "left")
    for f in data["files"]:
        files.add_row(f["path"], f["format"], f"{f['rows']:,}", f"{f['skipped_total']:,}")
    window = data["window"]
    summary = Table.grid(padding=(0, 2))
    summary.add_row("rows", f"{data['rows']:,}")
    summary.add_row("requests (weighted)", f"{data['requests']:,}")
    summary.add_row("batch rows", f"{data['batch_rows']:,}")
    summary.add_row("window", f"{window['start']} → {window['end']} ({window['days']:.3f} days)")
    if "cost_logged_usd" in data:
        summary.add_row("cost logged by the source",
                        f"${data['cost_logged_usd']:,.6f} ({data['cost_logged_rows']:,} rows carry one)")
    if "status" in data:
        summary.add_row("status", ", ".join(f"{k} {v:,}" for k, v in data["status"].items()))
    unresolved = data["unresolved_models"]
    listed = ", ".join(unresolved[:LISTED_NAMES]) + (
        f" and {len(unresolved) - LISTED_NAMES:,} more" if len(unresolved) > LISTED_NAMES else "")
    summary.add_row("models", f"{len(data['models']) - len(unresolved):,} resolved, {len(unresolved):,} unresolved"
                    + (f" ({listed})" if unresolved else ""))
    models = Table(title="Models", title_justify="left")
    for col in ("model as logged", "catalog id", "rows", "requests"):
        models.add_column(col, justify="right" if col in ("rows", "requests") else "left")
    for m in data["models"][:TABLE_ROWS]:  # the busiest first; --format json lists every one
        hint = f" (did you mean {', '.join(m['did_you_mean'])}?)" if m.get("did_you_mean") else ""
        models.add_row(m["model"], m["resolved_to"] or f"UNRESOLVED{hint}", f"{m['rows']:,}", f"{m['requests']:,}")
    rest = data["models"][TABLE_ROWS:]
    if rest:
        models.add_row(f"{len(rest):,} more models (all in --json)",
                       f"{sum(m['resolved_to'] is None for m in rest):,} unresolved",
                       f"{sum(m['rows'] for m in rest):,}", f"{sum(m['requests'] for m in rest):,}")
    tokens = Table(title="Tokens", title_justify="left")
    tokens.add_column("kind")
    tokens.add_column("sum", justify="right")
    for kind, n in data["tokens"].items():
        tokens.add_row(kind, f"{n:,}")
    parts: list[RenderableType] = [files, summary, models, tokens]
    skipped = [(f["path"], why, n) for f in data["files"] for why, n in f["skipped"].items()]
    if skipped:
        table = Table(title=f"Skipped rows ({data['skipped_rows']:,})", title_justify="left")
        for col in ("path", "reason", "rows"):
            table.add_column(col, justify="right" if col == "rows" else "left")
        for path, why, n in skipped:
            table.add_row(path, why, f"{n:,}")
        parts.append(table)
    return Group(*parts)
