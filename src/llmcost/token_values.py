"""The one validator of token counts (and other whole-number columns) read from logs.

Every reader's counts go through :func:`token_values`, from :func:`llmcost.frame.conform` (llmcost's own
format and every reader's normalized columns) and from ``Rows.numbers`` (a source's own fields), so a value
is judged the same way whatever file it came from:

- a whole number from 0 to ``MAX_TOKENS`` is a count (``12.0`` and ``-0`` are whole numbers: 12 and 0);
- missing (JSON ``null``, an absent key, an empty CSV cell) is missing: 0, or an error where required;
- anything else is an error naming the value: text (``""`` included: JSON's empty string is not a count),
  booleans (``true`` was once priced as 1 token), ``NaN`` and infinities, fractions, negatives, and numbers
  above ``MAX_TOKENS`` (a 23-digit integer does not fit a float exactly, let alone int64).

Problems are returned as ``(rows, why)`` pairs, the caller reports them (``--skip-bad`` counts them by
``why``); :func:`describe` renders the first bad value for the error message. All checks are vectorized; no
warning is ever emitted (NaN, infinite and huge values are masked before any cast).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# 10^15 tokens in one row is about a billion times any real request, and far below 2^53 (exact in a float)
# and 2^63 (int64): every accepted count converts exactly.
MAX_TOKENS = 10**15
NOT_NUMBER = "must be a whole number (got non-numeric value)"
NEGATIVE = "must not be negative"
FRACTION = "must be a whole number of tokens"
TOO_LARGE = f"is too large (at most {MAX_TOKENS:.0e} tokens per row)".replace("e+", "e")
NOT_FINITE = "must be a finite whole number"
BOOLEAN = "must be a number, not true/false"

Problems = list[tuple["np.ndarray", str]]


def token_values(raw: pd.Series, *, integer: bool = True) -> tuple[np.ndarray, Problems]:
    """``raw`` as float64 (NaN where missing, and where a problem was found) plus the problems found."""
    import numpy as np
    import pandas as pd

    problems: Problems = []
    n = len(raw)
    if _is_bool(raw.dtype):
        problems.append((raw.notna().to_numpy(dtype=bool), BOOLEAN))
        return np.full(n, np.nan), problems
    if raw.dtype.kind in "iu":
        values = raw.to_numpy(dtype=np.float64)
        big = raw.to_numpy() > MAX_TOKENS
        _add(problems, big, TOO_LARGE)
        _add(problems, values < 0, NEGATIVE)
        return _masked(values, problems), problems
    if raw.dtype.kind == "f" or (isinstance(raw.dtype, pd.ArrowDtype) and raw.dtype.kind in "iuf"):
        values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = _from_objects(raw, problems, NOT_NUMBER if integer else NOT_NUMBER.replace(" whole", ""))
    finite = np.isfinite(values)
    _add(problems, ~finite & ~np.isnan(values), NOT_FINITE)
    with np.errstate(invalid="ignore"):
        _add(problems, finite & (np.abs(values) > MAX_TOKENS), TOO_LARGE)
        _add(problems, finite & (values < 0), NEGATIVE)
        if integer:
            _add(problems, finite & (np.floor(values) != values), FRACTION)
    return _masked(values, problems), problems


def _masked(values: np.ndarray, problems: Problems) -> np.ndarray:
    """NaN where a problem was found; -0.0 turned into 0.0."""
    import numpy as np

    bad = np.zeros(len(values), dtype=bool)
    for mask, _ in problems:
        bad |= mask
    out: np.ndarray = values + 0.0
    out[bad] = np.nan
    return out


def _from_objects(raw: pd.Series, problems: Problems, not_number: str) -> np.ndarray:
    """Text, or Python objects from a JSON parser (ints of any size, floats, bools, str, None)."""
    import numpy as np
    import pandas as pd

    present = raw.notna().to_numpy(dtype=bool)
    if raw.dtype == object:
        objects = raw.to_numpy(dtype=object).copy()
        types = pd.Series(objects, dtype=object).map(type)
        booleans = types.isin([bool, np.bool_]).to_numpy(dtype=bool)
        _add(problems, booleans, BOOLEAN)
        floats = np.flatnonzero(types.isin([float]).to_numpy(dtype=bool) & present)  # NaN: missing
        infinite = np.zeros(len(objects), dtype=bool)
        infinite[floats] = ~np.isfinite(objects[floats].astype(np.float64))
        _add(problems, infinite, NOT_FINITE)
        objects[infinite] = None
        big = types.isin([int]).to_numpy(dtype=bool) & present
        if big.any():
            ints = objects[big]
            huge = np.zeros(len(objects), dtype=bool)
            huge[np.flatnonzero(big)] = np.fromiter((abs(v) > MAX_TOKENS for v in ints), bool, len(ints))
            _add(problems, huge, TOO_LARGE)
            objects[huge] = None
        objects[booleans] = None
        text = pd.Series(objects, dtype=object)
    else:
        text = raw
    as_text = text.astype("string")
    stripped = as_text.str.strip()
    numeric = pd.to_numeric(stripped.where(~stripped.str.lower().isin(_NAMED_NUMBERS), "x"), errors="coerce")
    values: np.ndarray = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
    given = text.notna().to_numpy(dtype=bool)
    _add(problems, given & np.isnan(values), not_number)
    return values


# "nan", "inf" and friends parse as floats but are not counts; they are reported as text that is no number
_NAMED_NUMBERS = ["nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"]


def _is_bool(dtype: Any) -> bool:
    import pandas as pd

    return isinstance(dtype, pd.BooleanDtype) or str(dtype) in ("bool", "bool[pyarrow]", "boolean")


def _add(problems: Problems, mask: Any, why: str) -> None:
    import numpy as np

    mask = np.asarray(mask, dtype=bool)
    if mask.any():
        problems.append((mask, why))


def with_value(why: str, value: Any) -> str:
    """``why`` naming the value that failed: ``must be a whole number (got "")``."""
    shown = describe(value)
    if "(got non-numeric value)" in why:
        return why.replace("non-numeric value", shown)
    return f"{why} (got {shown})"


def describe(value: Any) -> str:
    """A bad value as the message shows it: JSON spelling, text quoted and cut, long numbers cut."""
    import math

    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # a numpy scalar
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, int):
        digits = str(value)
        return digits if len(digits) <= 24 else f"{digits[:20]}... ({len(digits.lstrip('-'))} digits)"
    text = str(value)
    shown = text if len(text) <= 40 else text[:37] + "..."
    return '""' if text == "" else repr(shown)
