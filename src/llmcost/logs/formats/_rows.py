"""Validating extracted source columns, vectorized, with the file line of every row.

A reader extracts its source's fields into a DataFrame (one row per record, ``lines`` giving each row's
line in the file), checks and converts the fields it needs with :class:`Rows`, builds the normalized
columns and calls :meth:`Rows.finish`, which runs :func:`llmcost.frame.conform` and reports any error
with the source's own line and field name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from llmcost.errors import InputError
from llmcost.frame import Conformed, RowProblem, conform
from llmcost.logs.interface import ReadOptions
from llmcost.token_values import token_values, with_value

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class Rows:
    """Extracted records of one source plus a running mask of rows to drop."""

    def __init__(self, frame: pd.DataFrame, lines: np.ndarray, source: str, options: ReadOptions,
                 *, skipped: Mapping[str, int] | None = None, unit: str = "line") -> None:
        import numpy as np

        self.frame = frame.reset_index(drop=True)
        self.lines = lines
        self.source = source
        self.options = options
        self.unit = unit  # "line" (JSONL, CSV), "item" (JSON array) or "row" (a database table)
        self.bad = np.zeros(len(self.frame), dtype=bool)
        self.skipped: dict[str, int] = dict(skipped or {})
        self.locate: Callable[[int], int] | None = None  # maps a row's nominal line to the real one

    def __len__(self) -> int:
        return len(self.frame)

    def has(self, field: str) -> bool:
        return field in self.frame.columns

    def error(self, row: int, field: str | None, why: str) -> InputError:
        where = int(self.lines[row])
        if self.locate is not None:
            where = self.locate(where)
        if self.unit == "item":
            return InputError(f"array item {where}: {why}", source=self.source, field=field)
        if self.unit == "row":  # a database table's row, in the order it was read
            return InputError(f"row {where}: {why}", source=self.source, field=field)
        return InputError(why, source=self.source, line=where, field=field)

    def fail(self, mask: np.ndarray, field: str, why: str, *, shown: pd.Series | None = None) -> None:
        """Rows in ``mask`` are malformed: raise for the first (naming its value when ``shown`` holds the
        column), or count and drop them with --skip-bad."""
        import numpy as np

        mask = mask & ~self.bad
        if not mask.any():
            return
        if not self.options.skip_bad:
            row = int(np.flatnonzero(mask)[0])
            raise self.error(row, field, why if shown is None else with_value(why, shown.iloc[row]))
        self._count(f"{field}: {why}", int(mask.sum()))
        self.bad |= mask

    def drop(self, mask: np.ndarray, reason: str) -> None:
        """Rows in ``mask`` are valid records that are not priced requests: always counted, never an error."""
        mask = mask & ~self.bad
        if mask.any():
            self._count(reason, int(mask.sum()))
            self.bad |= mask

    def _count(self, reason: str, n: int) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    def present(self, field: str) -> np.ndarray:
        import numpy as np

        if field not in self.frame.columns:
            return np.zeros(len(self.frame), dtype=bool)
        return self.frame[field].notna().to_numpy()

    def text(self, field: str) -> pd.Series:
        """A string column (missing → <NA>)."""
        import pandas as pd

        if field not in self.frame.columns:
            return pd.Series(pd.NA, index=self.frame.index, dtype="string")
        return self.frame[field].astype("string")

    def numbers(self, field: str, *, integer: bool = True) -> np.ndarray:
        """A numeric column as float64 (NaN where missing); what ``token_values`` refuses is an error."""
        import numpy as np

        if field not in self.frame.columns:
            return np.full(len(self.frame), np.nan)
        raw = self.frame[field]
        values, problems = token_values(raw, integer=integer)
        for mask, why in problems:
            self.fail(mask, field, why, shown=raw)
        return values

    def tokens(self, field: str, *, required: bool = False) -> np.ndarray:
        """A token-count column as int64 (missing → 0, or an error when ``required``)."""
        import numpy as np

        if required and field not in self.frame.columns:
            raise InputError("missing required column", source=self.source, field=field)
        values = self.numbers(field)
        if required:
            self.fail(np.isnan(values), field, "is missing")
        out: np.ndarray = np.nan_to_num(values, nan=0.0).astype(np.int64)
        return out

    def require(self, field: str) -> None:
        """A field every record must carry."""
        if field not in self.frame.columns:
            raise InputError("missing required column", source=self.source, field=field)
        self.fail(~self.present(field), field, "is missing")

    def finish(self, columns: dict[str, Any], *, fields: Mapping[str, str] | None = None) -> Conformed:
        """Drop the rows marked bad, conform the normalized ``columns`` and name source fields in errors.

        ``fields`` maps a normalized column to the source field it came from (for error messages).
        """
        import pandas as pd

        frame = pd.DataFrame(columns, copy=False)
        lines = self.lines
        if self.bad.any():
            keep = ~self.bad
            frame = frame.loc[keep].reset_index(drop=True)
            lines = lines[keep]
        opts = self.options
        try:
            result = conform(frame, source=self.source, first_line=0, default_model=opts.default_model,
                             skip_bad=opts.skip_bad)
        except RowProblem as exc:
            field = (fields or {}).get(exc.field or "", exc.field)
            self.lines = lines
            raise self.error(int(exc.line or 0), field, exc.detail) from None
        skipped = dict(self.skipped)
        for why, n in result.skipped.items():
            column, _, rest = why.partition(": ")
            label = f"{(fields or {}).get(column, column)}: {rest}" if rest else why
            skipped[label] = skipped.get(label, 0) + n
        return Conformed(result.frame, skipped)


def fill_millis(values: np.ndarray, start: pd.Series, end: pd.Series) -> np.ndarray:
    """``values`` (ms), with ``end − start`` where a value is missing (times parsed only for those rows)."""
    import numpy as np

    missing = np.isnan(values)
    if not missing.any():
        return values
    out = values.copy()
    out[missing] = millis_between(start[missing], end[missing]).to_numpy(dtype=float)
    return out


def millis_between(start: pd.Series, end: pd.Series) -> pd.Series:
    """``end − start`` in milliseconds as float (NaN where either is missing or unparseable)."""
    a = to_utc(start)
    b = to_utc(end)
    return (b - a).dt.total_seconds() * 1000.0


def to_utc(raw: pd.Series) -> pd.Series:
    """Parse a timestamp column leniently (for derived columns such as TTFT; never raises)."""
    import pandas as pd

    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        converted: pd.Series = raw.dt.tz_convert("UTC")
        return converted
    if raw.dtype.kind == "M":
        localized: pd.Series = raw.dt.tz_localize("UTC")
        return localized
    parsed = pd.to_datetime(raw, utc=True, errors="coerce", format="ISO8601")
    if parsed.isna().any() and raw.notna().any():
        parsed = parsed.fillna(pd.to_datetime(raw, utc=True, errors="coerce", format="mixed"))
    return parsed
