"""Catalog entries as the generator builds them, before they are merged and written.

An :class:`Entry` holds one model's prices in the catalog's own field names (USD per million tokens, exact
``Decimal``) and everything the merge needs to know about where they came from. Used by
``tools/build_catalog.py``; see docs/catalogs.md, "How the default catalog is built".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

# The token rates of a full rate card, in the order they are written.
CARD_FIELDS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok")
AUDIO_FIELDS = ("audio_input_mtok", "audio_output_mtok", "cache_audio_read_mtok")
BATCH_FIELDS = ("batch_input_mtok", "batch_output_mtok")
# Everything that decides what a request costs: two entries with equal values here price alike.
PRICE_FIELDS = (
    *CARD_FIELDS,
    *AUDIO_FIELDS,
    *BATCH_FIELDS,
    "request_fee",
    "long_context",
    "service_tiers",
    "price_history",
)

# Service tiers that are the model's own rates (never written as a tier of their own).
STANDARD_TIERS = frozenset({"", "standard", "default", "auto", "on_demand", "on-demand", "none", "null"})

# Providers whose own model names are catalog ids without a prefix (``gpt-4o``, ``gemini-2.0-flash``).
# Z.ai makes GLM and serves it under its bare names (glm-4.7), like the others here.
FIRST_PARTY = frozenset({"openai", "anthropic", "gemini", "xai", "deepseek", "mistral", "cohere", "zai"})

# Routers: they serve other providers' models under those providers' names.
ROUTERS = frozenset({"openrouter", "vercel_ai_gateway", "aihubmix", "github_copilot"})

# Other spellings of providers in model names (``x-ai/grok-4``, ``google/gemini-2.5-pro``).
PROVIDER_SPELLINGS = frozenset(
    {"x-ai", "google", "vertex", "aws", "amazon", "mistralai", "together", "fireworks", "azure-openai", "meta"}
)

# A dated snapshot suffix, as the catalog's name resolution strips it: -2024-05-13, -20240513, -1106, @20240513.
DATED_SUFFIX = re.compile(r"(?:[-@_:](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}))$")


@dataclass
class Entry:
    """One catalog model under construction."""

    id: str
    provider: str
    prices: dict[str, Any]
    sources: list[str]
    origin: str  # "genai-prices" or "litellm": who priced it
    names: list[str] = field(default_factory=list)  # other exact names the source gives it (alias candidates)
    notes: list[str] = field(default_factory=list)
    context_window: int | None = None
    max_output_tokens: int | None = None
    aliases: set[str] = field(default_factory=set)
    tier: str | None = None

    def price_key(self) -> str:
        """A canonical text of every price field: equal keys bill every request alike."""
        return repr(sorted((k, _canonical(v)) for k, v in self.prices.items() if k in PRICE_FIELDS))


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, dict):
        return sorted((k, _canonical(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def denoise(value: Decimal) -> Decimal:
    """A price whose text carries float noise (``1.6000000000000001e-06``: more than 15 significant digits, which
    no published price has) rounded to 15 significant digits, the precision a float keeps exactly."""
    if len(value.as_tuple().digits) <= 15 or not value:
        return value
    return value.quantize(Decimal(1).scaleb(value.adjusted() - 14))


def mtok(value: Decimal) -> Decimal:
    """A per-million-token price written without exponent or trailing zeros (2.50 -> 2.5, 1E+1 -> 10), float
    noise removed (see :func:`denoise`)."""
    normalized = denoise(value).normalize()
    return Decimal(format(normalized, "f")) if normalized == normalized.to_integral() else normalized


def fmt(value: Decimal | None) -> str:
    return "?" if value is None else format(value.normalize(), "f")


def card_text(card: dict[str, Any]) -> str:
    """``$2.5/$10`` (input/output) for notes."""
    return f"${fmt(card.get('input_mtok'))}/${fmt(card.get('output_mtok'))}"


def threshold(start: int) -> tuple[int, bool]:
    """A long-context tier boundary as (threshold_tokens, inclusive).

    genai-prices bills a tier when ``input_tokens > start`` (strictly above); a start of 199999 therefore
    means "at or above 200000", which is written that way.
    """
    if (start + 1) % 1000 == 0 and start % 1000 != 0:
        return start + 1, True
    return start, False


def tokenizer_for(entry_id: str, provider: str) -> str | None:
    """tiktoken encoding of an OpenAI model: cl100k_base for GPT-3.5 / GPT-4 / GPT-4 Turbo, else o200k_base."""
    if provider != "openai":
        return None
    if re.match(r"(ft:)?(gpt-3\.5|gpt-4(?![o.])|gpt-4-turbo|text-|davinci|babbage)", entry_id):
        return "cl100k_base"
    return "o200k_base"


def snapshot_base(entry_id: str) -> str | None:
    """``gpt-4o`` for ``gpt-4o-2024-05-13``; None when the id has no dated suffix."""
    match = DATED_SUFFIX.search(entry_id)
    return entry_id[: match.start()] if match else None


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
