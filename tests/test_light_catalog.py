"""The light catalog (``load_catalog(light=True)``): a bundled catalog read from its checked snapshot without
pydantic, for ``estimate --baseline-only``. It must be the validated catalog in every field and every
price it gives, fall back to pydantic whenever it cannot vouch for the snapshot, and say so when a value
of the snapshot is bad."""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import BaseModel

from llmcost.catalog import (
    Catalog,
    Endpoint,
    LongContext,
    ModelPrice,
    PricePeriod,
    Rates,
    bundled_catalogs,
    load_catalog,
)
from llmcost.catalog import snapshot as catalog_snapshot
from llmcost.catalog.light import (
    _MISSING,
    MAX_PRICE,
    LightCatalog,
    LightEndpoint,
    LightLongContext,
    LightModel,
    LightPeriod,
    LightRates,
    light_catalog,
)
from llmcost.catalog.schema import MAX_PRICE as SCHEMA_MAX_PRICE
from llmcost.engines import baseline_estimate, make_engine
from llmcost.errors import CatalogError
from llmcost.report.estimate_json import render_json
from llmcost.scenarios.interface import Baseline

PAIRS = [(LightRates, Rates), (LightLongContext, LongContext), (LightPeriod, PricePeriod), (LightEndpoint, Endpoint),
         (LightModel, ModelPrice), (LightCatalog, Catalog)]


def same(light: Any, full: Any, where: str = "catalog") -> None:
    """Every field of a validated object equals the light one's, down to the repr of every Decimal."""
    if isinstance(full, BaseModel):
        assert not isinstance(light, BaseModel), where
        for name in type(full).model_fields:
            same(getattr(light, name), getattr(full, name), f"{where}.{name}")
    elif isinstance(full, tuple | list):
        assert isinstance(light, tuple) and len(light) == len(full), where
        for i, (a, b) in enumerate(zip(light, full, strict=True)):
            same(a, b, f"{where}[{i}]")
    elif isinstance(full, dict):
        assert isinstance(light, dict) and list(light) == list(full), where
        for key in full:
            same(light[key], full[key], f"{where}[{key}]")
    else:
        assert (type(light), repr(light)) == (type(full), repr(full)), where


def test_the_light_classes_know_exactly_the_schemas_fields_and_defaults() -> None:
    for light, full in PAIRS:
        assert set(light.FIELDS) == set(full.model_fields), light.__name__
        for name, info in full.model_fields.items():
            default = light.FIELDS[name][1]
            if info.is_required():
                assert default is _MISSING, (light.__name__, name)
                continue
            value = default() if callable(default) else default
            expected = info.get_default(call_default_factory=True)
            assert (type(value), value) == (type(expected), expected), (light.__name__, name)
    assert MAX_PRICE == SCHEMA_MAX_PRICE


@pytest.mark.parametrize("name", sorted(bundled_catalogs()))
def test_every_field_of_every_bundled_catalog_is_the_validated_one(name: str) -> None:
    light = load_catalog(name, light=True)
    assert isinstance(light, LightCatalog)
    same(light, load_catalog(name))


@pytest.mark.parametrize("name", sorted(bundled_catalogs()))
def test_every_rate_card_prices_as_the_validated_one(name: str) -> None:
    light, full = load_catalog(name, light=True), load_catalog(name)
    for model in full.models:
        other = light.model(model.id)
        tiers = [None, *model.service_tiers, "no-such-tier"]
        for period in range(1 + len(model.price_history)):
            for tier in tiers:
                for long in (False, True):
                    for batch in (False, True):
                        args = {"long_context": long, "batch": batch, "period": period, "service_tier": tier}
                        assert other.rates_for(**args) == model.rates_for(**args), (model.id, args)
            assert repr(other.long_context_of(period)) != "" and (other.long_context_of(period) is None) == (
                model.long_context_of(period) is None)
            if period:
                assert other.price_history[period - 1].until_utc == model.price_history[period - 1].until_utc
        assert (other.has_batch, other.batch_discount_fraction) == (model.has_batch, model.batch_discount_fraction)
    assert [m.id for m in light.in_tier("hot")] == [m.id for m in full.in_tier("hot")]


def test_names_resolve_and_suggest_as_the_validated_catalog() -> None:
    light, full = load_catalog(None, light=True), load_catalog(None)
    names = ["gpt-4o", "openai/gpt-4o", "GPT-4O", "claude-sonnet-4.5", "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
             "gemini-2.0-flash", "gtp-4o", "no-such-model", "gpt-4o-2099-01-01"]
    for name in names:
        for provider in (None, "vertex_ai", "openrouter", "azure"):
            assert light.resolve(name, provider) == full.resolve(name, provider), (name, provider)
        assert light.suggest(name) == full.suggest(name)
        assert light.family(name) == full.family(name)


def test_a_light_catalog_is_read_without_pydantic_and_survives_pickling() -> None:
    """Dask ships the catalog to its workers by pickling it."""
    light = load_catalog(None, light=True)
    light.resolve("gpt-4o")
    again = pickle.loads(pickle.dumps(light))
    assert again.model("gpt-4o").rates_for(long_context=False, batch=True) == light.model("gpt-4o").rates_for(
        long_context=False, batch=True)
    same(again, load_catalog(None))


def _log(path: Path, catalog: Catalog) -> str:
    """Requests on models with price history, long-context cards and service tiers of the default catalog."""
    with_history = [m.id for m in catalog.models if m.price_history][:4]
    with_long = [m.id for m in catalog.models if m.long_context is not None][:3]
    with_tiers = [m for m in catalog.models if m.service_tiers][:2]
    models = [*with_history, *with_long, *(m.id for m in with_tiers), "gpt-4o", "no-such-model"]
    tiers = ["", "standard", *(t for m in with_tiers for t in m.service_tiers)]
    rows = 6000
    rng = np.random.default_rng(11)
    start = np.datetime64("2026-01-01", "ms")
    inputs = rng.choice([100, 5000, 150_000, 250_000, 300_000], rows)
    pq.write_table(pa.table({
        "timestamp": pa.array(start + np.sort(rng.integers(0, 330 * 86_400_000, rows)).astype("timedelta64[ms]"),
                              pa.timestamp("ms", tz="UTC")),
        "model": pa.array(rng.choice(models, rows)).dictionary_encode(),
        "service_tier": pa.array(rng.choice(tiers, rows)),
        "input_tokens": inputs, "cache_read_tokens": inputs // 3, "output_tokens": rng.integers(1, 4000, rows),
        "reasoning_tokens": rng.integers(0, 2, rows), "batch": rng.random(rows) < 0.2,
    }), path, row_group_size=1000)
    return str(path)


def test_the_baseline_on_the_light_catalog_is_the_baseline_on_the_validated_one(tmp_path: Path) -> None:
    full = load_catalog(None)
    log = _log(tmp_path / "log.parquet", full)
    results = []
    for catalog in (load_catalog(None, light=True), full):
        estimate = baseline_estimate(make_engine(), [log], catalog, [Baseline()])
        assert estimate is not None
        results.append((render_json(estimate), estimate.baseline.priced))
    assert results[0] == results[1]
    assert any(m.long_context_requests for m in results[0][1].by_model)


@pytest.fixture
def catalog_copy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    root = tmp_path / "catalogs"
    shutil.copytree(catalog_snapshot.CATALOG_DIR, root)
    monkeypatch.setattr(catalog_snapshot, "CATALOG_DIR", root)
    monkeypatch.setattr(catalog_snapshot, "SNAPSHOT_DIR", root / catalog_snapshot.SNAPSHOT_DIR.name)
    return root


def _rewrite(catalog_copy: Path, name: str, change: Any) -> None:
    snapshot = catalog_snapshot.snapshot_file(name)
    doc = json.loads(snapshot.read_text(encoding="utf-8"))
    change(doc["catalogs"][name])
    snapshot.write_text(json.dumps(doc), encoding="utf-8")


@pytest.mark.parametrize("odd", ["stale hash", "unknown model field", "unknown catalog field", "no models",
                                 "id not text", "empty id", "missing snapshot"])
def test_a_snapshot_it_cannot_vouch_for_goes_to_pydantic(catalog_copy: Path, odd: str) -> None:
    name = "article-sheet-a"
    changes = {
        "stale hash": lambda e: e.update(yaml_sha256="0" + e["yaml_sha256"][1:]),
        "unknown model field": lambda e: e["catalog"]["models"][0].update(colour="red"),
        "unknown catalog field": lambda e: e["catalog"].update(colour="red"),
        "no models": lambda e: e["catalog"].update(models=[]),
        "id not text": lambda e: e["catalog"]["models"][0].update(id=5),
        "empty id": lambda e: e["catalog"]["models"][0].update(id=""),
    }
    if odd == "missing snapshot":
        catalog_snapshot.snapshot_file(name).unlink()
    else:
        _rewrite(catalog_copy, name, changes[odd])
    assert light_catalog(catalog_snapshot.catalog_path(name)) is None
    loaded = load_catalog(name, light=True)
    assert isinstance(loaded, Catalog)  # validated by pydantic (from the snapshot or the YAML)


def test_a_user_catalog_is_never_light(tmp_path: Path) -> None:
    path = tmp_path / "default.yaml"
    shutil.copy(catalog_snapshot.bundled_catalogs()["article-sheet-b"], path)
    assert isinstance(load_catalog(str(path), light=True), Catalog)


@pytest.mark.parametrize(("field", "value"), [("input_mtok", "-1"), ("input_mtok", "abc"), ("output_mtok", "NaN"),
                                              ("input_mtok", "1000001"), ("batch_discount", "1"),
                                              ("context_window", 0), ("price_history", {"until": "x"})])
def test_a_bad_value_found_when_read_names_the_snapshot(catalog_copy: Path, field: str, value: object) -> None:
    name = "article-sheet-a"
    first: dict[str, Any] = {}

    def change(entry: dict[str, Any]) -> None:
        first.update(entry["catalog"]["models"][0])
        entry["catalog"]["models"][0][field] = value

    _rewrite(catalog_copy, name, change)
    light = load_catalog(name, light=True)
    assert isinstance(light, LightCatalog)
    model = light.model(first["id"])
    with pytest.raises(CatalogError, match=rf"bad '{field}' in models\[0\].*python -m llmcost.catalog") as caught:
        getattr(model, field)
    assert caught.value.source is not None and caught.value.source.endswith(f"{name}.json")


def test_price_history_times_read_as_pydantic_reads_them(catalog_copy: Path) -> None:
    """A date stays a date, an aware time moves to UTC, a naive time stays naive; midnight as a date-time
    (which pydantic may read either way) is left to pydantic."""
    name = "article-sheet-a"
    stamps = ["2025-09-29", "2026-02-01T12:30:00Z", "2026-03-01T09:00:00+02:00", "2026-04-01T08:00:00"]

    def change(entry: dict[str, Any]) -> None:
        model = entry["catalog"]["models"][0]
        model["price_history"] = [{"input_mtok": "1", "output_mtok": "2", "until": s} for s in stamps]

    _rewrite(catalog_copy, name, change)
    light = load_catalog(name, light=True)
    full = Catalog.model_validate(json.loads(catalog_snapshot.snapshot_file(name).read_text())["catalogs"][name][
        "catalog"])
    assert isinstance(light, LightCatalog)
    same(light, full)

    def midnight(entry: dict[str, Any]) -> None:
        entry["catalog"]["models"][0]["price_history"] = [{"input_mtok": "1", "output_mtok": "2",
                                                           "until": "2026-05-01T00:00:00Z"}]

    _rewrite(catalog_copy, name, midnight)
    with pytest.raises(CatalogError, match=r"bad 'until' in price_history\[0\]"):
        load_catalog(name, light=True).models[0].price_history[0].until  # noqa: B018


def test_the_yaml_hash_still_decides(catalog_copy: Path) -> None:
    yaml_path = catalog_copy / "article-sheet-a.yaml"
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert hashlib.sha256(yaml_path.read_bytes()).hexdigest()
    assert isinstance(load_catalog("article-sheet-a", light=True), Catalog)


def test_decimal_digits_are_the_writers(catalog_copy: Path) -> None:
    _rewrite(catalog_copy, "article-sheet-a", lambda e: e["catalog"]["models"][0].update(input_mtok="1.250"))
    light = load_catalog("article-sheet-a", light=True)
    assert repr(light.models[0].input_mtok) == repr(Decimal("1.250"))
