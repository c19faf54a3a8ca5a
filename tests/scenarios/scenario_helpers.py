"""Shared helpers for scenario tests: a tiny catalog with round prices, frames built by hand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from llmcost.catalog import Catalog, load_catalog
from llmcost.frame import conform
from llmcost.pricing import price
from llmcost.scenarios.engine import ComposedScenario
from llmcost.scenarios.interface import Applied
from llmcost.scenarios.schema import ScenarioSpec

DATA = Path(__file__).parent / "data"
T0 = pd.Timestamp("2026-11-02T09:00:00Z")
MICRO = Decimal("0.000001")


def tiny() -> Catalog:
    """small: $1/$2 (cache read 0.1, write 1.25, 1h write 2, batch -50%, window 10k);
    mid: $4/$8 (no cache or batch prices, window 50k); big: $10/$20 (read 1, write 12.5, 1h 20,
    batch -50%, window 100k)."""
    return load_catalog(DATA / "tiny_catalog.yaml")


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows with ``at`` = seconds after T0; defaults: model big, 1000 in, 100 out."""
    records = []
    for r in rows:
        rec = {"model": "big", "input_tokens": 1000, "output_tokens": 100, **r}
        rec["timestamp"] = T0 + pd.Timedelta(seconds=rec.pop("at", 0))
        records.append(rec)
    return conform(pd.DataFrame(records), source="<test>").frame


def apply(spec: dict[str, Any], df: pd.DataFrame, bench: Any = None) -> Applied:
    scenario = ComposedScenario(ScenarioSpec.model_validate({"name": "s", **spec}), "<test>", bench)
    return scenario.apply(df, tiny())


def cost(applied: Applied) -> Decimal:
    """Token cost plus extra cost, rounded to the micro-dollar (floats in expected-value rows)."""
    return (price(applied.frame, tiny()).total + applied.extra_cost).quantize(MICRO)


def usd(micro_dollars: float | int | str) -> Decimal:
    return (Decimal(str(micro_dollars)) / 1_000_000).quantize(MICRO)
