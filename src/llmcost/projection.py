"""From the observed window to a monthly figure (DESIGN.md "Projection")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from llmcost.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

SECONDS_PER_DAY = Decimal(86400)
DEFAULT_PROJECTION_DAYS = 30


@dataclass(frozen=True)
class Window:
    """The span of traffic a projection rests on."""

    start: datetime
    end: datetime
    requests: int
    days: Decimal  # may be set explicitly with --window-days

    @property
    def short(self) -> bool:
        return self.days < 1


def observed_window(frame: pd.DataFrame, window_days: float | None = None) -> Window:
    """First to last timestamp (or bucket end), unless ``window_days`` fixes the length."""
    bounds = WindowBounds()
    bounds.add(frame)
    return bounds.window(window_days)


class WindowBounds:
    """First and last timestamp and request count, accumulated over chunks of a log."""

    def __init__(self) -> None:
        self.start: pd.Timestamp | None = None
        self.end: pd.Timestamp | None = None
        self.requests = 0

    def add(self, frame: pd.DataFrame) -> None:
        start = frame["timestamp"].min()
        end = frame["timestamp"].max()
        if "period_end" in frame.columns:
            end = max(end, frame["period_end"].max())
        self.start = start if self.start is None else min(self.start, start)
        self.end = end if self.end is None else max(self.end, end)
        self.requests += int(frame["weight"].sum())

    def window(self, window_days: float | None = None) -> Window:
        if self.start is None or self.end is None:
            raise UsageError("the logs hold no requests")
        return _window(self.start, self.end, self.requests, window_days)


def _window(start: pd.Timestamp, end: pd.Timestamp, requests: int, window_days: float | None) -> Window:
    days = _days((end - start) // timedelta(microseconds=1), window_days)
    return Window(start.to_pydatetime(), end.to_pydatetime(), requests, days)


def window_of_ns(start_ns: int, end_ns: int, requests: int, window_days: float | None = None) -> Window:
    """The window of a first and last timestamp in ns since the epoch (UTC), without pandas: the same
    ``Window`` as ``WindowBounds`` gives for them (datetimes cut to the microsecond, as ``to_pydatetime``)."""
    days = _days((end_ns - start_ns) // 1000, window_days)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return Window(epoch + timedelta(microseconds=start_ns // 1000), epoch + timedelta(microseconds=end_ns // 1000),
                  requests, days)


def _days(microseconds: int, window_days: float | None) -> Decimal:
    """Days the window covers: ``--window-days`` if given, else first to last timestamp."""
    if window_days is not None:
        if window_days <= 0:
            raise UsageError("--window-days must be greater than 0")
        return Decimal(repr(float(window_days)))
    seconds = Decimal(microseconds) / Decimal(1_000_000)
    if seconds <= 0:
        raise UsageError(
            "cannot project: every request in the logs has the same timestamp; "
            "pass --window-days N to say how many days the logs cover"
        )
    return seconds / SECONDS_PER_DAY


def project(observed: Decimal, window: Window, days: int = DEFAULT_PROJECTION_DAYS,
            monthly_growth: Decimal = Decimal(0)) -> Decimal:
    """Cost over ``days`` at the observed daily rate, with volume growing ``monthly_growth`` a month.

    Growth compounds month by month: each 30-day month k = 1, 2, … of the projection carries
    ``(1 + g) ** k`` of the observed daily volume, and a final partial month counts pro rata at its
    own factor. With g = 0.1 the projected 30 days carry 10% more volume than the observed rate.
    """
    if days <= 0:
        raise UsageError("--days must be greater than 0")
    return observed * growth_days(days, monthly_growth) / window.days


def growth_days(days: int, monthly_growth: Decimal = Decimal(0)) -> Decimal:
    """Days of observed-rate volume that ``days`` of growing traffic amount to (``days`` without growth)."""
    if not monthly_growth:
        return Decimal(days)
    q = 1 + monthly_growth
    months, rest = divmod(days, 30)
    whole = q * (q**months - 1) / monthly_growth * 30  # Σ_{k=1..months} 30·q^k
    return whole + rest * q ** (months + 1)
