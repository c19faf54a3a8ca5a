"""The interface between the scenario engine and the estimate."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd

    from llmcost.catalog import Catalog
    from llmcost.pricing import TokenGroups
    from llmcost.scenarios.prefix_index import PrefixIndex


@dataclass(frozen=True)
class Applied:
    """Traffic after a scenario: a normalized frame (possibly with ``model_id`` set and float tokens),
    costs that are not token costs (compressor calls, cache lookups), and details for the report."""

    frame: pd.DataFrame
    extra_cost: Decimal = Decimal(0)
    details: dict[str, Any] = field(default_factory=dict)
    # The frame's token sums when the scenario had them already (``summed`` uses them instead of summing again).
    sums: TokenGroups | None = field(default=None, compare=False, repr=False)


def summed(applied: Applied, catalog: Catalog) -> TokenGroups:
    """The token sums of a scenario's traffic: the ones it computed, or its frame summed."""
    from llmcost.pricing import aggregate

    return applied.sums if applied.sums is not None else aggregate(applied.frame, catalog)


@dataclass
class Shared:
    """What the scenarios of one run share: the log's prefix blocks, encoded once (see
    ``prefix_index``), and results of identical steps (the same exact-cache replay of the same traffic)."""

    prefix: PrefixIndex | None = None
    memo: dict[Any, Any] = field(default_factory=dict)
    # Streaming (the log read in chunks): replays carry the earlier chunks' tails (see scenarios.carry).
    streaming: bool = False
    tails: dict[str, Any] = field(default_factory=dict)
    # Exact-cache hits replayed once on the whole log before it is sliced or split across processes, by
    # cache configuration (JSON), indexed by request_row (see exact_cache.replay_whole).
    whole_hits: dict[str, Any] = field(default_factory=dict)
    # Warming a Dask partition's halo (results dropped; only the carried tails matter): the exact cache skips
    # what only its details need, and the strategies after the caches get the rows at or after this time
    # (int64 ns) alone, the part of the halo within their own TTLs.
    warm_after: int | None = None


class Scenario(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def monthly_growth(self) -> Decimal: ...

    def apply(self, frame: pd.DataFrame, catalog: Catalog, shared: Shared | None = None) -> Applied:
        """Return the traffic this scenario would produce from the observed ``frame`` (as prepared by
        ``prefix_index.prepare`` when ``shared`` is given)."""


@dataclass(frozen=True)
class Baseline:
    """The traffic as logged, priced as logged."""

    name: str = "baseline"
    description: str = "the traffic as logged"
    monthly_growth: Decimal = Decimal(0)

    def apply(self, frame: pd.DataFrame, catalog: Catalog, shared: Shared | None = None) -> Applied:
        return Applied(frame)
