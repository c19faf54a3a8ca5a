"""A cache replay's hits per hour of the log, for the report's hit-rate-over-time chart.

A dict keyed by the hour's start (ISO, UTC) of ``{"requests", "hits"}`` sums (request weights): chunks
of a streamed log merge key by key (``details.merge_details`` adds the sums), so the series read in
chunks equals the whole-log one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmcost.scenarios.common import requests_by, times_ns

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

HOUR_NS = 3_600_000_000_000


def hits_per_hour(frame: pd.DataFrame, hits: np.ndarray) -> dict[str, dict[str, float]]:
    import numpy as np

    if not len(frame):
        return {}
    hours = times_ns(frame) // HOUR_NS
    first, span = int(hours.min()), int(hours.max() - hours.min()) + 1
    if span <= 4 * len(hours) + 1024:  # counted by hour offset: no sort (a log's hours are few)
        slot, starts = hours - first, None
    else:
        starts, slot = np.unique(hours, return_inverse=True)
        span = len(starts)
    by = requests_by(frame, slot * 2 + hits, 2 * span).reshape(span, 2)  # [hour, hit]: one pass
    present = np.bincount(slot, minlength=span) > 0
    total, hit = by.sum(axis=1)[present], by[present, 1]
    hour = np.flatnonzero(present) + first if starts is None else starts[present]
    labels = np.datetime_as_string((hour * HOUR_NS).astype("datetime64[ns]"), unit="m")
    return {f"{label}Z": {"requests": float(r), "hits": float(h)}
            for label, r, h in zip(labels.tolist(), total.tolist(), hit.tolist(), strict=True)}
