"""The normalized request frame every reader returns and every later stage consumes.

One row per request (or per bucket of ``weight`` requests). Token columns follow the OpenAI
convention: ``input_tokens`` counts ALL prompt tokens, and the cache columns are subsets of it.
See DESIGN.md for the column table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from llmcost.errors import InputError
from llmcost.token_values import MAX_TOKENS, describe, token_values, with_value

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    Fail = Callable[..., None]

TOKEN_COLUMNS = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
)
REQUIRED = ("timestamp", "model", "input_tokens", "output_tokens")
# What pricing and projection read beyond the core columns (a baseline estimate reads nothing else).
BASELINE_EXTRA = frozenset({"cost_logged", "period_end", "task", "tags", "tokens_estimated", "service_tier", "provider",
                            "audio_input_tokens", "audio_output_tokens", "audio_cache_read_tokens"})
CORE_COLUMNS = ("timestamp", "model", *TOKEN_COLUMNS, "weight", "batch")
OPTIONAL_COLUMNS = (
    "task",
    "tags",
    "user",
    "prompt_hash",
    "prefix_hashes",
    "prompt",
    "response",  # semantic cache: answer risk
    "embedding",  # semantic cache: vectors already in the log (embedder kind column)
    "status",
    "latency_ms",
    "ttft_ms",
    "region",
    "cost_logged",
    "period_end",
    "tokens_estimated",
    "service_tier",
    "provider",
)
# Token counts that only some sources carry: validated like the core counts when present, never created.
# Audio tokens are subsets of input/output billed at the model's audio rates; cached audio (Gemini's implicit
# cache) is a subset of both the audio input and the cache reads.
EXTRA_TOKEN_COLUMNS = ("audio_input_tokens", "audio_output_tokens", "audio_cache_read_tokens")


@dataclass
class Conformed:
    """A conformed frame plus how many rows were skipped, by reason."""

    frame: pd.DataFrame
    skipped: dict[str, int] = field(default_factory=dict)


class RowProblem(InputError):
    """A specific row failed validation (carries the reason for ``--skip-bad`` counting)."""


def empty_frame() -> pd.DataFrame:
    import pandas as pd

    return conform(pd.DataFrame({c: [] for c in REQUIRED}), source="<empty>").frame


def conform(
    df: pd.DataFrame,
    *,
    source: str,
    first_line: int = 1,
    default_model: str | None = None,
    skip_bad: bool = False,
) -> Conformed:
    """Coerce ``df`` to the normalized schema, validating every row (vectorized).

    ``first_line`` is the file line of row 0, so errors can name the line. With ``skip_bad`` invalid
    rows are dropped and counted instead of raising.
    """
    import numpy as np
    import pandas as pd

    df = df.reset_index(drop=True)
    if df.columns.duplicated().any():
        df = _one_column_per_name(df, source, first_line)
    n = len(df)
    bad = np.zeros(n, dtype=bool)
    skipped: dict[str, int] = {}
    out: dict[str, Any] = {}

    def fail(mask: np.ndarray, column: str, why: str, shown: pd.Series | None = None) -> None:
        nonlocal bad
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        if not skip_bad:  # the first failure raises, so no row is marked bad yet
            row = int(np.flatnonzero(mask)[0])
            detail = why if shown is None else with_value(why, shown.iloc[row])
            raise RowProblem(detail, source=source, line=first_line + row, field=column)
        mask = mask & ~bad
        if not mask.any():  # every row already skipped for an earlier reason
            return
        skipped[f"{column}: {why}"] = skipped.get(f"{column}: {why}", 0) + int(mask.sum())
        bad = bad | mask

    if default_model is not None:
        if "model" not in df.columns:
            df["model"] = default_model
        else:
            missing = df["model"].isna() | (df["model"].astype("string").str.len() == 0)
            df.loc[missing.to_numpy(), "model"] = default_model
    _estimate_prompt_tokens(df)
    for column in REQUIRED:
        if column not in df.columns:
            hint = " (use --model ID to assign one)" if column == "model" else ""
            raise InputError(f"missing required column{hint}", source=source, field=column)

    out["timestamp"] = _timestamps(df["timestamp"], fail)
    out["model"] = _models(df["model"], fail)

    for column in TOKEN_COLUMNS:
        out[column] = _tokens(df, column, column in REQUIRED, fail)
    out["weight"] = _tokens(df, "weight", False, fail, default=1)
    if "weight" in df.columns:
        fail(out["weight"] < 1, "weight", "must be at least 1")

    _check_subsets(df, out, fail)

    for column in EXTRA_TOKEN_COLUMNS:
        if column in df.columns:
            out[column] = _tokens(df, column, False, fail)
    _check_extra_subsets(out, fail)

    out["batch"] = _booleans(df, "batch", fail)
    for column in OPTIONAL_COLUMNS:
        if column in df.columns:
            # Kept as pandas columns: Arrow-backed strings and lists stay zero-copy, never Python objects.
            out[column] = df[column] if column != "period_end" else _timestamps(df[column], fail)

    frame = pd.DataFrame(out, copy=False)
    if bad.any():
        frame = frame.loc[~bad].reset_index(drop=True)
        frame["model"] = frame["model"].cat.remove_unused_categories()
    return Conformed(frame, skipped)


def _one_column_per_name(df: pd.DataFrame, source: str, first_line: int) -> pd.DataFrame:
    """A header naming a column twice: the copies must agree (then one is kept), else which one to price
    is a guess, and an error names both columns and the first line where they differ."""
    import numpy as np

    names = list(df.columns)
    for name in dict.fromkeys(n for n in names if names.count(n) > 1):
        where = [i for i, n in enumerate(names) if n == name]
        first = df.iloc[:, where[0]]
        for other in where[1:]:
            copy = df.iloc[:, other]
            same = (first.astype("string") == copy.astype("string")).fillna(False).to_numpy(dtype=bool)
            same |= (first.isna() & copy.isna()).to_numpy(dtype=bool)
            if not same.all():
                row = int(np.flatnonzero(~same)[0])
                raise InputError(f"columns {where[0] + 1} and {other + 1} are both named '{name}' and differ "
                                 f"({describe(first.iloc[row])} vs {describe(copy.iloc[row])}); keep one of them",
                                 source=source, line=first_line + row, field=name)
    return df.loc[:, ~df.columns.duplicated()]


def _check_subsets(df: pd.DataFrame, out: dict[str, Any], fail: Fail) -> None:
    """Cache tokens are part of the input, reasoning tokens part of the output. Absent columns are zeros
    and are left out of the sums (no 10M-row temporaries for them)."""
    import numpy as np

    cache = [out[c] for c in ("cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens") if c in df.columns]
    if cache:
        cached = cache[0] if len(cache) == 1 else np.sum(cache, axis=0)
        fail(cached > out["input_tokens"], "cache_read_tokens",
             "cache tokens exceed input_tokens (input must include them)")
    if "reasoning_tokens" in df.columns:
        fail(out["reasoning_tokens"] > out["output_tokens"], "reasoning_tokens", "exceed output_tokens")


def _check_extra_subsets(out: dict[str, Any], fail: Fail) -> None:
    for column, whole in (("audio_input_tokens", "input_tokens"), ("audio_output_tokens", "output_tokens"),
                          ("audio_cache_read_tokens", "audio_input_tokens"),
                          ("audio_cache_read_tokens", "cache_read_tokens")):
        if column in out:
            fail(out[column] > out.get(whole, 0), column, f"exceed {whole}")


def _models(raw: pd.Series, fail: Fail) -> pd.Series:
    """The model column as a categorical; empty names are errors. Checks run on the categories only."""
    import pandas as pd

    model = raw if isinstance(raw.dtype, pd.CategoricalDtype) else raw.astype("string").astype("category")
    categories = model.cat.categories.astype("string")
    blank = categories.str.strip().str.len() == 0
    codes = model.cat.codes.to_numpy()
    empty = codes < 0
    if blank.any():
        empty |= pd.Series(blank).to_numpy(dtype=bool)[codes] & (codes >= 0)
    fail(empty, "model", "empty model name")
    if model.cat.categories.dtype != "string":
        model = model.cat.rename_categories(list(categories))
    return model


def _estimate_prompt_tokens(df: pd.DataFrame) -> None:
    """Rows with ``prompt`` text but no ``input_tokens`` get counted offline with o200k_base, in place,
    and flagged ``tokens_estimated``."""
    import numpy as np
    import pandas as pd

    if "prompt" not in df.columns:
        return
    if "input_tokens" in df.columns:
        given = df["input_tokens"]
        missing = given.isna().to_numpy(dtype=bool)
        if given.dtype == object:
            missing |= (given.astype("string").str.strip() == "").fillna(True).to_numpy(dtype=bool)
    else:
        missing = np.ones(len(df), dtype=bool)
    if not missing.any():
        return
    prompt = df["prompt"].astype("string")
    need = missing & (prompt.str.len() > 0).fillna(False).to_numpy(dtype=bool)
    if not need.any():
        return
    from llmcost.tokens import count_tokens

    counts = count_tokens(prompt[need].tolist())
    tokens = (df["input_tokens"].astype(object) if "input_tokens" in df.columns
              else pd.Series(None, index=df.index, dtype=object))
    tokens[need] = counts
    df["input_tokens"] = tokens
    flagged = df["tokens_estimated"].fillna(False).astype(bool) if "tokens_estimated" in df.columns else False
    df["tokens_estimated"] = need | flagged


def _tokens(df: pd.DataFrame, column: str, required: bool, fail: Fail, default: int = 0) -> np.ndarray:
    import numpy as np

    report = fail
    if column not in df.columns:
        # zeros come from calloc: pages are only touched when read, which costs nothing for 10M rows.
        return np.zeros(len(df), dtype=np.int64) if default == 0 else np.full(len(df), default, dtype=np.int64)
    raw = df[column]
    if raw.dtype.kind in "iu" and (raw.empty or (raw.min() >= 0 and raw.max() <= MAX_TOKENS)):
        return raw.to_numpy(dtype=np.int64)  # the common case: whole numbers in range, no copy through floats
    values, problems = token_values(raw)
    for mask, why in problems:
        report(mask, column, why, raw)
    if required:
        report(np.isnan(values), column, "is missing")
    result: np.ndarray = np.nan_to_num(values, nan=default).astype(np.int64)
    return result


def _timestamps(raw: pd.Series, fail: Fail) -> Any:
    import numpy as np
    import pandas as pd

    report = fail
    if isinstance(raw.dtype, pd.DatetimeTZDtype) or raw.dtype.kind == "M":
        if raw.hasnans:  # a blank cell in a typed column (Parquet, or a CSV pyarrow read as timestamps)
            report(raw.isna().to_numpy(), "timestamp", "is missing")
        return raw.dt.tz_convert("UTC") if isinstance(raw.dtype, pd.DatetimeTZDtype) else raw.dt.tz_localize("UTC")
    if raw.dtype.kind in "iuf":
        values = raw.to_numpy(dtype=np.float64)
        report(np.isnan(values), "timestamp", "is missing")
        finite = np.isfinite(values)
        unit: Literal["ms", "s"] = "ms" if np.max(values, where=finite, initial=0) > 1e11 else "s"
        # pandas times end in 2262 (and start in 1677): a bigger epoch is an error, not a traceback
        within = finite & (np.abs(np.where(finite, values, 0)) < (9.2e12 if unit == "ms" else 9.2e9))
        report(~np.isnan(values) & ~within, "timestamp", f"not a date/time (epoch {unit} out of range)", raw)
        return pd.to_datetime(np.where(within, values, 0), unit=unit, utc=True)
    series: pd.Series[Any] = pd.Series(raw)
    parsed = pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
    if parsed.isna().any() and series.notna().any():
        parsed = parsed.fillna(pd.to_datetime(series, utc=True, errors="coerce", format="mixed"))
    report(parsed.isna().to_numpy(), "timestamp", "not a date/time (expected ISO 8601 or epoch seconds)")
    return parsed


def _booleans(df: pd.DataFrame, column: str, fail: Fail) -> np.ndarray:
    import numpy as np

    report = fail
    if column not in df.columns:
        return np.zeros(len(df), dtype=bool)
    raw = df[column]
    if raw.dtype == bool:
        return np.asarray(raw, dtype=bool)
    text = raw.astype("string").str.strip().str.lower().fillna("false")
    truthy = text.isin(["true", "1", "yes", "t", "1.0"]).to_numpy()
    falsy = text.isin(["false", "0", "no", "f", "", "0.0", "none", "null", "<na>"]).to_numpy()
    report(~(truthy | falsy), column, "must be true or false")
    return truthy
