"""Exact pricing: every billing rule against a Decimal hand computation."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcost.catalog import load_catalog
from llmcost.errors import UnpricedModelError
from llmcost.frame import conform
from llmcost.pricing import price

CATALOG = load_catalog(Path(__file__).parent / "data" / "catalog.yaml")
M = D(1_000_000)


def frame(*rows: dict[str, object]) -> pd.DataFrame:
    base = {"timestamp": "2026-01-01T00:00:00Z"}
    return conform(pd.DataFrame([{**base, **r} for r in rows]), source="test").frame


def cost(*rows: dict[str, object]) -> D:
    return price(frame(*rows), CATALOG).total


def test_openai_cached_subset_is_billed_at_the_cache_rate_not_twice() -> None:
    got = cost({"model": "openai-like", "input_tokens": 2006, "cache_read_tokens": 1920, "output_tokens": 300})
    expected = (D(86) * D("2.00") + D(1920) * D("0.50") + D(300) * D("8.00")) / M
    assert got == expected


def test_one_hour_writes_cost_more_than_five_minute_writes() -> None:
    five = cost({"model": "anthropic-like", "input_tokens": 1000, "cache_write_tokens": 1000, "output_tokens": 0})
    hour = cost({"model": "anthropic-like", "input_tokens": 1000, "cache_write_1h_tokens": 1000, "output_tokens": 0})
    assert five == D(1000) * D("3.75") / M
    assert hour == D(1000) * D(6) / M


def test_anthropic_mix_of_reads_writes_and_uncached() -> None:
    got = cost({"model": "anthropic-like", "input_tokens": 20062, "cache_read_tokens": 18000,
                "cache_write_tokens": 2048, "output_tokens": 410})
    expected = (D(14) * 3 + D(18000) * D("0.30") + D(2048) * D("3.75") + D(410) * 15) / M
    assert got == expected


@pytest.mark.parametrize(("input_tokens", "long"), [(200_000, False), (200_001, True)])
def test_long_context_tier_bills_the_whole_request(input_tokens: int, long: bool) -> None:
    row = {"model": "anthropic-like", "input_tokens": input_tokens, "cache_read_tokens": 100_000,
           "output_tokens": 1000}
    got = cost(row)
    uncached = D(input_tokens - 100_000)
    if long:
        expected = (uncached * 6 + D(100_000) * D("0.60") + D(1000) * D("22.50")) / M
    else:
        expected = (uncached * 3 + D(100_000) * D("0.30") + D(1000) * 15) / M
    assert got == expected
    assert price(frame(row), CATALOG).by_model[0].long_context_requests == (1 if long else 0)


def test_threshold_counts_cached_tokens_too() -> None:
    # 150K uncached + 60K cache reads = 210K > 200K: the whole request is long-context.
    got = cost({"model": "anthropic-like", "input_tokens": 210_000, "cache_read_tokens": 60_000, "output_tokens": 0})
    assert got == (D(150_000) * 6 + D(60_000) * D("0.60")) / M


def test_bucket_rows_use_the_per_request_input_for_the_threshold() -> None:
    # 10 requests of 150K each: none is long-context although the bucket holds 1.5M tokens.
    got = cost({"model": "anthropic-like", "input_tokens": 1_500_000, "output_tokens": 0, "weight": 10})
    assert got == D(1_500_000) * 3 / M


def test_batch_discount_applies_to_every_kind() -> None:
    got = cost({"model": "openai-like", "input_tokens": 1000, "cache_read_tokens": 400, "output_tokens": 100,
                "batch": True})
    assert got == (D(600) * D("1.00") + D(400) * D("0.25") + D(100) * D("4.00")) / M


def test_explicit_batch_rates_and_request_fee() -> None:
    got = cost({"model": "explicit-batch", "input_tokens": 1000, "output_tokens": 100, "batch": True},
               {"model": "explicit-batch", "input_tokens": 1000, "output_tokens": 100, "batch": False})
    batch = (D(1000) * D("0.40") + D(100) * D("2.00")) / M + D("0.001")
    standard = (D(1000) * D("1.00") + D(100) * D("4.00")) / M + D("0.001")
    assert got == batch + standard


def test_reasoning_tokens_are_part_of_output_and_not_billed_twice() -> None:
    got = cost({"model": "openai-like", "input_tokens": 100, "output_tokens": 500, "reasoning_tokens": 400})
    assert got == (D(100) * 2 + D(500) * 8) / M


def test_unknown_model_is_reported_not_priced_at_zero() -> None:
    priced = price(frame({"model": "openai-like", "input_tokens": 10, "output_tokens": 10},
                         {"model": "mystery", "input_tokens": 10, "output_tokens": 10, "weight": 3}), CATALOG)
    assert [m.model for m in priced.unpriced] == ["mystery"]
    assert priced.unpriced[0].tokens.requests == 3
    assert priced.total == D(10 * 2 + 10 * 8) / M
    with pytest.raises(UnpricedModelError, match="mystery"):
        priced.require_priced()


def test_unknown_input_price_makes_the_model_unpriced() -> None:
    priced = price(frame({"model": "output-only", "input_tokens": 10, "output_tokens": 10}), CATALOG)
    assert priced.total == 0
    assert priced.unpriced[0].unpriced_reason == "no input price in catalog"


def test_output_only_traffic_of_a_model_with_unknown_input_price_is_priced() -> None:
    priced = price(frame({"model": "output-only", "input_tokens": 0, "output_tokens": 1000}), CATALOG)
    assert priced.total == D(1000) * D("0.01") / M


def test_names_resolve_through_aliases_and_prefixes() -> None:
    priced = price(frame(*({"model": name, "input_tokens": 1, "output_tokens": 0}
                           for name in ["oa", "openai/openai-like", "OpenAI-Like"])), CATALOG)
    assert [(m.model, m.tokens.requests) for m in priced.by_model] == [("openai-like", 3)]


def test_an_unlisted_dated_snapshot_is_unpriced_with_a_suggestion_not_folded_into_its_base() -> None:
    """Snapshots are often priced differently from their base (gpt-4o-2024-05-13 is $5/$15, gpt-4o $2.50/$10)."""
    priced = price(frame({"model": "openai-like-2024-08-06", "input_tokens": 1, "output_tokens": 0}), CATALOG)
    assert priced.total == 0 and [m.model for m in priced.unpriced] == ["openai-like-2024-08-06"]
    assert priced.unpriced[0].unpriced_reason == "not in catalog; did you mean openai-like?"


ROW = st.fixed_dictionaries({
    "model": st.sampled_from(["openai-like", "anthropic-like", "explicit-batch"]),
    "cache_read_tokens": st.integers(0, 50_000),
    "cache_write_tokens": st.integers(0, 50_000),
    "cache_write_1h_tokens": st.integers(0, 50_000),
    "uncached": st.integers(0, 250_000),
    "output_tokens": st.integers(0, 20_000),
    "batch": st.booleans(),
})


def oracle(row: dict[str, object]) -> D:
    """Price one request the slow, obvious way."""
    model = CATALOG.model(str(row["model"]))
    inp = int(row["input_tokens"])  # type: ignore[call-overload]
    lc = model.long_context is not None and inp > model.long_context.threshold_tokens
    rates = model.rates_for(long_context=lc, batch=bool(row["batch"]))
    kinds = {"input": row["uncached"], "cache_read": row["cache_read_tokens"],
             "cache_write": row["cache_write_tokens"], "cache_write_1h": row["cache_write_1h_tokens"],
             "output": row["output_tokens"]}
    total = sum((D(int(n)) * rates[k] / M for k, n in kinds.items()), D(0))  # type: ignore[call-overload,operator]
    return total + model.request_fee


@settings(max_examples=60, deadline=None)
@given(st.lists(ROW, min_size=1, max_size=40))
def test_vectorized_total_equals_row_by_row_decimal_oracle(rows: list[dict[str, object]]) -> None:
    for r in rows:
        r["input_tokens"] = sum(int(r[k]) for k in  # type: ignore[call-overload]
                                ("uncached", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens"))
    got = price(frame(*({k: v for k, v in r.items() if k != "uncached"} for r in rows)), CATALOG).total
    expected = sum((oracle(r) for r in rows), D(0))
    assert got == expected


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(ROW, st.booleans(), st.booleans()), min_size=1, max_size=30))
def test_pricing_a_mask_of_rows_equals_the_oracle_on_those_rows(
        rows: list[tuple[dict[str, object], bool, bool]]) -> None:
    """``price(frame, catalog, rows)`` (the exact cache prices its hits so, without copying the frame) sums
    only the masked rows, known and unknown models alike."""
    import numpy as np

    logged = []
    for r, _, unknown in rows:
        r["input_tokens"] = sum(int(r[k]) for k in  # type: ignore[call-overload]
                                ("uncached", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens"))
        logged.append({k: v for k, v in r.items() if k != "uncached"} | ({"model": "mystery"} if unknown else {}))
    mask = np.array([keep for _, keep, _ in rows])
    priced = price(frame(*logged), CATALOG, mask)
    assert priced.total == sum((oracle(r) for r, keep, unknown in rows if keep and not unknown), D(0))
    assert sum(m.tokens.requests for m in priced.unpriced) == sum(keep and unknown for _, keep, unknown in rows)


def test_a_log_with_more_than_31_models_prices_every_one() -> None:
    """Model codes were int8: code * 4 wrapped past 31 models and traffic landed in another group."""
    from decimal import Decimal

    import pandas as pd

    from llmcost.catalog import load_catalog
    from llmcost.frame import conform
    from llmcost.pricing import cost_of, price

    catalog = load_catalog()
    ids = [m.id for m in catalog.models if m.input_mtok is not None and m.output_mtok is not None][:40]
    assert len(ids) == 40
    rows = pd.DataFrame({
        "timestamp": pd.date_range("2026-01-01", periods=len(ids), freq="min", tz="UTC"),
        "model": ids, "input_tokens": [1000 + i for i in range(len(ids))],
        "output_tokens": [10 * (i + 1) for i in range(len(ids))],
    })
    frame = conform(rows, source="t").frame
    priced = price(frame, catalog)
    by_model = {m.model: m.cost for m in priced.by_model}
    for i, mid in enumerate(ids):
        model = catalog.model(mid)
        tokens = price(frame.iloc[[i]], catalog).by_model[0].tokens
        want, _ = cost_of(tokens, model.rates_for(long_context=False, batch=False), model.request_fee)
        hand = (Decimal(1000 + i) * model.input_mtok + Decimal(10 * (i + 1)) * model.output_mtok) / 10**6
        assert want == hand + model.request_fee
        assert by_model[mid] == hand + model.request_fee, mid


def test_negative_sub_cent_amounts_put_the_sign_before_the_dollar() -> None:
    from llmcost.report.money import usd

    assert (usd(D("-0.0031")), usd(D("0.0031")), usd(D("-29.43")), usd(D("-0.00001"))) == (
        "-$0.0031", "$0.0031", "-$29.43", "-$1.00e-05")
