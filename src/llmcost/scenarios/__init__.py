"""What-if scenarios: each turns the observed traffic into the traffic (and extra costs) it would cause."""

from __future__ import annotations

from llmcost.scenarios.interface import Applied, Baseline, Scenario

__all__ = ["Applied", "Baseline", "Scenario"]


def select_scenarios(path: str | None, *, baseline_only: bool, catalog: object) -> list[Scenario]:
    """The scenarios to run: baseline only, a scenario file's, or the built-in default set."""
    if path is not None:
        from llmcost.errors import UsageError

        raise UsageError("--scenarios is not supported yet")
    return [Baseline()]
