"""``estimate --sweep FROM:TO:STEP``: the thresholds every semantic-cache scenario also replays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from llmcost.errors import UsageError

if TYPE_CHECKING:
    from llmcost.scenarios.interface import Scenario

MAX_THRESHOLDS = 200


def parse_sweep(text: str) -> list[float]:
    """``0.80:0.99:0.01`` → [0.8, 0.81, …, 0.99] (exact decimal steps; TO included when the steps reach it)."""
    parts = text.split(":")
    try:
        start, stop, step = (Decimal(p.strip()) for p in parts) if len(parts) == 3 else (None, None, None)
    except InvalidOperation:
        start = stop = step = None
    if start is None or stop is None or step is None:
        raise UsageError(f"--sweep '{text}': expected FROM:TO:STEP, e.g. 0.80:0.99:0.01")
    if not (0 < start <= 1 and 0 < stop <= 1) or step <= 0 or stop < start:
        raise UsageError(f"--sweep '{text}': thresholds are cosine similarities from 0 (excluded) to 1 with "
                         "FROM ≤ TO and a positive STEP")
    n = int((stop - start) / step) + 1
    if n > MAX_THRESHOLDS:
        raise UsageError(f"--sweep '{text}': {n} thresholds, at most {MAX_THRESHOLDS}")
    return [float(start + i * step) for i in range(n)]


def with_sweep(scenarios: Sequence[Scenario], text: str | None) -> list[Scenario]:
    """The scenarios with the sweep's thresholds set on every semantic cache (an error when none has one)."""
    from llmcost.scenarios.engine import ComposedScenario

    chosen = list(scenarios)
    if text is None:
        return chosen
    thresholds = parse_sweep(text)
    out: list[Scenario] = []
    found = False
    for s in chosen:
        if isinstance(s, ComposedScenario) and s.spec.semantic_cache is not None:
            cache = s.spec.semantic_cache.model_copy(update={"sweep": thresholds})
            s = replace(s, spec=s.spec.model_copy(update={"semantic_cache": cache}))
            found = True
        out.append(s)
    if not found:
        raise UsageError("--sweep needs a scenario with a semantic_cache (in the --scenarios file)")
    return out
