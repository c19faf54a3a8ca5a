"""What an embedder is: texts in, one unit-length float32 vector per text out.

Kinds (one module each): ``openai_compatible`` (any ``/v1/embeddings`` endpoint), ``wordllama_local``
(offline, weights shipped in the ``wordllama`` wheel) and ``column`` (vectors already in the log). Every
kind is wrapped in ``disk_cache.CachedEmbedder``, so a text is embedded once per embedder and model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from llmcost.errors import InputError

if TYPE_CHECKING:
    import numpy as np


class DimensionError(InputError):
    """Vectors of a size other than the one expected (the scenario's ``dimensions``, or earlier vectors)."""


@dataclass
class EmbedCalls:
    """What this run asked of the embedder (texts served from the disk cache are not counted)."""

    requests: int = 0  # HTTP calls (batches) or local batches
    texts: int = 0
    tokens: int = 0  # as the endpoint reported them (usage.prompt_tokens), 0 when it reports none
    retries: int = 0


class Embedder(Protocol):
    """``embed(texts)`` returns an (n, d) float32 array; ``name`` is the kind, ``model`` the model id
    (the catalog id that prices the calls, when there is one)."""

    name: str
    model: str
    calls: EmbedCalls

    @property
    def dimensions(self) -> int | None:
        """The vector size when known before the first call (configured or fixed by the model)."""

    def embed(self, texts: list[str]) -> np.ndarray: ...


def normalized(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); a zero row stays zero (it matches nothing)."""
    import numpy as np

    out = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    result: np.ndarray = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
    return result
