"""Merging genai-prices and litellm entries into one catalog: ids, snapshots, aliases, tiers.

Rules (docs/catalogs.md, "How the default catalog is built"):
- genai-prices prices a model wherever it has it; litellm fills the models it lacks, and adds to a genai-prices
  entry what that lacks (context window, max output, batch, service tiers, audio and cache rates). Where both
  price a model and input or output differ, genai-prices' price is kept and the disagreement noted.
- A dated snapshot (``gpt-4o-2024-05-13``) becomes an alias of its base only when every price is equal.
- Aliases are unique case-insensitively: a name two entries claim, or that is another entry's id, is dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catalog_entries import (
    AUDIO_FIELDS,
    BATCH_FIELDS,
    FIRST_PARTY,
    PROVIDER_SPELLINGS,
    ROUTERS,
    Entry,
    fmt,
    snapshot_base,
)


@dataclass
class MergeReport:
    disagreements: int = 0
    snapshot_aliases: int = 0
    snapshot_entries: int = 0
    dropped_aliases: int = 0
    matched: int = 0  # litellm keys that genai-prices prices under another name
    rule_conflicts: int = 0  # ... at another price: kept apart
    skipped: list[str] = field(default_factory=list)


def merge(
    genai: list[Entry], litellm: list[Entry], report: MergeReport, find: Callable[[str, str], str | None]
) -> list[Entry]:
    """One entry per catalog id: genai-prices' first, litellm's where genai-prices has no such model.

    ``find(provider, name)`` is the catalog id of the genai-prices model that prices a name (its match rules).
    """
    entries: dict[str, Entry] = {}
    for entry in genai + _dedupe(litellm, report):
        key = entry.id.lower()
        if key not in entries:
            entries[key] = entry
        elif entries[key].origin == "genai-prices" and entry.origin == "genai-prices":
            report.skipped.append(f"{entry.sources[0]}: id '{entry.id}' already taken by {entries[key].sources[0]}")
        else:
            _fill(entries[key], entry, report)
    by_name: dict[str, Entry] = {}
    for entry in entries.values():
        if entry.origin == "genai-prices":
            for name in entry.names:
                by_name.setdefault(name.lower(), entry)
    merged: list[Entry] = []
    for key, entry in entries.items():
        owner = by_name.get(key)
        if entry.origin == "litellm" and owner is None:
            owner = _matched(entry, entries, find, report)
        if entry.origin == "litellm" and owner is not None and owner is not entry:
            _fill(owner, entry, report)
            owner.names.append(entry.id)
            report.matched += 1
            continue
        merged.append(entry)
    return merged


def _matched(
    entry: Entry, entries: dict[str, Entry], find: Callable[[str, str], str | None], report: MergeReport
) -> Entry | None:
    """The genai-prices entry whose match rules (prefix, suffix, regex) take litellm's ``entry``, when the two
    agree on input and output prices. A rule match at another price is a different variant (a regional
    endpoint, a newer ``-latest``, a dated snapshot): litellm's entry then stays, with a note."""
    bare = entry.id if entry.provider in FIRST_PARTY else entry.id.split("/", 1)[-1]
    found = find(entry.provider, bare)
    owner = entries.get(found.lower()) if found else None
    if owner is None or owner is entry:
        return None
    if all(owner.prices.get(k) == entry.prices.get(k) for k in ("input_mtok", "output_mtok")):
        return owner
    report.rule_conflicts += 1
    entry.notes.append(
        f"genai-prices' match rules price this name as '{owner.id}' at {_card(owner)}; litellm's own price kept"
    )
    return None


def _dedupe(entries: list[Entry], report: MergeReport) -> list[Entry]:
    """litellm keys that name the same catalog id (``deepseek-chat``, ``deepseek/deepseek-chat``): keep one."""
    kept: dict[str, Entry] = {}
    for entry in entries:
        key = entry.id.lower()
        if key not in kept:
            kept[key] = entry
        elif kept[key].price_key() == entry.price_key():
            kept[key].sources.append(entry.sources[0])
        else:
            report.skipped.append(f"{entry.sources[0]}: id '{entry.id}' already priced by {kept[key].sources[0]}")
    return list(kept.values())


def _fill(primary: Entry, other: Entry, report: MergeReport) -> None:
    """Add litellm's ``other`` to genai-prices' ``primary``: fields it lacks, and a note where prices differ."""
    primary.sources.append(other.sources[0])
    mine, theirs = primary.prices, other.prices
    if any(mine.get(k) != theirs.get(k) for k in ("input_mtok", "output_mtok")):
        report.disagreements += 1
        primary.notes.append(
            f"{other.sources[0]} gives ${fmt(theirs.get('input_mtok'))}/${fmt(theirs.get('output_mtok'))} "
            f"(input/output); genai-prices' ${fmt(mine.get('input_mtok'))}/${fmt(mine.get('output_mtok'))} kept"
        )
    filled = []
    for group in (BATCH_FIELDS, AUDIO_FIELDS, ("service_tiers",), ("cache_read_mtok",), ("cache_write_mtok",),
                  ("cache_write_1h_mtok",)):
        # a zero cache or audio rate in litellm often means "not listed": never filled in as free tokens
        given = [k for k in group if theirs.get(k) is not None and theirs.get(k) != 0]
        if all(mine.get(k) is None for k in group) and given:
            mine.update({k: theirs[k] for k in given})
            filled += given
    same_base = all(mine.get(k) == theirs.get(k) for k in ("input_mtok", "output_mtok"))
    if mine.get("long_context") is None and theirs.get("long_context") is not None and same_base:
        # a long-context tier genai-prices does not list (Claude Sonnet 4's above 200K): leaving it out would
        # bill such requests at base rates; filled only when both sources agree on the base prices
        mine["long_context"] = theirs["long_context"]
        filled.append("long_context")
    if filled:
        primary.notes.append(f"from litellm: {', '.join(filled)}")
    primary.context_window = primary.context_window or other.context_window
    primary.max_output_tokens = primary.max_output_tokens or other.max_output_tokens
    primary.notes += [n for n in other.notes if n.startswith("not modeled")]


def fold_snapshots(entries: list[Entry], report: MergeReport) -> list[Entry]:
    """A dated snapshot with exactly its base's prices becomes the base's alias; any other stays an entry."""
    by_id = {e.id.lower(): e for e in entries}
    kept: list[Entry] = []
    for entry in entries:
        base_id = snapshot_base(entry.id)
        base = by_id.get(base_id.lower()) if base_id else None
        if base is None or base is entry:
            kept.append(entry)
            continue
        if base.price_key() == entry.price_key():
            report.snapshot_aliases += 1
            base.aliases.add(entry.id)
            base.aliases.update(entry.names)
            base.sources += [s for s in entry.sources if s not in base.sources]
        else:
            report.snapshot_entries += 1
            entry.notes.append(f"priced apart from '{base.id}' ({_card(entry)} vs {_card(base)})")
            kept.append(entry)
    return kept


def _card(entry: Entry) -> str:
    return f"${fmt(entry.prices.get('input_mtok'))}/${fmt(entry.prices.get('output_mtok'))}"


def assign_aliases(entries: list[Entry], report: MergeReport) -> None:
    """Give each entry the exact names its source accepts, and a bare name for hosted models, when unambiguous."""
    ids = {e.id.lower() for e in entries}
    claims: dict[str, set[int]] = {}
    bare_claims: dict[str, set[int]] = {}
    proposed: list[set[str]] = []
    bare: list[set[str]] = []
    providers = {e.provider.lower() for e in entries} | PROVIDER_SPELLINGS
    for i, entry in enumerate(entries):
        names = {n for n in set(entry.aliases) | set(entry.names) if n.lower() != entry.id.lower()}
        proposed.append(names)
        for name in {n.lower() for n in names}:
            claims.setdefault(name, set()).add(i)
        # a hosted model's own names without the host (groq/llama-3.3-70b-versatile -> llama-3.3-70b-versatile,
        # bedrock/us.anthropic.claude-... -> us.anthropic.claude-...), weaker than the above; not for routers,
        # whose bare names are other providers' models
        shorts = set()
        if entry.provider not in FIRST_PARTY | ROUTERS:
            prefix = f"{entry.provider.lower()}/"
            shorts = {n[len(prefix):] for n in (entry.id, *names) if n.lower().startswith(prefix)}
            # 'xai/grok-4' of replicate would read as xAI's own model: a bare name never starts with a provider
            shorts = {n for n in shorts if n.split("/", 1)[0].lower() not in providers or "/" not in n}
        bare.append(shorts)
        for short in shorts:
            bare_claims.setdefault(short.lower(), set()).add(i)
    first_party = {n.lower() for i, e in enumerate(entries) if e.provider in FIRST_PARTY for n in (e.id, *proposed[i])}
    for i, entry in enumerate(entries):
        keep = set()
        for name in proposed[i]:
            if name.lower() in ids or len(claims[name.lower()]) > 1 or _shadows(entry, name, first_party):
                report.dropped_aliases += 1
            else:
                keep.add(name)
        for short in sorted(bare[i]):
            if short.lower() in ids or short.lower() in claims:
                continue
            rivals = bare_claims[short.lower()]
            primary = [j for j in rivals if entries[j].origin == "genai-prices"]
            if len(rivals) == 1 or primary == [i]:  # several hosts: the one genai-prices prices, if only one
                keep.add(short)
            else:
                report.dropped_aliases += 1
        unique = {n.lower(): n for n in sorted(keep)}
        entry.aliases = set(unique.values())


def _shadows(entry: Entry, name: str, first_party: set[str]) -> bool:
    """A router's ``vendor/model`` name whose model a first-party entry prices (``openai/gpt-4o-mini``,
    ``x-ai/grok-4``): left to name resolution, which drops the vendor prefix and finds the first-party price."""
    return entry.provider in ROUTERS and "/" in name and name.split("/", 1)[1].lower() in first_party


def assign_tiers(entries: list[Entry], curated: dict[str, str]) -> list[str]:
    """Curated tiers by id (or by an alias); the curated ids not found are returned."""
    by_name: dict[str, Entry] = {}
    for entry in entries:
        by_name[entry.id.lower()] = entry
    for entry in entries:
        for alias in entry.aliases:
            by_name.setdefault(alias.lower(), entry)
    missing: list[str] = []
    for model_id, tier in curated.items():
        found = by_name.get(model_id.lower())
        if found is None:
            missing.append(model_id)
        else:
            found.tier = tier
            if found.id != model_id:
                found.notes.append(f"tier '{tier}' from frontier.yaml's '{model_id}'")
    return missing


def counts(entries: list[Entry]) -> dict[str, Any]:
    return {
        "models": len(entries),
        "aliases": sum(len(e.aliases) for e in entries),
        "by_provider": Counter(e.provider for e in entries),
        "by_source": Counter(e.origin for e in entries),
        "both_sources": sum(1 for e in entries if len({s.split()[0] for s in e.sources}) > 1),
        "dated_entries": sum(1 for e in entries if snapshot_base(e.id)),
        "dated_aliases": sum(1 for e in entries for a in e.aliases if snapshot_base(a)),
    }

