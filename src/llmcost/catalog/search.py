"""``catalog search TEXT``: models whose id, alias or provider matches, best matches first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmcost.catalog.resolve import canonical

if TYPE_CHECKING:
    from llmcost.catalog.schema import Catalog, ModelPrice


def search(catalog: Catalog, text: str, *, limit: int = 25) -> list[ModelPrice]:
    """Models matching ``text``: the model a logged name resolves to first, then ids and aliases that equal,
    start with or contain every word of it (dots, dashes and underscores alike), then close spellings."""

    words = [canonical(w) for w in text.split() if w.strip()]
    if not words:
        return []
    ranked: dict[str, tuple[int, int, str]] = {}

    def offer(model_id: str, rank: int, order: int | None = None) -> None:
        best = ranked.get(model_id)
        key = (rank, len(model_id) if order is None else order, model_id)
        if best is None or key < best:
            ranked[model_id] = key

    resolved = catalog.resolve(text.strip())
    if resolved is not None:
        offer(resolved, 0)
    phrase = "-".join(words)
    for model in catalog.models:
        for name in (model.id, *model.aliases):
            key = canonical(name)
            haystack = f"{key} {canonical(model.provider)}"
            if key == phrase:
                offer(model.id, 1)
            elif key.startswith(phrase) or key.rsplit("/", 1)[-1].startswith(phrase):
                offer(model.id, 2)
            elif all(w in haystack for w in words):
                offer(model.id, 3)
    if len(ranked) < limit:
        for i, mid in enumerate(catalog.suggest(text, limit=limit - len(ranked))):
            offer(mid, 4, i)  # closest spelling first
    order = sorted(ranked, key=ranked.__getitem__)
    return [catalog.model(mid) for mid in order[:limit]]
