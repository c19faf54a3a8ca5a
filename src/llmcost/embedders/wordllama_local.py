"""An offline embedder: WordLlama's 256-dimension ``l2_supercat`` model, whose weights and tokenizer ship
inside the ``wordllama`` wheel (``pip install 'llmcost[semantic]'``).

``WordLlama.load()`` looks for the tokenizer in ``wordllama/tokenizer/`` (singular) while the wheel
ships it in ``wordllama/tokenizers/``, and then tries a download. We read both files from the package
ourselves and build the inference object directly, so nothing is ever fetched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmcost.embedders.interface import EmbedCalls, normalized
from llmcost.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

CONFIG = "l2_supercat"
DIMENSIONS = 256
BATCH = 4096


class WordLlamaEmbedder:
    name = "wordllama"

    def __init__(self) -> None:
        self.model = f"wordllama-{CONFIG}-{DIMENSIONS}"
        self.calls = EmbedCalls()
        self._inference: Any = None

    @property
    def dimensions(self) -> int | None:
        return DIMENSIONS

    def _load(self) -> Any:
        if self._inference is None:
            self._inference = load_offline()
        return self._inference

    def embed(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        model = self._load()
        parts = []
        for lo in range(0, len(texts), BATCH):
            batch = texts[lo:lo + BATCH]
            parts.append(np.asarray(model.embed(batch, norm=True), dtype=np.float32))
            self.calls.requests += 1
            self.calls.texts += len(batch)
        return normalized(np.concatenate(parts)) if parts else np.zeros((0, DIMENSIONS), dtype=np.float32)


def load_offline() -> Any:
    """The WordLlama inference object from the files inside the installed package (no download)."""
    try:
        from importlib import resources

        from safetensors import safe_open
        from wordllama.inference import WordLlamaInference
        from wordllama.wordllama import WordLlama
    except ImportError:
        raise UsageError("the wordllama embedder needs the semantic extra: pip install 'llmcost[semantic]'") from None
    package = resources.files("wordllama")
    weights = package / "weights" / f"{CONFIG}_{DIMENSIONS}.safetensors"
    tokenizer = package / "tokenizers" / f"{CONFIG}_tokenizer_config.json"
    if not weights.is_file() or not tokenizer.is_file():
        raise UsageError(f"the installed wordllama package has no {weights.name} or {tokenizer.name} "
                         "(reinstall it: pip install 'llmcost[semantic]')")
    with safe_open(str(weights), framework="np", device="cpu") as f:
        embedding = f.get_tensor("embedding.weight")
    return WordLlamaInference(embedding, WordLlama.load_tokenizer(tokenizer), binary=False)
