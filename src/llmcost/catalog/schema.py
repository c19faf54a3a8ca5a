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
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The cards' behaviour (rates, cards by period and tier, name resolution) lives in llmcost.catalog.cards,
# shared with the light catalog read from the snapshot; the constants are re-exported from here.
from llmcost.catalog.cards import DEFAULT_TIERS as DEFAULT_TIERS
from llmcost.catalog.cards import STANDARD_SERVICE_TIERS as STANDARD_SERVICE_TIERS
from llmcost.catalog.cards import TOKEN_KINDS as TOKEN_KINDS
from llmcost.catalog.cards import CatalogCard, LongContextCard, ModelCard, PeriodCard, RateCard

if TYPE_CHECKING:
    from functools import cached_property

# A million dollars per million tokens ($1 a token) bounds every real price many times over, and keeps every
# total well inside Decimal's 28 digits (1e30 would pass validation and then fail to round to the cent).
MAX_PRICE = Decimal(1_000_000)
Price = Annotated[Decimal, Field(ge=0, le=MAX_PRICE, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rates(_Strict, RateCard):
    """A full rate card: USD per million tokens of each kind (None = unknown)."""

    input_mtok: Price | None
    output_mtok: Price | None
    cache_read_mtok: Price | None = None
    cache_write_mtok: Price | None = None
    cache_write_1h_mtok: Price | None = None
    audio_input_mtok: Price | None = None
    audio_output_mtok: Price | None = None
    cache_audio_read_mtok: Price | None = None


class LongContext(Rates, LongContextCard):
    """Rates for a whole request whose input crosses ``threshold_tokens``: above it, or at or above it
    when ``inclusive`` (xAI bills "at or above")."""

    threshold_tokens: int = Field(gt=0)
    inclusive: bool = False


class PricePeriod(Rates, PeriodCard):
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


class ModelPrice(Rates, ModelCard):
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

    if TYPE_CHECKING:  # the precise types of what llmcost.catalog.cards implements
        def card(self, *, period: int = 0, service_tier: str | None = None) -> Rates | None: ...

        def long_context_of(self, period: int = 0) -> LongContext | None: ...


class Catalog(_Strict, CatalogCard):
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

    if TYPE_CHECKING:  # the precise types of what llmcost.catalog.cards implements
        @cached_property
        def by_id(self) -> dict[str, ModelPrice]: ...

        def model(self, model_id: str) -> ModelPrice: ...

        def in_tier(self, tier: str) -> list[ModelPrice]: ...
