"""A bundled catalog read straight from its checked snapshot, without pydantic: for runs where the
catalog's load would cost more than the work (``estimate --baseline-only`` on Parquet: ~0.15 s of
pydantic import, class building and validation against ~0.2 s of Arrow kernels on 10M rows).

The objects have the fields of ``llmcost.catalog.schema`` (same names, same defaults, same values: the
``Decimal`` digits the snapshot writer wrote, dates and times as pydantic reads them) and take every method
from ``llmcost.catalog.cards``, as the pydantic classes do. They are not pydantic models (no
``model_dump``), so only callers that price and resolve get them (``load_catalog(light=True)``).

A model's fields are converted when first read: a run touches the handful of models its log names, and
``NameIndex`` reads only ids, aliases and providers. What is checked up front is what decides whether the
entry is one the snapshot writer made: the YAML's hash (``snapshot_entry``) and the field names of every
model (any other field means the schema changed: pydantic decides). A value that turns out not to be one
the writer produces is a ``CatalogError`` naming the snapshot (regenerate it: ``python -m llmcost.catalog``).

Standard library only (tests/test_baseline_startup.py checks that pydantic is not imported).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from llmcost.catalog.cards import DEFAULT_TIERS, CatalogCard, LongContextCard, ModelCard, PeriodCard, RateCard
from llmcost.catalog.snapshot import (
    CATALOG_FIELDS,
    LONG_CONTEXT_FIELDS,
    MODEL_FIELDS,
    RATE_FIELDS,
    _count,
    _flag,
    _price,
    _text,
    snapshot_entry,
    snapshot_file,
)
from llmcost.errors import CatalogError

MAX_PRICE = Decimal(1_000_000)  # as llmcost.catalog.schema.MAX_PRICE (tests/test_light_catalog.py)
PERIOD_FIELDS = RATE_FIELDS | {"until", "long_context"}
ENDPOINT_FIELDS = frozenset({"base_url", "api", "api_key_env", "model"})
_MISSING = object()
_Fields = dict[str, tuple[Callable[[Any], Any], Any]]


class _Lazy:
    """Fields converted from the snapshot's JSON on first read (then plain attributes)."""

    # name → (convert the JSON value, the schema's default when the entry leaves it out; _MISSING = required)
    FIELDS: ClassVar[_Fields] = {}

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.__dict__["_raw"] = raw
        self.__dict__["_where"] = where

    def __getattr__(self, name: str) -> Any:
        spec = type(self).FIELDS.get(name)
        if spec is None or name.startswith("_"):
            raise AttributeError(name)
        convert, default = spec
        raw = self.__dict__["_raw"]
        try:
            if name in raw:
                value = None if raw[name] is None else convert(raw[name])
            elif default is _MISSING:
                raise ValueError("missing")
            else:
                value = default() if callable(default) else default
        except (ValueError, LookupError, TypeError, ArithmeticError) as exc:
            raise CatalogError(f"the bundled catalog's snapshot has a bad '{name}' in {self._place()} "
                               f"({exc}); regenerate it: python -m llmcost.catalog",
                               source=str(self.__dict__.get("_snapshot", "snapshot"))) from None
        self.__dict__[name] = value
        return value

    def __getstate__(self) -> dict[str, Any]:  # pickled for Dask workers: everything converted so far
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._place()})"

    def _place(self) -> str:
        where = self.__dict__["_where"]
        return f"models[{where}]" if isinstance(where, int) else str(where)


def _optional_price(value: Any) -> Decimal:
    price = _price(value)
    if price > MAX_PRICE:
        raise ValueError("price")
    return price


def _discount(value: Any) -> Decimal:
    discount = _price(value)
    if discount >= 1:
        raise ValueError("batch_discount")
    return discount


def _until(value: Any) -> date | datetime:
    """As pydantic reads ``date | datetime`` from the snapshot: a plain date stays a date; an aware time
    is moved to UTC. Anything else (a date-time at midnight, which pydantic might read as a date) is
    refused, so pydantic decides."""
    text = _text(value)
    if len(text) == 10:
        return date.fromisoformat(text)
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if stamp.time() == datetime.min.time():
        raise ValueError("until")
    return stamp.astimezone(UTC) if stamp.tzinfo is not None else stamp


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise TypeError("list")
    return tuple(_text(v) for v in value)


def _positive(value: Any) -> int:
    return _count(value)


_RATES: _Fields = {
    "input_mtok": (_optional_price, _MISSING), "output_mtok": (_optional_price, _MISSING),
    **dict.fromkeys(RATE_FIELDS - {"input_mtok", "output_mtok"}, (_optional_price, None)),
}


class LightRates(_Lazy, RateCard):
    FIELDS: ClassVar[_Fields] = _RATES


class LightLongContext(_Lazy, LongContextCard):
    FIELDS: ClassVar[_Fields] = {**_RATES, "threshold_tokens": (_positive, _MISSING), "inclusive": (_flag, False)}


def _long_context(value: Any) -> LightLongContext:
    _only(value, LONG_CONTEXT_FIELDS)
    return LightLongContext(value, "long_context")


class LightPeriod(_Lazy, PeriodCard):
    FIELDS: ClassVar[_Fields] = {**_RATES, "until": (_until, _MISSING), "long_context": (_long_context, None)}


def _api(value: Any) -> str:
    if value not in ("openai", "anthropic"):
        raise ValueError("api")
    return str(value)


class LightEndpoint(_Lazy):
    FIELDS: ClassVar[_Fields] = {"base_url": (_text, _MISSING), "api": (_api, "openai"), "api_key_env": (_text, None),
              "model": (_text, None)}


def _tiers(value: Any) -> dict[str, LightRates]:
    if not isinstance(value, dict):
        raise TypeError("service_tiers")
    out = {}
    for name, card in value.items():
        _only(card, RATE_FIELDS)
        out[_text(name)] = LightRates(card, f"service tier {name}")
    return out


def _history(value: Any) -> tuple[LightPeriod, ...]:
    if not isinstance(value, list):
        raise TypeError("price_history")
    out = []
    for i, period in enumerate(value):
        _only(period, PERIOD_FIELDS)
        out.append(LightPeriod(period, f"price_history[{i}]"))
    return tuple(out)


def _endpoint(value: Any) -> LightEndpoint:
    _only(value, ENDPOINT_FIELDS)
    return LightEndpoint(value, "endpoint")


class LightModel(_Lazy, ModelCard):
    FIELDS: ClassVar[_Fields] = {
        **_RATES,
        "id": (_text, _MISSING), "aliases": (_texts, ()), "provider": (_text, _MISSING), "tier": (_text, None),
        "source": (_text, None), "batch_discount": (_discount, None), "batch_input_mtok": (_optional_price, None),
        "batch_output_mtok": (_optional_price, None), "long_context": (_long_context, None),
        "service_tiers": (_tiers, dict), "price_history": (_history, ()),
        "request_fee": (_optional_price, Decimal(0)), "context_window": (_positive, None),
        "max_output_tokens": (_positive, None), "tokenizer": (_text, None), "endpoint": (_endpoint, None),
        "notes": (_text, None),
    }

    @classmethod
    def of(cls, raw: dict[str, Any], index: int) -> LightModel:
        """The model at ``models[index]``; what ``NameIndex`` reads of every model (id, aliases, provider)
        converted and checked now, the rest on first read (4,639 models in ~5 ms)."""
        if not raw.keys() <= MODEL_FIELDS:
            raise ValueError("unexpected fields")
        model = cls.__new__(cls)
        model.__dict__.update(_raw=raw, _where=index, id=_text(raw["id"]), provider=_text(raw["provider"]))
        if not model.id:
            raise ValueError("id")
        if "aliases" in raw:
            model.__dict__["aliases"] = _texts(raw["aliases"])
        return model


class LightCatalog(_Lazy, CatalogCard):
    FIELDS: ClassVar[_Fields] = {
        "source": (_text, _MISSING), "as_of": (lambda v: date.fromisoformat(_text(v)), _MISSING),
        "notes": (_text, None), "tiers": (_texts, DEFAULT_TIERS), "models": (tuple, _MISSING)}


def light_catalog(path: Path) -> LightCatalog | None:
    """The bundled catalog at ``path`` from its snapshot, without pydantic; None when the snapshot is not
    made from this YAML's bytes, or when an entry has a field the schema does not know (pydantic decides)."""
    import gc

    paused = gc.isenabled()
    gc.disable()  # ~150,000 objects from the JSON, none of them garbage: no collection needs to look at them
    try:
        return _light_catalog(path)
    finally:
        if paused:
            gc.enable()


def _light_catalog(path: Path) -> LightCatalog | None:
    fields = snapshot_entry(path)
    if fields is None:
        return None
    try:
        _only(fields, CATALOG_FIELDS)
        rows = fields["models"]
        if not isinstance(rows, list) or not rows:
            return None
        models = [LightModel.of(row, i) for i, row in enumerate(rows)]
        catalog = LightCatalog({**fields, "models": models}, "catalog")
        catalog.__dict__["_snapshot"] = str(snapshot_file(path.stem))
        _ = (catalog.source, catalog.as_of)  # checked now: every estimate names them
    except (ValueError, LookupError, TypeError, CatalogError):
        return None
    for model in models:
        model.__dict__["_snapshot"] = catalog.__dict__["_snapshot"]
    return catalog


def _only(fields: object, allowed: frozenset[str]) -> None:
    if not isinstance(fields, dict) or not fields.keys() <= allowed:
        raise ValueError("unexpected fields")
