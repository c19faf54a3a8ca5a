"""Token groups → exact Decimal costs, per DESIGN.md "Money".

Tokens are summed per (model, batch, long-context) group with numpy, then each group is priced
once in ``Decimal``: exact to the cent and fast however many rows there are.

Billing rules:
- uncached input = input − cache reads − 5-minute writes − 1-hour writes; each kind has its own rate;
- output includes reasoning tokens and bills at the output rate;
- a request whose input (per request, for bucket rows) exceeds the model's ``long_context.threshold_tokens``
  bills ALL its tokens at the long-context rates;
- rows with ``batch`` true bill at the batch rates (or the batch discount); a model without batch
  pricing bills batch rows at standard rates;
- ``request_fee`` is charged per request (``weight``);
- a model the catalog does not know, or whose needed rate is unknown (null), is *unpriced*: reported
  with its request count and never costed at $0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmcost.catalog import Catalog
from llmcost.errors import UnpricedModelError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MILLION = Decimal(1_000_000)
SUM_COLUMNS = (
    "weight",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
)


@dataclass(frozen=True)
class TokenSums:
    """Token counts of a group of requests (floats only in simulated scenarios)."""

    requests: float
    input_tokens: float
    cache_read_tokens: float
    cache_write_tokens: float
    cache_write_1h_tokens: float
    output_tokens: float
    reasoning_tokens: float

    @property
    def uncached_input_tokens(self) -> float:
        return self.input_tokens - self.cache_read_tokens - self.cache_write_tokens - self.cache_write_1h_tokens

    def by_kind(self) -> dict[str, float]:
        return {
            "input": self.uncached_input_tokens,
            "cache_read": self.cache_read_tokens,
            "cache_write": self.cache_write_tokens,
            "cache_write_1h": self.cache_write_1h_tokens,
            "output": self.output_tokens,
        }

    def __add__(self, other: TokenSums) -> TokenSums:
        return TokenSums(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))


ZERO = TokenSums(0, 0, 0, 0, 0, 0, 0)


@dataclass(frozen=True)
class ModelCost:
    """What one model's traffic costs. ``cost`` is None when it cannot be priced."""

    model: str
    provider: str | None
    tokens: TokenSums
    cost: Decimal | None
    long_context_requests: float = 0
    batch_requests: float = 0
    cost_logged: Decimal | None = None
    unpriced_reason: str | None = None

    @property
    def priced(self) -> bool:
        return self.cost is not None


@dataclass(frozen=True)
class PricedTraffic:
    """Cost of a frame, per model, with unpriced traffic kept apart."""

    by_model: tuple[ModelCost, ...]

    @property
    def total(self) -> Decimal:
        return sum((m.cost for m in self.by_model if m.cost is not None), Decimal(0))

    @property
    def priced(self) -> tuple[ModelCost, ...]:
        return tuple(m for m in self.by_model if m.cost is not None)

    @property
    def unpriced(self) -> tuple[ModelCost, ...]:
        return tuple(m for m in self.by_model if m.cost is None)

    @property
    def tokens(self) -> TokenSums:
        out = ZERO
        for m in self.by_model:
            out = out + m.tokens
        return out

    @property
    def cost_logged(self) -> Decimal | None:
        logged = [m.cost_logged for m in self.by_model if m.cost_logged is not None]
        return sum(logged, Decimal(0)) if logged else None

    def require_priced(self) -> None:
        """Raise for ``--strict`` when any traffic is unpriced."""
        if self.unpriced:
            parts = [f"{m.model} ({_fmt_requests(m.tokens.requests)} requests: {m.unpriced_reason})"
                     for m in self.unpriced]
            raise UnpricedModelError("unpriced traffic (--strict): " + "; ".join(parts))


def _fmt_requests(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def resolve_models(frame: pd.DataFrame, catalog: Catalog) -> pd.Series:
    """Catalog ids for the frame's ``model`` column (NA where the catalog does not know the name).

    Names are resolved once per distinct value, then mapped through the categorical codes.
    """
    import numpy as np
    import pandas as pd

    model = frame["model"]
    if not isinstance(model.dtype, pd.CategoricalDtype):
        model = model.astype("category")
    resolved = [catalog.resolve(str(name)) for name in model.cat.categories]
    ids = sorted({r for r in resolved if r is not None})
    position = {mid: i for i, mid in enumerate(ids)}
    lookup = np.array([position[r] if r is not None else -1 for r in resolved] + [-1], dtype=np.int64)
    codes = lookup[model.cat.codes.to_numpy()]
    return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(ids)), index=frame.index, name="model_id")


def model_ids(frame: pd.DataFrame, catalog: Catalog) -> pd.Series:
    """The frame's ``model_id`` column if a scenario set one, else resolved from ``model``."""
    if "model_id" in frame.columns:
        return frame["model_id"]
    return resolve_models(frame, catalog)


@dataclass
class TokenGroups:
    """Additive token sums per billing group, the unit that chunks of a big log are merged in.

    ``known`` is keyed by (catalog id, batch, long-context); ``unknown`` by the model name as logged.
    ``logged`` sums the source's own ``cost_logged`` per model (id or name) when the logs carry it.
    """

    known: dict[tuple[str, bool, bool], TokenSums] = field(default_factory=dict)
    unknown: dict[str, TokenSums] = field(default_factory=dict)
    logged: dict[str, float] | None = None

    def merge(self, other: TokenGroups) -> TokenGroups:
        known = dict(self.known)
        for key, sums in other.known.items():
            known[key] = known[key] + sums if key in known else sums
        unknown = dict(self.unknown)
        for name, sums in other.unknown.items():
            unknown[name] = unknown[name] + sums if name in unknown else sums
        logged = None
        if self.logged is not None or other.logged is not None:
            logged = dict(self.logged or {})
            for name, value in (other.logged or {}).items():
                logged[name] = logged.get(name, 0.0) + value
        return TokenGroups(known, unknown, logged)


def price(frame: pd.DataFrame, catalog: Catalog) -> PricedTraffic:
    """Price every row of ``frame`` and return the per-model costs."""
    return price_groups(aggregate(frame, catalog), catalog)


def aggregate(frame: pd.DataFrame, catalog: Catalog) -> TokenGroups:
    """Sum the frame's tokens per billing group (vectorized: one bincount per column)."""
    import pandas as pd

    ids = model_ids(frame, catalog)
    known = ids.notna().to_numpy()
    groups = TokenGroups(logged={} if "cost_logged" in frame.columns else None)
    if known.any():
        _aggregate_known(frame, ids, known, catalog, groups)
    if (~known).any():
        unknown = frame.loc[~known]
        for name, tokens, logged in _group_sums(unknown, pd.Categorical(unknown["model"].astype("string"))):
            groups.unknown[name] = tokens
            if groups.logged is not None and logged is not None:
                groups.logged[name] = float(logged)
    return groups


def _aggregate_known(frame: pd.DataFrame, ids: pd.Series, known: np.ndarray, catalog: Catalog,
                     groups: TokenGroups) -> None:
    import numpy as np

    categories = list(ids.cat.categories)
    codes = ids.cat.codes.to_numpy().astype(np.int64)  # int8 codes would wrap below (* 4) past 31 models
    thresholds = np.array(
        [_threshold(catalog, mid) for mid in categories] + [np.iinfo(np.int64).max], dtype=np.float64
    )
    weight = frame["weight"].to_numpy()
    per_request_input = frame["input_tokens"].to_numpy() / np.maximum(weight, 1)
    long = per_request_input > thresholds[codes]
    batch = frame["batch"].to_numpy(dtype=bool)
    n_groups = len(categories) * 4
    group = np.where(known, codes * 4 + batch * 2 + long, n_groups)  # n_groups: unknown, not summed
    sums = {col: _bincount(group, frame[col].to_numpy(), n_groups) for col in SUM_COLUMNS}
    logged = _bincount(group, _logged(frame), n_groups) if groups.logged is not None else None
    for code, mid in enumerate(categories):
        for is_batch in (False, True):
            for is_long in (False, True):
                g = code * 4 + is_batch * 2 + is_long
                tokens = TokenSums(*(sums[c][g] for c in SUM_COLUMNS))
                if tokens.requests:
                    groups.known[(mid, is_batch, is_long)] = tokens
        if logged is not None and groups.logged is not None:
            groups.logged[mid] = float(sum(logged[code * 4 + k] for k in range(4)))


def price_groups(groups: TokenGroups, catalog: Catalog) -> PricedTraffic:
    """Price summed token groups exactly, once per (model, batch, long-context) group."""
    per_model: dict[str, list[tuple[bool, bool, TokenSums]]] = {}
    for (mid, is_batch, is_long), tokens in groups.known.items():
        per_model.setdefault(mid, []).append((is_batch, is_long, tokens))
    results: list[ModelCost] = []
    for mid, parts in per_model.items():
        model = catalog.model(mid)
        total_tokens = ZERO
        cost: Decimal | None = Decimal(0)
        reason: str | None = None
        n_long = n_batch = 0.0
        for is_batch, is_long, tokens in parts:
            total_tokens = total_tokens + tokens
            n_long += tokens.requests if is_long else 0
            n_batch += tokens.requests if is_batch else 0
            group_cost, missing = cost_of(tokens, model.rates_for(long_context=is_long, batch=is_batch),
                                          model.request_fee)
            if missing:
                reason, cost = f"no {missing} price in catalog", None
            elif cost is not None:
                cost += group_cost
        results.append(ModelCost(mid, model.provider, total_tokens, cost, n_long, n_batch,
                                 _logged_cost(groups, mid), reason))
    for name, tokens in groups.unknown.items():
        results.append(ModelCost(name, None, tokens, None, cost_logged=_logged_cost(groups, name),
                                 unpriced_reason="not in catalog"))
    results.sort(key=lambda m: (m.cost is None, -(m.cost or 0), m.model))
    return PricedTraffic(tuple(results))


def _logged_cost(groups: TokenGroups, key: str) -> Decimal | None:
    if groups.logged is None or key not in groups.logged:
        return None
    return _decimal(groups.logged[key])


def cost_of(tokens: TokenSums, rates: dict[str, Decimal | None], request_fee: Decimal) -> tuple[Decimal, str | None]:
    """Exact cost of ``tokens`` at ``rates`` (USD per Mtok); the second value names a missing rate."""
    total = Decimal(0)
    for kind, count in tokens.by_kind().items():
        if count == 0:
            continue
        rate = rates[kind]
        if rate is None:
            return Decimal(0), kind.replace("_", " ") if kind != "input" else "input"
        total += _decimal(count) * rate / MILLION
    return total + request_fee * _decimal(tokens.requests), None


_SLICE = 1 << 20


def _threshold(catalog: Catalog, model_id: str) -> float:
    lc = catalog.model(model_id).long_context
    return float(lc.threshold_tokens) if lc else float(2**62)


def _bincount(group: np.ndarray, values: np.ndarray, n: int) -> list[float]:
    """Sum ``values`` per group 0..n-1 (``group`` == n: not summed), in slices: a slice's temporaries
    stay in cache and no frame-sized float copy is ever made (fresh memory is slow on small VMs)."""
    import numpy as np

    sums = np.zeros(n + 1, dtype=np.float64)
    for lo in range(0, len(group), _SLICE):
        part = values[lo:lo + _SLICE]
        sums += np.bincount(group[lo:lo + _SLICE], weights=part if part.dtype.kind == "f" else
                            part.astype(np.float64), minlength=n + 1)
    if values.dtype.kind in "iub":
        # Integer sums stay exact: float64 holds integers exactly up to 2**53.
        return [int(v) for v in sums[:n]]
    return [float(v) for v in sums[:n]]


def _logged(frame: pd.DataFrame) -> np.ndarray:
    import numpy as np
    import pandas as pd

    return pd.to_numeric(frame["cost_logged"], errors="coerce").fillna(0).to_numpy(dtype=np.float64)


def _group_sums(frame: pd.DataFrame, keys: pd.Categorical[Any]) -> list[tuple[str, TokenSums, Decimal | None]]:
    import numpy as np

    n = len(keys.categories)
    codes = np.where(np.asarray(keys.codes) >= 0, np.asarray(keys.codes, dtype=np.int64), n)
    sums = {col: _bincount(codes, frame[col].to_numpy(), n) for col in SUM_COLUMNS}
    logged = _bincount(codes, _logged(frame), n) if "cost_logged" in frame.columns else None
    out = []
    for i, name in enumerate(keys.categories):
        tokens = TokenSums(*(sums[c][i] for c in SUM_COLUMNS))
        if tokens.requests:
            out.append((str(name), tokens, _decimal(logged[i]) if logged is not None else None))
    return out


def _decimal(value: float) -> Decimal:
    if isinstance(value, int) or float(value).is_integer():
        return Decimal(int(value))
    return Decimal(repr(float(value)))
