"""What each candidate would cost on each segment, from the scenario engine on the real traffic.

For every candidate one scenario is run that routes all traffic to it (with the caching replays when
asked); its resulting traffic is split by the segment each request came from and each part is summed
per billing group and priced by ``aggregate``/``price_groups``, exactly as ``estimate`` prices a
scenario. Nothing is priced here on its own: a segment's cost is the engine's cost of its requests.

Without caching every request is priced on its own, so a policy's cost is the sum of its segments'
costs. With caching, requests of segments sent to the same model share that model's caches: the
per-segment costs are then what the segment costs when all traffic goes to that candidate, and the
plan re-runs the chosen policy through the engine for its reported cost (see ``plan.run``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.catalog import Catalog
    from llmcost.pricing import PricedTraffic
    from llmcost.scenarios.schema import ScenarioSpec

SEGMENT_COLUMN = "plan_segment"


@dataclass(frozen=True)
class Cell:
    """One segment served by one candidate (or as logged): observed cost and unpriced requests."""

    cost: Decimal
    unpriced_requests: float


@dataclass(frozen=True)
class CostTable:
    requests: tuple[float, ...]  # per segment
    logged: tuple[Cell, ...]  # per segment, the traffic as logged
    cells: tuple[tuple[Cell, ...], ...]  # [segment][candidate]


def caching_strategies(with_caching: bool) -> dict[str, object]:
    """The caching replays a plan adds to every policy when asked: a 24-hour exact response cache and
    provider prompt caching (5-minute TTL) replayed from the logged prefix blocks."""
    if not with_caching:
        return {}
    return {"exact_cache": {"ttl": "24h"}, "prompt_cache": {"ttl": "5m", "min_tokens": 1024}}


def route_all_spec(model: str, with_caching: bool) -> ScenarioSpec:
    from llmcost.scenarios.schema import ScenarioSpec

    return ScenarioSpec.model_validate({"name": f"plan-all-{model}", "routing": {"rules": [{"to": model}]},
                                        **caching_strategies(with_caching)})


def cost_table(frame: pd.DataFrame, codes: np.ndarray, n_segments: int, candidates: list[str],
               catalog: Catalog, *, with_caching: bool = False, extra_specs: Sequence[ScenarioSpec] = ()) -> CostTable:
    """Observed cost of every (segment, candidate), and of every segment as logged; each of
    ``extra_specs`` (e.g. cascades) adds a column after the candidates."""
    import numpy as np

    from llmcost.scenarios.engine import ComposedScenario
    from llmcost.scenarios.prefix_index import prepare

    tagged = frame.copy(deep=False)
    tagged[SEGMENT_COLUMN] = codes
    weight = frame["weight"].to_numpy(dtype=np.float64)
    requests = np.bincount(np.where(codes >= 0, codes, n_segments), weights=weight, minlength=n_segments + 1)
    logged = _split(tagged, n_segments, catalog)
    prepared, shared = prepare(tagged)
    columns = []
    for model in candidates:
        scenario = ComposedScenario(route_all_spec(model, with_caching), "<plan>")
        applied = scenario.apply(prepared, catalog, shared)
        columns.append(_split(applied.frame, n_segments, catalog))
    for spec in extra_specs:
        applied = ComposedScenario(spec, "<plan>").apply(prepared, catalog, shared)
        columns.append(_split(applied.frame, n_segments, catalog))
    cells = tuple(tuple(col[s] for col in columns) for s in range(n_segments))
    return CostTable(tuple(float(r) for r in requests[:n_segments]), tuple(logged), cells)


def _split(frame: pd.DataFrame, n_segments: int, catalog: Catalog) -> list[Cell]:
    """Each segment's requests of ``frame`` priced apart (rows sorted by segment once, then sliced)."""
    import numpy as np

    from llmcost.pricing import aggregate, price_groups

    seg = frame[SEGMENT_COLUMN].to_numpy(dtype=np.int64)
    order = np.argsort(seg, kind="stable")
    ordered = frame.take(order)
    bounds = np.searchsorted(seg[order], np.arange(n_segments + 1), side="left")
    cells = []
    for s in range(n_segments):
        part = ordered.iloc[int(bounds[s]):int(bounds[s + 1])]
        priced = price_groups(aggregate(part, catalog), catalog) if len(part) else None
        cells.append(_cell(priced))
    return cells


def _cell(priced: PricedTraffic | None) -> Cell:
    if priced is None:
        return Cell(Decimal(0), 0.0)
    return Cell(priced.total, float(sum(m.tokens.requests for m in priced.unpriced)))
