"""The same three requests as an OpenAI chat log, an Anthropic log and a LiteLLM export price alike.

Hand computation with tests/logs/data/cross_catalog.yaml (USD per million tokens: input 2.00, cache read
0.20, cache write 2.50, output 8.00):
  request 1: 60,000 uncached x 2 + 40,000 read x 0.2 + 20,000 out x 8           = 288,000 µ$
  request 2: 500,000 uncached x 2 + 5,000 out x 8                                = 1,040,000 µ$
  request 3: 50,000 uncached x 2 + 200,000 read x 0.2 + 50,000 written x 2.5
             + 100,000 out x 8                                                   = 1,065,000 µ$
  total 2,393,000 µ$ = $2.393. LiteLLM's own spend column says 0.3 + 1.04 + 1.065 = $2.405.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"
CATALOG = DATA / "cross_catalog.yaml"
LOGS = ("cross_openai.jsonl", "cross_anthropic.jsonl", "cross_litellm.csv")
EXPECTED = Decimal("2.393")


def _baseline(cli: Any, *logs: str) -> dict[str, Any]:
    result = cli("estimate", *(DATA / log for log in logs), "--catalog", CATALOG, "--format", "json",
                 "--baseline-only")
    assert result.exit_code == 0, result.stderr
    scenario: dict[str, Any] = json.loads(result.stdout)["scenarios"][0]
    return scenario


@pytest.mark.parametrize("log", LOGS)
def test_each_source_prices_to_the_same_cents(cli: Any, log: str) -> None:
    baseline = _baseline(cli, log)
    assert Decimal(str(baseline["observed_cost_usd"])).quantize(Decimal("0.01")) == EXPECTED.quantize(Decimal("0.01"))
    assert Decimal(str(baseline["observed_cost_usd"])) == EXPECTED
    (model,) = baseline["by_model"]
    assert (model["model"], model["requests"]) == ("acme-1", 3)
    assert (model["input_tokens"], model["cache_read_tokens"], model["cache_write_tokens"],
            model["output_tokens"]) == (900_000, 240_000, 50_000, 125_000)


def test_all_three_together_are_three_times_one(cli: Any) -> None:
    baseline = _baseline(cli, *LOGS)
    assert Decimal(str(baseline["observed_cost_usd"])) == EXPECTED * 3
    assert baseline["by_model"][0]["requests"] == 9


def test_logged_cost_is_shown_next_to_llmcost_cost(cli: Any) -> None:
    baseline = _baseline(cli, "cross_litellm.csv")
    assert Decimal(str(baseline["by_model"][0]["cost_logged_usd"])) == Decimal("2.405")
    assert Decimal(str(baseline["observed_cost_usd"])) == EXPECTED
    without = _baseline(cli, "cross_openai.jsonl")
    assert "cost_logged_usd" not in without["by_model"][0]
    table = cli("estimate", DATA / "cross_litellm.csv", "--catalog", CATALOG, "--baseline-only")
    assert table.exit_code == 0
    assert "$2.41" in table.stdout and "$2.39" in table.stdout
