"""Billing rules of the catalog schema, each against a Decimal hand computation, through the core API
and the CLI: price periods, service tiers, audio rates, "at or above" thresholds, serving providers,
dated snapshots."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from llmcost.catalog import load_catalog
from llmcost.frame import conform
from llmcost.pricing import price

HERE = Path(__file__).parent
CATALOG_FILE = HERE / "billing_catalog.yaml"
CATALOG = load_catalog(CATALOG_FILE)
M = D(1_000_000)


def priced(*rows: dict[str, object]) -> Any:
    base = {"timestamp": "2025-01-01T00:00:00Z", "output_tokens": 0}
    return price(conform(pd.DataFrame([{**base, **r} for r in rows]), source="test").frame, CATALOG)


def test_a_log_spanning_a_price_change_is_right_on_both_sides() -> None:
    result = priced({"model": "repriced", "timestamp": "2024-10-01T23:59:59Z", "input_tokens": 1000},
                    {"model": "repriced", "timestamp": "2024-10-02T00:00:00Z", "input_tokens": 1000},
                    {"model": "repriced", "timestamp": "2024-10-01T12:00:00Z", "input_tokens": 0,
                     "output_tokens": 100, "batch": True})
    assert result.total == (D(1000) * 5 + D(1000) * D("2.5") + D(100) * 15 / 2) / M


@pytest.mark.parametrize(("stamp", "rate_in", "rate_out"), [
    ("2025-09-05T15:59:59Z", "0.27", "1.1"), ("2025-09-05T16:00:00Z", "0.56", "1.68"),
    ("2025-09-28T23:59:59Z", "0.56", "1.68"), ("2025-09-29T00:00:00Z", "0.28", "0.42")])
def test_a_price_change_at_a_time_of_day_applies_from_that_instant(stamp: str, rate_in: str, rate_out: str) -> None:
    """DeepSeek's prices changed at 16:00 UTC on 2025-09-05 (its pricing page), then on 2025-09-29."""
    result = priced({"model": "midday", "timestamp": stamp, "input_tokens": 1000, "output_tokens": 100})
    assert result.total == (D(1000) * D(rate_in) + D(100) * D(rate_out)) / M


def test_a_dated_snapshot_with_its_own_price_is_its_own_entry_and_an_alias_shares_its_base_price() -> None:
    result = priced({"model": "repriced-2024-05-13", "input_tokens": 1000},
                    {"model": "repriced-2024-08-06", "input_tokens": 1000})
    assert {m.model: m.cost for m in result.by_model} == {"repriced-2024-05-13": D(1000) * 5 / M,
                                                          "repriced": D(1000) * D("2.5") / M}


def test_service_tiers_bill_at_their_own_cards() -> None:
    rows = [{"model": "tiered", "input_tokens": 1000, "cache_read_tokens": 400, "output_tokens": 100,
             "service_tier": tier} for tier in ("priority", "flex", "default", "standard")]
    result = priced(*rows)
    want = (D(600) * D("3.5") + D(400) * D("0.875") + D(100) * 14
            + D(600) * 1 + D(400) * D("0.25") + D(100) * 4
            + 2 * (D(600) * 2 + D(400) * D("0.5") + D(100) * 8)) / M
    assert result.total == want


def test_a_service_tier_the_catalog_has_no_price_for_is_unpriced_not_standard() -> None:
    result = priced({"model": "no-tiers", "input_tokens": 1000, "service_tier": "priority"})
    assert result.total == 0
    assert result.unpriced[0].unpriced_reason == "no 'priority' service-tier price in catalog"


def test_audio_tokens_bill_at_audio_rates() -> None:
    result = priced({"model": "voice", "input_tokens": 1000, "audio_input_tokens": 700, "output_tokens": 500,
                     "audio_output_tokens": 400})
    assert result.total == (D(300) * D("2.5") + D(700) * 40 + D(100) * 10 + D(400) * 80) / M


def test_cached_audio_bills_at_the_audio_cache_rate_not_twice() -> None:
    """Gemini's implicit cache reports cached audio (cacheTokensDetails): a subset of both the audio input
    and the cache reads."""
    result = priced({"model": "voice", "input_tokens": 1000, "cache_read_tokens": 600, "audio_input_tokens": 700,
                     "audio_cache_read_tokens": 500})
    # text: 1000 - 600 read - 200 uncached audio = 200; text cache 100; audio 200 uncached + 500 cached
    assert result.total == (D(200) * D("2.5") + D(100) * D("1.25") + D(200) * 40 + D(500) * 4) / M


def test_cached_audio_beyond_the_cache_reads_is_an_error_naming_the_field(tmp_path: Path, cli: Any) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text('{"timestamp": "2026-01-01T00:00:00Z", "model": "voice", "input_tokens": 100, '
                   '"cache_read_tokens": 10, "audio_input_tokens": 50, "audio_cache_read_tokens": 20, '
                   '"output_tokens": 1}\n')
    result = cli("estimate", str(log), "--catalog", str(CATALOG_FILE), "--baseline-only")
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"llmcost: error: {log}:1: field 'audio_cache_read_tokens': "
                                     "exceed cache_read_tokens")


def test_audio_tokens_of_a_model_without_audio_rates_are_unpriced() -> None:
    result = priced({"model": "tiered", "input_tokens": 1000, "audio_input_tokens": 10})
    assert result.total == 0 and result.unpriced[0].unpriced_reason == "no audio input price in catalog"


@pytest.mark.parametrize(("model", "tokens", "long"), [
    ("at-or-above", 127_999, False), ("at-or-above", 128_000, True),
    ("above", 128_000, False), ("above", 128_001, True)])
def test_at_or_above_and_above_thresholds(model: str, tokens: int, long: bool) -> None:
    result = priced({"model": model, "input_tokens": tokens, "output_tokens": 10})
    rate_in, rate_out = (6, 30) if long else (3, 15)
    assert result.total == (D(tokens) * rate_in + D(10) * rate_out) / M


def test_the_serving_provider_picks_gemini_api_or_vertex_prices() -> None:
    result = priced({"model": "flash", "input_tokens": 1000, "provider": "vertex_ai"},
                    {"model": "flash", "input_tokens": 1000, "provider": "gemini"},
                    {"model": "flash", "input_tokens": 1000},
                    {"model": "google/flash", "input_tokens": 1000})
    assert {m.model: m.tokens.requests for m in result.by_model} == {"flash": 3, "vertex_ai/flash": 1}
    assert result.total == (D(3000) * D("0.1") + D(1000) * D("0.15")) / M


def test_traffic_of_a_host_the_catalog_has_no_price_for_says_so() -> None:
    result = priced({"model": "repriced", "input_tokens": 1000, "provider": "vertex_ai"})
    assert result.total == 0
    assert result.unpriced[0].unpriced_reason == (
        "no price in catalog for the provider that served it ('repriced' is openai's price)")


def test_a_host_with_its_own_prices_never_falls_back_to_another_providers_price() -> None:
    assert CATALOG.resolve("repriced", "vertex_ai") is None  # vertex_ai has prices of its own
    assert CATALOG.resolve("vertex_ai/repriced") is None
    assert CATALOG.resolve("openai/repriced") == "repriced"
    assert CATALOG.resolve("repriced", "openrouter") == "repriced"  # a router bills list prices


def test_cli_prices_history_tiers_and_audio_from_a_log(tmp_path: Path, cli: Any) -> None:
    log = tmp_path / "log.jsonl"
    rows = [
        {"timestamp": "2024-09-30T00:00:00Z", "model": "repriced", "input_tokens": 2000, "output_tokens": 100},
        {"timestamp": "2024-10-03T00:00:00Z", "model": "repriced", "input_tokens": 2000, "output_tokens": 100},
        {"timestamp": "2024-10-04T00:00:00Z", "model": "tiered", "input_tokens": 1000, "output_tokens": 10,
         "service_tier": "flex"},
        {"timestamp": "2024-10-04T00:00:00Z", "model": "voice", "input_tokens": 100, "audio_input_tokens": 50,
         "output_tokens": 10, "audio_output_tokens": 0},
        {"timestamp": "2024-10-05T00:00:00Z", "model": "repriced-2099-01-01", "input_tokens": 1,
         "output_tokens": 1},
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = cli("estimate", str(log), "--catalog", str(CATALOG_FILE), "--baseline-only", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    want = (D(2000) * 5 + D(100) * 15 + D(2000) * D("2.5") + D(100) * 10 + D(1000) * 1 + D(10) * 4
            + D(50) * D("2.5") + D(50) * 40 + D(10) * 10) / M
    assert D(str(doc["scenarios"][0]["observed_cost_usd"])) == want.quantize(D("0.000001"))
    assert [(u["model"], u["requests"]) for u in doc["unpriced"]] == [("repriced-2099-01-01", 1)]
    assert doc["unpriced"][0]["reason"] == "not in catalog; did you mean repriced, repriced-2024-05-13?"
    assert "did you mean repriced" in result.stderr


def test_a_latest_pointer_is_not_folded_into_the_undated_name() -> None:
    """Pointers move: mistral-large-latest meant Mistral Large 2 ($2/$6), then Large 3 ($0.50/$1.50)."""
    assert CATALOG.resolve("repriced-latest") is None
    assert CATALOG.suggest("repriced-latest")[0] == "repriced"


@pytest.mark.parametrize(("stamp", "rate_in", "rate_out"), [("2025-12-01T23:59:59Z", "2", "6"),
                                                            ("2025-12-02T00:00:00Z", "0.5", "1.5")])
def test_default_catalog_prices_a_moved_pointer_by_what_it_meant(stamp: str, rate_in: str, rate_out: str) -> None:
    catalog = load_catalog()
    frame = conform(pd.DataFrame([{"timestamp": stamp, "model": "mistral-large-latest", "input_tokens": 1000,
                                   "output_tokens": 100}]), source="test").frame
    assert price(frame, catalog).total == (D(1000) * D(rate_in) + D(100) * D(rate_out)) / M
