"""Logs + catalog + scenarios → an Estimate: observed and monthly cost per scenario and model."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from llmcost.errors import UnpricedModelError, UsageError
from llmcost.pricing import (
    ModelCost,
    PricedTraffic,
    TokenGroups,
    describe_unpriced,
    price_groups,
    unpriced_beyond,
)
from llmcost.projection import DEFAULT_PROJECTION_DAYS, Window, WindowBounds, growth_days, observed_window, project
from llmcost.scenarios.interface import Baseline, Scenario, summed

if TYPE_CHECKING:
    import pandas as pd

    from llmcost.breakdowns import Breakdown
    from llmcost.catalog import Catalog
    from llmcost.evidence import ScenarioEvidence
    from llmcost.scenarios.interface import Applied, Shared


@dataclass(frozen=True)
class ScenarioOutcome:
    """One scenario priced on the observed traffic.

    ``monthly_cost`` is at the observed volume (what scenarios are compared at); with a
    ``monthly_growth`` assumption, ``monthly_cost_with_growth`` is the projected bill."""

    name: str
    description: str
    priced: PricedTraffic
    extra_cost: Decimal
    observed_cost: Decimal
    monthly_cost: Decimal
    monthly_factor: Decimal
    details: dict[str, Any] = field(default_factory=dict)
    monthly_growth: Decimal = Decimal(0)
    growth_factor: Decimal = Decimal(1)  # projected volume with growth / without
    # Quality and latency of the scenario's traffic, with bench evidence (llmcost.evidence.with_evidence).
    evidence: ScenarioEvidence | None = None

    def monthly(self, observed: Decimal) -> Decimal:
        """Project a part of this scenario's observed cost with the same factor as the total (no growth)."""
        return observed * self.monthly_factor

    def monthly_with_growth(self, observed: Decimal) -> Decimal:
        return observed * self.monthly_factor * self.growth_factor

    @property
    def monthly_cost_with_growth(self) -> Decimal:
        return self.monthly_cost * self.growth_factor

    @property
    def complete(self) -> bool:
        """Whether every request of the scenario is priced (its total leaves nothing out)."""
        return not self.priced.unpriced_count


@dataclass(frozen=True)
class Estimate:
    window: Window
    projection_days: int
    scenarios: tuple[ScenarioOutcome, ...]
    catalog_source: str = ""
    warnings: tuple[str, ...] = ()
    # The traffic of the scenario named by ``run_estimate(keep_frame=...)``, for callers that slice it further.
    kept_frame: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    # The baseline's cost by day, task, model... (``--by``; llmcost.breakdowns), in the order asked for.
    breakdowns: tuple[Breakdown, ...] = ()

    @property
    def baseline(self) -> ScenarioOutcome:
        return self.scenarios[0]

    def savings(self, outcome: ScenarioOutcome) -> tuple[Decimal, Decimal]:
        """Monthly savings vs baseline in USD and percent, at equal volume (growth left out). Meaningful
        only when ``comparable(outcome)``: unpriced traffic must never read as savings."""
        base = self.baseline.monthly_cost
        saved = base - outcome.monthly_cost
        pct = saved / base * 100 if base else Decimal(0)
        return saved, pct

    def comparable(self, outcome: ScenarioOutcome) -> bool:
        """Whether ``outcome``'s total covers the traffic the baseline's covers: it leaves no traffic
        unpriced beyond the baseline's own unpriced traffic (the same models, no more requests)."""
        return outcome is self.baseline or not self.unpriced_beyond_baseline(outcome)

    def unpriced_beyond_baseline(self, outcome: ScenarioOutcome) -> tuple[ModelCost, ...]:
        """Unpriced models of ``outcome`` that the baseline prices, or that carry more requests than in the
        baseline; and baseline-unpriced models the scenario prices (its total then covers other traffic)."""
        found = self._beyond.get(outcome.name)
        if found is not None and found[0] is outcome:
            return found[1]
        beyond = unpriced_beyond(self.baseline.priced, outcome.priced)  # as columns: 100,000 names are common
        self._beyond[outcome.name] = (outcome, beyond)  # renderers ask per scenario, often
        return beyond

    @cached_property
    def _beyond(self) -> dict[str, tuple[ScenarioOutcome, tuple[ModelCost, ...]]]:
        return {}

    def require_priced(self) -> None:
        """``--strict``: every request of every scenario must be priced; the error names scenario and model."""
        self.baseline.priced.require_priced()
        for s in self.scenarios[1:]:
            if s.priced.unpriced_count:
                raise UnpricedModelError(f"unpriced traffic (--strict) in scenario '{s.name}': "
                                         + describe_unpriced(s.priced))



def run_estimate(
    frame: pd.DataFrame,
    catalog: Catalog,
    scenarios: Sequence[Scenario] = (),
    *,
    projection_days: int = DEFAULT_PROJECTION_DAYS,
    window_days: float | None = None,
    keep_frame: str | None = None,
    on_scenario: Callable[[str], None] | None = None,
) -> Estimate:
    """Price the baseline and every scenario on ``frame`` and project each to ``projection_days``.

    ``keep_frame`` names a scenario whose resulting traffic is kept on the Estimate (``kept_frame``), so a
    caller that needs it does not apply the scenario a second time. ``on_scenario`` is told the name of
    each scenario as it starts (for a progress display).

    With more than one core (``engines.threads.workers``) and a big log, the scenarios run in groups on
    forked processes that share the frame (``engines.processes``); each group's token sums come back and
    are priced here, so the result is the same to the cent.
    """
    from llmcost.scenario_split import split_scenarios
    from llmcost.scenarios.common import in_ns
    from llmcost.scenarios.prefix_index import prepare

    chosen = with_baseline(scenarios)
    window = observed_window(frame, window_days)
    if keep_frame is None:
        frame = in_ns(frame)  # once here, not once per slice and strategy
        sliced = _slices_pay_off(frame, chosen)
        groups = split_scenarios(frame, chosen)
        if sliced or len(groups) > 1:
            parts, models = _grouped_parts(frame, catalog, chosen, groups, sliced, on_scenario)
            return _assemble(window, chosen, parts, catalog, projection_days, _bucket_warnings(models))
    shared = None
    if any(not isinstance(s, Baseline) for s in chosen):
        frame, shared = prepare(frame)  # once for every scenario (see scenarios.prefix_index)
    parts = []
    kept = None
    buckets = BucketModels()
    for scenario in chosen:
        if on_scenario is not None:
            on_scenario(scenario.name)
        applied = scenario.apply(frame, catalog, shared)
        parts.append(_Part(summed(applied, catalog), applied.extra_cost, applied.details))
        buckets.add(applied.frame, catalog, logged=scenario is chosen[0])
        if scenario.name == keep_frame:
            kept = applied.frame
    estimate = _assemble(window, chosen, parts, catalog, projection_days, buckets.warnings())
    return replace(estimate, kept_frame=kept)


# Rows per slice of a big in-memory log replayed in slices: half a million rows measured 0.4 s faster than a
# million on the 10M-row default set (2 cores; a slice's temporaries are reused, fewer fresh pages to fault in).
IN_MEMORY_SLICE = 500_000


def _slices_pay_off(frame: pd.DataFrame, chosen: Sequence[Scenario]) -> bool:
    """Scenarios (not only the baseline) on more than two slices of a log in time order, all streamable."""
    import numpy as np

    from llmcost.scenarios.common import times_ns

    if len(frame) <= 2 * IN_MEMORY_SLICE or all(isinstance(s, Baseline) for s in chosen):
        return False
    if not all(isinstance(s, Baseline) or getattr(s, "streamable", False) for s in chosen):
        return False
    times = times_ns(frame)
    return bool(np.all(times[1:] >= times[:-1]))


def _grouped_parts(frame: pd.DataFrame, catalog: Catalog, chosen: Sequence[Scenario], groups: list[list[int]],
                   sliced: bool, on_scenario: Callable[[str], None] | None) -> tuple[list[_Part], set[str]]:
    """Each group of scenarios (indices into ``chosen``) summed on its own process, the frame shared.

    Replaying a big time-ordered log in slices (``sliced``) gives the same result (the streaming path,
    tested equal) with a fraction of the memory, and fresh memory is what big replays spend their time on.
    """
    from functools import partial

    from llmcost.engines.memory import freed_memory_kept, small_pages
    from llmcost.engines.processes import run_forked
    from llmcost.engines.threads import current_workers
    from llmcost.scenarios.prefix_index import prepare

    has_buckets = bool((frame["weight"].to_numpy() > 1).any())
    threads = max(1, current_workers() // len(groups))
    shared = None
    if not sliced and any(not isinstance(s, Baseline) for s in chosen):
        frame, shared = prepare(frame)  # once, before the groups part (see scenarios.prefix_index)
    parts: list[_Part | None] = [None for _ in chosen]
    models: set[str] = set()
    with freed_memory_kept():  # freed arrays reused (engines.memory); what is free is trimmed before forking
        encoded = _encoded_slices(frame) if sliced and len(groups) > 1 else None
        tasks = [partial(_group_parts, frame, catalog, [chosen[i] for i in group], sliced, shared, has_buckets,
                         threads, on_scenario if k == 0 else None, encoded) for k, group in enumerate(groups)]
        with small_pages() if len(tasks) > 1 else contextlib.nullcontext():
            done = run_forked(tasks)  # the processes' shared pages small (engines.memory)
    for group, (group_parts, group_models) in zip(groups, done, strict=True):
        for i, part in zip(group, group_parts, strict=True):
            parts[i] = part
        models |= group_models
    return [p if p is not None else _Part(TokenGroups(), Decimal(0), {}) for p in parts], models


def _encoded_slices(frame: pd.DataFrame) -> list[Any] | None:
    """Each slice's prefix blocks encoded once, on every core, before the groups part (otherwise each
    group's process would encode every slice again)."""
    from llmcost.engines.threads import parallel_map
    from llmcost.scenarios.prefix_index import encode_blocks

    if "prefix_hashes" not in frame.columns:
        return None
    column = frame["prefix_hashes"]
    return parallel_map(lambda lo: encode_blocks(column.iloc[lo:lo + IN_MEMORY_SLICE]),
                        list(range(0, len(frame), IN_MEMORY_SLICE)))


def _exact_cache_of(scenario: Scenario) -> Any:
    spec = getattr(scenario, "spec", None)
    return getattr(spec, "exact_cache", None)


def _group_parts(frame: pd.DataFrame, catalog: Catalog, chosen: list[Scenario], sliced: bool, shared: Shared | None,
                 has_buckets: bool, threads: int, on_scenario: Callable[[str], None] | None,
                 encoded: list[Any] | None = None) -> tuple[list[_Part | None], set[str]]:
    """One group's parts. Its exact caches are replayed first, once, on the whole log as logged (the
    cache sees the traffic before any other strategy), and read by every scenario and slice of the group."""
    from dataclasses import replace as with_fields

    from llmcost.engines.threads import workers
    from llmcost.scenarios.exact_cache import replay_whole

    buckets = BucketModels(has_buckets)
    with workers(threads):
        whole_hits = replay_whole(frame, [c for s in chosen if (c := _exact_cache_of(s)) is not None])
        if shared is not None:
            shared = with_fields(shared, memo={}, whole_hits=whole_hits)
        if sliced:
            slices = (frame.iloc[lo:lo + IN_MEMORY_SLICE] for lo in range(0, len(frame), IN_MEMORY_SLICE))
            parts = _chunked_parts(slices, catalog, chosen, on_scenario, buckets, whole_hits=whole_hits,
                                   encoded=encoded)
            return parts, buckets.models
        out: list[_Part | None] = []
        for scenario in chosen:
            if on_scenario is not None:
                on_scenario(scenario.name)
            applied = scenario.apply(frame, catalog, shared)
            out.append(_Part(summed(applied, catalog), applied.extra_cost, applied.details))
            buckets.add(applied.frame, catalog, logged=False)
    return out, buckets.models


def run_estimate_chunked(
    chunks: Iterable[pd.DataFrame],
    catalog: Catalog,
    scenarios: Sequence[Scenario] = (),
    *,
    projection_days: int = DEFAULT_PROJECTION_DAYS,
    window_days: float | None = None,
    on_scenario: Callable[[str], None] | None = None,
) -> Estimate:
    """The same estimate computed chunk by chunk: token groups are summed per chunk and priced once,
    cache replays carry the earlier chunks' tails (``scenarios.carry``) and details are merged
    (``scenarios.details``), so the result equals ``run_estimate`` on the whole frame to the cent, in
    memory bounded by a chunk plus the traffic of one cache TTL. Scenarios need the chunks in time order.
    """
    chosen = with_baseline(scenarios)
    bounds = WindowBounds()
    buckets = BucketModels()
    parts = _chunked_parts(chunks, catalog, chosen, on_scenario, buckets, bounds)
    done = [p if p is not None else _Part(TokenGroups(), Decimal(0), {}) for p in parts]
    return _assemble(bounds.window(window_days), chosen, done, catalog, projection_days, buckets.warnings())


def _chunked_parts(chunks: Iterable[pd.DataFrame], catalog: Catalog, chosen: Sequence[Scenario],
                   on_scenario: Callable[[str], None] | None, buckets: BucketModels,
                   bounds: WindowBounds | None = None, whole_hits: dict[str, Any] | None = None,
                   encoded: list[Any] | None = None) -> list[_Part | None]:
    from llmcost.scenarios.common import in_ns, times_ns
    from llmcost.scenarios.prefix_index import prepare

    replays = any(not isinstance(s, Baseline) for s in chosen)
    parts: list[_Part | None] = [None for _ in chosen]
    tails: dict[str, Any] = {}
    last: Shared | None = None
    first_row = 0
    latest: int | None = None
    for number, chunk in enumerate(chunks):
        if chunk.empty:
            continue
        chunk = in_ns(chunk)  # once per chunk, not once per strategy
        if bounds is not None:
            bounds.add(chunk)
        blocks = encoded[number] if encoded is not None else None
        frame, shared = prepare(chunk, first_row, blocks) if replays else (chunk, None)
        if shared is not None:
            latest = _check_order(times_ns(chunk), latest, first_row)
            shared.streaming, shared.tails = True, tails
            shared.whole_hits = whole_hits or {}
        first_row += len(chunk)
        for i, scenario in enumerate(chosen):
            if on_scenario is not None:
                on_scenario(scenario.name)
            _add_part(parts, i, scenario.apply(frame, catalog, shared), catalog, buckets)
        last = shared
    for i, scenario in enumerate(chosen):  # what a strategy still holds back (coalesce's open groups)
        finish = getattr(scenario, "finish", None)
        held = finish(catalog, last) if finish is not None and last is not None else None
        if held is not None:
            _add_part(parts, i, held, catalog, buckets)
    return parts


def _add_part(parts: list[_Part | None], i: int, applied: Applied, catalog: Catalog, buckets: BucketModels) -> None:
    """Add one chunk's result of scenario ``i`` (token groups summed, details merged)."""
    from llmcost.scenarios.details import merge_details

    buckets.add(applied.frame, catalog, logged=i == 0)
    part, groups = parts[i], summed(applied, catalog)
    parts[i] = _Part(groups, applied.extra_cost, applied.details) if part is None else _Part(
        part.groups.merge(groups), part.extra + applied.extra_cost, merge_details(part.details, applied.details))


def _check_order(times: Any, latest: int | None, first_row: int) -> int:
    """Cache replays across chunks need the log in time order: fail on the first row that goes back."""
    import numpy as np

    if latest is not None and len(times) and int(times.min()) < latest:
        back = int(np.flatnonzero(times < latest)[0])
        raise UsageError(f"row {first_row + back + 1} is earlier than a row before it: scenarios replay caches "
                         "in time order, so a log read in chunks must be sorted by timestamp (sort it, or drop "
                         "--chunk-rows, or use --baseline-only)")
    top = int(times.max())  # chunks are never empty here
    return top if latest is None else max(latest, top)


def with_baseline(scenarios: Sequence[Scenario]) -> list[Scenario]:
    chosen: list[Scenario] = list(scenarios)
    if not chosen or chosen[0].name != "baseline":
        chosen.insert(0, Baseline())
    return chosen


@dataclass(frozen=True)
class _Part:
    groups: TokenGroups
    extra: Decimal
    details: dict[str, Any]


def assemble(window: Window, chosen: Sequence[Scenario], parts: Sequence[tuple[TokenGroups, Decimal, dict[str, Any]]],
             catalog: Catalog, projection_days: int) -> Estimate:
    """An Estimate from token groups summed elsewhere (an engine's partitions), priced once here: per
    scenario its groups, its extra cost and its details."""
    return _assemble(window, chosen, [_Part(*p) for p in parts], catalog, projection_days)


def _assemble(window: Window, chosen: Sequence[Scenario], parts: Sequence[_Part], catalog: Catalog,
              projection_days: int, warnings: tuple[str, ...] = ()) -> Estimate:
    outcomes = []
    factor = project(Decimal(1), window, projection_days)
    for scenario, part in zip(chosen, parts, strict=True):
        priced = price_groups(part.groups, catalog)
        observed = priced.total + part.extra
        growth = scenario.monthly_growth
        outcomes.append(ScenarioOutcome(scenario.name, scenario.description, priced, part.extra, observed,
                                        observed * factor, factor, part.details, growth,
                                        growth_days(projection_days, growth) / projection_days))
    return Estimate(window, projection_days, tuple(outcomes), f"{catalog.source} (as of {catalog.as_of})",
                    warnings)


def _has_long_context(catalog: Catalog, model_id: str) -> bool:
    """A long-context tier now or in any dated price period of the model."""
    model = catalog.model(model_id)
    history = getattr(model, "price_history", ())
    return model.long_context is not None or any(p.long_context is not None for p in history)


class BucketModels:
    """Models with a long-context tier priced from bucket rows (``weight`` > 1, as in usage exports).

    Pricing decides long context per row by the bucket's *average* input per request, so the split
    between standard and long-context requests inside a bucket is approximate. Only logs that hold
    bucket rows are looked at, so request-level logs pay nothing for this.
    """

    def __init__(self, has_buckets: bool | None = None) -> None:
        self.models: set[str] = set()
        self.has_buckets = bool(has_buckets)
        self._known = has_buckets is not None  # told up front whether the log holds buckets

    def add(self, frame: pd.DataFrame, catalog: Catalog, *, logged: bool) -> None:
        from llmcost.pricing import model_ids

        weight = frame["weight"].to_numpy()
        if logged and not self._known:  # the traffic as logged: does it hold buckets at all?
            self.has_buckets = self.has_buckets or bool((weight > 1).any())
        if not self.has_buckets:
            return
        rows = weight > 1
        if not rows.any():
            return
        used = model_ids(frame, catalog)[rows].dropna().unique()
        self.models.update(str(m) for m in used if _has_long_context(catalog, str(m)))

    def warnings(self) -> tuple[str, ...]:
        return _bucket_warnings(self.models)


def _bucket_warnings(models: set[str]) -> tuple[str, ...]:
    if not models:
        return ()
    return (f"bucket rows (one row for several requests, as in usage exports) on {', '.join(sorted(models))}: "
            "long-context rates are decided by each bucket's average input per request, so the split "
            "between standard and long-context requests is approximate",)
