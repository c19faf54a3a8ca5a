"""Helpers every strategy shares: the run context, model targets, row selection and row scaling."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmcost.errors import ScenarioError
from llmcost.frame import EXTRA_TOKEN_COLUMNS, TOKEN_COLUMNS

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.bench.summary import BenchSummary
    from llmcost.catalog import Catalog, ModelPrice
    from llmcost.pricing import TokenGroups
    from llmcost.scenarios.interface import Shared
    from llmcost.scenarios.schema import Conditions

CACHE_COLUMNS = ("cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens")
# Cached audio is part of the cache reads: cleared with them (a frame without it has nothing to clear).
OPTIONAL_CACHE_COLUMNS = ("audio_cache_read_tokens",)


@dataclass
class Context:
    """What a scenario run accumulates while its strategies transform the traffic."""

    catalog: Catalog
    scenario: str
    source: str = "<scenarios>"
    bench: BenchSummary | None = None
    extra_cost: Decimal = Decimal(0)
    details: dict[str, Any] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)
    shared: Shared | None = None
    sums: TokenGroups | None = None  # the token sums of the traffic so far, when a strategy had them already

    def error(self, message: str, field_path: str) -> ScenarioError:
        return ScenarioError(message, source=self.source, field=f"{self.scenario}.{field_path}")


def blended_price(model: ModelPrice) -> float:
    """A single number to order models by: 3 parts input to 1 part output, per Mtok."""
    inp = float(model.input_mtok) if model.input_mtok is not None else float("inf")
    out = float(model.output_mtok) if model.output_mtok is not None else float("inf")
    return (3 * inp + out) / 4


def priced_tiers(catalog: Catalog) -> list[str]:
    """The catalog's tiers that hold at least one model, cheapest tier first (catalog order)."""
    return [t for t in catalog.tiers if catalog.in_tier(t)]


def resolve_target(target: str, ctx: Context, field_path: str) -> str:
    """A catalog id for ``target``: an id or alias, a tier name, or ``tiers[N]`` (Nth non-empty tier).

    A tier stands for its cheapest model (by blended price).
    """
    catalog = ctx.catalog
    tier = target
    if target.startswith("tiers[") and target.endswith("]"):
        tiers = priced_tiers(catalog)
        try:
            tier = tiers[int(target[6:-1])]
        except (ValueError, IndexError):
            raise ctx.error(f"'{target}': the catalog has {len(tiers)} tiers with models "
                            f"({', '.join(tiers)})", field_path) from None
    if tier in catalog.tiers:
        members = catalog.in_tier(tier)
        if not members:
            raise ctx.error(f"tier '{tier}' has no models in the catalog", field_path)
        return min(members, key=blended_price).id
    found = catalog.resolve(target)
    if found is None:
        raise ctx.error(f"'{target}' is neither a model nor a tier of the catalog "
                        f"(tiers: {', '.join(catalog.tiers)})", field_path)
    return found


def with_model_ids(frame: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """A shallow copy of ``frame`` with a ``model_id`` categorical column (catalog ids, NA = unknown)."""
    from llmcost.pricing import model_ids

    out = frame.copy(deep=False)
    out["model_id"] = model_ids(frame, catalog)
    return out


def set_model_ids(frame: pd.DataFrame, codes: np.ndarray, categories: list[str]) -> None:
    """Replace ``frame['model_id']`` from integer codes into ``categories`` (-1 = unknown)."""
    import pandas as pd

    frame["model_id"] = pd.Categorical.from_codes(codes, categories=pd.Index(categories))


def union_codes(frame: pd.DataFrame, extra: list[str]) -> tuple[np.ndarray, list[str]]:
    """The frame's model_id codes in a category list that also holds ``extra`` ids."""
    import numpy as np

    current = list(frame["model_id"].cat.categories)
    categories = current + [m for m in dict.fromkeys(extra) if m not in current]
    return frame["model_id"].cat.codes.to_numpy().astype(np.int64), categories


def per_request(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A token column per request (bucket rows carry ``weight`` requests)."""
    import numpy as np

    values: np.ndarray = frame[column].to_numpy()
    weight: np.ndarray = frame["weight"].to_numpy()
    if weight.dtype.kind in "iu" and int(weight.max(initial=1)) <= 1:
        return values  # one request per row: nothing to divide (read-only view; callers never write)
    out: np.ndarray = values / np.maximum(weight.astype(np.float64), 1)
    return out


def scaled(frame: pd.DataFrame, factor: np.ndarray) -> pd.DataFrame:
    """Rows scaled to an expected fraction of themselves: tokens and weight times ``factor`` (floats)."""
    out = frame.copy(deep=False)
    extra = tuple(c for c in EXTRA_TOKEN_COLUMNS if c in frame.columns)
    for column in (*TOKEN_COLUMNS, *extra, "weight"):
        out[column] = frame[column].to_numpy(dtype="float64") * factor
    return out


def clear_cache_columns(frame: pd.DataFrame, mask: np.ndarray | None = None) -> None:
    """Logged provider-cache tokens no longer apply (a new model or a new prompt): zero them."""
    import numpy as np

    for column in (*CACHE_COLUMNS, *(c for c in OPTIONAL_CACHE_COLUMNS if c in frame.columns)):
        values = frame[column].to_numpy()
        if not values.any():
            continue  # nothing logged to clear (a column the log lacks is zeros): no copy
        if mask is None:
            frame[column] = np.zeros_like(values)
        elif mask.any():
            values = values.copy()
            values[mask] = 0
            frame[column] = values


def requests(frame: pd.DataFrame, mask: np.ndarray | None = None) -> float:
    """Requests (sum of weight) in ``frame`` or in its ``mask`` rows."""
    import numpy as np

    weight = frame["weight"].to_numpy()
    if mask is None:
        return float(weight.sum())
    if _one_a_row(weight):
        return float(np.count_nonzero(mask))  # a tenth of a masked sum's time
    return float(weight.sum(where=mask))


def requests_by(frame: pd.DataFrame, code: np.ndarray, n: int) -> np.ndarray:
    """Requests (sum of weight) of the rows of each ``code`` 0..n-1, in one pass (float64)."""
    import numpy as np

    weight = frame["weight"].to_numpy()
    if _one_a_row(weight):
        return np.bincount(code, minlength=n).astype(np.float64)
    return np.bincount(code, weights=weight.astype(np.float64), minlength=n)


def _one_a_row(weight: np.ndarray) -> bool:
    return weight.dtype.kind in "iu" and int(weight.max(initial=1)) <= 1


def category_codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes (-1 = missing) and the distinct values of a column, without per-row Python."""
    import numpy as np
    import pandas as pd

    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.int64), [str(c) for c in values.cat.categories]
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes.astype(np.int64), [str(u) for u in uniques]


def times_ns(frame: pd.DataFrame) -> np.ndarray:
    """Timestamps as int64 nanoseconds since the epoch (UTC): a read-only view of the column when it is
    held in nanoseconds already (``in_ns``), else a converted copy."""
    import numpy as np

    stamps = frame["timestamp"]
    if stamps.dt.unit != "ns":
        return np.asarray(stamps.dt.as_unit("ns").array.asi8, dtype=np.int64)
    view = np.asarray(stamps.array.asi8, dtype=np.int64).view()
    view.flags.writeable = False
    return view


def in_ns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its timestamps held in nanoseconds (converted once for a run whose replays read
    them many times; a shallow copy, or ``frame`` itself when they already are)."""
    if frame["timestamp"].dt.unit == "ns":
        return frame
    out = frame.copy(deep=False)
    out["timestamp"] = frame["timestamp"].dt.as_unit("ns")
    return out


def share(part: float, whole: float) -> float:
    return round(part / whole, 6) if whole else 0.0


def hash_share(frame: pd.DataFrame, fraction: float, salt: str) -> np.ndarray:
    """A deterministic pseudo-random ``fraction`` of rows: by ``prompt_hash`` when present, else by
    timestamp and row number in the log. The same log always splits the same way, read whole or in chunks.

    ``salt`` names the split (a routing rule, a batch share): splits with different salts are independent,
    so a second 50% rule takes half of what the first left, and a batch share is drawn apart from routing.
    """
    import numpy as np
    import pandas as pd

    if fraction >= 1:
        return np.ones(len(frame), dtype=bool)
    if fraction <= 0:
        return np.zeros(len(frame), dtype=bool)
    stamp = times_ns(frame).view(np.uint64)
    position = frame["request_row"].to_numpy(dtype=np.int64) if "request_row" in frame.columns \
        else np.arange(len(frame), dtype=np.int64)  # the row in the log, wherever earlier strategies moved it
    # pandas' integer hash is a fixed bit mixer (it ignores hash_key): mix each input, then the salt.
    hashed = _mix(_mix(stamp) ^ _mix(position.view(np.uint64) + np.uint64(_GOLDEN)))
    if "prompt_hash" in frame.columns:
        ph = frame["prompt_hash"]
        known = ph.notna().to_numpy()
        if known.any():
            by_prompt = pd.util.hash_array(ph.astype("string").fillna("").to_numpy(dtype=object))
            hashed = np.where(known, by_prompt, hashed)
    salted = _mix(hashed ^ np.uint64(salt_key(salt)))
    return (salted % np.uint64(1_000_000)) < np.uint64(round(fraction * 1_000_000))


_GOLDEN = 0x9E3779B97F4A7C15  # keeps row 0 from hashing like a zero timestamp


def salt_key(salt: str) -> int:
    """A 64-bit key for a split's salt (stable across runs and machines)."""
    import hashlib

    return int.from_bytes(hashlib.blake2b(salt.encode("utf-8"), digest_size=8).digest(), "little")


def _mix(values: np.ndarray) -> np.ndarray:
    """A 64-bit finalizer (splitmix64, as pandas hashes integers): every input bit flips half the output."""
    import numpy as np
    import pandas as pd

    mixed: np.ndarray = pd.util.hash_array(np.asarray(values, dtype=np.uint64))
    return mixed


def select(frame: pd.DataFrame, cond: Conditions, salt: str) -> np.ndarray:
    """Rows meeting every condition in ``cond`` (vectorized). Missing columns match nothing."""
    import numpy as np

    n = len(frame)
    mask = np.ones(n, dtype=bool)
    if cond.task is not None:
        mask &= _isin(frame, "task", _as_list(cond.task))
    if cond.tags is not None:
        mask &= _tags_match(frame, _as_list(cond.tags))
    if cond.model is not None:
        wanted = {m.lower() for m in _as_list(cond.model)}
        logged = frame["model"].astype("string").str.lower().isin(wanted).to_numpy(dtype=bool)
        by_id = frame["model_id"].astype("string").str.lower().isin(wanted).fillna(False).to_numpy(dtype=bool) \
            if "model_id" in frame.columns else logged
        mask &= logged | by_id
    for column, rng in (("input_tokens", cond.input_tokens), ("output_tokens", cond.output_tokens)):
        if rng is not None:
            values = per_request(frame, column)
            if rng.min is not None:
                mask &= values >= rng.min
            if rng.max is not None:
                mask &= values <= rng.max
    if cond.prompt_regex is not None:
        if "prompt" not in frame.columns:
            mask &= False
        else:
            found = frame["prompt"].astype("string").str.contains(cond.prompt_regex, regex=True)
            mask &= found.fillna(False).to_numpy(dtype=bool)
    from llmcost.scenarios.prompt_features import select_by_prompt, uses_prompt

    if uses_prompt(cond):
        mask &= select_by_prompt(frame, cond)
    if cond.share is not None:
        mask &= hash_share(frame, cond.share, salt)
    return mask


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _isin(frame: pd.DataFrame, column: str, values: list[str]) -> np.ndarray:
    import numpy as np

    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].astype("string").isin(values).fillna(False).to_numpy(dtype=bool)


def _tags_match(frame: pd.DataFrame, wanted: list[str]) -> np.ndarray:
    """Any of ``wanted`` among a row's tags (a list, or a comma-separated string)."""
    import numpy as np
    import pandas as pd

    if "tags" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    tags = pd.Series(frame["tags"].to_numpy(), dtype=object)
    as_text = tags.map(lambda v: v.split(",") if isinstance(v, str) else v)
    exploded = as_text.explode().astype("string").str.strip()
    hit = exploded.isin(wanted).fillna(False).groupby(level=0).any()
    return hit.reindex(range(len(frame)), fill_value=False).to_numpy(dtype=bool)
