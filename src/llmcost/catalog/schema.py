"""Price catalogs: the strict YAML schema, the loader and model-name resolution.

Prices are USD per million tokens, read as ``Decimal``. A price written as ``null`` is *unknown*:
tokens of that kind cannot be priced, and traffic that has them is reported as unpriced rather than
costed at $0. Cache prices that are left out mean "no caching discount": those tokens bill at the
input rate.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from llmcost import catalog_snapshot
from llmcost.catalog_snapshot import BUNDLED_DEFAULT as BUNDLED_DEFAULT
from llmcost.catalog_snapshot import batch_discount_fraction
from llmcost.catalog_snapshot import bundled_catalogs as bundled_catalogs
from llmcost.catalog_snapshot import catalog_path as catalog_path
from llmcost.catalog_snapshot import price_ratio as _ratio
from llmcost.errors import CatalogError

Price = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
TOKEN_KINDS = ("input", "cache_read", "cache_write", "cache_write_1h", "output")
DEFAULT_TIERS = ("economy", "cold", "warm", "hot")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rates(_Strict):
    """A full rate card: USD per million tokens of each kind (None = unknown)."""

    input_mtok: Price | None
    output_mtok: Price | None
    cache_read_mtok: Price | None = None
    cache_write_mtok: Price | None = None
    cache_write_1h_mtok: Price | None = None

    def rate(self, kind: str) -> Decimal | None:
        """Price per million tokens of ``kind``; cache kinds default to the input rate."""
        if kind == "input":
            return self.input_mtok
        if kind == "output":
            return self.output_mtok
        value: Decimal | None = getattr(self, f"{kind}_mtok")
        return self.input_mtok if value is None else value


class LongContext(Rates):
    """Rates for a whole request whose input exceeds ``threshold_tokens``."""

    threshold_tokens: int = Field(gt=0)


class Endpoint(_Strict):
    """Where ``llmcost bench`` can reach a model. The key is read from ``api_key_env`` only."""

    base_url: str
    api: Literal["openai", "anthropic"] = "openai"
    api_key_env: str | None = None
    model: str | None = Field(default=None, description="served model name, if not the catalog id")

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("must be the NAME of an environment variable, not a key")
        return value


class ModelPrice(Rates):
    """One model of a catalog."""

    id: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    provider: str
    tier: str | None = None
    batch_discount: Annotated[Decimal, Field(ge=0, lt=1)] | None = None
    batch_input_mtok: Price | None = None
    batch_output_mtok: Price | None = None
    long_context: LongContext | None = None
    request_fee: Price = Decimal(0)
    context_window: int | None = Field(default=None, gt=0)
    max_output_tokens: int | None = Field(default=None, gt=0)
    tokenizer: str | None = None
    endpoint: Endpoint | None = None
    notes: str | None = None

    def rates_for(self, *, long_context: bool, batch: bool) -> dict[str, Decimal | None]:
        """Effective per-Mtok price of every token kind under the given billing conditions."""
        card: Rates = self.long_context if (long_context and self.long_context) else self
        out = {kind: card.rate(kind) for kind in TOKEN_KINDS}
        if not batch:
            return out
        if not long_context and (self.batch_input_mtok is not None or self.batch_output_mtok is not None):
            factor = _ratio(self.batch_input_mtok, self.input_mtok)
            for kind in TOKEN_KINDS:
                base = out[kind]
                out[kind] = None if base is None or factor is None else base * factor
            if self.batch_input_mtok is not None:
                out["input"] = self.batch_input_mtok
            if self.batch_output_mtok is not None:
                out["output"] = self.batch_output_mtok
            return out
        discount = self.batch_discount_fraction
        if discount:
            keep = 1 - discount
            out = {k: (None if v is None else v * keep) for k, v in out.items()}
        return out

    @property
    def batch_discount_fraction(self) -> Decimal | None:
        return batch_discount_fraction(self.batch_discount, self.batch_input_mtok, self.input_mtok)

    @property
    def has_batch(self) -> bool:
        return self.batch_discount is not None or self.batch_input_mtok is not None


class Catalog(_Strict):
    """A dated price sheet."""

    source: str
    as_of: date
    notes: str | None = None
    tiers: tuple[str, ...] = DEFAULT_TIERS
    models: tuple[ModelPrice, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Catalog:
        seen: dict[str, str] = {}
        for i, m in enumerate(self.models):
            for name in (m.id, *m.aliases):
                key = name.lower()
                if key in seen:
                    what = "id" if name == m.id else "alias"
                    raise ValueError(
                        f"models[{i}] ('{m.id}'): duplicate {what} '{name}' (already used by '{seen[key]}')"
                    )
                seen[key] = m.id
            if m.tier is not None and m.tier not in self.tiers:
                raise ValueError(f"models[{i}] ('{m.id}'): tier '{m.tier}' is not one of {list(self.tiers)}")
        return self

    @cached_property
    def by_id(self) -> dict[str, ModelPrice]:
        return {m.id: m for m in self.models}

    @cached_property
    def _index(self) -> dict[str, str]:
        index: dict[str, str] = {}
        fuzzy: dict[str, str | None] = {}
        for m in self.models:
            for name in (m.id, *m.aliases):
                index[name.lower()] = m.id
                key = _canonical(name)
                fuzzy[key] = m.id if fuzzy.get(key, m.id) == m.id else None
        for key, mid in fuzzy.items():
            if mid is not None:
                index.setdefault(key, mid)
        return index

    def model(self, model_id: str) -> ModelPrice:
        return self.by_id[model_id]

    def resolve(self, name: str) -> str | None:
        """The catalog id for a model name as logged, or None when the catalog does not know it.

        Tries, in order: the id or an alias as written; without a provider prefix (``openai/gpt-4o``);
        without a dated snapshot or ``-latest`` suffix (``gpt-4o-2024-08-06``); then the same with dots
        and dashes treated alike (``claude-sonnet-4.5`` = ``claude-sonnet-4-5``).
        """
        for candidate in _candidates(name):
            found = self._index.get(candidate) or self._index.get(_canonical(candidate))
            if found:
                return found
        return None

    def resolve_many(self, names: Iterable[str]) -> dict[str, str | None]:
        return {n: self.resolve(n) for n in names}

    def in_tier(self, tier: str) -> list[ModelPrice]:
        return [m for m in self.models if m.tier == tier]


_DATE_SUFFIX = re.compile(r"(?:[-@_:](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|latest))$")


def _canonical(name: str) -> str:
    return name.lower().replace(".", "-").replace("_", "-")


def _candidates(name: str) -> list[str]:
    base = name.strip().lower()
    out = [base]
    if "/" in base:
        out.append(base.rsplit("/", 1)[1])
    for value in list(out):
        stripped = value
        while True:
            nxt = _DATE_SUFFIX.sub("", stripped)
            if nxt == stripped or not nxt:
                break
            stripped = nxt
            out.append(stripped)
        if ":" in value:
            out.append(value.split(":", 1)[0])
    return out


def load_catalog(name_or_path: str | os.PathLike[str] | None = None, *, snapshot: bool = True) -> Catalog:
    """Load and validate a catalog; errors name the file, the model and the field.

    A bundled catalog whose YAML is byte-for-byte the one the snapshot was made from is validated from
    the snapshot instead (same schema, same result, no YAML parsing); ``snapshot=False`` always reads
    the YAML.
    """
    path = catalog_path(name_or_path)
    if not path.exists():
        known = ", ".join(sorted(bundled_catalogs()))
        raise CatalogError(f"no such catalog file (bundled catalogs: {known})", source=str(path))
    if snapshot:
        fast = _from_snapshot(path)
        if fast is not None:
            return fast
    from llmcost import yamlfile  # only here: the snapshot path needs no YAML parser

    return yamlfile.load(path, Catalog, CatalogError)


def _from_snapshot(path: Path) -> Catalog | None:
    """The bundled catalog at ``path``, validated from the snapshot; None (read the YAML) unless the snapshot
    was made from exactly this file's bytes and is intact."""
    fields = catalog_snapshot.snapshot_entry(path)
    if fields is None:
        return None
    try:
        return Catalog.model_validate(fields)
    except ValueError:  # not what the schema accepts: the YAML decides
        return None


def snapshot_text() -> str:
    """The snapshot of every bundled catalog: the fields its YAML sets, validated, as JSON."""
    import json

    from llmcost import yamlfile

    catalogs: dict[str, Any] = {}
    for name, path in bundled_catalogs().items():
        cat = yamlfile.load(path, Catalog, CatalogError)
        catalogs[name] = {"yaml_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                          "catalog": cat.model_dump(mode="json", exclude_unset=True)}
    doc = {"generated_by": "python -m llmcost.catalog (do not edit; tests check it matches the YAML)",
           "catalogs": catalogs}
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def write_snapshot() -> Path:
    """Regenerate the snapshot after editing a bundled catalog."""
    catalog_snapshot.SNAPSHOT.write_text(snapshot_text(), encoding="utf-8")
    return catalog_snapshot.SNAPSHOT


if __name__ == "__main__":
    print(f"wrote {write_snapshot()}")
