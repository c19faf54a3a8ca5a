"""estimate --format focus: a FOCUS 1.2 cost-and-usage file that adds up to the estimate to the cent.

What is checked by what (docs/focus.md):
- the FinOps Foundation's focus-validator 1.0.0 (the only release on PyPI) validates the FOCUS 1.0 rules;
- the tests below check what FOCUS 1.1 and 1.2 added (columns, allowed values, conditional nulls), citing
  the specification's sections (https://focus.finops.org/focus-specification/v1-2/).
"""

from __future__ import annotations

import csv
import glob
import io
import json
import subprocess
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from tests.components import focus_validator

from llmcost.catalog import load_catalog
from llmcost.focus import COLUMNS, FocusExport, to_csv
from llmcost.pipeline import estimate_logs
from llmcost.scenarios.interface import Baseline

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "sample_logs" / "support_workload.jsonl.gz")
# FOCUS 1.1 added these columns, FOCUS 1.2 the second group (specification, "Column Definitions").
ADDED_1_1 = {"CapacityReservationId", "CapacityReservationStatus", "CommitmentDiscountQuantity",
             "CommitmentDiscountUnit", "ServiceSubcategory", "SkuMeter", "SkuPriceDetails"}
ADDED_1_2 = {"BillingAccountType", "SubAccountType", "InvoiceId", "PricingCurrency",
             "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice"}
# ServiceSubcategory allowed values under "AI and Machine Learning" (1.1+, ServiceSubcategory).
AI_SUBCATEGORIES = {"AI Platforms", "Bots", "Generative AI", "Machine Learning", "Natural Language Processing",
                    "Other (AI and Machine Learning)"}


def _export(tmp_path: Path, cli: Any, *extra: str, name: str = "costs.csv", log: str = SAMPLE) -> Path:
    out = tmp_path / name
    result = cli("estimate", log, "--baseline-only", "--format", "focus", "--output", out, *extra)
    assert result.exit_code == 0, result.stderr
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def _observed(log: str = SAMPLE) -> Decimal:
    est, _ = estimate_logs([log], load_catalog(None), [Baseline()])
    return est.baseline.observed_cost


def test_rows_add_up_to_the_estimate_exactly(tmp_path: Path, cli: Any) -> None:
    rows = _rows(_export(tmp_path, cli))
    total = sum(Decimal(r["BilledCost"]) for r in rows)
    assert total == _observed()  # exact: each row is one pricing.cost_lines line
    assert sum(Decimal(r["EffectiveCost"]) for r in rows) == total == sum(Decimal(r["ListCost"]) for r in rows)
    json_total = json.loads(cli("estimate", SAMPLE, "--baseline-only", "--format", "json").stdout)
    assert abs(total - Decimal(str(json_total["scenarios"][0]["observed_cost_usd"]))) < Decimal("0.01")


def test_streaming_writes_the_same_file(tmp_path: Path, cli: Any) -> None:
    whole = _export(tmp_path, cli, name="whole.csv").read_text()
    assert _export(tmp_path, cli, "--chunk-rows", "333", name="chunked.csv").read_text() == whole


def test_parquet_by_extension(tmp_path: Path, cli: Any) -> None:
    table = pq.read_table(_export(tmp_path, cli, name="costs.parquet"))
    assert tuple(table.column_names) == COLUMNS
    assert sum(table.column("BilledCost").to_pylist()) == _observed().quantize(Decimal(1).scaleb(-15))
    assert str(table.schema.field("ChargePeriodStart").type).endswith("tz=UTC]")
    assert table.num_rows == len(_rows(_export(tmp_path, cli)))


def test_columns_and_values_of_1_1_and_1_2(tmp_path: Path, cli: Any) -> None:
    rows = _rows(_export(tmp_path, cli))
    assert rows and set(rows[0]) == set(COLUMNS) and len(COLUMNS) == 57
    assert set(COLUMNS) >= ADDED_1_1 | ADDED_1_2
    for r in rows:
        # Cost columns: ListCost = ListUnitPrice x PricingQuantity, ContractedCost likewise (1.0+)
        qty = Decimal(r["PricingQuantity"])
        assert Decimal(r["ListCost"]) == Decimal(r["ListUnitPrice"]) * qty
        assert Decimal(r["ContractedCost"]) == Decimal(r["ContractedUnitPrice"]) * qty
        # 1.2 PricingCurrency*: equal to the billing-currency columns when both currencies are USD
        assert r["PricingCurrency"] == r["BillingCurrency"] == "USD"
        assert r["PricingCurrencyEffectiveCost"] == r["EffectiveCost"]
        assert r["PricingCurrencyListUnitPrice"] == r["ListUnitPrice"]
        assert r["PricingCurrencyContractedUnitPrice"] == r["ContractedUnitPrice"]
        # 1.2 BillingAccountType: not null when BillingAccountId is not null; SubAccountType null with SubAccountId
        assert r["BillingAccountId"] and r["BillingAccountType"]
        assert r["SubAccountId"] == "" and r["SubAccountType"] == ""
        assert r["InvoiceId"] == ""  # 1.2: null for charges not (yet) invoiced: these are estimates
        # 1.1 ServiceSubcategory: one of its ServiceCategory's values
        assert r["ServiceCategory"] == "AI and Machine Learning" and r["ServiceSubcategory"] in AI_SUBCATEGORIES
        # 1.1 Commitment and capacity columns: null when there is no commitment / reservation
        for column in ("CommitmentDiscountQuantity", "CommitmentDiscountUnit", "CapacityReservationStatus"):
            assert r[column] == ""
        assert r["SkuId"] and r["SkuPriceId"] and r["SkuMeter"]
        assert r["ChargeCategory"] == "Usage" and r["ChargeFrequency"] == "Usage-Based" and r["ChargeClass"] == ""
        start, end = (datetime.fromisoformat(r[c].replace("Z", "+00:00")) for c in ("ChargePeriodStart",
                                                                                     "ChargePeriodEnd"))
        assert (end - start).days == 1 and start.utcoffset() is not None and start.hour == 0
        assert r["BillingPeriodStart"] <= r["ChargePeriodStart"] and r["ChargePeriodEnd"] <= r["BillingPeriodEnd"]
        assert isinstance(json.loads(r["Tags"]), dict)
    assert {r["ConsumedUnit"] for r in rows} == {"Tokens"} and {r["PricingUnit"] for r in rows} == {"1M Tokens"}


def test_tags_carry_task_user_and_tags(tmp_path: Path, cli: Any) -> None:
    log = tmp_path / "log.csv"
    log.write_text("timestamp,model,input_tokens,output_tokens,task,user,tags\n"
                   '2026-11-01T10:00:00Z,gpt-4o,1000,10,chat,ann,"b,a"\n'
                   "2026-11-01T11:00:00Z,gpt-4o,1000,10,,,\n"
                   "2026-11-01T12:00:00Z,no-such-model-x,1000,10,chat,ann,\n")
    rows = _rows(_export(tmp_path, cli, log=str(log)))
    assert {r["Tags"] for r in rows} == {json.dumps({"tags": "a,b", "task": "chat", "user": "ann"}), "{}"}
    assert {r["ResourceId"] for r in rows} == {"gpt-4o"}  # unpriced traffic has no row, never $0
    assert sum(Decimal(r["BilledCost"]) for r in rows) == _observed(str(log))


def test_batch_and_kinds_are_separate_sku_prices(tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame({"timestamp": pd.to_datetime(["2026-11-01T10:00:00Z"] * 2), "model": ["gpt-4o"] * 2,
                          "input_tokens": [1000, 1000], "cache_read_tokens": [200, 0], "cache_write_tokens": [0, 0],
                          "cache_write_1h_tokens": [0, 0], "output_tokens": [10, 10], "reasoning_tokens": [0, 0],
                          "weight": [1, 1], "batch": [False, True]})
    export = FocusExport(load_catalog(None))
    export.add(frame)
    rows = list(csv.DictReader(io.StringIO(to_csv(export.rows()))))
    prices = {r["SkuPriceId"] for r in rows}
    assert prices == {"gpt-4o/input/standard", "gpt-4o/cache_read/standard", "gpt-4o/output/standard",
                      "gpt-4o/input/batch", "gpt-4o/output/batch"}
    batch_in = next(r for r in rows if r["SkuPriceId"] == "gpt-4o/input/batch")
    std_in = next(r for r in rows if r["SkuPriceId"] == "gpt-4o/input/standard")
    assert Decimal(batch_in["ListUnitPrice"]) < Decimal(std_in["ListUnitPrice"])
    assert std_in["ConsumedQuantity"] == "800.0"  # uncached input: 1000 - 200 cache reads


# focus-validator 1.0.0's "1.0" rule set still names four columns as FOCUS 0.5 did (Provider, Publisher,
# InvoiceIssuer, ResourceID; FOCUS 1.0 renamed them ProviderName, PublisherName, InvoiceIssuerName, ResourceId)
# and its SkuPriceId rule reads ChargeType (1.0: ChargeCategory). The validated copy carries those names as
# well, holding the same values, so every one of its rules runs on our data; the file we write has only
# FOCUS 1.2 columns.
VALIDATOR_ALIASES = {"Provider": "ProviderName", "Publisher": "PublisherName", "InvoiceIssuer": "InvoiceIssuerName",
                     "ResourceID": "ResourceId", "ChargeType": "ChargeCategory"}


def _validate(path: Path) -> str:
    exe = focus_validator()
    # It reads its currency list from a path relative to the working directory (its site-packages).
    (site,) = glob.glob(str(exe.parent.parent / "lib" / "python3*" / "site-packages"))
    done = subprocess.run([str(exe), "--data-file", str(path), "--validate-version", "1.0"], cwd=site,
                          capture_output=True, text=True, timeout=300, check=False)
    return done.stdout + done.stderr  # it exits 0 either way: the verdict is in the text


def _with_aliases(src: Path, dst: Path) -> Path:
    rows = _rows(src)
    for r in rows:
        for old, new in VALIDATOR_ALIASES.items():
            r[old] = r[new]
    with dst.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return dst


@pytest.mark.slow
def test_passes_focus_validator(tmp_path: Path, cli: Any) -> None:
    checked = _with_aliases(_export(tmp_path, cli), tmp_path / "validated.csv")
    verdict = _validate(checked)
    assert "Validation succeeded." in verdict and "failed" not in verdict, verdict


@pytest.mark.slow
def test_focus_validator_catches_a_broken_file(tmp_path: Path, cli: Any) -> None:
    """The harness can fail: a file with a wrong ChargeFrequency value does not pass."""
    checked = _with_aliases(_export(tmp_path, cli), tmp_path / "validated.csv")
    checked.write_text(checked.read_text().replace("Usage-Based", "Sometimes"))
    verdict = _validate(checked)
    assert "ChargeFrequency" in verdict and "Validation failed" in verdict


def test_missing_output_directory_is_one_line(tmp_path: Path, cli: Any) -> None:
    for name in ("costs.parquet", "costs.csv"):
        result = cli("estimate", SAMPLE, "--baseline-only", "--format", "focus", "--output",
                     tmp_path / "nope" / name)
        assert result.exit_code == 2 and "output directory does not exist" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
