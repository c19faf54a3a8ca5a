"""``llmcost catalog search``: logged names, words, typos; exit 1 when nothing matches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmcost.catalog import load_catalog
from llmcost.catalog.search import search

CATALOG = Path(__file__).parent / "billing_catalog.yaml"


@pytest.mark.parametrize(("text", "first"), [
    ("repriced-2024-08-06", "repriced"),  # a logged name: what it resolves to comes first
    ("vertex flash", "vertex_ai/flash"),  # words, in any order, provider included
    ("at-or", "at-or-above"),  # a prefix
    ("tierd", "tiered"),  # a typo
])
def test_search_ranks_the_best_match_first(text: str, first: str) -> None:
    found = search(load_catalog(CATALOG), text)
    assert found and found[0].id == first


def test_cli_search_prints_matches_and_exits_1_on_none(cli: Any) -> None:
    hit = cli("catalog", "search", "flash", "--catalog", str(CATALOG))
    assert hit.exit_code == 0 and "vertex_ai/flash" in hit.stdout and "│ flash " in hit.stdout
    one = cli("catalog", "search", "flash", "--catalog", str(CATALOG), "--provider", "gemini")
    assert one.exit_code == 0 and "vertex_ai/flash" not in one.stdout
    none = cli("catalog", "search", "zzqqxx", "--catalog", str(CATALOG))
    assert none.exit_code == 1 and "no model in the catalog matches 'zzqqxx'" in none.stderr


def test_inspect_suggests_a_name_for_each_unresolved_model(cli: Any, tmp_path: Path) -> None:
    import json

    log = tmp_path / "log.jsonl"
    log.write_text('{"timestamp": "2026-01-01T00:00:00Z", "model": "tiered-2099-01-01", "input_tokens": 1, '
                   '"output_tokens": 1}\n')
    result = cli("logs", "inspect", str(log), "--catalog", str(CATALOG), "--json")
    assert result.exit_code == 0, result.stderr
    model = json.loads(result.stdout)["models"][0]
    assert (model["resolved_to"], model["did_you_mean"][0]) == (None, "tiered")
    table = cli("logs", "inspect", str(log), "--catalog", str(CATALOG))
    assert "UNRESOLVED (did you mean tiered" in table.stdout


def test_suggestions_stay_cheap_at_any_cardinality() -> None:
    """A fuzzy search per unknown name would take minutes on 100,000 of them: only the busiest get one."""
    import pandas as pd

    from llmcost.frame import conform
    from llmcost.pricing import SUGGESTED_NAMES, price

    names = [f"tiered-{i}" for i in range(SUGGESTED_NAMES + 10)]
    rows = [{"timestamp": "2026-01-01T00:00:00Z", "model": n, "input_tokens": 1, "output_tokens": 1,
             "weight": 100 - i} for i, n in enumerate(names)]
    priced = price(conform(pd.DataFrame(rows), source="t").frame, load_catalog(CATALOG))
    reasons = {m.model: m.unpriced_reason for m in priced.unpriced}
    assert "did you mean tiered" in (reasons["tiered-0"] or "")
    assert reasons[names[-1]] == "not in catalog"
