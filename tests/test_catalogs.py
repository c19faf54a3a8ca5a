"""Bundled catalogs, ``catalog list|show|validate|import`` and the exact litellm conversion."""

from __future__ import annotations

import json
import re
import zipfile
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from llmcost.catalog import bundled_catalogs, load_catalog

# Entries exactly as they appear in litellm 1.109.1's model_prices_and_context_window_backup.json
# (the frontier catalog's source), trimmed to the fields llmcost reads.
EXCERPT = """{
 "gpt-4o": {"cache_read_input_token_cost": 1.25e-06, "input_cost_per_token": 2.5e-06,
   "input_cost_per_token_batches": 1.25e-06, "litellm_provider": "openai", "max_input_tokens": 128000,
   "max_output_tokens": 16384, "mode": "chat", "output_cost_per_token": 1e-05,
   "output_cost_per_token_batches": 5e-06},
 "o4-mini": {"cache_read_input_token_cost": 2.75e-07, "input_cost_per_token": 1.1e-06,
   "litellm_provider": "openai", "mode": "chat", "output_cost_per_token": 4.4e-06},
 "gpt-5-nano": {"cache_read_input_token_cost": 5e-09, "input_cost_per_token": 5e-08,
   "litellm_provider": "openai", "mode": "chat", "output_cost_per_token": 4e-07},
 "claude-haiku-4-5": {"cache_creation_input_token_cost": 1.25e-06,
   "cache_creation_input_token_cost_above_1hr": 2e-06, "cache_read_input_token_cost": 1e-07,
   "input_cost_per_token": 1e-06, "input_cost_per_token_batches": 5e-07, "litellm_provider": "anthropic",
   "mode": "chat", "output_cost_per_token": 5e-06, "output_cost_per_token_batches": 2.5e-06},
 "gemini/gemini-2.5-pro": {"cache_read_input_token_cost": 1.25e-07,
   "cache_read_input_token_cost_above_200k_tokens": 2.5e-07, "input_cost_per_token": 1.25e-06,
   "input_cost_per_token_above_200k_tokens": 2.5e-06, "litellm_provider": "gemini", "mode": "chat",
   "output_cost_per_token": 1e-05, "output_cost_per_token_above_200k_tokens": 1.5e-05},
 "deepseek-v4-flash": {"cache_read_input_token_cost": 6e-09, "input_cost_per_token": 3e-07,
   "litellm_provider": "deepseek", "mode": "chat", "output_cost_per_token": 1.2e-06}
}"""
MAPPED = {"input_cost_per_token": "input_mtok", "output_cost_per_token": "output_mtok",
          "cache_read_input_token_cost": "cache_read_mtok", "cache_creation_input_token_cost": "cache_write_mtok",
          "cache_creation_input_token_cost_above_1hr": "cache_write_1h_mtok",
          "input_cost_per_token_batches": "batch_input_mtok", "output_cost_per_token_batches": "batch_output_mtok"}
WHEEL = sorted(Path("/tmp/litellm_whl").glob("litellm-1.109.1-*.whl"))


def per_mtok(text_number: str) -> D:
    return D(text_number) * 10**6


def test_bundled_catalogs_are_the_three_and_all_validate(cli: Any) -> None:
    names = set(bundled_catalogs())
    assert {"frontier", "article-sheet-a", "article-sheet-b"} <= names
    for name, path in bundled_catalogs().items():
        result = cli("catalog", "validate", str(path))
        assert result.exit_code == 0, (name, result.stderr)
        assert "ok (" in result.stderr


def test_default_is_the_generated_catalog() -> None:
    cat = load_catalog()
    assert cat.source.startswith("litellm 1.110.2") and "genai-prices 0.2.3" in cat.source
    assert len(cat.models) > 4000
    for logged, price in (("gpt-4o-2024-05-13", ("5", "15")), ("gpt-3.5-turbo-1106", ("1", "2")),
                          ("gpt-4o", ("2.5", "10")), ("claude-sonnet-4-20250514", ("3", "15"))):
        model = cat.model(cat.resolve(logged) or "")
        assert (model.input_mtok, model.output_mtok) == (D(price[0]), D(price[1])), logged


def test_frontier_keeps_the_ids_other_code_uses() -> None:
    cat = load_catalog("frontier")
    assert cat.as_of.isoformat() == "2026-11-12"
    assert "litellm 1.109.1" in cat.source and "model_prices_and_context_window_backup.json" in cat.source
    for mid in ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "gpt-5", "claude-opus-4-1", "gemini-2.5-pro",
                "deepseek-chat", "mistral-large", "codestral", "grok-4.3"):
        assert mid in cat.by_id, mid
    assert len(cat.models) >= 40
    for m in cat.models:
        if m.provider == "openai":
            assert m.tokenizer in ("o200k_base", "cl100k_base"), m.id
    assert cat.model("gpt-3.5-turbo").tokenizer == "cl100k_base"
    assert cat.model("gpt-4o").tokenizer == "o200k_base"


@pytest.mark.parametrize("key", list(json.loads(EXCERPT)))
def test_frontier_prices_equal_the_source_exactly(key: str) -> None:
    entry = json.loads(EXCERPT, parse_float=str)[key]
    cat = load_catalog("frontier")
    model = cat.model(cat.resolve(key) or "")
    for field, ours in MAPPED.items():
        if field in entry:
            assert getattr(model, ours) == per_mtok(entry[field]), (key, field)
    for field in ("input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost"):
        long_field = f"{field}_above_200k_tokens"
        if long_field in entry:
            assert model.long_context is not None and model.long_context.threshold_tokens == 200_000
            assert getattr(model.long_context, MAPPED[field]) == per_mtok(entry[long_field])


def test_hand_checked_frontier_values() -> None:
    cat = load_catalog("frontier")
    s4 = cat.model("claude-sonnet-4")
    assert (s4.input_mtok, s4.output_mtok, s4.cache_read_mtok, s4.cache_write_mtok, s4.cache_write_1h_mtok) == (
        D(3), D(15), D("0.3"), D("3.75"), D(6))
    assert s4.long_context is not None and s4.long_context.threshold_tokens == 200_000
    assert (s4.long_context.input_mtok, s4.long_context.output_mtok) == (D(6), D("22.5"))
    assert s4.rates_for(long_context=False, batch=True)["output"] == D("7.5")
    s45 = cat.model("claude-sonnet-4-5")
    assert s45.long_context is not None and s45.long_context.cache_write_1h_mtok == D(12)
    assert cat.model("o4-mini").cache_read_mtok == D("0.275")
    assert cat.model("gpt-5-nano").cache_read_mtok == D("0.005")


def test_frontier_tiers_are_ordered_by_price() -> None:
    cat = load_catalog("frontier")
    order = {t: i for i, t in enumerate(cat.tiers)}
    priced = [(order[m.tier], (3 * m.input_mtok + m.output_mtok) / 4) for m in cat.models
              if m.tier and m.input_mtok is not None and m.output_mtok is not None]
    for tier_a, price_a in priced:
        for tier_b, price_b in priced:
            if tier_a < tier_b:
                assert price_a <= price_b


@pytest.mark.skipif(not WHEEL, reason="litellm 1.109.1 wheel not downloaded on this machine")
def test_every_frontier_price_matches_the_wheel() -> None:
    with zipfile.ZipFile(WHEEL[0]) as wheel:
        db = json.loads(wheel.read("litellm/model_prices_and_context_window_backup.json"), parse_float=str)
    checked = 0
    for model in load_catalog().models:
        match = re.match(r"litellm key '([^']+)'", model.notes or "")
        assert match, model.id
        entry = db[match.group(1)]
        for field, ours in MAPPED.items():
            if field in entry and not (field == "cache_creation_input_token_cost" and D(entry[field]) == 0):
                assert getattr(model, ours) == per_mtok(entry[field]), (model.id, field)
                checked += 1
    assert checked > 150


def test_article_sheets_keep_both_prices_and_unknowns() -> None:
    a, b = load_catalog("article-sheet-a"), load_catalog("article-sheet-b")
    assert (a.as_of.isoformat(), b.as_of.isoformat()) == ("2026-11-23", "2026-05-01")
    assert a.source != b.source
    assert [(m.id, m.input_mtok, m.output_mtok, m.context_window) for m in a.models] == [
        ("deepseek-v4-flash", D("0.27"), D("1.10"), 128_000), ("deepseek-v4-pro", D("0.55"), D("2.20"), 200_000),
        ("qwen3-32b", D("0.30"), D("1.20"), 32_000), ("glm-4-plus", D("0.20"), D("0.80"), 128_000),
        ("gpt-4o", D("2.50"), D("10.00"), 128_000)]
    got = {m.id: (m.input_mtok, m.output_mtok, m.context_window) for m in b.models}
    assert got == {
        "qwen3-8b": (None, D("0.01"), 32_000), "glm-4-9b": (None, D("0.01"), None),
        "qwen2.5-7b": (None, D("0.01"), None), "deepseek-v4-flash": (D("0.18"), D("0.25"), 128_000),
        "qwen3-32b": (D("0.18"), D("0.28"), 32_000), "step-3.5-flash": (D("0.13"), D("0.15"), 32_000),
        "hunyuan-turbo": (None, D("0.57"), 32_000), "glm-4.6v": (D("0.39"), D("0.80"), 32_000),
        "glm-4-32b": (None, D("0.56"), None), "deepseek-v4-pro": (D("0.57"), D("0.78"), 128_000),
        "deepseek-r1": (None, None, None), "kimi-k2.5": (None, None, None), "kimi-k2.6": (None, None, None),
        "qwen3.5-397b": (None, None, None)}
    for mid in ("deepseek-r1", "kimi-k2.5", "kimi-k2.6", "qwen3.5-397b"):
        assert "$2.00-$3.50" in (b.model(mid).notes or "")


def _log(tmp_path: Path, rows: list[dict[str, Any]]) -> str:
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_estimate_with_article_sheet_by_bundled_name(cli: Any, tmp_path: Path) -> None:
    log = _log(tmp_path, [
        {"timestamp": "2026-05-01T00:00:00Z", "model": "deepseek-v4-flash", "input_tokens": 1_000_000,
         "output_tokens": 1_000_000},
        {"timestamp": "2026-05-02T00:00:00Z", "model": "qwen3-32b", "input_tokens": 500_000,
         "output_tokens": 250_000}])
    a = cli("estimate", log, "--catalog", "article-sheet-a", "--baseline-only", "--format", "json")
    assert a.exit_code == 0, a.stderr
    cost_a = D("0.27") + D("1.10") + D("0.30") / 2 + D("1.20") / 4
    assert D(str(json.loads(a.stdout)["scenarios"][0]["observed_cost_usd"])) == cost_a
    b = cli("estimate", log, "--catalog", "article-sheet-b", "--baseline-only", "--format", "json")
    cost_b = D("0.18") + D("0.25") + D("0.18") / 2 + D("0.28") / 4
    assert D(str(json.loads(b.stdout)["scenarios"][0]["observed_cost_usd"])) == cost_b


def test_unknown_input_price_is_reported_not_zero(cli: Any, tmp_path: Path) -> None:
    log = _log(tmp_path, [{"timestamp": "2026-05-01T00:00:00Z", "model": "qwen3-8b", "input_tokens": 100,
                           "output_tokens": 10}])
    result = cli("estimate", log, "--catalog", "article-sheet-b", "--baseline-only", "--format", "json",
                 "--window-days", "1")
    assert result.exit_code == 0, result.stderr
    unpriced = json.loads(result.stdout)["unpriced"]
    assert [u["model"] for u in unpriced] == ["qwen3-8b"]
    strict = cli("estimate", log, "--catalog", "article-sheet-b", "--baseline-only", "--strict",
                 "--window-days", "1")
    assert strict.exit_code == 2


GOOD = """source: t
as_of: 2026-01-01
models:
  - id: alpha
    aliases: [a1]
    provider: p
    input_mtok: 1
    output_mtok: 2
  - id: beta
    provider: p
    input_mtok: 1
    output_mtok: 2
"""


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("    output_mtok: 2\n  - id: beta", "    output_mtok: 2\n    colour: red\n  - id: beta",
     ["field 'models[0].colour'", "unknown field", "'alpha'"]),
    ("  - id: beta\n    provider: p\n    input_mtok: 1", "  - id: beta\n    provider: p\n    input_mtok: -1",
     ["field 'models[1].input_mtok'", "greater than or equal to 0", "'beta'"]),
    ("  - id: beta", "  - id: alpha", ["models[1] ('alpha')", "duplicate id 'alpha'"]),
    ("  - id: beta\n", "  - id: beta\n    aliases: [A1]\n", ["('beta')", "duplicate alias 'A1'", "'alpha'"]),
    ("models:\n", "models: [\n", ["invalid YAML"]),
])
def test_validate_error_paths(cli: Any, tmp_path: Path, old: str, new: str, expected: list[str]) -> None:
    path = tmp_path / "bad.yaml"
    assert old in GOOD
    path.write_text(GOOD.replace(old, new, 1))
    result = cli("catalog", "validate", str(path))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0]
    for part in expected:
        assert part in lines[0], (part, lines[0])
    assert "Traceback" not in result.stderr


def test_validate_missing_file(cli: Any, tmp_path: Path) -> None:
    result = cli("catalog", "validate", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "nope.yaml: no such catalog file" in result.stderr


def test_list_filters_by_provider(cli: Any) -> None:
    result = cli("catalog", "list", "--provider", "anthropic", "--catalog", "frontier")
    assert result.exit_code == 0, result.stderr
    ids = re.findall(r"^│ (\S+)", result.stdout, flags=re.M)
    assert "claude-sonnet-4" in ids and "claude-opus-4-1" in ids
    assert "gpt-4o" not in ids
    assert "as of 2026-11-12" in result.stdout


@pytest.mark.parametrize("name", ["claude-sonnet-4-0", "claude-sonnet-4-20250514", "anthropic/claude-sonnet-4",
                                  "claude-sonnet-4"])
def test_show_by_alias_snapshot_and_prefix(cli: Any, name: str) -> None:
    result = cli("catalog", "show", name, "--catalog", "frontier")
    assert result.exit_code == 0, result.stderr
    assert "id: claude-sonnet-4\n" in result.stdout


def test_show_dated_openai_snapshot_and_unknown(cli: Any) -> None:
    assert "id: gpt-4o\n" in cli("catalog", "show", "gpt-4o-2024-08-06").stdout
    own = cli("catalog", "show", "gpt-4o-2024-05-13").stdout
    assert own.startswith("id: gpt-4o-2024-05-13\n") and "input_mtok: 5\n" in own
    assert "service_tiers: {}" not in own and "request_fee" not in own  # nothing empty or defaulted
    missing = cli("catalog", "show", "no-such-model")
    assert missing.exit_code == 2
    assert "no-such-model" in missing.stderr


# ---------------------------------------------------------------- catalog import litellm

SOURCE_DB = {
    "sample_spec": {"input_cost_per_token": 0.0},
    "vendor/big-model": {
        "litellm_provider": "vendor", "mode": "chat", "input_cost_per_token": "2.5e-06",
        "output_cost_per_token": "1.1e-05", "cache_read_input_token_cost": "1.38e-07",
        "cache_creation_input_token_cost": "3.75e-06", "cache_creation_input_token_cost_above_1hr": "6e-06",
        "input_cost_per_token_batches": "1.25e-06", "output_cost_per_token_batches": "5.5e-06",
        "input_cost_per_token_above_200k_tokens": "5e-06", "output_cost_per_token_above_200k_tokens": "1.65e-05",
        "cache_read_input_token_cost_above_200k_tokens": "2.76e-07", "max_input_tokens": 1000000,
        "max_output_tokens": 64000},
    "gpt-3.5-turbo": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "5e-07",
                      "output_cost_per_token": "1.5e-06", "max_input_tokens": 16385},
    "gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "2.5e-06",
               "output_cost_per_token": "1e-05"},
    "text-embedding-3-small": {"litellm_provider": "openai", "mode": "embedding", "input_cost_per_token": "2e-08"},
}


@pytest.fixture
def litellm_json(tmp_path: Path) -> Path:
    # Numbers must be JSON numbers, written exactly as litellm writes them (not strings).
    text = json.dumps(SOURCE_DB, indent=1)
    text = re.sub(r'"(\d[\d.]*e-\d\d)"', r"\1", text)
    path = tmp_path / "prices.json"
    path.write_text(text)
    return path


def test_import_converts_exactly(cli: Any, litellm_json: Path, tmp_path: Path) -> None:
    out = tmp_path / "imported.yaml"
    result = cli("catalog", "import", "litellm", str(litellm_json), "--models", "vendor/big-model,gpt-3.5-turbo",
                 "--as-of", "2026-11-12", "--source", "test db", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    text = out.read_text()
    assert text.startswith("# Generated by: llmcost catalog import litellm prices.json --models")
    assert "  input_mtok: 2.5\n" in text and "  output_mtok: 11\n" in text
    cat = load_catalog(out)
    assert (cat.source, cat.as_of.isoformat()) == ("test db", "2026-11-12")
    big = cat.model("big-model")  # the provider's own prefix is dropped
    assert big.provider == "vendor"
    assert (big.input_mtok, big.output_mtok, big.cache_read_mtok, big.cache_write_mtok,
            big.cache_write_1h_mtok, big.batch_input_mtok, big.batch_output_mtok) == (
        D("2.5"), D(11), D("0.138"), D("3.75"), D(6), D("1.25"), D("5.5"))
    assert 1.38e-07 * 1e6 != 0.138  # why floats are never used on the way
    assert big.long_context is not None
    assert (big.long_context.threshold_tokens, big.long_context.input_mtok, big.long_context.output_mtok,
            big.long_context.cache_read_mtok) == (200_000, D(5), D("16.5"), D("0.276"))
    assert big.long_context.cache_write_mtok == D("3.75")  # not in source: base rate carried, and noted
    assert "carried over" in (big.notes or "")
    assert (big.context_window, big.max_output_tokens, big.tier) == (1_000_000, 64_000, "warm")
    gpt35 = cat.model("gpt-3.5-turbo")
    assert (gpt35.tokenizer, gpt35.context_window, gpt35.tier) == ("cl100k_base", 16385, "cold")


def test_import_by_provider_to_stdout(cli: Any, litellm_json: Path) -> None:
    result = cli("catalog", "import", "litellm", str(litellm_json), "--provider", "openai")
    assert result.exit_code == 0, result.stderr
    ids = re.findall(r"^- id: (\S+)", result.stdout, flags=re.M)
    assert ids == ["gpt-3.5-turbo", "gpt-4o"]  # the embedding model is not a chat model
    assert "tokenizer: o200k_base" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--models", "nope"], "field '--models': model 'nope' is not in the price database"),
    (["--provider", "nobody"], "no chat models for provider 'nobody'"),
    (["--models", "gpt-4o", "--provider", "openai"], "give --models or --provider, not both"),
    (["--as-of", "May"], "--as-of: not a date"),
])
def test_import_usage_errors(cli: Any, litellm_json: Path, args: list[str], message: str) -> None:
    result = cli("catalog", "import", "litellm", str(litellm_json), *args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_import_bad_inputs(cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n "m": {"input_cost_per_token": 1e-06,}\n}')
    result = cli("catalog", "import", "litellm", str(bad))
    assert result.exit_code == 2 and f"{bad}:2: invalid JSON" in result.stderr
    negative = tmp_path / "neg.json"
    negative.write_text('{"m": {"mode": "chat", "input_cost_per_token": -1e-06}}')
    result = cli("catalog", "import", "litellm", str(negative))
    assert result.exit_code == 2 and "field 'm.input_cost_per_token'" in result.stderr
    assert cli("catalog", "import", "helicone", str(bad)).exit_code == 2
    missing = cli("catalog", "import", "litellm", str(tmp_path / "none.json"))
    assert missing.exit_code == 2 and "none.json: cannot read file" in missing.stderr


@pytest.mark.parametrize(("logged", "expected"), [
    ("claude-3-7-sonnet-latest", "claude-3-7-sonnet"), ("claude-3.7-sonnet", "claude-3-7-sonnet"),
    ("anthropic/claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
    ("claude-opus-4-0", "claude-opus-4"), ("claude-opus-4-1-20250805", "claude-opus-4-1"),
    ("vertex_ai/gemini-2.0-flash-001", "vertex_ai/gemini-2.0-flash"), ("models/gemini-2.5-flash", "gemini-2.5-flash"),
    ("mistral-large-latest", "mistral-large"), ("gpt-4-turbo-preview", "gpt-4-turbo"),
    ("o3-mini-2025-01-31", "o3-mini"), ("xai/grok-4.3", "grok-4.3"), ("grok-code-fast", "grok-code-fast-1"),
])
def test_frontier_resolves_common_spellings(logged: str, expected: str) -> None:
    assert load_catalog("frontier").resolve(logged) == expected


@pytest.mark.parametrize(("logged", "suggested"), [
    ("gpt-4o-2024-05-13", "gpt-4o"), ("gpt-3.5-turbo-1106", "gpt-3.5-turbo"), ("gpt-4-0613", "gpt-4"),
    ("gemini-2.0-flash", "vertex_ai/gemini-2.0-flash")])
def test_frontier_never_folds_a_differently_priced_snapshot_or_provider(logged: str, suggested: str) -> None:
    """gpt-4o-2024-05-13 is $5/$15 and gpt-4o $2.50/$10; gpt-3.5-turbo-1106 is $1/$2 and gpt-3.5-turbo
    $0.50/$1.50; the Gemini API is cheaper than Vertex AI: each stays unpriced, with a suggestion."""
    frontier = load_catalog("frontier")
    assert frontier.resolve(logged) is None
    assert suggested in frontier.suggest(logged)
