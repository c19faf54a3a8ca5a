"""Embedders for the semantic cache (see ``interface``): one module per kind, chosen in the scenario."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmcost.embedders.interface import Embedder
    from llmcost.scenarios.schema import EmbedderSpec


def make_embedder(spec: EmbedderSpec) -> Embedder:
    """The embedder a scenario names (``column`` has none: its vectors are read from the log)."""
    if spec.kind == "openai-compatible":
        from llmcost.embedders.openai_compatible import OpenAICompatibleEmbedder

        return OpenAICompatibleEmbedder(spec)
    if spec.kind == "wordllama":
        from llmcost.embedders.wordllama_local import WordLlamaEmbedder

        return WordLlamaEmbedder()
    raise ValueError(f"no embedder object for kind {spec.kind!r}")
