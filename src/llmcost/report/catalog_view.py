"""Renderers for ``catalog list`` and ``catalog show``."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import yaml
from rich.table import Table

from llmcost.catalog import Catalog, ModelPrice


def price(value: Decimal | None) -> str:
    return "?" if value is None else f"{value.normalize():f}"


def context(tokens: int | None) -> str:
    if tokens is None:
        return "?"
    return f"{tokens // 1_000_000}M" if tokens >= 1_000_000 and tokens % 1_000_000 == 0 else f"{tokens // 1000}K"


def catalog_table(cat: Catalog, models: Sequence[ModelPrice]) -> Table:
    table = Table(title=f"{cat.source} — as of {cat.as_of} (USD per 1M tokens; ? = unknown)",
                  title_justify="left")
    for col in ("id", "provider", "tier", "input", "output", "cache read", "cache write", "batch", "long ctx",
                "context"):
        table.add_column(col, justify="left" if col in ("id", "provider", "tier") else "right")
    for m in models:
        batch = f"-{m.batch_discount_fraction * 100:.0f}%" if m.batch_discount_fraction is not None else ""
        long = f">{m.long_context.threshold_tokens // 1000}K" if m.long_context else ""
        table.add_row(m.id, m.provider, m.tier or "", price(m.input_mtok), price(m.output_mtok),
                      price(m.rate("cache_read")) if m.cache_read_mtok is not None else "",
                      price(m.rate("cache_write")) if m.cache_write_mtok is not None else "",
                      batch, long, context(m.context_window))
    return table


def model_detail(model: ModelPrice) -> str:
    data = model.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip()
