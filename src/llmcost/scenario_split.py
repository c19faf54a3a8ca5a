"""How the scenarios of one run are split across processes: groups of about equal expected work.

A scenario's work is guessed from its strategies on this log (a prompt-cache replay over prefix blocks
outweighs everything else; an exact-cache replay, routing and the baseline's sums follow), and the groups
are chosen so the heaviest is as light as can be: every assignment is tried when there are a few units
(a default set has four), else heaviest first, each to the lightest group (LPT scheduling). Scenarios
with the same exact cache go together: their group replays it once, on the whole log. The guess only
balances the load: every scenario runs whole in exactly one group, so the split never changes a result.

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
    # the heaviest group first: it runs in this process, whose own pages it does not pay to copy (a forked
    # child copies each page it writes that it still shares): its system time on 10M rows 0.6 s here
    # against 0.9-1.8 s in a child
    parts = sorted(balanced(weights, jobs), key=lambda part: -sum(weights[u] for u in part))
    groups = [[i for u in part for i in units[u]] for part in parts]
    return [sorted(g) for g in groups if g]


REPLAY_WEIGHT = 5.0  # one exact-cache replay of the whole log, shared by the scenarios of its group
EXHAUSTIVE_UNITS = 12  # up to this many units, every assignment to groups is tried (jobs ** units of them)


def balanced(weights: Sequence[float], jobs: int) -> list[list[int]]:
    """Unit indices per group so that the heaviest group is as light as can be: every assignment tried for
    a few units (LPT's greedy choice misses the best split of, say, 14 | 13 + 4.5 + 1), else heaviest
    first to the lightest group (LPT)."""
    import itertools

    if len(weights) <= EXHAUSTIVE_UNITS and jobs ** len(weights) <= 50_000:
        best: tuple[float, tuple[int, ...]] | None = None
        for assignment in itertools.product(range(jobs), repeat=len(weights)):
            if assignment and assignment[0] != 0:
                continue  # groups are interchangeable: the first unit always in the first
            loads = [0.0] * jobs
            for unit, group in enumerate(assignment):
                loads[group] += weights[unit]
            if best is None or max(loads) < best[0]:
                best = (max(loads), assignment)
        chosen = best[1] if best is not None else ()
        return [[u for u, g in enumerate(chosen) if g == k] for k in range(jobs)]
    loads = [0.0] * jobs
    groups: list[list[int]] = [[] for _ in range(jobs)]
    for u in sorted(range(len(weights)), key=lambda u: -weights[u]):
        lightest = loads.index(min(loads))
        groups[lightest].append(u)
        loads[lightest] += weights[u]
    return groups


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
    """Relative work of one scenario, in units of the baseline's sums (CPU time measured on 10M generated
    rows, one slice at a time, a unit ~0.38 s: routing 3.5, applying an exact cache's hits 1.5, a
    prompt-cache replay over prefix blocks 12.8; the exact-cache replay itself is ``REPLAY_WEIGHT``).
    Behind an exact cache the strategies after it see its misses only: there, measured, routing cost half
    and the prompt-cache replay a tenth."""
    from llmcost.scenarios.engine import ComposedScenario

    if not isinstance(scenario, ComposedScenario):
        return 1.0
    spec = scenario.spec
    behind = spec.exact_cache is not None
    weight = 1.0
    weight += 1.5 if behind else 0.0
    weight += 3.5 * (0.5 if behind else 1.0) if spec.routing is not None or spec.cascade is not None else 0.0
    if spec.prompt_cache is not None:
        weight += (12.8 if blocks else 2.0) * (0.1 if behind else 1.0)
    weight += sum(1.0 for part in (spec.compression, spec.coalesce, spec.failover, spec.batch, spec.retries)
                  if part is not None)
    return weight
