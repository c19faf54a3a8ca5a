"""The hits-per-hour series behind the report's hit-rate chart, against a pandas group-by oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcost.scenarios.hit_series import hits_per_hour

HOUR_MS = 3_600_000
ROWS = st.lists(st.tuples(st.integers(0, 20_000 * HOUR_MS), st.integers(1, 5), st.booleans()), min_size=1, max_size=60)


def oracle(stamps: list[int], weights: list[int], hits: list[bool]) -> dict[str, dict[str, float]]:
    frame = pd.DataFrame({"hour": pd.to_datetime(stamps, unit="ms", utc=True).floor("h"),
                          "requests": np.array(weights, dtype=float),
                          "hits": np.where(hits, weights, 0).astype(float)})
    sums = frame.groupby("hour").sum()
    return {f"{hour:%Y-%m-%dT%H:%M}Z": {"requests": float(r), "hits": float(h)}
            for hour, r, h in zip(sums.index, sums["requests"], sums["hits"], strict=True)}


@settings(max_examples=80, deadline=None)
@given(ROWS, st.booleans(), st.sampled_from(["ms", "ns"]))
def test_each_hour_sums_its_requests_and_hits(rows: list[tuple[int, int, bool]], weighted: bool, unit: str) -> None:
    """Hours far apart (the sorted path) and close (the counted one), one request a row or buckets, the
    timestamps held in milliseconds or nanoseconds: the same sums as a group-by."""
    stamps = [r[0] for r in rows]
    weights = [r[1] if weighted else 1 for r in rows]
    hits = [r[2] for r in rows]
    frame = pd.DataFrame({"timestamp": pd.to_datetime(stamps, unit="ms", utc=True).as_unit(unit),
                          "weight": np.array(weights, dtype=np.int64)})
    assert hits_per_hour(frame, np.array(hits)) == oracle(stamps, weights, hits)
