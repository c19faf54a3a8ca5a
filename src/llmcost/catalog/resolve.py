"""Model names as logged → catalog ids, and "did you mean" suggestions for names the catalog lacks.

A name resolves, in order, through:
1. an id or alias as written (case-insensitive), first qualified by the row's provider when the log
   names one (``vertex_ai`` + ``gemini-2.0-flash`` → ``vertex_ai/gemini-2.0-flash``; ``groq`` +
   ``gpt-oss-120b`` → ``groq/openai/gpt-oss-120b``, the one groq model of that name);
2. a leading ``host/`` prefix dropped (``openai/gpt-4o``, ``google/gemini-2.0-flash``) — but only when
   the prefix is not a provider with prices of its own in the catalog, or the model found is that
   provider's: ``vertex_ai/gemini-x`` never falls back to the Gemini API's price of ``gemini-x``, and a
   row logged as served by ``vertex_ai`` is never priced at another provider's rates;
3. a Bedrock cross-region prefix dropped (``us.anthropic.claude-…`` → ``anthropic.claude-…``);
4. the same with dots, underscores and dashes treated alike (``claude-sonnet-4.5`` = ``claude-sonnet-4-5``).

A dated snapshot is never folded into its base model by the resolver: ``gpt-4o-2024-05-13`` resolves only
when the catalog lists it (as an entry, or as an alias of an entry with the same prices), because
snapshots of one model are often priced differently. Nor is a ``-latest`` pointer folded into the undated
name: pointers move (``mistral-large-latest`` meant Mistral Large 2, then Large 3 at a quarter of the
price), so a pointer resolves only when the catalog lists it. Unknown names stay unpriced, with suggestions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmcost.catalog.cards import ModelCard

# Spellings of a provider in logs → the catalog's provider name.
PROVIDER_SYNONYMS = {
    "google": "gemini", "google_ai_studio": "gemini", "google-ai-studio": "gemini", "gemini": "gemini",
    "vertex": "vertex_ai", "google-vertex": "vertex_ai", "vertex-ai": "vertex_ai", "google_vertex": "vertex_ai",
    "aws": "bedrock", "amazon-bedrock": "bedrock", "aws-bedrock": "bedrock", "amazon_bedrock": "bedrock",
    "x-ai": "xai", "mistralai": "mistral", "together": "together_ai", "togetherai": "together_ai",
    "fireworks": "fireworks_ai", "azure-openai": "azure", "azure_openai": "azure",
}
# Routers that bill the serving provider's list price: a model they route resolves to that provider's entry
# when the catalog has no entry of the router's own for it.
ROUTERS = frozenset({"openrouter"})
_REGION = re.compile(r"^(?:us|eu|apac|global|jp|au|ca|us-gov)\.(?=[a-z0-9-]+\.)")
_DATED = re.compile(r"(?:[-@_](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})|-preview|-exp|[-@:]latest)$")


def canonical(name: str) -> str:
    return name.lower().replace(".", "-").replace("_", "-")


def provider_name(value: str | None) -> str | None:
    """A provider as logged, in the catalog's spelling (None for blank)."""
    if value is None:
        return None
    text = value.strip().lower()
    return PROVIDER_SYNONYMS.get(text, text) or None


class NameIndex:
    """Every id and alias of a catalog, exact and canonical, with the provider of each model."""

    def __init__(self, models: Iterable[ModelCard]) -> None:
        self._names: list[tuple[str, str, tuple[str, ...]]] = []  # (id, host, names) of every model
        self.exact: dict[str, str] = {}
        self.provider_of: dict[str, str] = {}
        for m in models:
            host = self.provider_of[m.id] = m.provider.lower()
            names = (m.id, *m.aliases)
            self._names.append((m.id, host, names))
            for name in names:
                self.exact[name.lower()] = m.id
        self.providers = frozenset(self.provider_of.values())
        self._resolved: dict[tuple[str, str | None], str | None] = {}
        self._suggested: dict[tuple[str, int], list[str]] = {}
        # Why a name is unpriced, by (name, with suggestions), for pricing to fill and reuse.
        self.unknown_reasons: dict[tuple[str, bool], str] = {}

    @cached_property
    def fuzzy(self) -> dict[str, str]:
        """Ids by canonical name (names that two models share in canonical form name neither). Built on
        first need: a log whose names are ids or aliases as written never needs it (10 ms of 4,639 models)."""
        fuzzy: dict[str, str | None] = {}
        for mid, _, names in self._names:
            for name in names:
                key = canonical(name)
                fuzzy[key] = mid if fuzzy.get(key, mid) == mid else None
        return {k: v for k, v in fuzzy.items() if v is not None}

    @cached_property
    def host_tails(self) -> dict[tuple[str, str], str]:
        """A host's models by the last segment of their names (groq serves gpt-oss-120b as
        openai/gpt-oss-120b), when that segment names one model of the host only."""
        tails: dict[tuple[str, str], str | None] = {}
        for mid, host, names in self._names:
            for name in names:
                tail = (host, canonical(name.rsplit("/", 1)[-1]))
                tails[tail] = mid if tails.get(tail, mid) == mid else None
        return {k: v for k, v in tails.items() if v is not None}

    def _lookup(self, name: str) -> str | None:
        return self.exact.get(name) or self.fuzzy.get(canonical(name))

    def resolve(self, name: str, provider: str | None = None) -> str | None:
        """The catalog id for ``name`` (served by ``provider`` when the log says so), or None. Remembered
        per (name, provider): every scenario of a run resolves the same names again, and a log with 100,000
        distinct model names would otherwise search them all once per scenario."""
        key = (name, provider)
        try:
            return self._resolved[key]
        except KeyError:
            found = self._resolved[key] = self._resolve(name, provider)
            return found

    def _resolve(self, name: str, provider: str | None) -> str | None:
        base = name.strip().lower()
        if not base:
            return None
        host = provider_name(provider)
        for candidate in _spellings(base):
            if host is not None and not candidate.startswith(host + "/"):
                found = self._lookup(f"{host}/{candidate}") or self.host_tails.get((host, canonical(candidate)))
                if found:
                    return found
            found = self._lookup(candidate)
            if found and self._served_by(found, host):
                return found
            prefix, _, rest = candidate.partition("/")
            if rest:
                owner = provider_name(prefix)
                if owner in self.providers:  # a host with prices of its own: only its models
                    found = self._resolve(rest, owner)
                    if found and self._served_by(found, host):
                        return found
                elif (found := self._resolve(rest, host)) is not None:
                    return found
        return None

    def _served_by(self, model_id: str, host: str | None) -> bool:
        """A row logged as served by ``host`` is priced only at that host's rates when the catalog has any."""
        return host is None or host in ROUTERS or host not in self.providers or self.provider_of[model_id] == host

    def undated(self, name: str) -> str | None:
        """The entry of ``name`` without its date or preview suffix: the same model family (its tokenizer),
        NOT its price."""
        undated = name.strip().lower().rsplit("/", 1)[-1]
        while (shorter := _DATED.sub("", undated)) != undated and shorter:
            undated = shorter
            found = self._lookup(undated)
            if found:
                return found
        return None

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Ids close to ``name``: its undated base first, then the closest spellings (remembered: a fuzzy
        search over every catalog name is the slowest thing a report of unknown names does)."""
        key = (name, limit)
        if key not in self._suggested:
            self._suggested[key] = self._suggest(name, limit)
        return list(self._suggested[key])

    def _suggest(self, name: str, limit: int) -> list[str]:
        import difflib

        base = name.strip().lower().rsplit("/", 1)[-1]
        family = self.undated(name)
        out: list[str] = [family] if family else []
        keys = list(self.fuzzy)
        for key in difflib.get_close_matches(canonical(base), keys, n=limit * 3, cutoff=0.72):
            mid = self.fuzzy[key]
            if mid not in out:
                out.append(mid)
        return out[:limit]


def _spellings(name: str) -> Iterator[str]:
    """``name``, then without a Bedrock cross-region prefix."""
    yield name
    shorter = _REGION.sub("", name)
    if shorter and shorter != name:
        yield shorter
