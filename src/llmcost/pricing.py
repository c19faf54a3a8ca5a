"""Token groups → exact Decimal costs, per DESIGN.md "Money".

Tokens are summed per billing group — (model, price period, service tier, batch, long-context) — with
numpy, then each group is priced once in ``Decimal``: exact to the cent and fast however many rows there are.

Billing rules:
- uncached input = input − cache reads − 5-minute writes − 1-hour writes; each kind has its own rate;
- output includes reasoning tokens and bills at the output rate;
- a request whose input (per request, for bucket rows) exceeds the model's ``long_context.threshold_tokens``
  bills ALL its tokens at the long-context rates;
- rows with ``batch`` true bill at the batch rates (or the batch discount); a model without batch
  pricing bills batch rows at standard rates;
- a request is billed at the prices in force at its timestamp (the model's ``price_history``);
- a request logged with a service tier (``priority``, ``flex``) bills at that tier's card; a model with no
  card for the tier makes that traffic unpriced (never standard rates in silence);
- audio input/output tokens (subsets of input/output) bill at the audio rates;
- ``request_fee`` is charged per request (``weight``);
- a model the catalog does not know, or whose needed rate is unknown (null), is *unpriced*: reported
  with its request count and never costed at $0.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from llmcost.errors import UnpricedModelError
from llmcost.token_groups import (
    AUDIO_COLUMNS,
    PRICING_COLUMNS,
    SUM_COLUMNS,
    ZERO,
    BillingKey,
    TokenGroups,
    TokenSums,
    aggregate,
    aggregate_parts,
    decimal_of,
    model_ids,
    resolve_models,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.catalog import Catalog
    from llmcost.name_sums import NameSums
    from llmcost.unpriced_names import UnpricedNames

# Re-exported: callers price and group through this module.
__all__ = ["AUDIO_COLUMNS", "MILLION", "PRICING_COLUMNS", "SUGGESTED_NAMES", "SUM_COLUMNS", "BillingKey", "CostLine",
           "ModelCost", "PricedTraffic", "TokenGroups", "TokenSums", "aggregate", "aggregate_parts", "cost_lines",
           "cost_of", "model_ids", "price", "price_groups", "resolve_models"]
MILLION = Decimal(1_000_000)


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

    @cached_property
    def priced(self) -> bool:
        return self.cost is not None


@dataclass(frozen=True)
class PricedTraffic:
    """Cost of a frame, per model, with unpriced traffic kept apart.

    ``models`` holds every model the catalog knows (priced by cost, highest first, then those missing a rate,
    by name); ``names`` the names it does not know, as columns (``unpriced_names``: a log can hold 100,000).
    ``by_model`` and ``unpriced`` list them all as ``ModelCost`` objects; ``busiest_unpriced``,
    ``unpriced_count`` and ``unpriced_total`` answer what reports show without building one per name."""

    models: tuple[ModelCost, ...]
    names: UnpricedNames | None = None

    @cached_property
    def by_model(self) -> tuple[ModelCost, ...]:
        """Priced models by cost, then every unpriced one (known ones missing a rate and unknown names) by name."""
        if not self.names:
            return self.models
        no_rate = [m for m in self.models if m.cost is None]
        return (*self.priced, *heapq.merge(no_rate, self.names.costs(), key=_name))

    @cached_property
    def total(self) -> Decimal:
        return sum((m.cost for m in self.models if m.cost is not None), Decimal(0))

    @property
    def priced(self) -> tuple[ModelCost, ...]:
        return tuple(m for m in self.models if m.cost is not None)

    @cached_property
    def unpriced(self) -> tuple[ModelCost, ...]:
        return tuple(m for m in self.by_model if m.cost is None)

    @property
    def unpriced_count(self) -> int:
        return sum(1 for m in self.models if m.cost is None) + (len(self.names) if self.names else 0)

    def busiest_unpriced(self, limit: int) -> list[ModelCost]:
        """The ``limit`` unpriced models with the most requests (ties by name), busiest first."""
        no_rate = [m for m in self.models if m.cost is None]
        top = [] if not self.names else [self.names.cost(i) for i in self.names.ranked[:limit].tolist()]
        return sorted(no_rate + top, key=lambda m: (-m.tokens.requests, m.model))[:limit]

    def unpriced_requests(self) -> list[tuple[str, float]]:
        """Every unpriced model's name and requests, by name (no object per unknown name)."""
        no_rate = [(m.model, m.tokens.requests) for m in self.models if m.cost is None]
        if not self.names:
            return no_rate
        sums = self.names.sums
        column = sums.requests().tolist()
        named = list(zip(sums.names, map(int, column) if sums.integral[0] else column, strict=True))
        return list(heapq.merge(no_rate, named, key=lambda pair: pair[0]))

    def unpriced_total(self) -> TokenSums:
        """Every unpriced model's tokens, summed."""
        return _sum_tokens([m.tokens for m in self.models if m.cost is None], self.names)

    @cached_property
    def tokens(self) -> TokenSums:
        """All models' tokens, summed field by field (one pass per field, not one object per model)."""
        return _sum_tokens([m.tokens for m in self.models], self.names)

    @property
    def cost_logged(self) -> Decimal | None:
        logged = [m.cost_logged for m in self.models if m.cost_logged is not None]
        names = self.names.logged_total() if self.names else None
        if names is not None:
            logged.append(names)
        return sum(logged, Decimal(0)) if logged else None

    def require_priced(self) -> None:
        """Raise for ``--strict`` when any traffic is unpriced."""
        if self.unpriced_count:
            raise UnpricedModelError("unpriced traffic (--strict): " + describe_unpriced(self))


def unpriced_beyond(base: PricedTraffic, mine: PricedTraffic) -> tuple[ModelCost, ...]:
    """Unpriced models of ``mine`` that ``base`` prices or that carry more requests than in ``base`` (by name),
    then ``base``'s unpriced models that ``mine`` prices (by name): compared as columns, one object per model
    found."""
    import numpy as np

    def no_rate(p: PricedTraffic) -> list[ModelCost]:
        return [m for m in p.models if m.cost is None]

    had = {m.model: m.tokens.requests for m in no_rate(base)}
    extra_named: list[ModelCost] = []
    if mine.names:
        wanted = mine.names.requests()
        if base.names and base.names.names == mine.names.names:
            before = base.names.requests()
        else:
            known = dict(zip(base.names.names, base.names.requests().tolist(), strict=True)) if base.names else {}
            before = np.array([known.get(n, had.get(n, 0)) for n in mine.names.names], dtype=np.float64)
        extra_named = [mine.names.cost(i) for i in np.flatnonzero(wanted > before * (1 + 1e-9)).tolist()]
    if base.names:
        had.update(zip(base.names.names, base.names.requests().tolist(), strict=True))
    extra_rate = [m for m in no_rate(mine) if m.tokens.requests > had.get(m.model, 0) * (1 + 1e-9)]
    kept = {m.model for m in no_rate(mine)} | set(mine.names.names if mine.names else ())
    moved_named: list[ModelCost] = []
    if base.names:
        moved_named = [base.names.cost(i) for i, n in enumerate(base.names.names) if n not in kept]
    moved_rate = [m for m in no_rate(base) if m.model not in kept]
    return (*heapq.merge(extra_rate, extra_named, key=_name), *heapq.merge(moved_rate, moved_named, key=_name))


def _sum_tokens(sums: list[TokenSums], names: UnpricedNames | None) -> TokenSums:
    if not sums and not names:
        return ZERO
    fields = tuple(TokenSums.__dataclass_fields__)
    totals = [sum(getattr(t, f) for t in sums) for f in fields]
    if names:
        totals = [t + names.sums.column_sum(j) for j, t in enumerate(totals)]
    return TokenSums(*totals)


# How many unpriced names a one-line message lists; the rest are counted (the full list is in JSON).
LISTED_NAMES = 10


def describe_unpriced(models: Sequence[ModelCost] | PricedTraffic, *, limit: int = LISTED_NAMES,
                      reasons: bool = True) -> str:
    """``a (12 requests: not in catalog); b (...)`` for the busiest ``limit`` models, then ``… and 99,990 more
    models (1,234,567 requests)``: a message stays one readable line at any number of names. Given a
    ``PricedTraffic``, its unpriced models (without one object per unknown name)."""
    if isinstance(models, PricedTraffic):
        shown_models = models.busiest_unpriced(limit)
        n_rest = models.unpriced_count - len(shown_models)
        requests = models.unpriced_total().requests - sum(m.tokens.requests for m in shown_models)
    else:
        ranked = sorted(models, key=lambda m: (-m.tokens.requests, m.model))
        shown_models, rest = ranked[:limit], ranked[limit:]
        n_rest, requests = len(rest), sum(m.tokens.requests for m in rest)
    shown = [f"{m.model} ({_fmt_count(m.tokens.requests)} requests"
             + (f": {m.unpriced_reason})" if reasons else ")") for m in shown_models]
    text = "; ".join(shown)
    if n_rest:
        text += (f"; and {n_rest:,} more model{'s' if n_rest > 1 else ''} ({_fmt_count(requests)} "
                 "requests; every one is listed in --format json)")
    return text


def _fmt_count(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def _fmt_requests(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def price(frame: pd.DataFrame, catalog: Catalog, rows: np.ndarray | None = None) -> PricedTraffic:
    """Price every row of ``frame`` (or its ``rows``, a bool mask) and return the per-model costs."""
    return price_groups(aggregate(frame, catalog, rows), catalog)


def price_groups(groups: TokenGroups, catalog: Catalog) -> PricedTraffic:
    """Price summed token groups exactly, once per billing group."""
    per_model: dict[str, list[tuple[BillingKey, TokenSums]]] = {}
    for key, tokens in groups.known.items():
        per_model.setdefault(key.model, []).append((key, tokens))
    results: list[ModelCost] = []
    for mid, parts in per_model.items():
        model = catalog.model(mid)
        total_tokens = ZERO
        cost: Decimal | None = Decimal(0)
        reason: str | None = None
        n_long = n_batch = 0.0
        for key, tokens in parts:
            total_tokens = total_tokens + tokens
            n_long += tokens.requests if key.long_context else 0
            n_batch += tokens.requests if key.batch else 0
            rates = model.rates_for(long_context=key.long_context, batch=key.batch, period=key.period,
                                    service_tier=key.service_tier)
            group_cost, missing = cost_of(tokens, rates, model.request_fee)
            if missing:
                cost = None
                reason = (f"no '{key.service_tier}' service-tier price in catalog"
                          if key.service_tier is not None and model.card(service_tier=key.service_tier) is None
                          else f"no {missing} price in catalog")
            elif cost is not None:
                cost += group_cost
        results.append(ModelCost(mid, model.provider, total_tokens, cost, n_long, n_batch,
                                 _logged_cost(groups, mid), reason))
    results.sort(key=lambda m: (m.cost is None, -(m.cost or 0), m.model))
    # Priced models by cost, then known models missing a rate by name; unknown names apart, as columns.
    priced = [m for m in results if m.cost is not None]
    no_rate = sorted((m for m in results if m.cost is None), key=_name)
    return PricedTraffic((*priced, *no_rate), _unknown_names(groups, catalog))


def _unknown_names(groups: TokenGroups, catalog: Catalog) -> UnpricedNames | None:
    from llmcost.name_sums import NameSums
    from llmcost.unpriced_names import UnpricedNames

    if not groups.unknown:
        return None
    sums = groups.unknown if isinstance(groups.unknown, NameSums) else NameSums.of(dict(groups.unknown))
    # "did you mean" costs a fuzzy search over every catalog name: only for the busiest unknown names
    busiest = {sums.names[i] for i in _busiest(sums, SUGGESTED_NAMES)}
    known = catalog.names.unknown_reasons  # the same names come back in every scenario of a run
    reasons = [known.get((name, name in busiest)) or "" for name in sums.names]
    for i, reason in enumerate(reasons):
        if not reason:
            name = sums.names[i]
            suggest = name in busiest
            reasons[i] = known[(name, suggest)] = _not_in_catalog(name, catalog, suggest=suggest)
    return UnpricedNames(sums, reasons, groups.logged)


def _busiest(sums: NameSums, n: int) -> list[int]:
    """The ``n`` names with the most requests (ties: the first by name, as ``sorted`` by requests gave)."""
    import numpy as np

    top: list[int] = np.argsort(-sums.requests(), kind="stable")[:n].tolist()
    return top


def _name(m: ModelCost) -> str:
    return m.model


def unpriced_cost(name: str, tokens: TokenSums, logged: Decimal | None, reason: str) -> ModelCost:
    """``ModelCost(name, None, tokens, None, ...)`` without the frozen dataclass's per-field setattr: a log
    with 100,000 unknown model names makes 100,000 of these per scenario."""
    made: ModelCost = object.__new__(ModelCost)
    made.__dict__.update(model=name, provider=None, tokens=tokens, cost=None, long_context_requests=0,
                         batch_requests=0, cost_logged=logged, unpriced_reason=reason)
    return made


SUGGESTED_NAMES = 10  # as many as a one-line message lists (LISTED_NAMES)


def _not_in_catalog(name: str, catalog: Catalog, *, suggest: bool = True) -> str:
    other = catalog.resolve(name)
    if other is not None:  # unresolved only because of the provider the log says served it
        return (f"no price in catalog for the provider that served it ('{other}' is "
                f"{catalog.model(other).provider}'s price)")
    suggestions = catalog.suggest(name) if suggest else []
    return "not in catalog" + (f"; did you mean {', '.join(suggestions)}?" if suggestions else "")


def _logged_cost(groups: TokenGroups, key: str) -> Decimal | None:
    if groups.logged is None or key not in groups.logged:
        return None
    return decimal_of(groups.logged[key])


class CostLine(NamedTuple):
    """One billed kind of a group: ``quantity`` tokens (or requests) at ``rate`` (USD per Mtok, or per request
    for ``kind`` "request") cost ``cost``."""

    kind: str
    quantity: Decimal
    rate: Decimal
    cost: Decimal


def cost_lines(tokens: TokenSums, rates: dict[str, Decimal | None],
               request_fee: Decimal) -> tuple[list[CostLine], str | None]:
    """The cost of ``tokens`` at ``rates`` kind by kind (the second value names a missing rate, lines empty)."""
    lines = []
    for kind, count in tokens.by_kind().items():
        if count == 0:
            continue
        rate = rates[kind]
        if rate is None:
            return [], kind.replace("_", " ")
        quantity = decimal_of(count)
        lines.append(CostLine(kind, quantity, rate, quantity * rate / MILLION))
    if request_fee:
        requests = decimal_of(tokens.requests)
        lines.append(CostLine("request", requests, request_fee, request_fee * requests))
    return lines, None


def cost_of(tokens: TokenSums, rates: dict[str, Decimal | None], request_fee: Decimal) -> tuple[Decimal, str | None]:
    """Exact cost of ``tokens`` at ``rates`` (USD per Mtok); the second value names a missing rate."""
    lines, missing = cost_lines(tokens, rates, request_fee)
    if missing:
        return Decimal(0), missing
    total = sum((line.cost for line in lines if line.kind != "request"), Decimal(0))
    return total + request_fee * decimal_of(tokens.requests), None
