"""What a catalog's rate cards do, apart from validating them: a card's rate of each token kind, the card
of a price period or service tier, the effective rates of a billing group, name resolution.

The pydantic schema (``llmcost.catalog.schema``) and the light catalog read from the checked snapshot
(``llmcost.catalog.light``) both take these methods from here, so the two price every request the same
way. Standard library only: a baseline-only estimate on the light catalog never imports pydantic.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

from llmcost.catalog.snapshot import batch_discount_fraction
from llmcost.catalog.snapshot import price_ratio as _ratio

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from llmcost.catalog.resolve import NameIndex

TOKEN_KINDS = ("input", "cache_read", "cache_write", "cache_write_1h", "output", "audio_input", "audio_output",
               "audio_cache_read")
DEFAULT_TIERS = ("economy", "cold", "warm", "hot")
# Service tiers as logged → the catalog's name for them (None = standard rates).
STANDARD_SERVICE_TIERS = frozenset({"", "standard", "default", "auto", "on_demand", "on-demand", "none", "null"})


class RateCard:
    """A full rate card: USD per million tokens of each kind (None = unknown)."""

    if TYPE_CHECKING:
        input_mtok: Decimal | None
        output_mtok: Decimal | None
        cache_read_mtok: Decimal | None
        cache_write_mtok: Decimal | None
        cache_write_1h_mtok: Decimal | None
        audio_input_mtok: Decimal | None
        audio_output_mtok: Decimal | None
        cache_audio_read_mtok: Decimal | None

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


class LongContextCard(RateCard):
    if TYPE_CHECKING:
        threshold_tokens: int
        inclusive: bool


class PeriodCard(RateCard):
    if TYPE_CHECKING:
        until: date | datetime
        long_context: LongContextCard | None

    @property
    def until_utc(self) -> datetime:
        """``until`` as an aware UTC instant."""
        value = self.until
        if not isinstance(value, datetime):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ModelCard(RateCard):
    """One model of a catalog: its cards and the rates of a billing group."""

    if TYPE_CHECKING:
        id: str
        aliases: tuple[str, ...]
        provider: str
        tier: str | None
        batch_discount: Decimal | None
        batch_input_mtok: Decimal | None
        batch_output_mtok: Decimal | None
        long_context: LongContextCard | None
        service_tiers: Mapping[str, RateCard]
        price_history: Sequence[PeriodCard]
        request_fee: Decimal

    def card(self, *, period: int = 0, service_tier: str | None = None) -> RateCard | None:
        """The rate card of price period ``period`` (0 = current, k = ``price_history[k-1]``) and service
        tier (None = standard); None when the catalog has no card for that tier."""
        if service_tier is not None:
            return self.service_tiers.get(service_tier)
        return self if period == 0 else self.price_history[period - 1]

    def long_context_of(self, period: int = 0) -> LongContextCard | None:
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


class CatalogCard:
    """A dated price sheet: its models by id and by the names logs use."""

    if TYPE_CHECKING:
        source: str
        as_of: date
        models: Sequence[ModelCard]

    @cached_property
    def by_id(self) -> Mapping[str, ModelCard]:
        return {m.id: m for m in self.models}

    @cached_property
    def names(self) -> NameIndex:
        from llmcost.catalog.resolve import NameIndex

        return NameIndex(self.models)

    def model(self, model_id: str) -> ModelCard:
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

    def in_tier(self, tier: str) -> Sequence[ModelCard]:
        return self._tier_members.get(tier, ())

    @cached_property
    def _tier_members(self) -> Mapping[str | None, tuple[ModelCard, ...]]:
        """Each tier's models in catalog order (scenarios ask once per model and per scenario)."""
        members: dict[str | None, list[ModelCard]] = {}
        for m in self.models:
            members.setdefault(m.tier, []).append(m)
        return {tier: tuple(ms) for tier, ms in members.items()}
