"""select_scenarios / load_scenarios: the built-in set, baseline handling and file-level errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from scenario_helpers import tiny

from llmcost.errors import ScenarioError
from llmcost.scenarios import Baseline, default_scenarios_path, load_scenarios, select_scenarios
from llmcost.scenarios.schema import parse_duration


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_set_and_baseline_only() -> None:
    names = [s.name for s in select_scenarios(None, baseline_only=False, catalog=tiny())]
    assert names == ["baseline", "tiered-routing", "exact-cache-24h", "prompt-caching", "all-combined"]
    only = select_scenarios(None, baseline_only=True, catalog=tiny())
    assert len(only) == 1 and isinstance(only[0], Baseline)
    assert default_scenarios_path().exists()


def test_builtin_set_skips_what_the_catalog_cannot_express(tmp_path: Path) -> None:
    catalog = tmp_path / "flat.yaml"
    catalog.write_text("source: t\nas_of: 2026-01-01\nmodels:\n  - {id: m, provider: p, input_mtok: 1, "
                       "output_mtok: 2}\n", encoding="utf-8")
    from llmcost.catalog import load_catalog

    names = [s.name for s in load_scenarios(default_scenarios_path(), load_catalog(catalog), builtin=True)]
    assert names == ["baseline", "exact-cache-24h", "prompt-caching"]  # no tiers: no routing


def test_a_baseline_entry_may_only_carry_growth(tmp_path: Path) -> None:
    grown = load_scenarios(write(tmp_path, "scenarios:\n  - {name: baseline, monthly_growth: 0.1}\n"), tiny())
    assert [s.name for s in grown] == ["baseline"]
    assert grown[0].monthly_growth == Decimal("0.1")
    with pytest.raises(ScenarioError) as err:
        load_scenarios(write(tmp_path, "scenarios:\n  - {name: baseline, exact_cache: {}}\n"), tiny())
    assert err.value.field == "scenarios[0]"


@pytest.mark.parametrize(
    ("text", "field", "why"),
    [
        ("scenarios: []\n", "scenarios", "at least 1"),
        ("scenarios:\n  - {name: a}\n  - {name: a}\n", None, "duplicate scenario name 'a'"),
        ("scenarios:\n  - name: a\n    routing: {rules: [{to: small}]}\n    cascade: {steps: [{model: small, "
         "accept: 1}, {model: big, accept: 1}]}\n", "scenarios[0]", "cannot be combined"),
        ("scenarios:\n  - name: a\n    prompt_cache: {ttl: 10m}\n", "scenarios[0].prompt_cache.ttl", "'5m' or '1h'"),
        ("scenarios:\n  - name: a\n    routing: {rules: [{to: small, when: {input_tokens: {min: 5, max: 1}}}]}\n",
         "scenarios[0].routing.rules[0].when.input_tokens", "min must not exceed max"),
        ("bench_results: missing.json\nscenarios:\n  - {name: a}\n", "bench_results", "not found"),
        ("scenarios:\n  - name: a\n    retries: {error_rate: {nope: 0.1}}\n", "scenarios[0].retries.error_rate.nope",
         None),
    ],
)
def test_file_errors_name_the_field(tmp_path: Path, text: str, field: str | None, why: str | None) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        scenarios = load_scenarios(path, tiny())
        from scenario_helpers import frame

        for s in scenarios:
            s.apply(frame([{}]), tiny())
    assert err.value.source == str(path)
    if field is not None:
        assert err.value.field == field
    if why is not None:
        assert why in str(err.value)


def test_durations() -> None:
    assert [parse_duration(v) for v in (300, "300s", "5m", "1.5h", "24h", "7d", "250ms")] == \
        [300, 300, 300, 5400, 86400, 604800, 0.25]
    for bad in ("soon", 0, "-5m", True):
        with pytest.raises(Exception, match=r"duration|greater than 0"):
            parse_duration(bad)
