"""tools/build_catalog.py: the rules that turn litellm's and genai-prices' data into the bundled catalog.

Inputs are small synthetic databases shaped like the real ones (litellm's JSON keys, genai-prices'
``Provider``/``ModelInfo``/``ModelPrice`` objects); nothing touches the network.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmcost.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"
sys.path.insert(0, str(TOOLS))

import build_catalog  # noqa: E402
import catalog_litellm  # noqa: E402

GENAI_DATA = '''
import datetime
from decimal import Decimal

from .types import *

providers = [
    Provider(
        id='openai', name='OpenAI', api_pattern='https://api\\\\.openai\\\\.com',
        models=[
            ModelInfo(
                id='gpt-4o',
                match=ClauseOr(or_=[ClauseEquals(equals='gpt-4o'), ClauseEquals(equals='gpt-4o-2024-08-06')]),
                context_window=128000,
                prices=[
                    ConditionalPrice(prices=ModelPrice(input_mtok=Decimal('5'), output_mtok=Decimal('15'))),
                    ConditionalPrice(
                        constraint=StartDateConstraint(start_date=datetime.date(2024, 10, 2)),
                        prices=ModelPrice(
                            input_mtok=Decimal('2.5'), cache_read_mtok=Decimal('1.25'), output_mtok=Decimal('10')
                        ),
                    ),
                ],
                price_variants=[
                    PriceVariant(when={'service_tier': 'default'}, prices=ModelPrice()),
                    PriceVariant(
                        when={'service_tier': 'priority'},
                        prices=ModelPrice(input_mtok=Decimal('4.25'), output_mtok=Decimal('17')),
                        constraint=StartDateConstraint(start_date=datetime.date(2026, 10, 12)),
                    ),
                    PriceVariant(
                        when={'processing': 'batch'},
                        prices=ModelPrice(input_mtok=Decimal('1.25'), output_mtok=Decimal('5')),
                    ),
                ],
            ),
            ModelInfo(
                id='gpt-4o-2024-05-13',
                match=ClauseEquals(equals='gpt-4o-2024-05-13'),
                prices=ModelPrice(input_mtok=Decimal('5'), output_mtok=Decimal('15')),
            ),
            ModelInfo(
                id='gpt-5.4',
                match=ClauseOr(or_=[ClauseEquals(equals='gpt-5.4'), ClauseRegex(regex='^gpt-5\\\\.4-\\\\d{4}$')]),
                prices=ModelPrice(
                    input_mtok=TieredPrices(base=Decimal('2.5'), tiers=[Tier(start=272000, price=Decimal('5'))]),
                    output_mtok=TieredPrices(base=Decimal('15'), tiers=[Tier(start=272000, price=Decimal('22.5'))]),
                    requests_kcount=Decimal('3'),
                ),
            ),
            ModelInfo(id='text-embedding-3-small', match=ClauseEquals(equals='text-embedding-3-small'),
                      prices=ModelPrice(input_mtok=Decimal('0.02'))),
        ],
    ),
    Provider(
        id='anthropic', name='Anthropic', api_pattern='https://api\\\\.anthropic\\\\.com',
        models=[
            ModelInfo(
                id='claude-sonnet-4-0',
                match=ClauseOr(or_=[ClauseStartsWith(starts_with='claude-sonnet-4-2025'),
                                    ClauseEquals(equals='claude-sonnet-4')]),
                prices=ModelPrice(input_mtok=Decimal('3'), output_mtok=Decimal('15'),
                                  cache_write_mtok=Decimal('3.75'), cache_read_mtok=Decimal('0.3')),
            ),
        ],
    ),
    Provider(
        id='x-ai', name='X AI', api_pattern='https://api\\\\.x\\\\.ai',
        models=[
            ModelInfo(
                id='grok-4-0709',
                match=ClauseOr(or_=[ClauseEquals(equals='grok-4-0709'), ClauseEquals(equals='grok-4')]),
                prices=ModelPrice(
                    input_mtok=TieredPrices(base=Decimal('3'), tiers=[Tier(start=199999, price=Decimal('6'))]),
                    output_mtok=TieredPrices(base=Decimal('15'), tiers=[Tier(start=199999, price=Decimal('30'))]),
                ),
            ),
        ],
    ),
    Provider(
        id='deepseek', name='Deepseek', api_pattern='https://api\\\\.deepseek\\\\.com',
        models=[
            ModelInfo(
                id='deepseek-chat',
                match=ClauseStartsWith(starts_with='deepseek-chat'),
                prices=[
                    ConditionalPrice(prices=ModelPrice(input_mtok=Decimal('0.135'), output_mtok=Decimal('0.55'))),
                    ConditionalPrice(
                        constraint=TimeOfDateConstraint(
                            start_time=datetime.time(0, 30, tzinfo=datetime.timezone.utc),
                            end_time=datetime.time(16, 30, tzinfo=datetime.timezone.utc),
                        ),
                        prices=ModelPrice(input_mtok=Decimal('0.27'), output_mtok=Decimal('1.1')),
                    ),
                ],
            ),
        ],
    ),
    Provider(
        id='groq', name='Groq', api_pattern='https://api\\\\.groq\\\\.com',
        models=[
            ModelInfo(id='llama-3.3-70b-versatile', match=ClauseEquals(equals='llama-3.3-70b-versatile'),
                      prices=ModelPrice(input_mtok=Decimal('0.59'), output_mtok=Decimal('0.79'))),
        ],
    ),
    Provider(
        id='openrouter', name='OpenRouter', api_pattern='https://openrouter\\\\.ai',
        models=[
            ModelInfo(id='openai/gpt-4o', match=ClauseEquals(equals='openai/gpt-4o'),
                      prices=ModelPrice(input_mtok=Decimal('2.5'), output_mtok=Decimal('10'))),
            ModelInfo(
                id='anthropic/claude-sonnet-4.5',
                match=ClauseOr(or_=[ClauseEquals(equals='anthropic/claude-sonnet-4.5'),
                                    ClauseEquals(equals='anthropic/claude-4.5-sonnet-20250929')]),
                prices=ModelPrice(input_mtok=Decimal('3'), output_mtok=Decimal('15')),
            ),
        ],
    ),
]
'''


def _per_token(mtok: str) -> Decimal:
    return Decimal(mtok).scaleb(-6)


LITELLM: dict[str, Any] = {
    "sample_spec": {"mode": "one of: chat, embedding", "input_cost_per_token": 0.0},
    # same as genai-prices' gpt-4o (current price), plus a context window genai-prices lacks
    "gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "2.5e-06",
               "output_cost_per_token": "1e-05", "max_input_tokens": 128000, "max_output_tokens": 16384},
    # a snapshot genai-prices names as gpt-4o's
    "gpt-4o-2024-08-06": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "2.5e-06",
                          "output_cost_per_token": "1e-05"},
    # a snapshot litellm alone has, at the base's price except batch: its own entry
    "gpt-4o-2024-11-20": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "2.5e-06",
                          "output_cost_per_token": "1e-05", "input_cost_per_token_batches": "1e-06"},
    # disagrees with genai-prices on gpt-5.4
    "gpt-5.4": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "2e-06",
                "output_cost_per_token": "1.5e-05", "max_input_tokens": 1050000},
    # genai-prices' deepseek-chat match (starts_with) prices it
    "deepseek/deepseek-chat-v3": {"litellm_provider": "deepseek", "mode": "chat",
                                  "input_cost_per_token": "2.7e-07", "output_cost_per_token": "1.1e-06"},
    # genai-prices' starts_with rule takes this name too, but litellm prices it apart: a variant, kept apart
    "deepseek/deepseek-chat-eu": {"litellm_provider": "deepseek", "mode": "chat",
                                  "input_cost_per_token": "3e-07", "output_cost_per_token": "1.2e-06"},
    # float noise in the JSON text (17 significant digits)
    "novita/qwen/qwen3-32b": {"litellm_provider": "novita", "mode": "chat",
                              "input_cost_per_token": "1.6000000000000001e-06", "output_cost_per_token": "4e-07"},
    # Bedrock's spelling of a dated Claude name that genai-prices prices through a starts_with rule
    "us.anthropic.claude-sonnet-4-20250514-v1:0": {"litellm_provider": "bedrock", "mode": "chat",
                                                   "input_cost_per_token": "3e-06", "output_cost_per_token": "1.5e-05"},
    # a host serving xAI's model at its own price: its bare name 'xai/grok-4' would read as xAI's own
    "replicate/xai/grok-4": {"litellm_provider": "replicate", "mode": "chat", "input_cost_per_token": "7.2e-06",
                             "output_cost_per_token": "3.6e-05"},
    "gpt-3.5-turbo": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "5e-07",
                      "output_cost_per_token": "1.5e-06"},
    "gpt-3.5-turbo-1106": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "1e-06",
                           "output_cost_per_token": "2e-06"},
    "gpt-3.5-turbo-0125": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "5e-07",
                           "output_cost_per_token": "1.5e-06"},
    "vertex_ai/gemini-2.0-flash": {"litellm_provider": "vertex_ai", "mode": "chat",
                                   "input_cost_per_token": "1.5e-07", "output_cost_per_token": "6e-07"},
    "gemini/gemini-2.0-flash": {"litellm_provider": "gemini", "mode": "chat", "input_cost_per_token": "1e-07",
                                "output_cost_per_token": "4e-07", "input_cost_per_audio_token": "7e-07"},
    "anthropic.claude-3-5-sonnet-20240620-v1:0": {
        "litellm_provider": "bedrock", "mode": "chat", "input_cost_per_token": "3e-06",
        "output_cost_per_token": "1.5e-05", "input_cost_per_token_above_200k_tokens": "6e-06",
        "output_cost_per_token_above_200k_tokens": "2.25e-05", "input_cost_per_token_priority": "5.1e-06",
        "output_cost_per_token_priority": "2.55e-05"},
    "together_ai/meta-llama/llama-3.3-70b-versatile": {
        "litellm_provider": "together_ai", "mode": "chat", "input_cost_per_token": "8.8e-07",
        "output_cost_per_token": "8.8e-07"},
    "text-embedding-3-large": {"litellm_provider": "openai", "mode": "embedding", "input_cost_per_token": "1.3e-07"},
    "whisper-x": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_second": "0.0001"},
}
CURATED = {"gpt-4o": "warm", "gpt-3.5-turbo": "cold", "grok-4": "hot"}


def _litellm_text() -> str:
    """The JSON text with prices as numbers spelled like litellm's file (2.5e-06)."""
    return re.sub(r'"(\d[\d.]*(?:e-\d+)?)"', r"\1", json.dumps(LITELLM, indent=1))


def _litellm_data() -> dict[str, Any]:
    return catalog_litellm.load(_litellm_text())


def _genai_providers() -> list[Any]:
    namespace: dict[str, Any] = {}
    exec(GENAI_DATA.replace("from .types import *", "from genai_prices.types import *"), namespace)
    return list(namespace["providers"])


def _catalog(litellm: dict[str, Any] | None = None, genai: list[Any] | None = None) -> dict[str, Any]:
    sources = build_catalog.Sources(
        "1.0.0", litellm if litellm is not None else _litellm_data(), date(2026, 11, 20),
        "0.1.0", genai if genai is not None else _genai_providers(), None,
    )
    result = build_catalog.build(sources, CURATED)
    data: dict[str, Any] = yaml.safe_load(result.text)
    return data


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    return _catalog()


def _model(catalog: dict[str, Any], name: str) -> dict[str, Any]:
    for m in catalog["models"]:
        if name.lower() in [m["id"].lower(), *(a.lower() for a in m.get("aliases", []))]:
            return m
    raise AssertionError(f"{name} not in the catalog")


def test_snapshot_is_an_alias_only_at_its_base_price(catalog: dict[str, Any]) -> None:
    base = _model(catalog, "gpt-4o")
    assert base["id"] == "gpt-4o" and "gpt-4o-2024-08-06" in base["aliases"]
    own = _model(catalog, "gpt-4o-2024-05-13")  # genai-prices' own entry at $5/$15
    assert own["id"] == "gpt-4o-2024-05-13" and (own["input_mtok"], own["output_mtok"]) == (5, 15)
    older = _model(catalog, "gpt-3.5-turbo-1106")  # litellm only, $1/$2 vs the base's $0.50/$1.50
    assert older["id"] == "gpt-3.5-turbo-1106" and (older["input_mtok"], older["output_mtok"]) == (1, 2)
    assert "gpt-3.5-turbo-0125" in _model(catalog, "gpt-3.5-turbo")["aliases"]  # equal prices fold
    # equal token prices but its own batch rate: not folded
    assert _model(catalog, "gpt-4o-2024-11-20")["id"] == "gpt-4o-2024-11-20"


def test_price_history_from_start_dates(catalog: dict[str, Any]) -> None:
    gpt4o = _model(catalog, "gpt-4o")
    assert (gpt4o["input_mtok"], gpt4o["output_mtok"], gpt4o["cache_read_mtok"]) == (2.5, 10, 1.25)
    assert gpt4o["price_history"] == [{"until": date(2024, 10, 2), "input_mtok": 5, "output_mtok": 15}]


def test_service_tiers_and_batch_from_variants(catalog: dict[str, Any]) -> None:
    gpt4o = _model(catalog, "gpt-4o")
    # variants override some keys; the rest stay the standard price (genai-prices resolves them alike)
    assert gpt4o["service_tiers"] == {"priority": {"input_mtok": 4.25, "output_mtok": 17, "cache_read_mtok": 1.25}}
    assert (gpt4o["batch_input_mtok"], gpt4o["batch_output_mtok"]) == (1.25, 5)
    assert "from 2026-10-12" in gpt4o["notes"]
    bedrock = _model(catalog, "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0")  # litellm's *_priority keys
    assert bedrock["service_tiers"]["priority"] == {"input_mtok": 5.1, "output_mtok": 25.5}


def test_long_context_thresholds_above_and_at_or_above(catalog: dict[str, Any]) -> None:
    gpt54 = _model(catalog, "gpt-5.4")
    assert gpt54["long_context"] == {"threshold_tokens": 272000, "inclusive": False, "input_mtok": 5,
                                     "output_mtok": 22.5}
    assert gpt54["request_fee"] == 0.003  # requests_kcount $3 per thousand
    grok = _model(catalog, "grok-4")  # genai-prices bills tiers when input > start: 199999 = at or above 200K
    assert grok["id"] == "grok-4-0709" and grok["provider"] == "xai"
    assert grok["long_context"]["threshold_tokens"] == 200000 and grok["long_context"]["inclusive"] is True
    bedrock = _model(catalog, "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0")
    assert bedrock["long_context"] == {"threshold_tokens": 200000, "inclusive": False, "input_mtok": 6,
                                       "output_mtok": 22.5}


def test_disagreement_keeps_genai_prices_and_says_so(catalog: dict[str, Any]) -> None:
    gpt54 = _model(catalog, "gpt-5.4")
    assert (gpt54["input_mtok"], gpt54["output_mtok"]) == (2.5, 15)
    assert "litellm 1.0.0 'gpt-5.4' gives $2/$15" in gpt54["notes"]
    assert gpt54["source"] == "genai-prices 0.1.0 openai/gpt-5.4; litellm 1.0.0 'gpt-5.4'"
    assert gpt54["context_window"] == 1050000  # a field only litellm has is added


def test_match_rules_and_time_of_day(catalog: dict[str, Any]) -> None:
    chat = _model(catalog, "deepseek-chat")
    assert (chat["input_mtok"], chat["output_mtok"]) == (0.27, 1.1)  # in force 16 of 24 hours
    assert "time-of-day prices not modeled" in chat["notes"] and "$0.135/$0.55 at other times" in chat["notes"]
    assert "deepseek-chat-v3" in chat["aliases"]  # litellm's key, priced by genai-prices' starts_with rule


def test_rule_match_at_another_price_stays_apart(catalog: dict[str, Any]) -> None:
    eu = _model(catalog, "deepseek-chat-eu")
    assert eu["id"] == "deepseek-chat-eu" and (eu["input_mtok"], eu["output_mtok"]) == (0.3, 1.2)
    assert "genai-prices' match rules price this name as 'deepseek-chat' at $0.27/$1.1" in eu["notes"]
    assert "deepseek-chat-eu" not in _model(catalog, "deepseek-chat")["aliases"]


def test_float_noise_is_rounded_and_said(catalog: dict[str, Any]) -> None:
    qwen = _model(catalog, "novita/qwen/qwen3-32b")
    assert "float noise" in qwen["notes"]
    sources = build_catalog.Sources("1.0.0", _litellm_data(), date(2026, 11, 20), "0.1.0", [], None)
    text = build_catalog.build(sources, {}).text
    assert "  input_mtok: 1.6\n" in text and "1.6000000000000001" not in text


def test_names_genai_prices_prices_by_rule_are_aliases(catalog: dict[str, Any]) -> None:
    sonnet = _model(catalog, "claude-sonnet-4-20250514")  # from litellm's Bedrock key, unwrapped
    assert sonnet["id"] == "claude-sonnet-4-0" and "claude-sonnet-4" in sonnet["aliases"]
    assert "claude-sonnet-4-2025" not in sonnet["aliases"]  # a rule's fragment is not a name


def test_aliases_never_shadow_a_first_party_model(tmp_path: Path, catalog: dict[str, Any]) -> None:
    router = _model(catalog, "openrouter/openai/gpt-4o")
    assert "openai/gpt-4o" not in router.get("aliases", [])  # resolution finds OpenAI's own gpt-4o
    assert "xai/grok-4" not in _model(catalog, "replicate/xai/grok-4").get("aliases", [])
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(catalog), encoding="utf-8")
    loaded = load_catalog(path, snapshot=False)
    assert loaded.resolve("openai/gpt-4o") == "gpt-4o"
    assert loaded.resolve("x-ai/grok-4") == "grok-4-0709"


def test_ids_providers_and_aliases(catalog: dict[str, Any]) -> None:
    assert _model(catalog, "gemini-2.0-flash")["provider"] == "gemini"
    assert _model(catalog, "gemini-2.0-flash")["audio_input_mtok"] == 0.7
    vertex = _model(catalog, "vertex_ai/gemini-2.0-flash")
    assert vertex["provider"] == "vertex_ai" and vertex["input_mtok"] == 0.15
    groq = _model(catalog, "llama-3.3-70b-versatile")  # two hosts: the one genai-prices prices gets the bare name
    assert groq["id"] == "groq/llama-3.3-70b-versatile"
    router = _model(catalog, "anthropic/claude-4.5-sonnet-20250929")
    assert router["id"] == "openrouter/anthropic/claude-sonnet-4.5" and router["provider"] == "openrouter"
    ids = [m["id"] for m in catalog["models"]]
    names = [n.lower() for m in catalog["models"] for n in (m["id"], *m.get("aliases", []))]
    assert len(names) == len(set(names))
    assert "text-embedding-3-small" not in ids and "text-embedding-3-large" not in ids and "whisper-x" not in ids
    assert _model(catalog, "gpt-4o")["tokenizer"] == "o200k_base"
    assert _model(catalog, "gpt-3.5-turbo")["tokenizer"] == "cl100k_base"


def test_only_curated_models_get_tiers(catalog: dict[str, Any]) -> None:
    tiers = {m["id"]: m["tier"] for m in catalog["models"] if "tier" in m}
    assert tiers == {"gpt-4o": "warm", "gpt-3.5-turbo": "cold", "grok-4-0709": "hot"}


def test_output_loads_with_the_catalog_schema(tmp_path: Path, catalog: dict[str, Any]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(catalog), encoding="utf-8")
    loaded = load_catalog(path, snapshot=False)
    assert loaded.resolve("gpt-4o-2024-08-06") == "gpt-4o"
    assert loaded.resolve("gpt-4o-2024-05-13") == "gpt-4o-2024-05-13"
    assert str(loaded.as_of) == "2026-11-20"


def _wheels(tmp_path: Path) -> tuple[Path, Path]:
    litellm = tmp_path / "litellm-1.0.0-cp310-abi3-manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(litellm, "w") as zf:
        zf.writestr("litellm/model_prices_and_context_window_backup.json", _litellm_text())
        zf.writestr("litellm-1.0.0.dist-info/sboms/litellm-python-bridge.cyclonedx.json",
                    json.dumps({"metadata": {"timestamp": "2026-11-20T03:38:35Z"}}))
    spec = importlib.util.find_spec("genai_prices")
    assert spec is not None and spec.origin is not None
    package = Path(spec.origin).parent
    genai = tmp_path / "genai_prices-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(genai, "w") as zf:
        for source in sorted(package.glob("*.py")):
            if source.name != "data.py":
                zf.write(source, f"genai_prices/{source.name}")
        zf.writestr(zipfile.ZipInfo("genai_prices/data.py", date_time=(2020, 2, 2, 0, 0, 0)), GENAI_DATA)
    return litellm, genai


def test_generator_is_deterministic_and_reports(tmp_path: Path) -> None:
    litellm, genai = _wheels(tmp_path)
    none = tmp_path / "no-overrides.yaml"  # the real corrections name models these small wheels lack
    none.write_text("[]\n")
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"catalog-{seed}.yaml"
        run = subprocess.run(
            [sys.executable, str(TOOLS / "build_catalog.py"), "--litellm-wheel", str(litellm),
             "--genai-prices-wheel", str(genai), "--output", str(out), "--overrides", str(none)],
            capture_output=True, text=True, check=False, env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert run.returncode == 0, run.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert "models: " in run.stderr and "disagreements (genai-prices kept): 1" in run.stderr
    assert "no input and output token prices" in run.stderr  # the embedding model, skipped with its reason
    data = yaml.safe_load(outputs[0])
    assert data["source"] == ("litellm 1.0.0 (model_prices_and_context_window_backup.json) + "
                              "genai-prices 0.1.0 (data.py)")
    assert data["as_of"] == date(2026, 11, 20)  # litellm's SBOM; genai-prices' fixed zip date does not count
    assert "genai-prices 0.1.0's wheel carries no release date" in data["notes"]


def test_generator_refuses_a_bad_wheel(tmp_path: Path) -> None:
    bad = tmp_path / "litellm-1.0.0-x.whl"
    bad.write_bytes(b"not a zip")
    _, genai = _wheels(tmp_path)
    run = subprocess.run(
        [sys.executable, str(TOOLS / "build_catalog.py"), "--litellm-wheel", str(bad),
         "--genai-prices-wheel", str(genai), "--output", str(tmp_path / "out.yaml")],
        capture_output=True, text=True, check=False,
    )
    assert run.returncode == 2 and "build_catalog:" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out.yaml").exists()


def test_bundled_default_has_the_models_real_logs_name() -> None:
    path = ROOT / "src" / "llmcost" / "catalogs" / "default.yaml"
    loaded = load_catalog(path, snapshot=False)
    assert len(loaded.models) > 4000
    for name in ("claude-opus-4-6", "gpt-5-pro", "gpt-4.5-preview", "gpt-4o-audio-preview",
                 "x-ai/grok-4", "anthropic/claude-4.5-sonnet-20250929", "llama-3.3-70b-versatile"):
        assert loaded.resolve(name) is not None, name
    # an open-weights model costs what its host bills: priced when the log names the host, never at a guess
    assert loaded.resolve("gpt-oss-120b") is None
    assert loaded.resolve("gpt-oss-120b", "groq") == "groq/openai/gpt-oss-120b"
    for name, prices in (("gpt-4o-2024-05-13", (5, 15)), ("gpt-3.5-turbo-1106", (1, 2)),
                         ("gemini-2.0-flash", (Decimal("0.1"), Decimal("0.4")))):
        model = loaded.model(loaded.resolve(name) or "")
        assert model.id == name and (model.input_mtok, model.output_mtok) == prices
    assert loaded.model("vertex_ai/gemini-2.0-flash").input_mtok == Decimal("0.15")


def test_overrides_drop_add_and_alias() -> None:
    from catalog_entries import Entry

    def entry(mid: str) -> Entry:
        return Entry(id=mid, provider="openai", prices={"input_mtok": Decimal(1)}, sources=["x"], origin="litellm")

    entries = [entry("gpt-oss-120b"), entry("gpt-4.5-preview")]
    build_catalog.apply_overrides(entries, [
        {"id": "gpt-oss-120b", "drop": True, "why": "not served", "set": {}},
        {"id": "gpt-4.5-preview", "aliases": ["gpt-4.5-preview-2025-02-27"], "why": "its snapshot", "set": {}},
        {"id": "pointer-latest", "provider": "mistral", "why": "moved", "set": {"input_mtok": Decimal("0.5")}}])
    assert [e.id for e in entries] == ["gpt-4.5-preview", "pointer-latest"]
    assert entries[0].names == ["gpt-4.5-preview-2025-02-27"] and entries[1].provider == "mistral"


def test_overrides_replace_fields_with_their_reason_and_refuse_an_unknown_id() -> None:
    from catalog_entries import Entry

    entry = Entry(id="deepseek-chat", provider="deepseek", prices={"input_mtok": Decimal("0.27")},
                  sources=["genai-prices x deepseek/deepseek-chat"], origin="genai-prices")
    fix = {"id": "DeepSeek-Chat", "why": "the provider's page", "set": {"input_mtok": Decimal("0.28")}}
    build_catalog.apply_overrides([entry], [fix])
    assert entry.prices["input_mtok"] == Decimal("0.28")
    assert entry.notes[-1] == "corrected (input_mtok): the provider's page"
    with pytest.raises(build_catalog.BuildError, match="no entry 'gone'"):
        build_catalog.apply_overrides([entry], [{**fix, "id": "gone"}])


def test_the_bundled_overrides_are_exact_decimals_with_a_reason() -> None:
    for item in build_catalog.overrides():
        assert item["why"].strip() and (item["set"] or item.get("drop") or item.get("aliases"))
        prices = [v for k, v in item["set"].items() if k.endswith("_mtok")]
        assert all(isinstance(v, Decimal) for v in prices)
    chat = next(i for i in build_catalog.overrides() if i["id"] == "deepseek-chat")
    assert chat["set"]["output_mtok"] == Decimal("0.42") and chat["set"]["cache_read_mtok"] == Decimal("0.028")


def test_default_catalog_prices_deepseek_on_both_sides_of_its_price_changes() -> None:
    catalog = load_catalog("default")
    model = catalog.model("deepseek-chat")
    assert (model.input_mtok, model.output_mtok) == (Decimal("0.28"), Decimal("0.42"))
    assert [p.input_mtok for p in model.price_history] == [Decimal("0.27"), Decimal("0.56")]
    assert catalog.model(catalog.resolve("claude-sonnet-4-20250514") or "").long_context is not None


def test_anthropic_models_without_batch_prices_get_anthropics_half_price_rule() -> None:
    from catalog_entries import Entry

    plain = Entry(id="claude-x", provider="anthropic", sources=["s"], origin="genai-prices",
                  prices={"input_mtok": Decimal(3), "output_mtok": Decimal(15)})
    listed = Entry(id="claude-y", provider="anthropic", sources=["s"], origin="genai-prices",
                   prices={"input_mtok": Decimal(3), "output_mtok": Decimal(15), "batch_input_mtok": Decimal(2)})
    other = Entry(id="gpt-x", provider="openai", sources=["s"], origin="genai-prices",
                  prices={"input_mtok": Decimal(3), "output_mtok": Decimal(15)})
    build_catalog.anthropic_batch_rule([plain, listed, other])
    assert (plain.prices["batch_input_mtok"], plain.prices["batch_output_mtok"]) == (Decimal("1.5"), Decimal("7.5"))
    assert listed.prices["batch_input_mtok"] == Decimal(2) and "batch_output_mtok" not in listed.prices
    assert "batch_input_mtok" not in other.prices
    sonnet = load_catalog("default").model("claude-sonnet-4-0")
    assert (sonnet.batch_input_mtok, sonnet.batch_output_mtok) == (Decimal("1.5"), Decimal("7.5"))
