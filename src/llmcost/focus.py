"""The baseline as a FOCUS 1.2 cost-and-usage dataset (``estimate --format focus``).

One row per charge period (a UTC day) × model × billing group (batch, long context, service tier, price
period) × charge kind (input, cache read, cache write, output, audio..., request fee) × the task, user and
tags the requests carried. Tokens are summed chunk by chunk with the breakdowns' machinery and each row is
one ``pricing.cost_lines`` line, so the rows add up to the estimate's observed cost exactly. Unpriced
traffic has no row (FOCUS has no place for a cost nobody knows; the estimate warns about it).
See docs/focus.md for the column mapping and what is validated by what.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmcost.breakdowns import Breakdowns, BreakdownSpec
from llmcost.breakdowns.keys import NONE_LABEL
from llmcost.pricing import MILLION, BillingKey, TokenSums, cost_lines

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from llmcost.catalog import Catalog

FOCUS_VERSION = "1.2"
KEY = ("day", "task", "user", "tagset")
# Every FOCUS 1.2 column, in the specification's (alphabetical) order.
COLUMNS = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType",
    "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "CapacityReservationId",
    "CapacityReservationStatus", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
    "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId",
    "CommitmentDiscountName", "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice",
    "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory",
    "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId",
    "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName",
    "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName",
    "SubAccountType", "Tags",
)
MONEY = ("BilledCost", "ContractedCost", "ContractedUnitPrice", "EffectiveCost", "ListCost", "ListUnitPrice",
         "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice",
         "ConsumedQuantity", "PricingQuantity")
DATES = ("BillingPeriodEnd", "BillingPeriodStart", "ChargePeriodEnd", "ChargePeriodStart")
METERS = {"input": "Input Tokens", "cache_read": "Cache Read Tokens", "cache_write": "Cache Write Tokens (5 min)",
          "cache_write_1h": "Cache Write Tokens (1 h)", "output": "Output Tokens",
          "audio_input": "Audio Input Tokens", "audio_output": "Audio Output Tokens",
          "audio_cache_read": "Audio Cache Read Tokens", "request": "Requests"}
PROVIDERS = {"openai": "OpenAI", "anthropic": "Anthropic", "google": "Google", "gemini": "Google",
             "vertex_ai": "Google", "mistral": "Mistral AI", "cohere": "Cohere", "deepseek": "DeepSeek",
             "xai": "xAI", "groq": "Groq", "bedrock": "AWS", "azure": "Microsoft", "meta": "Meta"}


class FocusExport:
    """Sums the logged traffic per FOCUS key chunk by chunk (``add``); ``rows`` prices it once."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._sums = Breakdowns([BreakdownSpec(KEY, None)], catalog)

    def add(self, frame: pd.DataFrame) -> None:
        self._sums.add(frame)

    def rows(self, unpriced_models: Iterable[str] = ()) -> list[dict[str, Any]]:
        """FOCUS rows, sorted by charge period, model and SKU price; the baseline's unpriced models have none."""
        unpriced = frozenset(unpriced_models)
        out: list[dict[str, Any]] = []
        for key, groups in self._sums.key_groups(0).items():
            for billing, tokens in groups.known.items():
                if billing.model not in unpriced:
                    out.extend(self._rows(key, billing, tokens))
        out.sort(key=lambda r: (r["ChargePeriodStart"], r["ResourceId"], r["SkuPriceId"], r["Tags"]))
        return out

    def _rows(self, key: tuple[str, ...], billing: BillingKey, tokens: TokenSums) -> list[dict[str, Any]]:
        model = self.catalog.model(billing.model)
        rates = model.rates_for(long_context=billing.long_context, batch=billing.batch, period=billing.period,
                                service_tier=billing.service_tier)
        lines, missing = cost_lines(tokens, rates, model.request_fee)
        if missing:  # the model is then unpriced in the baseline too, and left out above
            return []
        day, task, user, tagset = key
        shared = _shared(date.fromisoformat(day), model.provider, billing, _tags(task, user, tagset))
        return [_line_row(shared, billing, line.kind, line.quantity, line.rate, line.cost) for line in lines]


def _shared(day: date, provider: str, billing: BillingKey, tags: str) -> dict[str, Any]:
    """The columns every kind of one (day, billing group, key) shares."""
    month = day.replace(day=1)
    name = PROVIDERS.get(provider.lower(), provider)
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update({
        "BillingAccountId": provider, "BillingAccountName": f"{name} (estimated from request logs)",
        "BillingAccountType": "API Account", "BillingCurrency": "USD", "PricingCurrency": "USD",
        "BillingPeriodStart": _instant(month), "BillingPeriodEnd": _instant(_next_month(month)),
        "ChargePeriodStart": _instant(day), "ChargePeriodEnd": _instant(day + timedelta(days=1)),
        "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based", "PricingCategory": "Standard",
        "InvoiceIssuerName": name, "ProviderName": name, "PublisherName": name,
        "ResourceId": billing.model, "ResourceName": billing.model, "ResourceType": "Model",
        "ServiceCategory": "AI and Machine Learning", "ServiceSubcategory": "Generative AI",
        "ServiceName": f"{name} API", "SkuId": billing.model, "Tags": tags,
    })
    return row


def _line_row(shared: dict[str, Any], billing: BillingKey, kind: str, quantity: Decimal, rate: Decimal,
              cost: Decimal) -> dict[str, Any]:
    tokens = kind != "request"
    variant = _variant(billing)
    row = dict(shared)
    row.update({
        "BilledCost": cost, "EffectiveCost": cost, "ListCost": cost, "ContractedCost": cost,
        "PricingCurrencyEffectiveCost": cost,
        "ListUnitPrice": rate, "ContractedUnitPrice": rate, "PricingCurrencyListUnitPrice": rate,
        "PricingCurrencyContractedUnitPrice": rate,
        "ConsumedQuantity": quantity, "ConsumedUnit": "Tokens" if tokens else "Requests",
        "PricingQuantity": quantity / MILLION if tokens else quantity,
        "PricingUnit": "1M Tokens" if tokens else "Requests",
        "SkuMeter": METERS.get(kind, kind), "SkuPriceId": f"{billing.model}/{kind}/{variant}",
        "ChargeDescription": f"{billing.model}: {METERS.get(kind, kind).lower()}"
                             + ("" if variant == "standard" else f" ({variant})"),
    })
    return row


def _variant(billing: BillingKey) -> str:
    parts = [p for p, on in (("batch", billing.batch), ("long context", billing.long_context)) if on]
    if billing.service_tier is not None:
        parts.append(f"{billing.service_tier} tier")
    if billing.period:
        parts.append(f"price period {billing.period}")
    return ", ".join(parts) or "standard"


def _tags(task: str, user: str, tagset: str) -> str:
    tags = {k: v for k, v in (("task", task), ("user", user)) if v != NONE_LABEL}
    if tagset:
        tags["tags"] = tagset
    return json.dumps(tags, sort_keys=True, ensure_ascii=False)


def _instant(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _next_month(month: date) -> date:
    return month.replace(year=month.year + 1, month=1) if month.month == 12 else month.replace(month=month.month + 1)


def to_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV: every FOCUS column, decimals in plain notation, nulls as empty cells."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if row[c] is None else _decimal(row[c]) if isinstance(row[c], Decimal) else row[c]
                         for c in COLUMNS])
    return buf.getvalue()


def _decimal(value: Decimal) -> str:
    """Plain notation, never an exponent, and always a decimal point: a column of whole token counts still
    reads as Decimal (not Integer) in tools that infer types from the text, as FOCUS types it."""
    text = format(value, "f")
    return text if "." in text else text + ".0"


def to_arrow(rows: list[dict[str, Any]]) -> pa.Table:
    """The rows as an Arrow table: money as decimal128(38, 15), the period columns as UTC timestamps."""
    from datetime import datetime

    import pyarrow as pa

    money = pa.decimal128(38, 15)
    step = Decimal(1).scaleb(-15)
    arrays = {}
    for c in COLUMNS:
        values = [row[c] for row in rows]
        if c in MONEY:
            arrays[c] = pa.array([v.quantize(step) for v in values], type=money)
        elif c in DATES:
            arrays[c] = pa.array([datetime.fromisoformat(v) for v in values], type=pa.timestamp("s", tz="UTC"))
        else:
            arrays[c] = pa.array(values, type=pa.string())
    return pa.table(arrays)
