"""How the scenarios of one run are split across processes: groups of about equal expected work.

A scenario's work is guessed from its strategies on this log (a prompt-cache replay over prefix blocks
outweighs everything else; an exact-cache replay, routing and the baseline's sums follow), and the groups
are filled heaviest first, each to the lightest group (LPT scheduling). Scenarios with the same exact cache
go together: their group replays it once, on the whole log. The guess only balances the load: every
scenario runs whole in exactly one group, so the split never changes a result.

Runs stay in one process when there is one core, when the log is small (forking costs more than it
saves), on platforms that do not fork, and when a scenario holds state outside the frame that a child
could not hand back (the semantic cache's embedder and judge clients, bench-evidence wrappers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from llmcost.scenarios.interface import Scenario

PROCESS_MIN_ROWS = 1_000_000  # below this a run is over before forking pays off


def split_scenarios(frame: pd.DataFrame, chosen: Sequence[Scenario]) -> list[list[int]]:
    """Indices into ``chosen`` per group; one group (all of them) when processes would not help."""
    from llmcost.engines.processes import can_fork
    from llmcost.engines.threads import current_workers

    jobs = min(current_workers(), len(chosen))
    if jobs <= 1 or len(frame) < PROCESS_MIN_ROWS or not can_fork() or not all(_forkable(s) for s in chosen):
        return [list(range(len(chosen)))]
    blocks = "prefix_hashes" in frame.columns
    units = _units(chosen)
    weights = [sum(_weight(chosen[i], blocks) for i in unit) + REPLAY_WEIGHT * (_cache_of(chosen[unit[0]]) is not None)
               for unit in units]
    loads = [0.0] * jobs
    groups: list[list[int]] = [[] for _ in range(jobs)]
    for u in sorted(range(len(units)), key=lambda u: -weights[u]):
        lightest = loads.index(min(loads))
        groups[lightest].extend(units[u])
        loads[lightest] += weights[u]
    return [sorted(g) for g in groups if g]


REPLAY_WEIGHT = 5.5  # one exact-cache replay of the whole log, shared by the scenarios of its group


def _cache_of(scenario: Scenario) -> str | None:
    cache = getattr(getattr(scenario, "spec", None), "exact_cache", None)
    return None if cache is None else str(cache.model_dump_json())


def _units(chosen: Sequence[Scenario]) -> list[list[int]]:
    """Scenarios that must share a process: those with the same exact cache (replayed once per process)."""
    by_cache: dict[str, list[int]] = {}
    units: list[list[int]] = []
    for i, scenario in enumerate(chosen):
        key = _cache_of(scenario)
        if key is None:
            units.append([i])
        elif key in by_cache:
            by_cache[key].append(i)
        else:
            by_cache[key] = [i]
            units.append(by_cache[key])
    return units


def _forkable(scenario: Scenario) -> bool:
    from llmcost.scenarios.engine import ComposedScenario
    from llmcost.scenarios.interface import Baseline

    if isinstance(scenario, Baseline):
        return True
    return type(scenario) is ComposedScenario and scenario.spec.semantic_cache is None


def _weight(scenario: Scenario, blocks: bool) -> float:
    """Relative work of one scenario (CPU time measured on 10M generated rows, in half-seconds: baseline
    sums 1, routing 3, applying an exact cache's hits 1.5, a prompt-cache replay over prefix blocks 12, a
    quarter of it behind an exact cache; the exact-cache replay itself is ``REPLAY_WEIGHT``)."""
    from llmcost.scenarios.engine import ComposedScenario

    if not isinstance(scenario, ComposedScenario):
        return 1.0
    spec = scenario.spec
    weight = 1.0
    weight += 1.5 if spec.exact_cache is not None else 0.0
    weight += 2.0 if spec.routing is not None or spec.cascade is not None else 0.0
    if spec.prompt_cache is not None:
        weight += (12.0 if blocks else 2.0) * (0.25 if spec.exact_cache is not None else 1.0)
    weight += sum(1.0 for part in (spec.compression, spec.coalesce, spec.failover, spec.batch, spec.retries)
                  if part is not None)
    return weight
