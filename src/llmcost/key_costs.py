"""Exact cost per key (task, user...) for very many keys at once, without one ``price_groups`` call per key.

``check`` judges every task of a log: a per-task rule, and its top cost drivers. Pricing each task's token groups
in Python costs tens of microseconds per task, minutes for a million tasks. Here the tokens are summed per
(key, billing group) in one vectorized pass, and each billing group's rates are applied to all its pairs at once
in exact integer arithmetic: a rate of ``a / 10**s`` USD per million tokens makes ``tokens * a`` an integer
numerator over ``10**(s + 6)``, summed per key with Python integers (no float, no rounding) and turned into a
``Decimal`` by moving the decimal point. The result is what ``pricing.price_groups`` gives each key's rows, to
the last digit (tested against it):

- a model's cost in a key is left out (and its requests are not counted as priced) when any of its groups in
  that key needs a rate the catalog lacks, as ``price_groups`` does per model;
- unknown models are unpriced.

Sums that are not whole numbers (a scenario's simulated fractional traffic) cannot be exact this way: the
function then returns None and the caller prices key by key.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from llmcost.frame import TOKEN_COLUMNS

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.catalog import Catalog

_AUDIO = ("audio_input_tokens", "audio_output_tokens", "audio_cache_read_tokens")
# Past this a token sum is no longer an exact float: price key by key instead.
_EXACT = 2.0**53


@dataclass(frozen=True)
class KeyCosts:
    """Per key code: the exact cost of its priced traffic (``numerators[k] / 10**scale`` USD) and the requests
    that traffic holds."""

    numerators: np.ndarray  # int64 when no sum can overflow it, else Python ints (object)
    scale: int
    priced_requests: np.ndarray

    @cached_property
    def cost(self) -> list[Decimal]:
        """Each key's cost as a ``Decimal`` (one object per key: for few keys, or for tests)."""
        return [Decimal(int(n)).scaleb(-self.scale) for n in self.numerators.tolist()]


def costs_by_key(frame: pd.DataFrame, catalog: Catalog, keys: np.ndarray, n_keys: int) -> KeyCosts | None:
    """Exact priced cost per key (``keys[i]`` in ``0..n_keys-1`` is row i's key), or None (fractional sums)."""
    import numpy as np

    from llmcost.token_groups import billing_codes, model_ids

    ids = model_ids(frame, catalog)
    known = ids.notna().to_numpy()
    if not known.any():
        return KeyCosts(np.zeros(n_keys, dtype=np.int64), 0, np.zeros(n_keys))
    codes = billing_codes(frame, ids, known, catalog)
    pair_of_row = keys[known].astype(np.int64) * (codes.n_groups + 1) + codes.group[known]
    pairs, inverse = np.unique(pair_of_row, return_inverse=True)
    every = bool(known.all())  # no copy of each column through the mask

    def summed(column: str) -> np.ndarray:
        if column not in frame.columns:  # absent (audio, mostly): zeros, without a frame-sized array of them
            return np.zeros(len(pairs))
        values = frame[column].to_numpy(dtype=np.float64)
        return np.bincount(inverse, weights=values if every else values[known], minlength=len(pairs))

    sums = {c: summed(c) for c in ("weight", *TOKEN_COLUMNS, *_AUDIO)}
    if not all(np.all(v == np.floor(v)) and np.all(np.abs(v) < _EXACT) for v in sums.values()):
        return None
    pair_key, pair_group = np.divmod(pairs, codes.n_groups + 1)
    numerators, missing, scale = _numerators(sums, pair_group, codes, catalog)
    # A model missing a rate anywhere in a key is unpriced in that whole key (price_groups, per model).
    pair_model = pair_group // codes.per_model
    key_model = pair_key * (len(codes.categories) + 1) + pair_model
    km_unique, km_of_pair = np.unique(key_model, return_inverse=True)
    km_missing = np.bincount(km_of_pair, weights=missing.astype(np.float64), minlength=len(km_unique)) > 0
    priced = ~km_missing[km_of_pair]
    numerators[~priced] = 0
    starts = np.flatnonzero(np.r_[True, pair_key[1:] != pair_key[:-1]])
    cost = np.zeros(n_keys, dtype=numerators.dtype)
    if len(pairs):
        cost[pair_key[starts]] = np.add.reduceat(numerators, starts)
    requests = np.bincount(pair_key[priced], weights=sums["weight"][priced], minlength=n_keys)
    return KeyCosts(cost, scale, requests)


def _quantities(sums: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Billed quantity per token kind, as ``TokenSums.by_kind`` defines them."""
    return {
        "input": (sums["input_tokens"] - sums["cache_read_tokens"] - sums["cache_write_tokens"]
                  - sums["cache_write_1h_tokens"] - (sums["audio_input_tokens"] - sums["audio_cache_read_tokens"])),
        "cache_read": sums["cache_read_tokens"] - sums["audio_cache_read_tokens"],
        "cache_write": sums["cache_write_tokens"],
        "cache_write_1h": sums["cache_write_1h_tokens"],
        "output": sums["output_tokens"] - sums["audio_output_tokens"],
        "audio_input": sums["audio_input_tokens"] - sums["audio_cache_read_tokens"],
        "audio_output": sums["audio_output_tokens"],
        "audio_cache_read": sums["audio_cache_read_tokens"],
    }


def _numerators(sums: dict[str, np.ndarray], pair_group: np.ndarray, codes: Any,
                catalog: Catalog) -> tuple[np.ndarray, np.ndarray, int]:
    """Each pair's cost as an integer numerator over ``10**scale`` (one scale for all), and whether it
    needs a rate the catalog lacks."""
    import numpy as np

    quantity = {kind: q.astype(np.int64) for kind, q in _quantities(sums).items()}
    requests = sums["weight"].astype(np.int64)
    groups = np.unique(pair_group).tolist()
    cards = {g: _card(codes.key(g), catalog) for g in groups}
    scale = 6 + max((_places(r) for rates, fee in cards.values() for r in (*rates.values(), fee) if r is not None),
                    default=0)
    exact_type: Any = np.int64 if _bound(quantity, requests, cards, scale) < 2.0**61 else object
    numerators = np.zeros(len(pair_group), dtype=exact_type)
    missing = np.zeros(len(pair_group), dtype=bool)
    order = np.argsort(pair_group, kind="stable")
    bounds = np.searchsorted(pair_group[order], [*groups, groups[-1] + 1] if groups else [])
    for i, g in enumerate(groups):
        at = order[bounds[i]:bounds[i + 1]]
        rates, fee = cards[g]
        total = np.zeros(len(at), dtype=exact_type)
        for kind, q in quantity.items():
            part = q[at]
            if not part.any():
                continue
            rate = rates[kind]
            if rate is None:
                missing[at[part != 0]] = True
                continue
            total = total + part.astype(exact_type) * _integer(rate, scale - 6)
        if fee:
            total = total + requests[at].astype(exact_type) * _integer(fee, scale)
        numerators[at] = total
    return numerators, missing, scale


def _bound(quantity: dict[str, np.ndarray], requests: np.ndarray,
           cards: dict[int, tuple[dict[str, Decimal | None], Decimal]], scale: int) -> float:
    """No numerator or sum of them exceeds this (in floats, with a wide margin below 2**63): then int64 is exact
    and ten times faster than Python ints."""
    import numpy as np

    def largest(values: list[Decimal | None], places: int) -> int:
        return max((abs(_integer(v, places)) for v in values if v is not None), default=0)

    bound = sum(float(np.abs(q).sum(dtype=np.float64)) * largest([r[kind] for r, _ in cards.values()], scale - 6)
                for kind, q in quantity.items())
    return bound + float(np.abs(requests).sum(dtype=np.float64)) * largest([f for _, f in cards.values()], scale)


def _card(key: Any, catalog: Catalog) -> tuple[dict[str, Decimal | None], Decimal]:
    model = catalog.model(key.model)
    rates = model.rates_for(long_context=key.long_context, batch=key.batch, period=key.period,
                            service_tier=key.service_tier)
    return rates, model.request_fee


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _integer(value: Decimal, places: int) -> int:
    """``value * 10**places`` as an int (exact: ``places`` is at least the value's own decimal places)."""
    return int(value.scaleb(places))
