"""Token groups: the frame's tokens summed per billing group, the unit that pricing prices once.

A billing group is (model, price period, service tier, batch, long context): every request in it bills at
the same rate card. Sums are vectorized (one ``bincount`` per column) and additive, so chunks of a big log
merge by adding their groups. ``llmcost.pricing`` turns groups into exact ``Decimal`` costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from llmcost.frame import TOKEN_COLUMNS

if TYPE_CHECKING:
    from collections.abc import MutableMapping

    import numpy as np
    import pandas as pd

    from llmcost.catalog import Catalog, ModelPrice
    from llmcost.name_sums import NameSums

SUM_COLUMNS = ("weight", *TOKEN_COLUMNS)  # the order TokenSums' fields follow
AUDIO_COLUMNS = ("audio_input_tokens", "audio_output_tokens", "audio_cache_read_tokens")
# Every column pricing reads (those a frame lacks are simply absent).
PRICING_COLUMNS = (*SUM_COLUMNS, *AUDIO_COLUMNS, "timestamp", "model", "model_id", "batch", "service_tier",
                   "provider", "cost_logged")


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
    audio_input_tokens: float = 0
    audio_output_tokens: float = 0
    audio_cache_read_tokens: float = 0  # a subset of both audio_input_tokens and cache_read_tokens

    @property
    def uncached_input_tokens(self) -> float:
        """Text input billed at the input rate: input less cache reads, cache writes and uncached audio."""
        return (self.input_tokens - self.cache_read_tokens - self.cache_write_tokens - self.cache_write_1h_tokens
                - (self.audio_input_tokens - self.audio_cache_read_tokens))

    def by_kind(self) -> dict[str, float]:
        return {
            "input": self.uncached_input_tokens,
            "cache_read": self.cache_read_tokens - self.audio_cache_read_tokens,
            "cache_write": self.cache_write_tokens,
            "cache_write_1h": self.cache_write_1h_tokens,
            "output": self.output_tokens - self.audio_output_tokens,
            "audio_input": self.audio_input_tokens - self.audio_cache_read_tokens,
            "audio_output": self.audio_output_tokens,
            "audio_cache_read": self.audio_cache_read_tokens,
        }

    def __add__(self, other: TokenSums) -> TokenSums:
        return TokenSums(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))


ZERO = TokenSums(0, 0, 0, 0, 0, 0, 0)
_TOKEN_FIELDS = tuple(TokenSums.__dataclass_fields__)


class BillingKey(NamedTuple):
    """A billing group of a known model: requests priced with the same rate card."""

    model: str
    batch: bool
    long_context: bool
    service_tier: str | None = None  # None = standard rates
    period: int = 0  # 0 = current prices, k = the model's price_history[k - 1]


def resolve_models(frame: pd.DataFrame, catalog: Catalog) -> pd.Series:
    """Catalog ids for the frame's ``model`` column (NA where the catalog does not know the name).

    Names are resolved once per distinct value — per distinct (provider, model) pair when the log names
    the serving provider — then mapped through integer codes.
    """
    import numpy as np
    import pandas as pd

    model = _categorical(frame["model"])
    by_name = "provider" not in frame.columns or not frame["provider"].notna().any()
    if by_name:
        memo = next((m for m in _RESOLVED if m[0] is catalog and m[1] is model.cat.categories), None)
        if memo is not None:  # the same names as a scenario before: no Python call per name
            return _ids(memo[2][model.cat.codes.to_numpy()], memo[3], frame.index)  # code -1: lookup's last
    codes = model.cat.codes.to_numpy().astype(np.int64)
    names = [str(name) for name in model.cat.categories.tolist()]  # tolist: not one Arrow scalar each
    if not by_name:
        provider = _categorical(frame["provider"])
        hosts = [str(p) for p in provider.cat.categories]
        pair = codes * (len(hosts) + 1) + (provider.cat.codes.to_numpy().astype(np.int64) + 1)
        pair_codes, pairs = pd.factorize(np.where(codes >= 0, pair, -1), use_na_sentinel=False)
        resolved = [None if p < 0 else catalog.resolve(names[p // (len(hosts) + 1)],
                                                       _host(hosts, p % (len(hosts) + 1)))
                    for p in pairs.tolist()]
        codes = np.asarray(pair_codes, dtype=np.int64)
    else:
        resolved = [catalog.resolve(name) for name in names]
    ids = sorted({r for r in resolved if r is not None})
    position = {mid: i for i, mid in enumerate(ids)}
    lookup = np.array([position[r] if r is not None else -1 for r in resolved] + [-1],
                      dtype=np.int8 if len(ids) < 127 else np.int16 if len(ids) < 32_767 else np.int32)
    if by_name:
        _RESOLVED.insert(0, (catalog, model.cat.categories, lookup, pd.Index(ids)))
        del _RESOLVED[_REMEMBERED:]
    return _ids(lookup[codes], pd.Index(ids), frame.index)


def _ids(codes: np.ndarray, ids: pd.Index, index: pd.Index) -> pd.Series:
    """A categorical ``model_id`` column from codes into ``ids`` (-1: unknown), in pandas' code dtype for
    that many categories (so pandas neither casts nor checks them again)."""
    import pandas as pd

    dtype = pd.CategoricalDtype(ids)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=dtype, validate=False), index=index, name="model_id")


# The last few (catalog, model names) resolved, by identity: every scenario of a run shares the log's names
# (its frames keep the categorical's categories), and 100,000 names cost 0.1 s of Python calls per scenario.
_RESOLVED: list[tuple[Any, Any, Any, Any]] = []
_REMEMBERED = 4


def _categorical(values: pd.Series) -> pd.Series:
    import pandas as pd

    return values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("string").astype("category")


def _host(hosts: list[str], code: int) -> str | None:
    return hosts[code - 1] if code > 0 else None


def model_ids(frame: pd.DataFrame, catalog: Catalog) -> pd.Series:
    """The frame's ``model_id`` column if a scenario set one, else resolved from ``model``."""
    if "model_id" in frame.columns:
        return frame["model_id"]
    return resolve_models(frame, catalog)


@dataclass
class TokenGroups:
    """Additive token sums per billing group, the unit that chunks of a big log are merged in.

    ``known`` is keyed by ``BillingKey``; ``unknown`` by the model name as logged. ``logged`` sums the
    source's own ``cost_logged`` per model (id or name) when the logs carry it.
    """

    known: dict[BillingKey, TokenSums] = field(default_factory=dict)
    # aggregate's are ``name_sums.NameSums`` (columns, not an object per name); a plain dict elsewhere
    unknown: MutableMapping[str, TokenSums] = field(default_factory=dict)
    logged: dict[str, float] | None = None

    def merge(self, other: TokenGroups) -> TokenGroups:
        from llmcost.name_sums import NameSums

        known = dict(self.known)
        for key, sums in other.known.items():
            known[key] = known[key] + sums if key in known else sums
        unknown: MutableMapping[str, TokenSums]
        if isinstance(self.unknown, NameSums) and isinstance(other.unknown, NameSums):
            unknown = self.unknown.plus(other.unknown)
        elif not other.unknown:
            unknown = self.unknown
        elif not self.unknown:
            unknown = other.unknown
        else:
            unknown = dict(self.unknown)
            for name, sums in other.unknown.items():
                unknown[name] = unknown[name] + sums if name in unknown else sums
        logged = None
        if self.logged is not None or other.logged is not None:
            logged = dict(self.logged or {})
            for name, value in (other.logged or {}).items():
                logged[name] = logged.get(name, 0.0) + value
        return TokenGroups(known, unknown, logged)


def aggregate(frame: pd.DataFrame, catalog: Catalog, rows: np.ndarray | None = None) -> TokenGroups:
    """Sum the frame's tokens per billing group (vectorized: one bincount per column); with ``rows`` (a bool
    mask) only those rows', the same sums as ``aggregate(frame.loc[rows])`` without copying the frame."""
    if rows is None:
        return aggregate_parts(frame, catalog, None, 1)[0]
    import numpy as np

    return aggregate_parts(frame, catalog, np.where(rows, 0, 1).astype(np.int8), 1)[0]


def aggregate_parts(frame: pd.DataFrame, catalog: Catalog, part: np.ndarray | None, parts: int) -> list[TokenGroups]:
    """The sums of each part of the frame's rows (``part``: each row's part number, 0..parts-1; rows numbered
    ``parts`` or more are not summed; None: every row in part 0), from one set of billing codes and one
    bincount per column: the exact cache sums its hits and its misses at once."""

    ids = model_ids(frame, catalog)
    known = ids.notna().to_numpy()
    summed = known if part is None else known & (part < parts)
    groups = [TokenGroups(logged={} if "cost_logged" in frame.columns else None) for _ in range(parts)]
    columns = _sum_columns(frame)
    if summed.any():
        _aggregate_known(frame, ids, summed, catalog, groups, columns, part)
    unknown = ~known if part is None else ~known & (part < parts)
    for k, target in enumerate(groups):
        rows = unknown if part is None else unknown & (part == k)
        if rows.any():
            target.unknown = _unknown_sums(frame.loc[rows], columns, target.logged)
    return groups


def _unknown_sums(unknown: pd.DataFrame, columns: tuple[str, ...], logged: dict[str, float] | None) -> NameSums:
    """The unknown models' token sums by name, as columns (``logged``, if given, gets each name's logged cost)."""
    import numpy as np
    import pandas as pd

    from llmcost.name_sums import name_sums

    model = unknown["model"]
    if isinstance(model.dtype, pd.CategoricalDtype):  # the log's own codes: no string per row
        given = [str(name) for name in model.cat.categories.tolist()]
        order = sorted(range(len(given)), key=given.__getitem__)
        rank = np.empty(len(given) + 1, dtype=np.int64)
        rank[np.array(order, dtype=np.int64)] = np.arange(len(given), dtype=np.int64)
        rank[-1] = len(given)  # code -1 (no name): not summed
        names = [given[i] for i in order]
        codes = rank[model.cat.codes.to_numpy().astype(np.int64)]
    else:
        keys = pd.Categorical(model.astype("string"))
        names = [str(name) for name in keys.categories.tolist()]
        codes = np.where(np.asarray(keys.codes) >= 0, np.asarray(keys.codes, dtype=np.int64), len(names))
    sums = name_sums(unknown, names, codes, columns, None)
    if logged is not None and "cost_logged" in unknown.columns:
        per_name = _bincount(codes, _logged(unknown), len(names))
        at = {name: i for i, name in enumerate(names)}
        for name in sums.names:
            logged[name] = float(decimal_of(per_name[at[name]]))
    return sums


def _sum_columns(frame: pd.DataFrame) -> tuple[str, ...]:
    return SUM_COLUMNS + tuple(c for c in AUDIO_COLUMNS if c in frame.columns)


def _sums(sums: dict[str, list[Any]], columns: tuple[str, ...], g: int) -> TokenSums:
    return TokenSums(**{("requests" if c == "weight" else c): sums[c][g] for c in columns})


class BillingCodes(NamedTuple):
    """Each row's billing group as an integer (``n_groups`` = a row of an unknown model: not summed)."""

    group: np.ndarray
    n_groups: int
    per_model: int
    n_tiers: int
    categories: list[str]
    tier_names: list[str | None]

    def key(self, g: int) -> BillingKey:
        code, rest = divmod(g, self.per_model)
        rest, flags = divmod(rest, 4)
        p, t = divmod(rest, self.n_tiers)
        return BillingKey(self.categories[code], bool(flags & 2), bool(flags & 1), self.tier_names[t], p)


def billing_codes(frame: pd.DataFrame, ids: pd.Series, known: np.ndarray, catalog: Catalog) -> BillingCodes:
    """The billing group of every row (``ids``: catalog ids, ``known``: rows whose model has one)."""
    import numpy as np

    categories = [str(c) for c in ids.cat.categories]
    models = [catalog.model(mid) for mid in categories]
    codes = ids.cat.codes.to_numpy().astype(np.int64)  # int8 codes would wrap past 31 models
    if not known.all():
        codes[~known] = 0
    period, n_periods = _periods(frame, codes, known, models)
    tier, tier_names = service_tiers(frame)
    n_tiers = len(tier_names)
    per_model = n_periods * n_tiers * 4
    n_groups = len(categories) * per_model
    # group = ((code * periods + period) * tiers + tier) * 4 + batch * 2 + long, built in place: each
    # 10M-row temporary costs fresh memory, which is what big logs spend their time on.
    group = codes * per_model
    if n_periods > 1:
        group += period * (n_tiers * 4)
    if n_tiers > 1:
        group += tier.codes * 4
    batch = frame["batch"].to_numpy(dtype=bool)
    group += (batch | tier.batch) * 2 if tier.batch is not False else batch * 2
    group += _long_context(frame, codes, period, n_periods, models)
    if not known.all():
        group[~known] = n_groups  # unknown: not summed
    return BillingCodes(group, n_groups, per_model, n_tiers, categories, tier_names)


def _aggregate_known(frame: pd.DataFrame, ids: pd.Series, known: np.ndarray, catalog: Catalog,
                     groups: list[TokenGroups], columns: tuple[str, ...], part: np.ndarray | None) -> None:
    import numpy as np

    codes = billing_codes(frame, ids, known, catalog)
    group, n_groups, per_model = codes.group, codes.n_groups, codes.per_model
    total = n_groups * len(groups)
    if part is not None and len(groups) > 1:  # part k's groups at k * n_groups; unknown rows stay unsummed
        group = np.where(known, group + part.astype(np.int64) * n_groups, total)
    elif part is not None:
        group = np.where(known, group, total)
    sums = {col: _bincount(group, frame[col].to_numpy(), total) for col in columns}
    logged = _bincount(group, _logged(frame), total) if groups[0].logged is not None else None
    for k, target in enumerate(groups):
        base = k * n_groups
        for g in np.flatnonzero(np.asarray(sums["weight"][base:base + n_groups]) != 0).tolist():
            target.known[codes.key(g)] = _sums(sums, columns, base + g)
        if logged is not None and target.logged is not None:
            for code, mid in enumerate(codes.categories):
                target.logged[mid] = float(sum(logged[base + code * per_model:base + (code + 1) * per_model]))


def _periods(frame: pd.DataFrame, codes: np.ndarray, known: np.ndarray,
             models: list[ModelPrice]) -> tuple[np.ndarray, int]:
    """Each row's price period (0 = current prices, k = price_history[k - 1]) from its timestamp."""
    import numpy as np

    n_periods = 1 + max((len(m.price_history) for m in models), default=0)
    period = np.zeros(len(frame), dtype=np.int64)
    if n_periods == 1:
        return period, 1
    stamps = np.asarray(frame["timestamp"].dt.as_unit("ns").array.asi8, dtype=np.int64)
    for code, model in enumerate(models):
        if not model.price_history:
            continue
        rows = np.flatnonzero(known & (codes == code))
        untils = np.array([_ns(p.until_utc) for p in model.price_history], dtype=np.int64)
        index = np.searchsorted(untils, stamps[rows], side="right")
        period[rows] = np.where(index < len(untils), index + 1, 0)
    return period, n_periods


def _ns(instant: datetime) -> int:
    """An aware datetime as int64 nanoseconds since the epoch (exact: no float seconds)."""
    delta = instant - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


class _Tiers(NamedTuple):
    codes: np.ndarray  # per row: index into the tier names (0 = standard)
    batch: np.ndarray | bool  # rows whose service tier says "batch"


def service_tiers(frame: pd.DataFrame) -> tuple[_Tiers, list[str | None]]:
    """Each row's service tier as a code into the returned names (None = standard rates)."""
    import numpy as np

    from llmcost.catalog.cards import STANDARD_SERVICE_TIERS

    if "service_tier" not in frame.columns:
        return _Tiers(np.zeros(len(frame), dtype=np.int64), False), [None]
    logged = _categorical(frame["service_tier"])
    values = [str(v).strip().lower() for v in logged.cat.categories]
    names: list[str | None] = [None, *sorted({v for v in values if v not in STANDARD_SERVICE_TIERS and v != "batch"})]
    lookup = np.array([0 if v in STANDARD_SERVICE_TIERS or v == "batch" else names.index(v) for v in values] + [0],
                      dtype=np.int64)
    is_batch = np.array([v == "batch" for v in values] + [False])
    raw = logged.cat.codes.to_numpy().astype(np.int64)
    return _Tiers(lookup[raw], is_batch[raw] if is_batch.any() else False), names


def _long_context(frame: pd.DataFrame, codes: np.ndarray, period: np.ndarray, n_periods: int,
                  models: list[ModelPrice]) -> np.ndarray:
    """Rows whose input per request crosses their model's long-context threshold (in their price period).

    "At or above" T is "above" the float just below T, so one comparison serves both kinds."""
    import numpy as np

    thresholds = np.full((len(models), n_periods), np.inf)
    for code, model in enumerate(models):
        for p in range(1 + len(model.price_history)):
            lc = model.long_context_of(p)
            if lc is not None:
                limit = float(lc.threshold_tokens)
                thresholds[code, p] = np.nextafter(limit, -np.inf) if lc.inclusive else limit
    if np.isinf(thresholds).all():
        return np.zeros(len(frame), dtype=bool)
    weight = frame["weight"].to_numpy()
    inputs = frame["input_tokens"].to_numpy()
    single = weight.dtype.kind in "iu" and int(weight.max(initial=1)) <= 1
    per_request = inputs if single else inputs / np.maximum(weight, 1)
    limit = thresholds[:, 0][codes] if n_periods == 1 else thresholds[codes, period]
    long: np.ndarray = per_request > limit
    return long


_SLICE = 1 << 20


def _bincount(group: np.ndarray, values: np.ndarray, n: int) -> list[float]:
    """Sum ``values`` per group 0..n-1 (``group`` == n: not summed), in slices: a slice's temporaries
    stay in cache and no frame-sized float copy is ever made (fresh memory is slow on small VMs)."""
    import numpy as np

    if values.dtype.kind in "iub" and not values.any():
        return [0] * n  # a column the log does not have (conform's zeros): one pass that stops early else
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


def _token_sums(values: tuple[Any, ...]) -> TokenSums:
    """``TokenSums(*values)`` without the frozen dataclass's per-field ``object.__setattr__`` (half the time:
    a log with 100,000 model names makes 100,000 per scenario). Fields not given keep their class default."""
    made: TokenSums = object.__new__(TokenSums)
    made.__dict__.update(zip(_TOKEN_FIELDS, values, strict=False))
    return made


def decimal_of(value: float) -> Decimal:
    """A float sum as the Decimal it spells (integers exactly)."""
    if isinstance(value, int) or float(value).is_integer():
        return Decimal(int(value))
    return Decimal(repr(float(value)))
