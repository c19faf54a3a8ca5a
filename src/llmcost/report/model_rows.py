"""The rows of per-model tables when a log names 100,000 models: the busiest few as ``ModelCost`` objects, the
rest summed as columns.

``PricedTraffic`` keeps the names the catalog does not know as columns (``unpriced_names``); these helpers
rank and sum them with numpy, in exactly the order the per-object code gave (ties by first appearance), and
build objects only for the rows a table shows.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from llmcost.estimate import ScenarioOutcome
    from llmcost.pricing import ModelCost, PricedTraffic
    from llmcost.token_groups import TokenSums


@dataclass(frozen=True)
class RestCell:
    """One scenario's share of the models not shown: requests, priced cost, and how many of them there are."""

    requests: float
    priced: list[Decimal]
    models: int


@dataclass(frozen=True)
class RestRow:
    """What a scenario's by-model table sums in its last row: every model past the shown ones."""

    models: int
    costs: list[Decimal]
    tokens: TokenSums
    logged: Decimal

    @classmethod
    def of(cls, p: PricedTraffic, shown: list[ModelCost]) -> RestRow:
        """``shown``: the priced models first, then the busiest unpriced (``PricedTraffic.busiest_unpriced``)."""
        from llmcost.token_groups import TokenSums

        named = {m.model for m in shown}
        priced = [m for m in p.priced if m.model not in named]
        hidden = [m for m in shown if m.cost is None]
        every = p.unpriced_total()
        fields = tuple(TokenSums.__dataclass_fields__)
        tokens = TokenSums(*(getattr(every, f) - sum(getattr(m.tokens, f) for m in hidden)
                             + sum(getattr(m.tokens, f) for m in priced) for f in fields))
        logged = sum((m.cost_logged for m in priced if m.cost_logged is not None), Decimal(0))
        logged += sum((m.cost_logged for m in p.models if m.cost is None and m.cost_logged is not None
                       and m.model not in named), Decimal(0))
        if p.names and p.names.logged is not None:
            logged += sum((c for i, n in enumerate(p.names.names) if n not in named
                           and (c := p.names.cost_logged(i)) is not None), Decimal(0))
        return cls(len(priced) + p.unpriced_count - len(hidden), [m.cost for m in priced if m.cost is not None],
                   tokens, logged)


def busiest_across(scenarios: tuple[ScenarioOutcome, ...], limit: int) -> tuple[list[str], list[RestCell], int]:
    """The ``limit`` models with the most requests over every scenario (ties: first seen, scenario by scenario
    in each one's ``by_model`` order), each scenario's rest, and how many models the rest holds."""
    import numpy as np

    small: dict[str, float] = {}  # models the catalog knows: few, as objects
    first: dict[str, tuple[int, int]] = {}
    union = _union_names(scenarios)
    busy = np.zeros(len(union), dtype=np.float64)
    first_s = np.full(len(union), len(scenarios), dtype=np.int64)
    first_pos = np.zeros(len(union), dtype=np.int64)
    for k, s in enumerate(scenarios):
        p = s.priced
        no_rate = sorted(m.model for m in p.models if m.cost is None)
        n_priced = len(p.models) - len(no_rate)
        for pos, m in enumerate(p.priced):
            small[m.model] = small.get(m.model, 0.0) + m.tokens.requests
            first.setdefault(m.model, (k, pos))
        for m in (m for m in p.models if m.cost is None):
            small[m.model] = small.get(m.model, 0.0) + m.tokens.requests
            position = n_priced + bisect.bisect_left(no_rate, m.model)
            if p.names:
                position += bisect.bisect_left(p.names.names, m.model)
            first.setdefault(m.model, (k, position))
        if p.names:
            at = _positions(union, p.names.names)
            busy[at] += p.names.requests()
            fresh = at[first_s[at] > k]
            within = np.flatnonzero(first_s[at] > k)
            first_s[fresh] = k
            first_pos[fresh] = n_priced + within + np.searchsorted(np.array(no_rate, dtype=object),
                                                                     np.array(p.names.names, dtype=object)[within])
    top_names = np.lexsort((first_pos, first_s, -busy))[:limit].tolist() if len(union) else []
    candidates = [(-v, *first[name], name) for name, v in small.items()]
    candidates += [(-float(busy[i]), int(first_s[i]), int(first_pos[i]), union[i]) for i in top_names]
    shown = [c[3] for c in sorted(candidates)[:limit]]
    return shown, [_rest(s.priced, set(shown)) for s in scenarios], len(small) + len(union) - len(shown)


def _union_names(scenarios: tuple[ScenarioOutcome, ...]) -> list[str]:
    lists = [s.priced.names.names for s in scenarios if s.priced.names]
    if not lists:
        return []
    if all(names == lists[0] for names in lists[1:]):
        return lists[0]
    return sorted(set().union(*lists))


def _positions(union: list[str], names: list[str]) -> np.ndarray:
    import numpy as np

    if names is union or names == union:
        return np.arange(len(union), dtype=np.int64)
    at = {name: i for i, name in enumerate(union)}
    return np.array([at[n] for n in names], dtype=np.int64)


def _rest(p: PricedTraffic, shown: set[str]) -> RestCell:
    import numpy as np

    others = [m for m in p.models if m.model not in shown]
    requests = sum(m.tokens.requests for m in others)
    count = len(others)
    if p.names:
        keep = np.ones(len(p.names), dtype=bool)
        for name in shown:
            at = p.names.sums.index_of(name)
            if at is not None:
                keep[at] = False
        requests += float(p.names.requests()[keep].sum())
        count += int(keep.sum())
    return RestCell(requests, [m.cost for m in others if m.cost is not None], count)


def model_in(p: PricedTraffic, name: str) -> ModelCost | None:
    """The model ``name`` of ``p`` (known or not), built alone."""
    found = next((m for m in p.models if m.model == name), None)
    at = p.names.sums.index_of(name) if found is None and p.names else None
    return found if at is None or p.names is None else p.names.cost(at)
