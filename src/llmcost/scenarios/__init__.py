"""What-if scenarios: each turns the observed traffic into the traffic (and extra costs) it would cause."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from llmcost.scenarios.interface import Applied, Baseline, Scenario

if TYPE_CHECKING:
    from llmcost.bench.summary import BenchSummary
    from llmcost.catalog import Catalog
    from llmcost.scenarios.schema import ScenarioFile

STRATEGIES = ("exact_cache", "semantic_cache", "compression", "routing", "cascade", "prompt_cache", "batch",
              "retries", "failover", "coalesce")
__all__ = ["Applied", "Baseline", "Scenario", "default_scenarios_path", "load_scenarios", "select_scenarios"]


def default_scenarios_path() -> Path:
    """The built-in scenario set shipped as package data."""
    return Path(str(resources.files("llmcost") / "data" / "default_scenarios.yaml"))


def select_scenarios(path: str | None, *, baseline_only: bool, catalog: object) -> list[Scenario]:
    """The scenarios to run: baseline only, a scenario file's, or the built-in default set.

    Targets (models, tiers) are checked against ``catalog`` here, so a bad file fails before any log
    is read. Errors are ``ScenarioError`` naming the file and the field path.
    """
    if baseline_only:  # before importing the catalog's schema (pydantic), which a baseline never needs here
        return [Baseline()]
    from llmcost.catalog import Catalog

    assert isinstance(catalog, Catalog)
    if path is None:
        return load_scenarios(default_scenarios_path(), catalog, builtin=True)
    return load_scenarios(Path(path), catalog)


def load_scenarios(path: Path, catalog: Catalog, *, builtin: bool = False) -> list[Scenario]:
    from llmcost import yamlfile
    from llmcost.errors import ScenarioError
    from llmcost.scenarios.engine import ComposedScenario
    from llmcost.scenarios.schema import ScenarioFile

    if not path.exists():
        raise ScenarioError("no such scenario file", source=str(path))
    spec = yamlfile.load(path, ScenarioFile, ScenarioError)
    bench = _bench(spec, path)
    chosen: list[Scenario] = [Baseline()]
    for i, s in enumerate(spec.scenarios):
        scenario = ComposedScenario(s, str(path), bench, i)
        if s.name == "baseline":
            changes = s.model_dump(include=set(STRATEGIES), exclude_none=True)
            if changes:
                raise ScenarioError("the scenario named 'baseline' is the logged traffic and takes no "
                                    "strategies", source=str(path), field=f"scenarios[{i}]")
            if s.monthly_growth:
                chosen[0] = scenario
            continue
        try:
            scenario.check_targets(catalog)
        except ScenarioError:
            if builtin:  # the built-in set adapts to the catalog: skip what it cannot express
                continue
            raise
        chosen.append(scenario)
    return chosen


def _bench(spec: ScenarioFile, path: Path) -> BenchSummary | None:
    from llmcost.bench.summary import load_bench_summary
    from llmcost.errors import ScenarioError

    if spec.bench_results is None:
        return None
    target = Path(spec.bench_results)
    if not target.is_absolute():
        target = path.parent / target
    if not target.exists():
        raise ScenarioError(f"bench results file not found: {target}", source=str(path), field="bench_results")
    return load_bench_summary(target)
