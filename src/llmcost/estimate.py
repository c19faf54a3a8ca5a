"""Logs + catalog + scenarios → an Estimate: observed and monthly cost per scenario and model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmcost.pricing import PricedTraffic, price
from llmcost.projection import DEFAULT_PROJECTION_DAYS, Window, observed_window, project
from llmcost.scenarios.interface import Baseline, Scenario

if TYPE_CHECKING:
    import pandas as pd

    from llmcost.catalog import Catalog


@dataclass(frozen=True)
class ScenarioOutcome:
    """One scenario priced on the observed traffic."""

    name: str
    description: str
    priced: PricedTraffic
    extra_cost: Decimal
    observed_cost: Decimal
    monthly_cost: Decimal
    monthly_factor: Decimal
    details: dict[str, Any] = field(default_factory=dict)

    def monthly(self, observed: Decimal) -> Decimal:
        """Project a part of this scenario's observed cost with the same factor as the total."""
        return observed * self.monthly_factor


@dataclass(frozen=True)
class Estimate:
    window: Window
    projection_days: int
    scenarios: tuple[ScenarioOutcome, ...]
    catalog_source: str = ""

    @property
    def baseline(self) -> ScenarioOutcome:
        return self.scenarios[0]

    def savings(self, outcome: ScenarioOutcome) -> tuple[Decimal, Decimal]:
        """Monthly savings vs baseline in USD and percent."""
        base = self.baseline.monthly_cost
        saved = base - outcome.monthly_cost
        pct = saved / base * 100 if base else Decimal(0)
        return saved, pct


def run_estimate(
    frame: pd.DataFrame,
    catalog: Catalog,
    scenarios: Sequence[Scenario] = (),
    *,
    projection_days: int = DEFAULT_PROJECTION_DAYS,
    window_days: float | None = None,
) -> Estimate:
    """Price the baseline and every scenario on ``frame`` and project each to ``projection_days``."""
    window = observed_window(frame, window_days)
    chosen: list[Scenario] = list(scenarios)
    if not chosen or chosen[0].name != "baseline":
        chosen.insert(0, Baseline())
    outcomes = []
    for scenario in chosen:
        applied = scenario.apply(frame, catalog)
        priced = price(applied.frame, catalog)
        observed = priced.total + applied.extra_cost
        monthly = project(observed, window, projection_days, scenario.monthly_growth)
        factor = monthly / observed if observed else project(Decimal(1), window, projection_days,
                                                            scenario.monthly_growth)
        outcomes.append(
            ScenarioOutcome(scenario.name, scenario.description, priced, applied.extra_cost, observed,
                            monthly, factor, applied.details)
        )
    return Estimate(window, projection_days, tuple(outcomes), f"{catalog.source} (as of {catalog.as_of})")
