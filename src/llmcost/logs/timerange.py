"""``--since``/``--until``: the requests a run reads, ``since <= timestamp < until`` (UTC).

A database applies them in its query (``llmcost.logs.postgres``); files are read and their rows outside
the range left out, vectorized, chunk by chunk when streaming.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from llmcost.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class TimeRange:
    since: datetime | None = None
    until: datetime | None = None

    @property
    def given(self) -> bool:
        return self.since is not None or self.until is not None

    def within(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of a conformed frame inside the range (the frame itself when no bound is given)."""
        import numpy as np
        import pandas as pd

        if not self.given or frame.empty:
            return frame
        stamps = frame["timestamp"]
        keep = np.ones(len(frame), dtype=bool)
        if self.since is not None:
            keep &= (stamps >= pd.Timestamp(self.since)).to_numpy()
        if self.until is not None:
            keep &= (stamps < pd.Timestamp(self.until)).to_numpy()
        if keep.all():
            return frame
        out = frame.loc[keep].reset_index(drop=True)
        if isinstance(out["model"].dtype, pd.CategoricalDtype):
            out["model"] = out["model"].cat.remove_unused_categories()
        return out

    def describe(self) -> str:
        parts = []
        if self.since is not None:
            parts.append(f"from {self.since.isoformat()}")
        if self.until is not None:
            parts.append(f"before {self.until.isoformat()}")
        return " ".join(parts)


def parse_bound(text: str | None, option: str) -> datetime | None:
    """An ISO 8601 date or date-time (a date is its midnight; no zone means UTC)."""
    if text is None:
        return None  # before importing pandas: a run without --since/--until may never need it
    import pandas as pd

    stamp: pd.Timestamp | None
    try:
        stamp = pd.Timestamp(text.strip())
    except (ValueError, TypeError):
        stamp = None
    if stamp is None or pd.isna(stamp) or not text.strip()[:1].isdigit():
        raise UsageError(f"{option}: expected an ISO 8601 date or date-time (2026-11-01 or "
                         f"2026-11-01T12:00:00Z), got '{text}'")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    out: datetime = stamp.to_pydatetime()
    return out


def time_range(since: str | None, until: str | None) -> TimeRange:
    """The range ``--since``/``--until`` give; ``--since`` must come before ``--until``."""
    result = TimeRange(parse_bound(since, "--since"), parse_bound(until, "--until"))
    if result.since is not None and result.until is not None and result.since >= result.until:
        raise UsageError(f"--since ({since}) must be before --until ({until})")
    return result
