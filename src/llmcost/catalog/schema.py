"""The strict catalog schema: a dated price sheet of models, each with its rate cards.

Prices are USD per million tokens, read as ``Decimal``. A price written as ``null`` is *unknown*: tokens
of that kind cannot be priced, and traffic that has them is reported as unpriced rather than costed at $0.
Cache prices that are left out mean "no caching discount": those tokens bill at the input rate. Audio
prices that are left out are unknown (audio tokens are never billed as text).

Which card bills a request: the price period its timestamp falls in (``price_history``, else the current
prices), then its service tier (``service_tiers``), then the long-context card when its input crosses
``long_context.threshold_tokens``, then the batch rates when it was a batch request.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from llmcost.catalog.snapshot import batch_discount_fraction
from llmcost.catalog.snapshot import price_ratio as _ratio

if TYPE_CHECKING:
    from llmcost.catalog.resolve import NameIndex

# A million dollars per million tokens ($1 a token) bounds every real price many times over, and keeps every
# total well inside Decimal's 28 digits (1e30 would pass validation and then fail to round to the cent).
MAX_PRICE = Decimal(1_000_000)
Price = Annotated[Decimal, Field(ge=0, le=MAX_PRICE, allow_inf_nan=False)]
TOKEN_KINDS = ("input", "cache_read", "cache_write", "cache_write_1h", "output", "audio_input", "audio_output",
               "audio_cache_read")
DEFAULT_TIERS = ("economy", "cold", "warm", "hot")
# Service tiers as logged → the catalog's name for them (None = standard rates).
STANDARD_SERVICE_TIERS = frozenset({"", "standard", "default", "auto", "on_demand", "on-demand", "none", "null"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rates(_Strict):
    """A full rate card: USD per million tokens of each kind (None = unknown)."""

    input_mtok: Price | None
    output_mtok: Price | None
    cache_read_mtok: Price | None = None
    cache_write_mtok: Price | None = None
    cache_write_1h_mtok: Price | None = None
    audio_input_mtok: Price | None = None
    audio_output_mtok: Price | None = None
    cache_audio_read_mtok: Price | None = None

    def rate(self, kind: str) -> Decimal | None:
        """Price per million tokens of ``kind``; cache kinds default to the input rate (cached audio to the
        audio input rate), audio to unknown."""
        if kind == "input":
            return self.input_mtok
        if kind == "output":
            return self.output_mtok
        if kind == "audio_cache_read":
            return self.audio_input_mtok if self.cache_audio_read_mtok is None else self.cache_audio_read_mtok
        value: Decimal | None = getattr(self, f"{kind}_mtok")
        if value is None and kind.startswith("cache"):
            return self.input_mtok
        return value


class LongContext(Rates):
    """Rates for a whole request whose input crosses ``threshold_tokens``: above it, or at or above it
    when ``inclusive`` (xAI bills "at or above")."""

    threshold_tokens: int = Field(gt=0)
    inclusive: bool = False


class PricePeriod(Rates):
    """Earlier prices: requests before ``until`` bill at this card. ``until`` is a date (UTC midnight) or a
    date and time (UTC unless it says otherwise), for price changes that took effect mid-day."""

    until: date | datetime  # date first: a snapshot's "2025-09-29" stays the date the YAML wrote
    long_context: LongContext | None = None

    @field_validator("until")
    @classmethod
    def _one_utc(cls, value: date | datetime) -> date | datetime:
        """Aware times in UTC with one tzinfo, whether read from YAML or from the JSON snapshot."""
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    @property
    def until_utc(self) -> datetime:
        """``until`` as an aware UTC instant."""
        value = self.until
        if not isinstance(value, datetime):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
    source: str | None = None
    batch_discount: Annotated[Decimal, Field(ge=0, lt=1)] | None = None
    batch_input_mtok: Price | None = None
    batch_output_mtok: Price | None = None
    long_context: LongContext | None = None
    service_tiers: dict[str, Rates] = Field(default_factory=dict)
    price_history: tuple[PricePeriod, ...] = ()
    request_fee: Price = Decimal(0)
    context_window: int | None = Field(default=None, gt=0)
    max_output_tokens: int | None = Field(default=None, gt=0)
    tokenizer: str | None = None
    endpoint: Endpoint | None = None
    notes: str | None = None

    @field_validator("service_tiers")
    @classmethod
    def _tier_names(cls, value: dict[str, Rates]) -> dict[str, Rates]:
        for name in value:
            if name.lower() in STANDARD_SERVICE_TIERS or name == "batch" or name != name.lower():
                raise ValueError(f"'{name}': a service tier is a lower-case name other than standard/default "
                                 "(those are the model's own rates) and batch (batch rates are separate)")
        return value

    @field_validator("price_history")
    @classmethod
    def _history_order(cls, value: tuple[PricePeriod, ...]) -> tuple[PricePeriod, ...]:
        for earlier, later in itertools.pairwise(value):
            if later.until_utc <= earlier.until_utc:
                raise ValueError(f"periods must be oldest first with increasing 'until' dates "
                                 f"({earlier.until} then {later.until})")
        return value

    def card(self, *, period: int = 0, service_tier: str | None = None) -> Rates | None:
        """The rate card of price period ``period`` (0 = current, k = ``price_history[k-1]``) and service
        tier (None = standard); None when the catalog has no card for that tier."""
        if service_tier is not None:
            return self.service_tiers.get(service_tier)
        return self if period == 0 else self.price_history[period - 1]

    def long_context_of(self, period: int = 0) -> LongContext | None:
        return self.long_context if period == 0 else self.price_history[period - 1].long_context

    def rates_for(self, *, long_context: bool, batch: bool, period: int = 0,
                  service_tier: str | None = None) -> dict[str, Decimal | None]:
        """Effective per-Mtok price of every token kind under the given billing conditions.

        A service tier without a card gives unknown (None) rates: its traffic is reported unpriced.
        Remembered per condition (a check over 1,000,000 tasks prices each model's groups once per task);
        callers get a copy, so the remembered card cannot be changed through one."""
        key = (long_context, batch, period, service_tier)
        rates = self._rates_memo.get(key)
        if rates is None:
            rates = self._rates_memo[key] = self._rates_for(long_context=long_context, batch=batch, period=period,
                                                            service_tier=service_tier)
        return dict(rates)

    @cached_property
    def _rates_memo(self) -> dict[tuple[bool, bool, int, str | None], dict[str, Decimal | None]]:
        return {}

    def _rates_for(self, *, long_context: bool, batch: bool, period: int,
                   service_tier: str | None) -> dict[str, Decimal | None]:
        card = self.card(period=period, service_tier=service_tier)
        if card is None:
            return dict.fromkeys(TOKEN_KINDS)
        long_card = self.long_context_of(period) if service_tier is None else None
        if long_context and long_card is not None:
            card = long_card
        out = {kind: card.rate(kind) for kind in TOKEN_KINDS}
        if not batch:
            return out
        if period == 0 and not long_context and service_tier is None and (
                self.batch_input_mtok is not None or self.batch_output_mtok is not None):
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
    def names(self) -> NameIndex:
        from llmcost.catalog.resolve import NameIndex

        return NameIndex(self.models)

    def model(self, model_id: str) -> ModelPrice:
        return self.by_id[model_id]

    def resolve(self, name: str, provider: str | None = None) -> str | None:
        """The catalog id for a model name as logged (see ``llmcost.catalog.resolve``), or None."""
        return self.names.resolve(name, provider)

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Catalog ids whose names are close to ``name`` (for "did you mean")."""
        return self.names.suggest(name, limit)

    def family(self, name: str) -> str | None:
        """The entry of ``name`` or of its undated base (for its tokenizer, never for its price)."""
        return self.resolve(name) or self.names.undated(name)

    def resolve_many(self, names: list[str]) -> dict[str, str | None]:
        return {n: self.resolve(n) for n in names}

    def in_tier(self, tier: str) -> list[ModelPrice]:
        return [m for m in self.models if m.tier == tier]

