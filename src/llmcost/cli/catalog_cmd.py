"""``llmcost catalog list|show|validate``."""

from __future__ import annotations

from typing import Annotated

import typer

from llmcost.cli.common import info, out_console, speaks_errors
from llmcost.cli.estimate_cmd import CatalogOpt

app = typer.Typer(help="Inspect and validate price catalogs.", no_args_is_help=True)


@app.command("list")
@speaks_errors
def list_models(
    catalog: CatalogOpt = None,
    provider: Annotated[str | None, typer.Option(help="Only this provider.")] = None,
    tier: Annotated[str | None, typer.Option(help="Only this tier.")] = None,
) -> None:
    """Models in the catalog: id, provider, tier, prices per million tokens, context window."""
    from llmcost.catalog import load_catalog
    from llmcost.report.catalog_view import catalog_table

    cat = load_catalog(catalog)
    models = [m for m in cat.models if (provider is None or m.provider == provider)
              and (tier is None or m.tier == tier)]
    out_console().print(catalog_table(cat, models))


@app.command("show")
@speaks_errors
def show(model: Annotated[str, typer.Argument(help="Model id, alias or logged name.")],
         catalog: CatalogOpt = None) -> None:
    """Everything the catalog says about one model (names resolve like log model names)."""
    from llmcost.catalog import load_catalog
    from llmcost.errors import UsageError
    from llmcost.report.catalog_view import model_detail

    cat = load_catalog(catalog)
    mid = cat.resolve(model)
    if mid is None:
        raise UsageError(f"model '{model}' is not in the catalog ({cat.source})")
    out_console().print(model_detail(cat.model(mid)), soft_wrap=True)


@app.command("validate")
@speaks_errors
def validate(files: Annotated[list[str], typer.Argument(help="Catalog YAML files.")]) -> None:
    """Check catalog files against the schema; exit 2 naming the file, model and field on the first error."""
    from llmcost.catalog import load_catalog

    for f in files:
        cat = load_catalog(f)
        info(f"{f}: ok ({len(cat.models)} models, as of {cat.as_of})")
