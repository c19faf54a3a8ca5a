"""Price catalogs: the schema, loading, model-name resolution, search, and importers.

``llmcost.catalog.snapshot`` imports only the standard library (``catalog list`` reads it without
pydantic), so this package imports nothing at import time: its names load on first use.

    schema.py          the strict pydantic schema (rates, long context, service tiers, price history)
    resolve.py         model names as logged → catalog ids; "did you mean"
    load.py            loading and validating (bundled catalogs from their checked snapshot)
    snapshot.py        the bundled catalogs and the pydantic-free snapshot reader
    search.py          ``catalog search``
    litellm_import.py  litellm's price database → a catalog
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmcost.catalog.load import load_catalog as load_catalog
    from llmcost.catalog.load import snapshot_texts as snapshot_texts
    from llmcost.catalog.load import write_snapshot as write_snapshot
    from llmcost.catalog.schema import DEFAULT_TIERS as DEFAULT_TIERS
    from llmcost.catalog.schema import TOKEN_KINDS as TOKEN_KINDS
    from llmcost.catalog.schema import Catalog as Catalog
    from llmcost.catalog.schema import Endpoint as Endpoint
    from llmcost.catalog.schema import LongContext as LongContext
    from llmcost.catalog.schema import ModelPrice as ModelPrice
    from llmcost.catalog.schema import PricePeriod as PricePeriod
    from llmcost.catalog.schema import Rates as Rates
    from llmcost.catalog.snapshot import BUNDLED_DEFAULT as BUNDLED_DEFAULT
    from llmcost.catalog.snapshot import bundled_catalogs as bundled_catalogs
    from llmcost.catalog.snapshot import catalog_path as catalog_path

_WHERE = {
    "load_catalog": "load", "snapshot_texts": "load", "write_snapshot": "load",
    "DEFAULT_TIERS": "schema", "TOKEN_KINDS": "schema", "Catalog": "schema", "Endpoint": "schema",
    "LongContext": "schema", "ModelPrice": "schema", "PricePeriod": "schema", "Rates": "schema",
    "BUNDLED_DEFAULT": "snapshot", "bundled_catalogs": "snapshot", "catalog_path": "snapshot",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'llmcost.catalog' has no attribute '{name}'")
    return getattr(import_module(f"llmcost.catalog.{where}"), name)
