"""Prompt features a routing ``when`` can test, computed from the logged prompt text (vectorized with
pandas' string methods; a log without prompt text matches none of these conditions):

- ``has_code``: the prompt holds code — a fenced block (```), or a line that starts like code
  (``def ``, ``class ``, ``function ``, ``import ``, ``#include``, ``SELECT … FROM``) or ends in ``;``/``{``;
- ``questions``: how many question marks it holds (``?`` and the full-width ``？``), {min, max};
- ``script``: the writing system most of its letters are in (``latin``, ``cyrillic``, ``greek``,
  ``arabic``, ``hebrew``, ``devanagari``, ``cjk`` — Han, kana and Hangul —, ``thai``), the language as far as
  it can be told without a language model.
- ``classifier``: a trained complexity classifier's prediction (see ``llmcost.plan.classifier``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.scenarios.schema import Conditions

CODE_PATTERN = (r"```|(?m)^\s*(?:def |class |function |import |from \S+ import |#include|public |const |let |var )"
                r"|(?im)^\s*select\s.+\sfrom\s|(?m)[;{]\s*$")
SCRIPTS = {
    "latin": "A-Za-z\u00c0-\u024f",
    "cyrillic": "\u0400-\u04ff",
    "greek": "\u0370-\u03ff",
    "arabic": "\u0600-\u06ff",
    "hebrew": "\u0590-\u05ff",
    "devanagari": "\u0900-\u097f",
    "cjk": "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af",
    "thai": "\u0e00-\u0e7f",
}


def uses_prompt(cond: Conditions) -> bool:
    return any(v is not None for v in (cond.has_code, cond.questions, cond.script, cond.classifier))


def select_by_prompt(frame: pd.DataFrame, cond: Conditions) -> np.ndarray:
    """Rows whose prompt text meets the prompt conditions of ``cond`` (none without prompt text)."""
    import numpy as np

    if "prompt" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    text = frame["prompt"].astype("string")
    known = text.notna().to_numpy(dtype=bool)
    mask = known.copy()
    if cond.has_code is not None:
        found = text.str.contains(CODE_PATTERN, regex=True).fillna(False).to_numpy(dtype=bool)
        mask &= found if cond.has_code else ~found
    if cond.questions is not None:
        count = text.str.count(r"[?\uff1f]").fillna(0).to_numpy(dtype=np.int64)
        if cond.questions.min is not None:
            mask &= count >= cond.questions.min
        if cond.questions.max is not None:
            mask &= count <= cond.questions.max
    if cond.script is not None:
        wanted = [cond.script] if isinstance(cond.script, str) else list(cond.script)
        mask &= np.isin(dominant_script(text), wanted)
    if cond.classifier is not None:
        from llmcost.plan.classifier import predict_pass

        passes = predict_pass(cond.classifier, text.fillna("").to_numpy(dtype=object))
        mask &= passes if cond.classifier.predicts == "pass" else ~passes
    return mask


def dominant_script(text: pd.Series) -> np.ndarray:
    """Each prompt's script with the most letters ("none" when it has no letters of any)."""
    import numpy as np

    names = list(SCRIPTS)
    counts = np.stack([text.str.count(f"[{chars}]").fillna(0).to_numpy(dtype=np.int64)
                       for chars in SCRIPTS.values()], axis=1)
    best = np.array(names, dtype=object)[counts.argmax(axis=1)]
    out: np.ndarray = np.where(counts.max(axis=1) > 0, best, "none")
    return out
