"""The fast path of ``catalog list``: the bundled catalogs' validated snapshot, the rows read from it without
pydantic, and the rich-free table text.

All are shortcuts that must never change a result: the snapshot must be what the YAML validates to (and
is ignored the moment the YAML changes), the light rows must print what the validated catalog prints, and
the plain text must be exactly what rich prints.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from llmcost import catalog as catalog_mod
from llmcost import yamlfile
from llmcost.catalog import Catalog, LongContext, ModelPrice, Rates, bundled_catalogs, load_catalog
from llmcost.catalog import snapshot as catalog_snapshot
from llmcost.catalog.snapshot import ModelRow
from llmcost.cli.catalog_cmd import _chosen as chosen  # the filter of --provider and --tier
from llmcost.report.catalog_view import catalog_table, catalog_text, natural_width

WIDTH = 140
USER_CATALOG = """\
source: my sheet
as_of: 2026-01-02
models:
  - id: alpha
    provider: p
    input_mtok: 1
    output_mtok: 2
  - id: beta
    provider: p
    input_mtok: 1
    output_mtok: 2
"""


def rich_text(cat: Catalog, models: Any, width: int = WIDTH) -> str:
    """What ``catalog list`` printed before the fast path: rich on a plain console (see cli.common.out_console)."""
    out = io.StringIO()
    Console(file=out, width=width, highlight=False, no_color=True, soft_wrap=False).print(catalog_table(cat, models))
    return out.getvalue()


@pytest.fixture
def yaml_loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records every catalog file parsed as YAML."""
    seen: list[Path] = []
    real = yamlfile.load

    def spy(path: Path, *args: Any) -> Any:
        seen.append(path)
        return real(path, *args)

    monkeypatch.setattr(yamlfile, "load", spy)
    return seen


@pytest.fixture
def catalog_copy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A private copy of the bundled catalogs and their snapshot, used in place of the real ones."""
    root = tmp_path / "catalogs"
    shutil.copytree(catalog_snapshot.CATALOG_DIR, root)
    monkeypatch.setattr(catalog_snapshot, "CATALOG_DIR", root)
    monkeypatch.setattr(catalog_snapshot, "SNAPSHOT_DIR", root / catalog_snapshot.SNAPSHOT_DIR.name)
    return root


# ---------------------------------------------------------------- the snapshot


def test_snapshot_file_is_up_to_date_with_the_bundled_yaml() -> None:
    texts = catalog_mod.snapshot_texts()
    files = sorted(p.stem for p in catalog_snapshot.SNAPSHOT_DIR.glob("*.json"))
    assert files == sorted(texts), "regenerate the snapshots with `.venv/bin/python -m llmcost.catalog`"
    for name, text in texts.items():
        assert catalog_snapshot.snapshot_file(name).read_text(encoding="utf-8") == text, (
            f"bundled catalog {name} changed: regenerate the snapshot with `.venv/bin/python -m llmcost.catalog`")


@pytest.mark.parametrize("name", sorted(bundled_catalogs()))
def test_snapshot_gives_exactly_the_catalog_the_yaml_validates_to(name: str, yaml_loads: list[Path]) -> None:
    from_yaml = load_catalog(name, snapshot=False)
    assert yaml_loads == [bundled_catalogs()[name]]
    fast = load_catalog(name)
    assert len(yaml_loads) == 1, "the bundled catalog was parsed as YAML again"
    assert fast == from_yaml
    assert repr(fast) == repr(from_yaml)  # Decimal exponents too: Decimal('2.50') would differ from '2.5'
    assert fast.model_dump() == from_yaml.model_dump()
    assert fast.model_fields_set == from_yaml.model_fields_set
    for a, b in zip(fast.models, from_yaml.models, strict=True):
        assert a.model_fields_set == b.model_fields_set


def test_default_catalog_values_through_the_snapshot(yaml_loads: list[Path]) -> None:
    cat = load_catalog()
    assert yaml_loads == []
    assert len(cat.models) > 4000 and cat.as_of == date(2026, 11, 20)
    gpt4o = cat.model("gpt-4o")
    assert (gpt4o.input_mtok, gpt4o.output_mtok, gpt4o.cache_read_mtok) == (Decimal("2.5"), Decimal(10),
                                                                            Decimal("1.25"))
    assert cat.resolve("openai/gpt-4o-2024-08-06") == "gpt-4o"
    frontier = load_catalog("frontier")
    assert yaml_loads == [] and len(frontier.models) == 48 and frontier.as_of == date(2026, 11, 12)


def test_edited_bundled_yaml_is_read_not_the_stale_snapshot(catalog_copy: Path, yaml_loads: list[Path]) -> None:
    path = catalog_copy / "frontier.yaml"
    text = path.read_text(encoding="utf-8")
    assert "- id: gpt-4o\n" in text
    path.write_text(text.replace("- id: gpt-4o\n", "- id: gpt-4o-edited\n", 1), encoding="utf-8")
    assert catalog_snapshot.listing("frontier") is None
    cat = load_catalog("frontier")
    assert yaml_loads == [path]
    assert "gpt-4o-edited" in cat.by_id and "gpt-4o" not in cat.by_id


def test_edited_bundled_yaml_with_an_error_fails_as_any_catalog(catalog_copy: Path, cli: Any) -> None:
    path = catalog_copy / "frontier.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("- id: gpt-4o\n", "- id: gpt-4o\n  colour: red\n", 1), encoding="utf-8")
    result = cli("catalog", "list", "--catalog", "frontier")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert f"{path}" in result.stderr and "field 'models[0].colour'" in result.stderr
    assert "unknown field" in result.stderr and "'gpt-4o'" in result.stderr


@pytest.mark.parametrize("damage", ["missing", "not json", "stale entry", "no entry", "not a catalog", "a list"])
def test_damaged_snapshot_falls_back_to_the_yaml(catalog_copy: Path, yaml_loads: list[Path], damage: str) -> None:
    snapshot = catalog_snapshot.snapshot_file("article-sheet-a")
    text = snapshot.read_text(encoding="utf-8")
    if damage == "missing":
        snapshot.unlink()
    elif damage == "not json":
        snapshot.write_text(text[: len(text) // 2], encoding="utf-8")
    elif damage == "stale entry":
        snapshot.write_text(text.replace('"yaml_sha256": "', '"yaml_sha256": "0', 1), encoding="utf-8")
    elif damage == "no entry":
        snapshot.write_text('{"catalogs": {}}', encoding="utf-8")
    elif damage == "not a catalog":
        sha = hashlib.sha256((catalog_copy / "article-sheet-a.yaml").read_bytes()).hexdigest()
        snapshot.write_text(json.dumps({"catalogs": {"article-sheet-a": {"yaml_sha256": sha, "catalog": {}}}}),
                            encoding="utf-8")
    else:
        snapshot.write_text("[1, 2]", encoding="utf-8")
    assert catalog_snapshot.listing("article-sheet-a") is None
    cat = load_catalog("article-sheet-a")
    assert yaml_loads == [catalog_copy / "article-sheet-a.yaml"]
    assert cat == load_catalog("article-sheet-a", snapshot=False)


def test_user_copy_of_a_bundled_catalog_is_parsed_as_yaml(tmp_path: Path, yaml_loads: list[Path]) -> None:
    path = tmp_path / "frontier.yaml"
    shutil.copyfile(bundled_catalogs()["frontier"], path)
    assert load_catalog(path) == load_catalog("frontier")
    assert yaml_loads == [path]


def test_validate_always_reads_the_yaml(cli: Any, yaml_loads: list[Path]) -> None:
    path = bundled_catalogs()["frontier"]
    result = cli("catalog", "validate", str(path))
    assert result.exit_code == 0, result.stderr
    assert yaml_loads == [path]


def test_list_of_a_bad_user_catalog_names_file_model_and_field(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(USER_CATALOG.replace("    output_mtok: 2\n  - id: beta", "    output_mtok: -2\n  - id: beta"))
    result = cli("catalog", "list", "--catalog", str(path))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert str(path) in line and "field 'models[0].output_mtok'" in line and "(in 'alpha')" in line
    assert "greater than or equal to 0" in line


# ---------------------------------------------------------------- the plain table text


def filters(cat: Catalog) -> list[tuple[ModelPrice, ...]]:
    """The whole catalog, none, each tier, and each provider (the 12 biggest of a catalog with many)."""
    by_size: dict[str, int] = {}
    for m in cat.models:
        by_size[m.provider] = by_size.get(m.provider, 0) + 1
    providers = sorted(sorted(by_size, key=lambda p: (-by_size[p], p))[:12])
    tiers = sorted({m.tier or "" for m in cat.models})
    chosen = [cat.models, (), *(tuple(m for m in cat.models if m.provider == p) for p in providers),
              *(tuple(m for m in cat.models if (m.tier or "") == t) for t in tiers)]
    return [models[:400] for models in chosen]  # rich takes seconds per thousand rows


@pytest.mark.parametrize("name", sorted(bundled_catalogs()))
def test_plain_text_is_what_rich_prints_for_every_bundled_catalog_and_filter(name: str) -> None:
    cat = load_catalog(name)
    for models in filters(cat):
        text = catalog_text(cat, models, WIDTH, grow=True)  # piped: as wide as the cells need
        assert text is not None, "the bundled catalogs must take the fast path"
        assert text == rich_text(cat, models, max(WIDTH, natural_width(models)))


def test_cli_list_prints_the_rich_table_text(cli: Any) -> None:
    cat = load_catalog()
    result = cli("catalog", "list", "--tier", "hot")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == rich_text(cat, cat.in_tier("hot"))
    assert "│ claude-opus-4-7 " in result.stdout


def test_cli_list_uses_rich_when_colour_is_forced(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import llmcost.report.catalog_view as view

    def no_fast_path(*args: Any) -> None:
        raise AssertionError("catalog_text called although FORCE_COLOR asks rich for a terminal")

    monkeypatch.setattr(view, "catalog_text", no_fast_path)
    monkeypatch.setenv("FORCE_COLOR", "1")
    result = cli("catalog", "list", "--provider", "openai")
    assert result.exit_code == 0, result.stderr
    assert "gpt-4o" in result.stdout


def test_table_wider_than_the_console_is_left_to_rich() -> None:
    cat = load_catalog()
    wide = cat.models[0].model_copy(update={"id": "x" * 120})
    assert catalog_text(cat, [wide], WIDTH) is None
    assert catalog_text(cat, cat.models, 100) is None


@pytest.mark.parametrize("source", ["two  spaces", " leading", "trailing ", "tab\there", "wide 価格", "a" * 130,
                                    "combining e\u0301"])
def test_text_rich_might_lay_out_differently_is_left_to_rich(source: str) -> None:
    cat = load_catalog().model_copy(update={"source": source})
    assert catalog_text(cat, cat.models[:3], WIDTH) is None


PLAIN_WORD = st.text(alphabet="abcxyz-_./()0123456789—", min_size=1, max_size=14)
ODD_WORD = st.sampled_from(["é", "価格", "x" * 45, "tab\tx", ""])  # combining, wide, long, control, "  "
IDS = st.lists(st.text(alphabet="abcdef-.0123456789", min_size=1, max_size=30), max_size=4, unique=True)


def catalog_of(source: str, ids: list[str], provider: str) -> tuple[Catalog, tuple[ModelPrice, ...]]:
    base = load_catalog("article-sheet-a")
    models = tuple(base.models[0].model_copy(update={"id": mid, "aliases": (), "provider": provider})
                   for mid in ids)
    return base.model_copy(update={"source": source, "models": models}), models


@settings(max_examples=150, deadline=None)
@given(source=st.lists(PLAIN_WORD, min_size=1, max_size=30).map(" ".join), ids=IDS,
       provider=st.text(alphabet="abcp-", max_size=12), width=st.integers(150, 200))
def test_plain_text_is_what_rich_prints_for_generated_catalogs(source: str, ids: list[str], provider: str,
                                                               width: int) -> None:
    cat, models = catalog_of(source, ids, provider)
    text = catalog_text(cat, models, width)
    assert text is not None
    assert text == rich_text(cat, models, width)


@settings(max_examples=150, deadline=None)
@given(source=st.lists(PLAIN_WORD | ODD_WORD, min_size=1, max_size=14).map(" ".join), ids=IDS,
       provider=st.text(alphabet="abcp -", max_size=12), width=st.integers(60, 200))
def test_plain_text_is_what_rich_prints_or_nothing(source: str, ids: list[str], provider: str, width: int) -> None:
    cat, models = catalog_of(source, ids, provider)
    text = catalog_text(cat, models, width)
    if text is not None:
        assert text == rich_text(cat, models, width)


# ---------------------------------------------------------------- the rows read without pydantic


@pytest.fixture
def no_pydantic_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """``catalog list`` fails if it loads the catalog through pydantic: proves it took the light rows."""

    def refuse(*args: Any, **kwargs: Any) -> Catalog:
        raise AssertionError("catalog list validated the catalog with pydantic")

    monkeypatch.setattr(catalog_mod, "load_catalog", refuse)


def list_filters(cat: Catalog) -> list[tuple[str | None, str | None]]:
    providers = [None, "nope", *sorted({m.provider for m in cat.models})]
    tiers = [None, "nope", *sorted({m.tier for m in cat.models if m.tier})]
    return [(p, t) for p in providers for t in tiers]


def test_listing_knows_exactly_the_fields_of_the_schema() -> None:
    assert set(Catalog.model_fields) == catalog_snapshot.CATALOG_FIELDS
    assert set(ModelPrice.model_fields) == catalog_snapshot.MODEL_FIELDS
    assert set(LongContext.model_fields) == catalog_snapshot.LONG_CONTEXT_FIELDS
    assert set(Rates.model_fields) == catalog_snapshot.RATE_FIELDS


@pytest.mark.parametrize("name", sorted(bundled_catalogs()))
def test_listing_rows_hold_the_validated_catalogs_values(name: str) -> None:
    rows, cat = catalog_snapshot.listing(name), load_catalog(name)
    assert rows is not None
    assert (rows.source, rows.as_of) == (cat.source, cat.as_of)
    assert [r.id for r in rows.models] == [m.id for m in cat.models]
    for row, model in zip(rows.models, cat.models, strict=True):
        for field in ModelRow._fields:
            if field != "long_context":
                assert repr(getattr(row, field)) == repr(getattr(model, field)), (row.id, field)
        assert repr(row.batch_discount_fraction) == repr(model.batch_discount_fraction)
        assert (row.long_context and row.long_context.threshold_tokens) == (
            model.long_context and model.long_context.threshold_tokens)


@pytest.mark.parametrize("name", sorted(bundled_catalogs()))
def test_listing_text_is_the_validated_catalogs_text_for_every_filter(name: str) -> None:
    rows, cat = catalog_snapshot.listing(name), load_catalog(name)
    assert rows is not None
    for provider, tier in list_filters(cat):
        light = catalog_text(rows, chosen(rows.models, provider, tier), WIDTH, grow=True)
        assert light is not None
        assert light == catalog_text(cat, chosen(cat.models, provider, tier), WIDTH, grow=True), (provider, tier)


@pytest.mark.parametrize(("name", "args"), [
    ("frontier", ()), ("frontier", ("--tier", "hot")), ("frontier", ("--provider", "anthropic")),
    ("frontier", ("--provider", "openai", "--tier", "warm")), ("frontier", ("--tier", "nope")),
    ("article-sheet-a", ()), ("article-sheet-a", ("--tier", "cold")), ("article-sheet-b", ()),
])
def test_cli_list_of_a_bundled_catalog_prints_rich_text_without_pydantic(
        cli: Any, no_pydantic_catalog: None, name: str, args: tuple[str, ...]) -> None:
    cat = catalog_mod.Catalog.model_validate(catalog_snapshot.snapshot_entry(bundled_catalogs()[name]))
    provider = args[args.index("--provider") + 1] if "--provider" in args else None
    tier = args[args.index("--tier") + 1] if "--tier" in args else None
    expected = rich_text(cat, chosen(cat.models, provider, tier))
    assert cli("catalog", "list", "--catalog", name, *args).stdout == expected


def test_cli_list_of_the_default_catalog_takes_the_light_rows(cli: Any, no_pydantic_catalog: None) -> None:
    result = cli("catalog", "list", "--provider", "deepseek")
    assert result.exit_code == 0, result.stderr
    assert "│ deepseek-chat " in result.stdout and "genai-prices 0.2.3" in result.stdout


def test_cli_list_of_the_catalog_named_in_the_environment_takes_the_light_rows(
        cli: Any, no_pydantic_catalog: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMCOST_CATALOG", "article-sheet-b")
    result = cli("catalog", "list")
    assert result.exit_code == 0, result.stderr
    assert "Project source article, price sheet B" in result.stdout


def test_cli_list_of_an_edited_bundled_catalog_shows_the_edit(catalog_copy: Path, cli: Any) -> None:
    path = catalog_copy / "frontier.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("- id: gpt-4o\n", "- id: gpt-4o-edited\n", 1),
                    encoding="utf-8")
    result = cli("catalog", "list", "--provider", "openai", "--catalog", "frontier")
    assert result.exit_code == 0, result.stderr
    assert "│ gpt-4o-edited " in result.stdout and "│ gpt-4o " not in result.stdout


def test_user_catalog_is_not_listed_from_the_snapshot(tmp_path: Path, cli: Any) -> None:
    path = tmp_path / "frontier.yaml"
    shutil.copyfile(bundled_catalogs()["frontier"], path)
    assert catalog_snapshot.listing(path) is None
    assert catalog_snapshot.listing(tmp_path / "missing.yaml") is None
    result = cli("catalog", "list", "--catalog", str(path), "--tier", "hot")
    assert result.exit_code == 0, result.stderr
    cat = load_catalog("frontier")
    assert result.stdout == rich_text(cat, cat.in_tier("hot"))


def test_cli_list_of_a_missing_catalog_still_names_it(cli: Any, tmp_path: Path) -> None:
    result = cli("catalog", "list", "--catalog", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "nope.yaml" in result.stderr and "no such catalog" in result.stderr


# Entries whose YAML hash still matches but which the snapshot writer would never produce: the light
# reader refuses them, and `catalog list` prints what the pydantic path decides (it validates the entry in
# lax mode, or reads the YAML when the entry breaks the schema).
ODD_ENTRIES: dict[str, Any] = {
    "price as a number": ("models", 0, "input_mtok", 5),
    "negative price": ("models", 0, "input_mtok", "-1"),
    "price not a number": ("models", 0, "output_mtok", "abc"),
    "price NaN": ("models", 0, "output_mtok", "NaN"),
    "unknown model field": ("models", 0, "colour", "red"),
    "unknown catalog field": ("colour", "red"),
    "context as text": ("models", 1, "context_window", "128000"),
    "context as bool": ("models", 1, "context_window", True),
    "empty id": ("models", 1, "id", ""),
    "no input price": ("models", 0, "input_mtok", KeyError),
    "batch discount of 1": ("models", 0, "batch_discount", "1"),
    "no models": ("models", []),
    "a model is a list": ("models", 0, []),
    "bad date": ("as_of", "yesterday"),
    "long context without threshold": ("models", 0, "long_context", {"input_mtok": "1", "output_mtok": "2"}),
}


@pytest.mark.parametrize("odd", sorted(ODD_ENTRIES))
def test_odd_snapshot_entry_is_not_listed_from_the_light_rows(catalog_copy: Path, cli: Any, odd: str) -> None:
    *keys, value = ODD_ENTRIES[odd]
    snapshot = catalog_snapshot.snapshot_file("article-sheet-a")
    doc = json.loads(snapshot.read_text(encoding="utf-8"))
    target = doc["catalogs"]["article-sheet-a"]["catalog"]
    for key in keys[:-1]:
        target = target[key]
    if value is KeyError:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    snapshot.write_text(json.dumps(doc), encoding="utf-8")
    assert catalog_snapshot.listing("article-sheet-a") is None
    result = cli("catalog", "list", "--catalog", "article-sheet-a")
    cat = load_catalog("article-sheet-a")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == rich_text(cat, cat.models)


def test_batch_discount_fraction_is_stated_or_implied_by_the_batch_price() -> None:
    base = catalog_snapshot.listing("frontier")
    assert base is not None
    row = base.models[0]
    implied = row._replace(batch_discount=None, input_mtok=Decimal("2.5"), batch_input_mtok=Decimal("1.25"))
    assert implied.batch_discount_fraction == Decimal("0.5")
    assert row._replace(batch_discount=Decimal("0.4"), batch_input_mtok=Decimal("1")).batch_discount_fraction \
        == Decimal("0.4")
    assert implied._replace(input_mtok=Decimal(0)).batch_discount_fraction is None
    assert implied._replace(batch_input_mtok=None).batch_discount_fraction is None
    model = load_catalog("frontier").models[0].model_copy(
        update={"batch_discount": None, "input_mtok": Decimal("2.5"), "batch_input_mtok": Decimal("1.25")})
    assert model.batch_discount_fraction == Decimal("0.5")


