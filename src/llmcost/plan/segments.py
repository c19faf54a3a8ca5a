"""Segments: the slices of traffic a policy routes as a whole (task × input-size bucket by default).

Each segment IS a routing rule's ``when``: rows are assigned to the first segment whose conditions hold,
with the same ``select`` the routing strategy uses, so the scenario file a plan writes routes every
request exactly as the plan counted it. Buckets are written as ``input_tokens: {max: edge}`` in order,
the last bucket of a task with no size condition, so every request of a task falls in one of them
(bucket rows with a fractional input per request included).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmcost.errors import UsageError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.scenarios.schema import ClassifierRule, Conditions

DIMENSIONS = ("task", "input_size", "classifier")
DEFAULT_BUCKETS = (1000, 8000)
NO_TASK = "(no task)"


@dataclass(frozen=True)
class Segment:
    """One slice: its task (None: any task), its input-size bounds, and the conditions that select it."""

    task: str | None
    low: int | None  # input tokens above this (exclusive); None: from 0
    high: int | None  # up to this (inclusive); None: no upper bound
    conditions: Conditions
    any_task: bool = False  # the rows with no task, or every row when segments ignore the task
    predicted: str | None = None  # the classifier's prediction ("pass"/"fail") the segment holds, if any

    @property
    def label(self) -> str:
        task = NO_TASK if self.any_task and self.task is None else (self.task or "all")
        label = f"{task} · {self.size_label}"
        return label if self.predicted is None else f"{label} · predicted {self.predicted}"

    @property
    def size_label(self) -> str:
        if self.low is None and self.high is None:
            return "any size"
        if self.low is None:
            return f"≤{self.high:,}"
        if self.high is None:
            return f">{self.low:,}"
        return f"{self.low + 1:,}–{self.high:,}"

    @property
    def tag(self) -> str:
        """A name for gateways (LiteLLM tags, rules files): lowercase, no spaces."""
        task = "no-task" if self.task is None else "".join(c if c.isalnum() or c in "-_" else "-" for c in self.task)
        size = "any" if self.low is None and self.high is None else (
            f"le{self.high}" if self.low is None else f"gt{self.low}" if self.high is None else
            f"{self.low + 1}-{self.high}")
        return f"{task}.{size}" if self.predicted is None else f"{task}.{size}.{self.predicted}"


def parse_dimensions(text: str) -> tuple[str, ...]:
    dims = tuple(d.strip() for d in text.split(",") if d.strip())
    bad = [d for d in dims if d not in DIMENSIONS]
    if bad or not dims:
        raise UsageError(f"--segments: expected a comma-separated list of {', '.join(DIMENSIONS)} (got '{text}')")
    return dims


def parse_buckets(text: str) -> tuple[int, ...]:
    try:
        edges = tuple(int(p.strip().replace("_", "")) for p in text.split(",") if p.strip())
    except ValueError:
        raise UsageError(f"--size-buckets: expected increasing whole token counts such as 1000,8000 (got '{text}')") \
            from None
    if not edges or any(e <= 0 for e in edges) or any(b <= a for a, b in itertools.pairwise(edges)):
        raise UsageError(f"--size-buckets: expected increasing whole token counts such as 1000,8000 (got '{text}')")
    return edges


def build_segments(frame: pd.DataFrame, dims: tuple[str, ...], edges: tuple[int, ...] = DEFAULT_BUCKETS,
                   classifier: ClassifierRule | None = None) -> tuple[list[Segment], np.ndarray]:
    """The segments that hold traffic, and each row's segment index (first match, as routing assigns).
    With a classifier, each segment splits into predicted pass, predicted fail, and the rest (rows
    without prompt text)."""
    import numpy as np

    from llmcost.scenarios.common import select

    candidates = _all_segments(frame, dims, edges)
    if classifier is not None:
        candidates = [part for seg in candidates for part in _split_by_classifier(seg, classifier)]
    codes = np.full(len(frame), -1, dtype=np.int64)
    open_rows = np.ones(len(frame), dtype=bool)
    kept: list[Segment] = []
    for segment in candidates:
        hit = select(frame, segment.conditions, "plan") & open_rows
        if not hit.any():
            continue
        codes[hit] = len(kept)
        kept.append(segment)
        open_rows &= ~hit
    return kept, codes


def _all_segments(frame: pd.DataFrame, dims: tuple[str, ...], edges: tuple[int, ...]) -> list[Segment]:
    from llmcost.scenarios.schema import Conditions, TokenRange

    by_size = "input_size" in dims
    bounds: list[tuple[int | None, int | None]] = [(None, None)]
    if by_size:
        lows: list[int | None] = [None, *edges]
        bounds = [(lows[i], edges[i] if i < len(edges) else None) for i in range(len(edges) + 1)]
    tasks: list[str | None] = [None]
    has_tasks = "task" in dims and "task" in frame.columns and frame["task"].notna().any()
    if has_tasks:
        tasks = [*sorted(str(t) for t in frame["task"].dropna().astype("string").unique())]
    out = []
    for task in [*tasks, None] if has_tasks else tasks:
        for low, high in bounds:
            size = TokenRange(max=high) if high is not None else None
            cond = Conditions(task=task, input_tokens=size)
            out.append(Segment(task, low, high, cond, any_task=task is None))
    return out


def _split_by_classifier(seg: Segment, rule: ClassifierRule) -> list[Segment]:
    import dataclasses

    out = []
    for predicted in ("pass", "fail"):
        cond = seg.conditions.model_copy(update={"classifier": rule.model_copy(update={"predicts": predicted})})
        out.append(dataclasses.replace(seg, conditions=cond, predicted=predicted))
    return [*out, seg]
