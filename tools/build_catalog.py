#!/usr/bin/env python3
"""Build llmcost's bundled default catalog from two pinned price databases on PyPI.

    python3 tools/build_catalog.py [--litellm-version 1.110.2] [--genai-prices-version 0.2.3]
        [--litellm-wheel PATH] [--genai-prices-wheel PATH] [--genai-prices-date YYYY-MM-DD] [--output FILE]

Downloads the two wheels with ``pip download --no-deps`` (or takes them by path), reads litellm's
``litellm/model_prices_and_context_window_backup.json`` (every price a Decimal from the JSON text) and
genai-prices' ``genai_prices/data.py`` (imported from the unpacked wheel), keeps every chat/completion model
of both, merges them (genai-prices first; see tools/catalog_merge.py) and writes one YAML catalog. The same
package versions give a byte-identical file. Counts go to stderr. docs/catalogs.md explains the rules.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import types
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import catalog_genai
import catalog_litellm
from catalog_entries import Entry, tokenizer_for
from catalog_merge import MergeReport, assign_aliases, assign_tiers, counts, fold_snapshots, merge

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "src" / "llmcost" / "catalogs" / "default.yaml"
CURATED = ROOT / "src" / "llmcost" / "catalogs" / "frontier.yaml"
LITELLM_JSON = "litellm/model_prices_and_context_window_backup.json"
LITELLM_SBOM = "sboms/litellm-python-bridge.cyclonedx.json"
REPRODUCIBLE_EPOCH = (2020, 2, 2)  # the fixed zip date of reproducible wheel builds: not a release date
FIELD_ORDER = (
    "id",
    "aliases",
    "provider",
    "tier",
    "source",
    "input_mtok",
    "output_mtok",
    "cache_read_mtok",
    "cache_write_mtok",
    "cache_write_1h_mtok",
    "audio_input_mtok",
    "audio_output_mtok",
    "cache_audio_read_mtok",
    "batch_input_mtok",
    "batch_output_mtok",
    "request_fee",
    "long_context",
    "service_tiers",
    "price_history",
    "context_window",
    "max_output_tokens",
    "tokenizer",
    "notes",
)


class BuildError(Exception):
    """A wheel that cannot be fetched or read."""


@dataclass(frozen=True)
class Sources:
    litellm_version: str
    litellm_data: dict[str, Any]
    litellm_date: date
    genai_version: str
    genai_providers: list[Any]
    genai_date: date | None


@dataclass(frozen=True)
class Build:
    text: str
    report: MergeReport
    stats: dict[str, Any]
    missing_tiers: list[str]


def fetch_wheels(litellm_version: str, genai_version: str, dest: Path) -> tuple[Path, Path]:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dest)]
    cmd += [f"litellm=={litellm_version}", f"genai-prices=={genai_version}"]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"pip download failed: {result.stderr.strip().splitlines()[-1:]}")
    return _one(dest, f"litellm-{litellm_version}-*.whl"), _one(dest, f"genai_prices-{genai_version}-*.whl")


def _one(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    if not found:
        raise BuildError(f"no wheel matching {pattern} in {folder}")
    return found[0]


def read_litellm_wheel(wheel: Path) -> tuple[str, dict[str, Any], date]:
    """(version, price data, release date from the wheel's CycloneDX SBOM timestamp)."""
    version = wheel.name.split("-")[1]
    with zipfile.ZipFile(wheel) as zf:
        data = catalog_litellm.load(zf.read(LITELLM_JSON).decode("utf-8"))
        sbom = json.loads(zf.read(f"litellm-{version}.dist-info/{LITELLM_SBOM}"))
    return version, data, date.fromisoformat(sbom["metadata"]["timestamp"][:10])


def read_genai_wheel(wheel: Path, unpack_to: Path) -> tuple[str, list[Any], date | None]:
    """(version, ``genai_prices.data.providers`` imported from the unpacked wheel, a release date if it has one)."""
    version = wheel.name.split("-")[1]
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(unpack_to)
        stamps = {info.date_time[:3] for info in zf.infolist()}
    if "genai_prices" in sys.modules:
        raise BuildError("genai_prices is already imported: run the generator in a fresh interpreter")
    # the package's __init__ (its HTTP updater and its dependencies) is not needed to read the data: an empty
    # package object pointing at the unpacked folder lets data.py import only .types and what that needs
    package = types.ModuleType("genai_prices")
    package.__path__ = [str(unpack_to / "genai_prices")]
    sys.modules["genai_prices"] = package
    try:
        module = importlib.import_module("genai_prices.data")
    except ImportError as exc:
        raise BuildError(f"cannot import the wheel's genai_prices/data.py ({exc}); run with .venv/bin/python") from exc
    if not str(module.__file__).startswith(str(unpack_to)):
        raise BuildError(f"imported {module.__file__}, not the wheel's data.py")
    released = None if stamps == {REPRODUCIBLE_EPOCH} or len(stamps) != 1 else date(*next(iter(stamps)))
    return version, list(module.providers), released


OVERRIDES = Path(__file__).with_name("catalog_overrides.yaml")


def overrides(path: Path = OVERRIDES) -> list[dict[str, Any]]:
    """Corrections with the provider rule that says so (tools/catalog_overrides.yaml); numbers as exact Decimals."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [{**item, "set": _decimals(item.get("set") or {})} for item in data]


def _decimals(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest repr is the decimal the YAML spells
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


def apply_overrides(entries: list[Entry], corrections: Sequence[dict[str, Any]]) -> None:
    """Apply each correction: replace the fields it ``set``s, add the ``aliases`` it names (names the provider
    documents as the same model at the same price), or ``drop`` the entry; with ``provider`` given, an id no
    entry has is added (a pointer such as ``mistral-large-latest`` priced apart from the model it once meant).
    Correcting an id no entry has is otherwise an error (the sources moved on)."""
    by_id = {e.id.lower(): e for e in entries}
    for item in corrections:
        entry = by_id.get(str(item["id"]).lower())
        if entry is None and item.get("provider"):
            entry = Entry(id=str(item["id"]), provider=str(item["provider"]), prices={}, sources=[],
                          origin="override")
            entries.append(entry)
            by_id[entry.id.lower()] = entry
        elif entry is None:
            raise BuildError(f"catalog_overrides.yaml: no entry '{item['id']}' to correct")
        if item.get("drop"):
            entries.remove(entry)
            continue
        entry.prices.update(item["set"])
        entry.names += [str(a) for a in item.get("aliases", [])]
        what = [*item["set"], *(["aliases"] if item.get("aliases") else [])]
        entry.notes.append(f"corrected ({', '.join(what)}): {item['why']}")
        entry.sources.append("tools/catalog_overrides.yaml")


def anthropic_batch_rule(entries: list[Entry]) -> None:
    """Anthropic bills Message Batches at 50% of every standard rate, for every model (its pricing page; genai-
    prices quotes the rule in its provider comments but lists batch prices only for the models of Anthropic's
    current batch table). An Anthropic entry with no batch prices gets them by that rule, said in its notes."""
    half = Decimal("0.5")
    for entry in entries:
        prices = entry.prices
        if entry.provider != "anthropic" or "batch_input_mtok" in prices or "batch_output_mtok" in prices:
            continue
        if prices.get("input_mtok") is None or prices.get("output_mtok") is None:
            continue
        prices["batch_input_mtok"] = (prices["input_mtok"] * half).normalize()
        prices["batch_output_mtok"] = (prices["output_mtok"] * half).normalize()
        entry.notes.append("batch rates by Anthropic's rule: Message Batches bill 50% of every standard rate")


def drop_claimed_aliases(entries: list[Entry], corrections: Sequence[dict[str, Any]]) -> None:
    """A corrected or added entry's id is nobody's alias (``mistral-large-latest`` no longer means
    ``mistral-large``)."""
    claimed = {str(item["id"]).lower() for item in corrections if item.get("set") or item.get("drop")}
    for entry in entries:
        entry.aliases = {a for a in entry.aliases if a.lower() not in claimed}


def curated_tiers(path: Path = CURATED) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {m["id"]: m["tier"] for m in data["models"] if m.get("tier")}


def build(sources: Sources, tiers: dict[str, str], corrections: Sequence[dict[str, Any]] = ()) -> Build:
    as_of = max(d for d in (sources.litellm_date, sources.genai_date) if d is not None)
    report = MergeReport()
    genai, skipped_genai = catalog_genai.read_providers(sources.genai_providers, sources.genai_version, as_of)
    litellm, skipped_litellm = catalog_litellm.read(sources.litellm_data, sources.litellm_version)
    report.skipped += skipped_genai + skipped_litellm
    entries = merge(genai, litellm, report, catalog_genai.matcher(sources.genai_providers))
    apply_overrides(entries, corrections)
    anthropic_batch_rule(entries)
    corpus = catalog_litellm.model_names(sources.litellm_data) | set(tiers)
    corpus |= {name.rsplit("/", 1)[-1] for e in genai for name in (e.id, *e.names)}
    by_rule = catalog_genai.rule_names(sources.genai_providers, corpus)
    for entry in entries:
        entry.names += by_rule.get(entry.id.lower(), []) if entry.origin == "genai-prices" else []
    entries = fold_snapshots(entries, report)
    assign_aliases(entries, report)
    drop_claimed_aliases(entries, corrections)
    missing = assign_tiers(entries, tiers)
    entries.sort(key=lambda e: (e.provider, e.id.lower()))
    document = {
        "source": (
            f"litellm {sources.litellm_version} (model_prices_and_context_window_backup.json) + "
            f"genai-prices {sources.genai_version} (data.py)"
        ),
        "as_of": as_of,
        "notes": _top_notes(sources, as_of),
        "tiers": ["economy", "cold", "warm", "hot"],
        "models": [_model(e) for e in entries],
    }
    return Build(_dump(document), report, counts(entries), missing)


def _top_notes(sources: Sources, as_of: date) -> str:
    genai_date = (
        f"genai-prices {sources.genai_version}: {sources.genai_date} (the wheel's file dates)"
        if sources.genai_date
        else f"genai-prices {sources.genai_version}'s wheel carries no release date (every zip entry has the fixed "
        "2020-02-02 of reproducible builds), so it does not count"
    )
    return (
        f"Generated by tools/build_catalog.py; do not edit by hand. as_of {as_of} is the newer package date: litellm "
        f"{sources.litellm_version}: {sources.litellm_date} (the CycloneDX SBOM timestamp in its wheel); {genai_date}. "
        "USD per million tokens. genai-prices prices every model it has; litellm fills the rest. "
        "Each model's source names the key(s) its prices came from; its notes say what is not modeled."
    )


def _model(entry: Entry) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": entry.id,
        "aliases": sorted(entry.aliases, key=str.lower) or None,
        "provider": entry.provider,
        "tier": entry.tier,
        "source": "; ".join(entry.sources),
        **entry.prices,
        "context_window": entry.context_window,
        "max_output_tokens": entry.max_output_tokens,
        "tokenizer": tokenizer_for(entry.id, entry.provider),
        "notes": "; ".join(dict.fromkeys(entry.notes)) or None,
    }
    required = ("id", "provider", "input_mtok", "output_mtok")
    return {k: fields[k] for k in FIELD_ORDER if k in fields and (fields[k] is not None or k in required)}


class _Dumper(yaml.SafeDumper):
    pass


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    text = format(value, "f")
    return dumper.represent_scalar("tag:yaml.org,2002:" + ("float" if "." in text else "int"), text)


_Dumper.add_representer(Decimal, _decimal)


def _dump(document: dict[str, Any]) -> str:
    header = "# Generated by tools/build_catalog.py from pinned PyPI wheels; see docs/catalogs.md. Do not edit.\n"
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    return header + body


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    Path(tmp).chmod(0o644)
    Path(tmp).replace(path)


def summary(result: Build) -> str:
    stats, report = result.stats, result.report
    lines = [
        f"models: {stats['models']} (+{stats['aliases']} aliases)",
        "by source: " + ", ".join(f"{k} {v}" for k, v in sorted(stats["by_source"].items()))
        + f" ({stats['both_sources']} with both sources)",
        f"genai-prices vs litellm input/output disagreements (genai-prices kept): {report.disagreements}",
        f"dated snapshots: {report.snapshot_aliases} folded into their base as aliases, "
        f"{report.snapshot_entries} priced apart as their own entries; in the catalog: {stats['dated_aliases']} "
        f"dated names are aliases (equal prices, by either source), {stats['dated_entries']} are entries",
        f"litellm keys priced by genai-prices under another name (its match rules): {report.matched}; "
        f"kept apart because their prices differ: {report.rule_conflicts}",
        f"aliases dropped as ambiguous: {report.dropped_aliases}",
        "by provider: " + ", ".join(f"{k} {v}" for k, v in stats["by_provider"].most_common()),
        f"skipped: {len(report.skipped)}",
    ]
    reasons: dict[str, int] = {}
    for line in report.skipped:
        reason = line.split(": ", 1)[-1].split(" '")[0].split(" already")[0]
        reasons[reason] = reasons.get(reason, 0) + 1
    lines += [f"  {n} x {reason}" for reason, n in sorted(reasons.items())]
    if result.missing_tiers:
        lines.append("curated tiers with no model: " + ", ".join(result.missing_tiers))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--litellm-version", default="1.110.2")
    parser.add_argument("--genai-prices-version", default="0.2.3")
    parser.add_argument("--litellm-wheel", type=Path, help="use this wheel instead of downloading")
    parser.add_argument("--genai-prices-wheel", type=Path, help="use this wheel instead of downloading")
    parser.add_argument("--genai-prices-date", type=date.fromisoformat, help="genai-prices' release date")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--skipped", type=Path, help="write every skipped model with its reason here")
    parser.add_argument("--overrides", type=Path, default=OVERRIDES, help="corrections with their provider rule")
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            litellm_wheel, genai_wheel = args.litellm_wheel, args.genai_prices_wheel
            if litellm_wheel is None or genai_wheel is None:
                fetched = fetch_wheels(args.litellm_version, args.genai_prices_version, Path(tmp) / "wheels")
                litellm_wheel = litellm_wheel or fetched[0]
                genai_wheel = genai_wheel or fetched[1]
            l_version, l_data, l_date = read_litellm_wheel(litellm_wheel)
            g_version, g_providers, g_date = read_genai_wheel(genai_wheel, Path(tmp) / "genai")
            sources = Sources(l_version, l_data, l_date, g_version, g_providers, args.genai_prices_date or g_date)
            result = build(sources, curated_tiers(), overrides(args.overrides))
    except (BuildError, OSError, KeyError, zipfile.BadZipFile) as exc:
        print(f"build_catalog: {exc}", file=sys.stderr)
        return 2
    write_atomic(args.output, result.text)
    if args.skipped:
        write_atomic(args.skipped, "\n".join(result.report.skipped) + "\n")
    print(f"wrote {args.output}\n{summary(result)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
