"""genai-prices' price data (``genai_prices/data.py``: a list of ``Provider`` objects) as catalog entries.

Objects are read by attribute and class name, so the same code reads the data of an unpacked wheel and
synthetic objects built from the installed package in tests.

Mapping (genai-prices -> catalog):
- ``ModelPrice`` keys ``input_mtok``, ``output_mtok``, ``cache_read_mtok``, ``cache_write_mtok`` (or
  ``cache_write_5m_mtok``), ``cache_write_1h_mtok``, ``input_audio_mtok``/``output_audio_mtok`` ->
  the same rates (audio as ``audio_input_mtok``/``audio_output_mtok``); ``requests_kcount`` -> ``request_fee``
  (USD per request = per-thousand / 1000); any other key -> notes.
- ``TieredPrices(base, tiers)``: base -> the rate; the lowest tier -> ``long_context`` (genai-prices bills a tier
  when input_tokens > start: ``inclusive: false``, except a start of N*1000-1, written as N*1000 inclusive).
- ``ConditionalPrice`` with ``StartDateConstraint`` -> ``price_history`` (each earlier price valid ``until`` the
  next one's start date); ``TimeOfDateConstraint`` -> notes (the price in force most of the day is kept).
- ``PriceVariant``: ``processing: batch`` -> batch rates; ``service_tier: X`` -> ``service_tiers.X``; others ->
  notes. A variant not yet in force on the catalog's date is left to notes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from itertools import pairwise
from typing import Any

from catalog_entries import (
    AUDIO_FIELDS,
    CARD_FIELDS,
    FIRST_PARTY,
    STANDARD_TIERS,
    Entry,
    card_text,
    fmt,
    mtok,
    snapshot_base,
    threshold,
)

PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "gemini",
    "x-ai": "xai",
    "deepseek": "deepseek",
    "mistral": "mistral",
    "cohere": "cohere",
    "aws": "bedrock",
    "together": "together_ai",
    "fireworks": "fireworks_ai",
    "github-copilot": "github_copilot",
    "moonshotai": "moonshot",
}
TIER_FIELDS = (*CARD_FIELDS, *AUDIO_FIELDS)
PERIOD_FIELDS = (*TIER_FIELDS, "long_context")
RATE_KEYS = {
    "input_mtok": "input_mtok",
    "output_mtok": "output_mtok",
    "cache_read_mtok": "cache_read_mtok",
    "cache_write_mtok": "cache_write_mtok",
    "cache_write_1h_mtok": "cache_write_1h_mtok",
    "input_audio_mtok": "audio_input_mtok",
    "output_audio_mtok": "audio_output_mtok",
    "cache_audio_read_mtok": "cache_audio_read_mtok",
}


def _kind(obj: Any) -> str:
    return type(obj).__name__


def catalog_provider(provider_id: str, model_id: str) -> str:
    """The catalog provider of a genai-prices model (Claude on Google is Vertex AI, not the Gemini API)."""
    if provider_id == "google" and "claude" in model_id.lower():
        return "vertex_ai"
    return PROVIDERS.get(provider_id, provider_id)


def catalog_name(provider: str, name: str) -> str:
    if provider in FIRST_PARTY or name.lower().startswith(f"{provider.lower()}/"):
        return name
    return f"{provider}/{name}"


def literal_names(match: Any) -> list[str]:
    """The literal strings in a match clause (equals, starts_with, ends_with; not contains' fragments)."""
    if hasattr(match, "contains"):
        return []
    for attr in ("equals", "starts_with", "ends_with"):
        if hasattr(match, attr):
            return [getattr(match, attr)]
    nested = getattr(match, "or_", None) or getattr(match, "and_", None) or []
    return [name for clause in nested for name in literal_names(clause)]


def exact_names(provider: Any, model: Any) -> list[str]:
    """Names genai-prices prices as this model: literals its clauses accept, where it is the provider's first match.

    ``StartsWith('claude-3-7-sonnet')`` accepts ``claude-3-7-sonnet`` itself; genai-prices takes the first model of
    a provider that matches a name, so a name an earlier model matches is not this model's.
    """
    names: list[str] = []
    for name in literal_names(model.match):
        # a fragment is not a name: 'claude-sonnet-4@', 'claude-sonnet-4-2025' (a date's year)
        fragment = name.endswith(("-", ".", "/", ":", "@", "_")) or re.search(r"-20\d\d$", name)
        if name in names or fragment or not model.is_match(name):
            continue
        if provider.find_model(name) is model:
            names.append(name)
    return names


def matcher(providers: Iterable[Any]) -> Callable[[str, str], str | None]:
    """``(catalog provider, model name) -> catalog id`` of the genai-prices model that prices that name."""
    by_provider: dict[str, list[Any]] = {}
    for provider in providers:
        if provider.id != "google":  # Google's models split between the Gemini API and Vertex AI
            by_provider.setdefault(PROVIDERS.get(provider.id, provider.id), []).append(provider)
        else:
            by_provider.setdefault("gemini", []).append(provider)

    def find(catalog_provider_name: str, name: str) -> str | None:
        for provider in by_provider.get(catalog_provider_name, []):
            model = provider.find_model(name)
            if model is not None and catalog_provider(provider.id, model.id) == catalog_provider_name:
                return catalog_name(catalog_provider_name, model.id)
        return None

    return find


def rule_names(providers: Iterable[Any], corpus: Iterable[str]) -> dict[str, list[str]]:
    """Names from ``corpus`` that genai-prices' match rules price as a first-party model, by that model's catalog id.

    genai-prices prices ``claude-sonnet-4-20250514`` as ``claude-sonnet-4-0`` through ``starts_with
    'claude-sonnet-4-2025'``: the dated name has its base's price by the primary source's own rule, so it is an
    alias. The corpus is every model name the two databases and the curated catalog spell (litellm's keys with
    their host, region and version wrapping removed).
    """
    find = matcher(providers)
    found: dict[str, list[str]] = {}
    for name in sorted(set(corpus)):
        for provider in sorted(FIRST_PARTY):
            model_id = find(provider, name)
            # only dated names (snapshots of the matched model): a prefix rule such as deepseek's
            # starts_with 'deepseek-r1' also takes other hosts' distilled models (deepseek-r1-distill-llama-70b),
            # which are different models at different prices
            if model_id is not None and model_id.lower() != name.lower() and snapshot_base(name) is not None:
                found.setdefault(model_id.lower(), []).append(name)
                break
    return found


def read_providers(providers: Iterable[Any], version: str, as_of: date) -> tuple[list[Entry], list[str]]:
    """Entries of every model with token prices, and one line per skipped model."""
    entries: list[Entry] = []
    skipped: list[str] = []
    for provider in providers:
        for model in provider.models:
            entry = _entry(provider, model, version, as_of)
            if entry is None:
                skipped.append(f"genai-prices {provider.id}/{model.id}: no input and output token prices")
            else:
                entries.append(entry)
    return entries, skipped


def _entry(genai_provider: Any, model: Any, version: str, as_of: date) -> Entry | None:
    provider_id = genai_provider.id
    current, history, notes = price_periods(model.prices)
    prices, card_notes = rate_card(current)
    if prices.get("input_mtok") is None or prices.get("output_mtok") is None:
        return None
    notes += card_notes
    for until, old in history:
        old_prices, old_notes = rate_card(old)
        period = {"until": until, **{k: v for k, v in old_prices.items() if k in PERIOD_FIELDS}}
        prices.setdefault("price_history", []).append(period)
        notes += [f"before {until}: {n}" for n in old_notes]
    notes += _variants(prices, current, model.price_variants or [], as_of)
    provider = catalog_provider(provider_id, model.id)
    literal = exact_names(genai_provider, model)
    names = [catalog_name(provider, n) for n in literal]
    if provider == "openrouter":  # OpenRouter's own names (anthropic/claude-sonnet-4.5) are what its logs carry
        names += [n for n in literal if "/" in n]
    entry = Entry(
        id=catalog_name(provider, model.id),
        provider=provider,
        prices=prices,
        sources=[f"genai-prices {version} {provider_id}/{model.id}"],
        origin="genai-prices",
        names=names,
        notes=notes,
        context_window=model.context_window,
    )
    if model.price_comments:
        entry.notes.append(f"genai-prices: {model.price_comments}")
    return entry


def price_periods(prices: Any) -> tuple[Any, list[tuple[date, Any]], list[str]]:
    """The current ``ModelPrice``, earlier ones with the date each ended, and notes on time-of-day prices."""
    if not isinstance(prices, list):
        return prices, [], []
    dated = [c for c in prices if _kind(c.constraint) != "TimeOfDateConstraint"] or [prices[0]]
    dated.sort(key=lambda c: (c.constraint is not None, c.constraint.start_date if c.constraint else date.min))
    history: list[tuple[date, Any]] = []
    for earlier, later in pairwise(dated):
        if later.constraint is not None:
            history.append((later.constraint.start_date, earlier.prices))
    current = dated[-1].prices
    notes: list[str] = []
    by_price: dict[str, list[Any]] = {}
    for c in prices:
        if _kind(c.constraint) == "TimeOfDateConstraint":
            by_price.setdefault(repr(sorted(c.prices.__dict__.items())), []).append(c)
    for group in by_price.values():
        hours = sum(_hours(c.constraint.start_time, c.constraint.end_time) for c in group)
        windows = ", ".join(f"{_hhmm(c.constraint.start_time)}-{_hhmm(c.constraint.end_time)}" for c in group)
        card, _ = rate_card(group[0].prices)
        if hours > 12:
            old, _ = rate_card(current)
            notes.append(
                f"time-of-day prices not modeled: {card_text(card)} during {windows} UTC (kept, most of the day); "
                f"{card_text(old)} at other times"
            )
            current = group[0].prices
        else:
            notes.append(f"time-of-day prices not modeled: {card_text(card)} during {windows} UTC")
    return current, history, notes


def _hours(start: time, end: time) -> float:
    def minutes(t: time) -> int:
        return t.hour * 60 + t.minute

    span = (minutes(end) - minutes(start)) % (24 * 60)
    return span / 60


def _hhmm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def rate_card(model_price: Any) -> tuple[dict[str, Any], list[str]]:
    """A ``ModelPrice`` as catalog fields (rates, long_context, request_fee) and notes on what is left out."""
    prices: dict[str, Any] = {}
    tiered: dict[str, Any] = {}
    notes: list[str] = []
    values = {k: v for k, v in vars(model_price).items() if v is not None and not k.startswith("_")}
    if "cache_write_mtok" not in values and "cache_write_5m_mtok" in values:
        values["cache_write_mtok"] = values.pop("cache_write_5m_mtok")
    for key, value in values.items():
        target = RATE_KEYS.get(key)
        if key == "requests_kcount" and _kind(value) != "TieredPrices":
            prices["request_fee"] = mtok(value / 1000)
        elif target is None:
            notes.append(f"{key} {_price_text(value)} not modeled")
        elif _kind(value) == "TieredPrices":
            prices[target] = mtok(value.base)
            tiered[target] = value
        else:
            prices[target] = mtok(value)
    if tiered:
        prices["long_context"], tier_notes = _long_context(prices, tiered)
        notes += tier_notes
    return prices, notes


def _price_text(value: Any) -> str:
    if _kind(value) == "TieredPrices":
        return f"${fmt(value.base)} (+tiers)"
    return f"${fmt(value)}"


def _long_context(prices: dict[str, Any], tiered: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    start = min(t.start for v in tiered.values() for t in v.tiers)
    tokens, inclusive = threshold(start)
    card: dict[str, Any] = {"threshold_tokens": tokens, "inclusive": inclusive}
    notes: list[str] = []
    for name in CARD_FIELDS:
        if name in tiered:
            at_start = [t for t in tiered[name].tiers if t.start == start]
            card[name] = mtok(at_start[0].price) if at_start else prices[name]
            if not at_start:
                notes.append(f"{name} has a tier other than {start} tokens: not modeled")
        elif name in prices:
            card[name] = prices[name]
    for name, value in tiered.items():
        if name not in CARD_FIELDS:
            notes.append(f"long-context {name} tiers not modeled")
        for tier in value.tiers:
            if tier.start != start:
                notes.append(f"{name} above {tier.start} tokens ${fmt(tier.price)} not modeled")
    card.setdefault("input_mtok", None)
    card.setdefault("output_mtok", None)
    return card, notes


def _variants(prices: dict[str, Any], standard: Any, variants: list[Any], as_of: date) -> list[str]:
    """Batch rates and service tiers from genai-prices' ``PriceVariant``s (into ``prices``); notes."""
    notes: list[str] = []
    chosen: dict[tuple[tuple[str, str], ...], Any] = {}
    for variant in variants:
        start = _start(variant.constraint)
        when = tuple(sorted(variant.when.items()))
        if start is not None and start > as_of:
            card, _ = rate_card(variant.prices)
            notes.append(f"{_when_text(when)} {card_text(card)} from {start} not modeled")
            continue
        if when not in chosen or (_start(chosen[when].constraint) or date.min) < (start or date.min):
            chosen[when] = variant
    for when, variant in sorted(chosen.items()):
        resolved = _resolve(standard, variant.prices)
        card, card_notes = rate_card(resolved)
        start = _start(variant.constraint)
        since = f" (from {start}; earlier not modeled)" if start else ""
        if when == (("processing", "batch"),):
            prices["batch_input_mtok"] = card["input_mtok"]
            prices["batch_output_mtok"] = card["output_mtok"]
            if "long_context" in card:
                notes.append("batch long-context rates not modeled: the batch ratio applies")
            notes.append(f"batch rates from genai-prices{since}")
        elif len(when) == 1 and when[0][0] == "service_tier":
            tier_card = {k: card[k] for k in TIER_FIELDS if card.get(k) is not None}
            if when[0][1].lower() in STANDARD_TIERS or tier_card == {
                k: prices[k] for k in TIER_FIELDS if prices.get(k) is not None
            }:
                continue
            prices.setdefault("service_tiers", {})[when[0][1]] = tier_card
            if "long_context" in card:
                notes.append(f"service tier {when[0][1]} long-context rates not modeled")
            if start:
                notes.append(f"service tier {when[0][1]} rates{since}")
        elif vars(variant.prices):
            notes.append(f"{_when_text(when)} prices not modeled: {card_text(card)}")
        own = {k for k, v in vars(variant.prices).items() if v is not None}
        notes += [f"{_when_text(when)}: {n}" for n in card_notes if n.split()[0] in own]
    return notes


def _resolve(standard: Any, overrides: Any) -> Any:
    merged = type(standard)()
    merged.__dict__.update({k: v for k, v in vars(standard).items() if v is not None})
    merged.__dict__.update({k: v for k, v in vars(overrides).items() if v is not None})
    return merged


def _start(constraint: Any) -> date | None:
    if constraint is None or _kind(constraint) != "StartDateConstraint":
        return None
    start = constraint.start_date
    return start.date() if isinstance(start, datetime) else start


def _when_text(when: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{k}={v}" for k, v in when)

