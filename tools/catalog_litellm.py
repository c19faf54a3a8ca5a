"""litellm's price database (``model_prices_and_context_window_backup.json``) as catalog entries.

Every price is the ``Decimal`` its JSON text spells (``json.loads(text, parse_float=Decimal)``), shifted by six
decimal places: USD per token -> USD per million tokens, never through a float.

Mapping (litellm -> catalog): ``input_cost_per_token``/``output_cost_per_token`` -> input/output;
``cache_read_input_token_cost`` -> cache_read; ``cache_creation_input_token_cost`` -> cache_write (5-minute);
``cache_creation_input_token_cost_above_1hr`` -> cache_write_1h; ``input_cost_per_audio_token`` /
``output_cost_per_audio_token`` -> audio rates; ``*_batches`` -> batch rates; ``*_priority``/``*_flex`` ->
service tiers; ``*_above_{N}k_tokens`` -> long_context (threshold N*1000, "above", the lowest if several);
``input_cost_per_request`` -> request_fee; ``max_input_tokens``/``max_output_tokens`` -> context window and
max output. Other cost fields are named in notes.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from catalog_entries import AUDIO_FIELDS, CARD_FIELDS, FIRST_PARTY, Entry, denoise, mtok

CHAT_MODES = frozenset({"chat", "completion", "responses"})
PROVIDERS = {
    "bedrock_converse": "bedrock",
    "cohere_chat": "cohere",
    "text-completion-openai": "openai",
    "azure_text": "azure",
    "text-completion-codestral": "codestral",
    "text-completion-inception": "inception",
}
BASE_KEYS = {
    "input_mtok": "input_cost_per_token",
    "output_mtok": "output_cost_per_token",
    "cache_read_mtok": "cache_read_input_token_cost",
    "cache_write_mtok": "cache_creation_input_token_cost",
    "cache_write_1h_mtok": "cache_creation_input_token_cost_above_1hr",
}
EXTRA_KEYS = {
    "audio_input_mtok": "input_cost_per_audio_token",
    "audio_output_mtok": "output_cost_per_audio_token",
    "cache_audio_read_mtok": "cache_read_input_audio_token_cost",
    "batch_input_mtok": "input_cost_per_token_batches",
    "batch_output_mtok": "output_cost_per_token_batches",
}
SERVICE_TIERS = ("priority", "flex")
_ABOVE = re.compile(r"_above_(\d+)k_tokens$")
# bedrock's wrapping of a model name: region., vendor., -v1:0
_REGION = re.compile(r"^(?:us|eu|apac|global|jp|au|ca|us-gov|regional)\.")
_VENDOR = re.compile(r"^(?:anthropic|openai|meta|mistral|amazon|cohere|deepseek|google|xai|qwen|moonshotai)\.(?=[a-z])")
_VERSION = re.compile(r"-v\d+(?::\d+)?$")
_KNOWN = {
    *BASE_KEYS.values(),
    *EXTRA_KEYS.values(),
    "input_cost_per_request",
    "cache_read_input_token_cost_batches",
    "cache_creation_input_token_cost_batches",
}


def load(text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return data


def model_names(data: dict[str, Any]) -> set[str]:
    """Every chat model name litellm spells, unwrapped: ``us.anthropic.claude-sonnet-4-20250514-v1:0`` ->
    ``claude-sonnet-4-20250514``; ``vertex_ai/gemini-2.0-flash-001`` -> ``gemini-2.0-flash-001``."""
    names = set()
    for key, info in data.items():
        if not isinstance(info, dict) or info.get("mode") not in CHAT_MODES:
            continue
        name = _VERSION.sub("", _VENDOR.sub("", _REGION.sub("", key.rsplit("/", 1)[-1])))
        if name and "@" not in name:
            names.add(name)
    return names


def catalog_provider(litellm_provider: str) -> str:
    if litellm_provider.startswith("vertex_ai"):
        return "vertex_ai"
    return PROVIDERS.get(litellm_provider, litellm_provider)


def catalog_id(key: str, provider: str, litellm_provider: str) -> str:
    """The catalog id of a litellm key: ``gemini/gemini-2.5-pro`` -> ``gemini-2.5-pro``, bedrock's
    ``anthropic.claude-x`` -> ``bedrock/anthropic.claude-x``."""
    head, _, rest = key.partition("/")
    own_prefix = rest and head in {provider, litellm_provider}
    if provider in FIRST_PARTY:
        return rest if own_prefix else key
    return f"{provider}/{rest}" if own_prefix else f"{provider}/{key}"


def read(data: dict[str, Any], version: str) -> tuple[list[Entry], list[str]]:
    """Entries of every chat/completion/responses model with a token price, and one line per skipped key."""
    entries: list[Entry] = []
    skipped: list[str] = []
    for key in sorted(data):
        info = data[key]
        if key == "sample_spec" or not isinstance(info, dict) or info.get("mode") not in CHAT_MODES:
            continue
        entry = _entry(key, info, version)
        if entry is None:
            skipped.append(f"litellm '{key}': no per-token input or output price")
        else:
            entries.append(entry)
    return entries, skipped


def _per_mtok(info: dict[str, Any], key: str) -> Decimal | None:
    value = info.get(key)
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        return mtok(Decimal(value).scaleb(6))
    return None


def _noisy(info: dict[str, Any]) -> list[str]:
    return sorted(k for k, v in info.items() if isinstance(v, Decimal) and denoise(v) != v and "token" in k)


def _entry(key: str, info: dict[str, Any], version: str) -> Entry | None:
    prices: dict[str, Any] = {}
    for name, field in BASE_KEYS.items():
        value = _per_mtok(info, field)
        if value is not None:
            prices[name] = value
    if prices.get("input_mtok") is None and prices.get("output_mtok") is None:
        return None
    prices.setdefault("input_mtok", None)
    prices.setdefault("output_mtok", None)
    for name, field in EXTRA_KEYS.items():
        value = _per_mtok(info, field)
        if value is not None:
            prices[name] = value
    fee = info.get("input_cost_per_request")
    if isinstance(fee, (Decimal, int)) and fee:
        prices["request_fee"] = mtok(Decimal(fee))
    notes = _long_context(prices, info)
    tiers = _service_tiers(prices, info)
    if tiers:
        prices["service_tiers"] = tiers
    ignored = sorted(
        k
        for k, v in info.items()
        if ("cost" in k or "uplift" in k or k in ("off_peak_pricing", "tiered_pricing"))
        and v
        and k not in _KNOWN
        and not _ABOVE.search(k)
        and not k.endswith(tuple(f"_{t}" for t in SERVICE_TIERS))
    )
    if ignored:
        notes.append("not modeled: " + ", ".join(ignored))
    if noisy := _noisy(info):
        notes.append("float noise in litellm's JSON rounded to 15 significant digits: " + ", ".join(noisy))
    litellm_provider = str(info.get("litellm_provider", ""))
    provider = catalog_provider(litellm_provider)
    return Entry(
        id=catalog_id(key, provider, litellm_provider),
        provider=provider,
        prices=prices,
        sources=[f"litellm {version} '{key}'"],
        origin="litellm",
        notes=notes,
        context_window=_int(info.get("max_input_tokens")),
        max_output_tokens=_int(info.get("max_output_tokens")),
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _long_context(prices: dict[str, Any], info: dict[str, Any]) -> list[str]:
    base_fields = tuple(BASE_KEYS.values())
    thresholds = sorted({int(m.group(1)) for k in info if (m := _ABOVE.search(k)) and k.startswith(base_fields)})
    if not thresholds:
        return []
    low = thresholds[0]
    card: dict[str, Any] = {"threshold_tokens": low * 1000, "inclusive": False}
    for name, field in BASE_KEYS.items():
        value = _per_mtok(info, f"{field}_above_{low}k_tokens")
        if value is None and field == "cache_creation_input_token_cost_above_1hr":
            value = _per_mtok(info, f"cache_creation_input_token_cost_above_1hr_above_{low}k_tokens")
        if value is None:
            value = prices.get(name)
        if value is not None or name in ("input_mtok", "output_mtok"):
            card[name] = value
    prices["long_context"] = card
    return [f"long-context tier above {t}k tokens not modeled" for t in thresholds[1:]]


def _service_tiers(prices: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """priority/flex rate cards; a rate the tier does not list is the standard one (litellm falls back alike)."""
    tiers: dict[str, Any] = {}
    for tier in SERVICE_TIERS:
        fields = {**BASE_KEYS, **{k: EXTRA_KEYS[k] for k in AUDIO_FIELDS}}
        own = {name: _per_mtok(info, f"{field}_{tier}") for name, field in fields.items()}
        if own["input_mtok"] is None and own["output_mtok"] is None:
            continue
        tiers[tier] = {
            name: own[name] if own[name] is not None else prices.get(name)
            for name in (*CARD_FIELDS, *AUDIO_FIELDS)
            if own[name] is not None or prices.get(name) is not None
        }
    return tiers
