"""Convert litellm's price database (``model_prices_and_context_window*.json``) into an llmcost catalog.

litellm prices are USD per *token*, written as JSON numbers such as ``2.5e-06``. Each number is read as
the ``Decimal`` its text spells and scaled by 10**6 with ``Decimal.scaleb`` — never through a float — so
``2.5e-06`` becomes exactly ``2.5`` USD per million tokens.

Field mapping (litellm → llmcost):

===============================================  =========================================
``input_cost_per_token``                         ``input_mtok``
``output_cost_per_token``                        ``output_mtok``
``cache_read_input_token_cost``                  ``cache_read_mtok``
``cache_creation_input_token_cost``              ``cache_write_mtok`` (5-minute TTL)
``cache_creation_input_token_cost_above_1hr``    ``cache_write_1h_mtok``
``input_cost_per_token_batches`` / ``output_…``  ``batch_input_mtok`` / ``batch_output_mtok``
``*_above_{N}k_tokens``                          ``long_context`` with ``threshold_tokens: N*1000``
``max_input_tokens`` / ``max_output_tokens``     ``context_window`` / ``max_output_tokens``
``litellm_provider``                             ``provider``
===============================================  =========================================

What llmcost cannot express (priority/flex service tiers, off-peak windows, regional uplifts, batch cache
rates that differ from the batch ratio) is recorded in each model's ``notes`` instead of being dropped
silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from llmcost.catalog import Catalog
from llmcost.errors import CatalogError

CHAT_MODES = ("chat", "responses")
RATE_FIELDS = {
    "input_mtok": "input_cost_per_token",
    "output_mtok": "output_cost_per_token",
    "cache_read_mtok": "cache_read_input_token_cost",
    "cache_write_mtok": "cache_creation_input_token_cost",
    "cache_write_1h_mtok": "cache_creation_input_token_cost_above_1hr",
}
_LONG = re.compile(
    r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost"
    r"|cache_creation_input_token_cost_above_1hr)_above_(\d+)k_tokens$"
)
_CL100K = re.compile(r"^(?:ft:)?gpt-(?:3\.5|4)(?![o.\d])")


@dataclass(frozen=True)
class Imported:
    """The YAML text of an imported catalog, the validated catalog, and entries left out (with why)."""

    text: str
    catalog: Catalog
    skipped: tuple[str, ...]


def per_mtok(value: Any, *, source: str, key: str, name: str) -> Decimal | None:
    """A litellm per-token price (already parsed as Decimal/int) as exact USD per million tokens."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise CatalogError(f"price is not a number: {value!r}", source=source, field=f"{key}.{name}")
    scaled = Decimal(value).scaleb(6)
    if scaled < 0 or not scaled.is_finite():
        raise CatalogError(f"price must be a finite number >= 0, got {value}", source=source,
                           field=f"{key}.{name}")
    normal = scaled.normalize()
    # normalize() turns 10 into 1E+1; quantize back to an integer exponent for clean YAML.
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def load_litellm(path: Path) -> dict[str, dict[str, Any]]:
    """Parse the JSON database with every number as Decimal or int (never float)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read file: {exc.strerror or exc}", source=str(path)) from None
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"invalid JSON: {exc.msg}", source=str(path), line=exc.lineno) from None
    if not isinstance(data, dict):
        raise CatalogError("expected a JSON object of model entries", source=str(path))
    return {k: v for k, v in data.items() if isinstance(v, dict) and k != "sample_spec"}


def select(db: Mapping[str, Mapping[str, Any]], *, source: str, models: Sequence[str] | None,
           provider: str | None) -> list[str]:
    """The database keys to import: the named ones, or every chat model of a provider (or of all)."""
    if models:
        missing = [m for m in models if m not in db]
        if missing:
            raise CatalogError(f"model '{missing[0]}' is not in the price database", source=source,
                               field="--models")
        return list(models)
    keys = [k for k, v in db.items() if v.get("mode") in CHAT_MODES
            and (provider is None or v.get("litellm_provider") == provider)
            and ("input_cost_per_token" in v or "output_cost_per_token" in v)]
    if not keys:
        raise CatalogError(f"no chat models for provider '{provider}'", source=source, field="--provider")
    return keys


def model_id(key: str, entry: Mapping[str, Any]) -> str:
    """``gemini/gemini-2.5-pro`` → ``gemini-2.5-pro``: drop the prefix when it is the provider's own."""
    prov = str(entry.get("litellm_provider", ""))
    return key[len(prov) + 1:] if prov and key.startswith(prov + "/") else key


def convert_entry(key: str, entry: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """One litellm entry as a catalog model mapping (Decimal prices, schema field order)."""
    def rate(name: str) -> Decimal | None:
        return per_mtok(entry.get(name), source=source, key=key, name=name)

    mid = model_id(key, entry)
    out: dict[str, Any] = {"id": mid, "provider": str(entry.get("litellm_provider") or "unknown")}
    notes = [f"litellm key '{key}'" + (f" ({entry['source']})" if entry.get("source") else "")]
    for field, name in RATE_FIELDS.items():
        value = rate(name)
        if field == "cache_write_mtok" and value == 0 and (rate("input_cost_per_token") or 0) > 0:
            notes.append("source lists a cache-write cost of 0; left out (cache misses bill at the input rate)")
            continue
        if value is not None or field in ("input_mtok", "output_mtok"):
            out[field] = value
    for field, name in (("batch_input_mtok", "input_cost_per_token_batches"),
                        ("batch_output_mtok", "output_cost_per_token_batches")):
        if (value := rate(name)) is not None:
            out[field] = value
    long_context, long_notes = _long_context(entry, out, source=source, key=key)
    if long_context:
        out["long_context"] = long_context
    for field, name in (("context_window", "max_input_tokens"), ("max_output_tokens", "max_output_tokens")):
        value = entry.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            out[field] = value
    if out["provider"] == "openai":
        out["tokenizer"] = "cl100k_base" if _CL100K.match(mid) else "o200k_base"
    notes += long_notes + _caveats(entry, out, source=source, key=key)
    out["notes"] = "; ".join(notes)
    return out


def _long_context(entry: Mapping[str, Any], base: Mapping[str, Any], *, source: str,
                  key: str) -> tuple[dict[str, Any] | None, list[str]]:
    tiers: dict[int, dict[str, Decimal | None]] = {}
    for name, value in entry.items():
        match = _LONG.match(name)
        if match:
            field = next(f for f, n in RATE_FIELDS.items() if n == match.group(1))
            tiers.setdefault(int(match.group(2)) * 1000, {})[field] = per_mtok(
                value, source=source, key=key, name=name)
    if not tiers:
        return None, []
    threshold = min(tiers)
    found = tiers[threshold]
    notes = [f"other long-context thresholds in source not modeled: {sorted(set(tiers) - {threshold})}"
             ] if len(tiers) > 1 else []
    carried = [f for f in RATE_FIELDS if f not in found and base.get(f) is not None]
    if carried:
        notes.append(f"long-context tier: {', '.join(carried)} not in source, base rate carried over")
    tier: dict[str, Any] = {"threshold_tokens": threshold}
    for field in RATE_FIELDS:
        value = found.get(field, base.get(field))
        if value is not None or field in ("input_mtok", "output_mtok"):
            tier[field] = value
    return tier, notes


def _caveats(entry: Mapping[str, Any], out: Mapping[str, Any], *, source: str, key: str) -> list[str]:
    notes: list[str] = []
    if entry.get("deprecation_date"):
        notes.append(f"deprecation date {entry['deprecation_date']}")
    reasoning = per_mtok(entry.get("output_cost_per_reasoning_token"), source=source, key=key,
                         name="output_cost_per_reasoning_token")
    if reasoning is not None and reasoning != out.get("output_mtok"):
        notes.append(f"reasoning tokens listed at {reasoning}/Mtok (billed here at the output rate)")
    batch_in, base_in = out.get("batch_input_mtok"), out.get("input_mtok")
    for name, field in (("cache_read_input_token_cost_batches", "cache_read_mtok"),
                        ("cache_creation_input_token_cost_batches", "cache_write_mtok")):
        listed = per_mtok(entry.get(name), source=source, key=key, name=name)
        base = out.get(field)
        if listed is None or base is None or batch_in is None or not base_in:
            continue
        derived = base * batch_in / base_in
        if derived != listed:
            notes.append(f"batch {field} listed at {listed}/Mtok; llmcost derives {derived.normalize():f}")
    if "off_peak_pricing" in entry:
        notes.append("off-peak discounts in source not modeled")
    if any(k.startswith("regional_processing_uplift") for k in entry) or "provider_specific_entry" in entry:
        notes.append("regional/data-residency uplifts in source not modeled")
    if any(k.endswith(("_priority", "_flex")) for k in entry):
        notes.append("priority/flex service-tier rates not modeled")
    return notes


def auto_tier(model: Mapping[str, Any]) -> str | None:
    """A tier from the blended price (3 parts input : 1 part output), for hand review afterwards."""
    inp, outp = model.get("input_mtok"), model.get("output_mtok")
    if inp is None or outp is None:
        return None
    blended = (3 * inp + outp) / 4
    if blended <= Decimal("0.5"):
        return "economy"
    if blended <= Decimal("2.5"):
        return "cold"
    return "warm" if blended <= 8 else "hot"


def import_litellm(path: Path, *, models: Sequence[str] | None = None, provider: str | None = None,
                   source: str | None = None, as_of: date | None = None) -> Imported:
    """Read ``path`` and build a validated catalog (YAML text + model) from the selected entries."""
    db = load_litellm(path)
    keys = select(db, source=str(path), models=models, provider=provider)
    converted: list[dict[str, Any]] = []
    seen: set[str] = set()
    skipped: list[str] = []
    for key in keys:
        item = convert_entry(key, db[key], source=str(path))
        if item["id"].lower() in seen:
            skipped.append(f"{key}: id '{item['id']}' already imported from another key")
            continue
        seen.add(item["id"].lower())
        item["tier"] = auto_tier(item)
        converted.append(_ordered(item))
    data = {"source": source or f"litellm price database {path.name}",
            "as_of": as_of or date.today(), "models": converted}
    text = dump_yaml(data)
    catalog = Catalog.model_validate(yaml.safe_load(text))
    _check_exact(converted, catalog, source=str(path))
    return Imported(text, catalog, tuple(skipped))


_ORDER = ("id", "aliases", "provider", "tier", "input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok",
          "cache_write_1h_mtok", "batch_input_mtok", "batch_output_mtok", "long_context", "context_window",
          "max_output_tokens", "tokenizer", "notes")


def _ordered(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in _ORDER if k in item and (item[k] is not None or k.endswith("_mtok"))}


class _Dumper(yaml.SafeDumper):
    pass


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:float" if value != value.to_integral_value()
                                   else "tag:yaml.org,2002:int", f"{value:f}")


_Dumper.add_representer(Decimal, _decimal)


def dump_yaml(data: Mapping[str, Any]) -> str:
    """YAML for a catalog mapping; Decimals are written digit for digit."""
    return yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)


def _check_exact(converted: Iterable[Mapping[str, Any]], catalog: Catalog, *, source: str) -> None:
    """Guard: every price survives the YAML round trip unchanged."""
    for item, model in zip(converted, catalog.models, strict=True):
        for field in (*RATE_FIELDS, "batch_input_mtok", "batch_output_mtok"):
            if item.get(field) != getattr(model, field):
                raise CatalogError(f"price changed in YAML round trip: {item.get(field)}", source=source,
                                   field=f"{item['id']}.{field}")
