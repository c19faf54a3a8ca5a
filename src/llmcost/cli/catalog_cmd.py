"""``llmcost catalog list|show|validate|import``."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from llmcost.cli.common import TABLE_WIDTH, info, out_console, speaks_errors
from llmcost.cli.estimate_cmd import CatalogOpt

if TYPE_CHECKING:
    from llmcost.catalog import Catalog, ModelPrice
    from llmcost.report.catalog_view import ListedModel

_M = TypeVar("_M", bound="ListedModel")
app = typer.Typer(help="Inspect and validate price catalogs.", no_args_is_help=True)


@app.command("list")
@speaks_errors
def list_models(
    catalog: CatalogOpt = None,
    provider: Annotated[str | None, typer.Option(help="Only this provider.")] = None,
    tier: Annotated[str | None, typer.Option(help="Only this tier.")] = None,
) -> None:
    """Models in the catalog: id, provider, tier, prices per million tokens, context window."""
    plain = _plain_stdout()
    if plain:  # a bundled catalog, piped: straight from its checked snapshot, without pydantic or rich
        from llmcost.catalog.snapshot import listing
        from llmcost.report.catalog_view import catalog_text

        rows = listing(catalog)
        if rows is not None:
            chosen = _chosen(rows.models, provider, tier)
            text = catalog_text(rows, chosen, TABLE_WIDTH, grow=True)
            if text is not None:
                sys.stdout.write(text)
                return
    from llmcost.catalog import load_catalog

    cat = load_catalog(catalog)
    _print_models(cat, _chosen(cat.models, provider, tier), plain)


def _piped_width(models: Sequence[ListedModel]) -> int:
    """Piped tables are as wide as their cells (ids are never wrapped for scripts), at least TABLE_WIDTH."""
    from llmcost.report.catalog_view import natural_width

    return max(TABLE_WIDTH, natural_width(models))


def _print_models(cat: Catalog, models: Sequence[ModelPrice], plain: bool) -> None:
    from llmcost.report.catalog_view import catalog_table, catalog_text

    text = catalog_text(cat, models, TABLE_WIDTH, grow=True) if plain else None
    if text is not None:
        sys.stdout.write(text)
        return
    console = out_console()
    if plain:
        console.width = _piped_width(models)
    console.print(catalog_table(cat, models))


def _chosen(models: Sequence[_M], provider: str | None, tier: str | None) -> list[_M]:
    return [m for m in models if (provider is None or m.provider == provider) and (tier is None or m.tier == tier)]


def _plain_stdout() -> bool:
    """True when rich would print to stdout as plain UTF-8 text (not a terminal, colour not forced)."""
    if sys.platform == "win32" or not (sys.stdout.encoding or "").lower().startswith("utf"):
        return False
    if os.environ.get("TTY_COMPATIBLE", "") not in ("", "0") or os.environ.get("FORCE_COLOR"):
        return False
    isatty = getattr(sys.stdout, "isatty", None)
    return isatty is not None and not isatty()


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


@app.command("search")
@speaks_errors
def search_models(
    text: Annotated[str, typer.Argument(help="Part of a model name, a logged name, or words (gpt 4o mini).")],
    catalog: CatalogOpt = None,
    provider: Annotated[str | None, typer.Option(help="Only this provider.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many models.")] = 25,
) -> None:
    """Find models by name: what a logged name resolves to, then ids and aliases containing the words,
    then close spellings. Exit 1 when nothing matches."""
    from llmcost.catalog import load_catalog
    from llmcost.catalog.search import search

    cat = load_catalog(catalog)
    found = _chosen(search(cat, text, limit=limit if provider is None else 10 * limit), provider, None)[:limit]
    if not found:
        info(f"no model in the catalog matches '{text}'")
        raise typer.Exit(code=1)
    _print_models(cat, found, _plain_stdout())


@app.command("validate")
@speaks_errors
def validate(files: Annotated[list[str], typer.Argument(help="Catalog YAML files.")]) -> None:
    """Check catalog files against the schema; exit 2 naming the file, model and field on the first error."""
    from llmcost.catalog import load_catalog

    for f in files:
        cat = load_catalog(f, snapshot=False)
        info(f"{f}: ok ({len(cat.models)} models, as of {cat.as_of})")


@app.command("import")
@speaks_errors
def import_catalog(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="Source format: litellm.")],
    file: Annotated[str, typer.Argument(help="litellm's model_prices_and_context_window JSON file.")],
    models: Annotated[str | None, typer.Option(help="Comma-separated database keys to import.")] = None,
    provider: Annotated[str | None, typer.Option(help="Import every chat model of this litellm provider.")]
    = None,
    source: Annotated[str | None, typer.Option(help="Catalog 'source' text (default: the file name).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Catalog date YYYY-MM-DD (default: today).")]
    = None,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Write here (atomically); - = stdout.")]
    = None,
) -> None:
    """Convert another tool's price database into an llmcost catalog (exact per-Mtok Decimals)."""
    from datetime import date
    from pathlib import Path

    from llmcost.catalog.litellm_import import import_litellm
    from llmcost.cli.common import warn, write_output
    from llmcost.errors import UsageError

    if fmt != "litellm":
        raise UsageError(f"unknown import format '{fmt}' (supported: litellm)")
    if models and provider:
        raise UsageError("give --models or --provider, not both")
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise UsageError(f"--as-of: not a date (YYYY-MM-DD): {as_of}") from None
    keys = [m.strip() for m in models.split(",") if m.strip()] if models else None
    result = import_litellm(Path(file), models=keys, provider=provider, source=source, as_of=day)
    for reason in result.skipped:
        warn(f"skipped {reason}")
    what = f"--models {models}" if models else (f"--provider {provider}" if provider else "")
    header = (f"# Generated by: llmcost catalog import litellm {Path(file).name} {what}".rstrip()
              + "\n# Prices converted exactly (per-token Decimal x 10^6); tiers assigned by blended price.\n")
    write_output(header + result.text, output)
    info(f"imported {len(result.catalog.models)} models")
