"""The unpriced model names of a scenario, as columns: one ``ModelCost`` only for the names a report shows.

A log with 100,000 model names the catalog does not know made 100,000 ``ModelCost`` objects per scenario,
then sorted, summed and compared them per table. ``UnpricedNames`` keeps the names (sorted), their token
sums (``name_sums.NameSums``) and each one's reason; ``cost(i)`` builds the ``ModelCost`` of name ``i``;
``ranked()`` orders them by requests (busiest first, ties by name) without building any.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from llmcost.name_sums import NameSums
    from llmcost.pricing import ModelCost


@dataclass(frozen=True)
class UnpricedNames:
    """``sums.names[i]`` is unpriced for ``reasons[i]``; ``logged`` maps a name to its logged cost (if any)."""

    sums: NameSums
    reasons: list[str]
    logged: dict[str, float] | None = None

    def __len__(self) -> int:
        return len(self.sums)

    @property
    def names(self) -> list[str]:
        return self.sums.names

    def requests(self) -> np.ndarray:
        return self.sums.requests()

    def cost_logged(self, i: int) -> Decimal | None:
        from llmcost.token_groups import decimal_of

        name = self.sums.names[i]
        if self.logged is None or name not in self.logged:
            return None
        return decimal_of(self.logged[name])

    def cost(self, i: int) -> ModelCost:
        from llmcost.pricing import unpriced_cost

        return unpriced_cost(self.sums.names[i], self.sums.sums(i), self.cost_logged(i), self.reasons[i])

    def costs(self) -> list[ModelCost]:
        return [self.cost(i) for i in range(len(self))]

    @cached_property
    def ranked(self) -> np.ndarray:
        """Every position, busiest first, ties by name (names are sorted: a stable sort by requests)."""
        import numpy as np

        return np.argsort(-self.requests(), kind="stable")

    def logged_total(self) -> Decimal | None:
        if self.logged is None:
            return None
        found = [self.cost_logged(i) for i in range(len(self))]
        present = [d for d in found if d is not None]
        return sum(present, Decimal(0)) if present else None
