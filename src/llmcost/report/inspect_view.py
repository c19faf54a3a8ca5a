"""``logs inspect``: what was read, as a dict (JSON) and as a table."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table

from llmcost.catalog import Catalog
from llmcost.frame import TOKEN_COLUMNS
from llmcost.logs import LogSet
from llmcost.pricing import resolve_models


def inspect_dict(logset: LogSet, catalog: Catalog) -> dict[str, Any]:
    frame = logset.frame
    ids = resolve_models(frame, catalog)
    per_model = frame.assign(model_id=ids.astype("string")).groupby("model", observed=True).agg(
        rows=("weight", "size"), requests=("weight", "sum"), model_id=("model_id", "first"))
    models = [
        {"model": str(name), "resolved_to": None if r.model_id is None or str(r.model_id) == "<NA>"
         else str(r.model_id), "rows": int(r.rows), "requests": int(r.requests)}
        for name, r in per_model.sort_values("requests", ascending=False).iterrows()
    ]
    return {
        "files": [{"path": f.path, "format": f.format, "rows": f.rows, "skipped": f.skipped} for f in logset.files],
        "rows": len(frame),
        "requests": int(frame["weight"].sum()),
        "window": {"start": frame["timestamp"].min().isoformat(), "end": frame["timestamp"].max().isoformat()},
        "batch_rows": int(frame["batch"].sum()),
        "models": models,
        "unresolved_models": [m["model"] for m in models if m["resolved_to"] is None],
        "tokens": {c: int(frame[c].sum()) for c in TOKEN_COLUMNS},
        "skipped_rows": logset.skipped_total,
    }


def inspect_table(data: dict[str, Any]) -> RenderableType:
    files = Table(title="Files", title_justify="left")
    for col in ("path", "format", "rows", "skipped"):
        files.add_column(col)
    for f in data["files"]:
        skipped = "; ".join(f"{n} {why}" for why, n in f["skipped"].items()) or "0"
        files.add_row(f["path"], f["format"], f"{f['rows']:,}", skipped)
    models = Table(title=f"Models ({data['rows']:,} rows, {data['requests']:,} requests, "
                         f"{data['window']['start']} → {data['window']['end']})", title_justify="left")
    for col in ("model as logged", "catalog id", "rows", "requests"):
        models.add_column(col)
    for m in data["models"]:
        models.add_row(m["model"], m["resolved_to"] or "UNRESOLVED", f"{m['rows']:,}", f"{m['requests']:,}")
    tokens = Table(title="Tokens", title_justify="left")
    tokens.add_column("kind")
    tokens.add_column("sum", justify="right")
    for kind, n in data["tokens"].items():
        tokens.add_row(kind, f"{n:,}")
    return Group(files, models, tokens)
