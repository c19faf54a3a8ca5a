"""Every task's exact observed cost, kept as columns: one ``Spend`` object only for the tasks someone looks at.

A log with a million tasks gives a million spends. Building a ``Decimal``, a name string and an object per
task costs seconds, although a check shows 50 verdicts and 5 top drivers. Here a task's cost stays an
integer numerator over ``10**scale`` (exact, from ``key_costs``), the names stay the Arrow strings the log
was read into, in the log's order (``ByName`` sorts them only when every one is listed), and ``spend(i)``
builds the ``Spend`` of task ``i`` on demand. Floats (``approx``) only pick candidates; every decision near a
tie is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

from llmcost.budget.verdict_set import ByName

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.budget.evaluate import Spend
    from llmcost.catalog import Catalog

NONE_LABEL = "(none)"  # the task of rows that log none (as breakdowns.keys names it)


@dataclass(frozen=True)
class TaskSpends:
    """Task ``i`` (``names.name(i)``) cost ``numerators[i] / 10**scale`` USD over ``requests[i]`` priced
    requests. Tasks are in no particular order; ``names.order`` is their order by name."""

    names: ByName
    numerators: np.ndarray  # int64, or Python ints (object) when int64 could overflow
    scale: int
    requests: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.numerators)

    def observed(self, i: int) -> Decimal:
        return Decimal(int(self.numerators[i])).scaleb(-self.scale)

    def spend(self, i: int) -> Spend:
        from llmcost.budget.evaluate import Spend

        return Spend(f"task {self.names.name(i)}", self.observed(i), float(self.requests[i]))

    @cached_property
    def approx(self) -> np.ndarray:
        """Each cost as a float (to rank and to screen; never reported)."""
        import numpy as np

        return np.asarray(self.numerators, dtype=np.float64) / 10.0**self.scale

    def index(self, name: str) -> int | None:
        return self.names.index(name)

    def top(self, n: int) -> list[int]:
        """The ``n`` costliest tasks, highest first, ties by name (exact: floats only pick the candidates)."""
        import numpy as np

        if n <= 0 or not len(self):
            return []
        approx = self.approx
        if len(self) > n:
            kth = np.partition(approx, len(self) - n)[len(self) - n]
            candidates = np.flatnonzero(approx >= kth - abs(kth) * 1e-9).tolist()
        else:
            candidates = list(range(len(self)))
        exact = sorted(candidates, key=lambda i: (-self.observed(i), self.names.name(i)))
        return exact[:n]

    @classmethod
    def of_decimals(cls, named: dict[str, tuple[Decimal, float]]) -> TaskSpends:
        """From exact costs by name (the key-by-key path for fractional traffic)."""
        import numpy as np

        names = list(named)
        places = max((_places(named[n][0]) for n in names), default=0)
        numerators = np.empty(len(names), dtype=object)
        numerators[:] = [int(named[n][0].scaleb(places)) for n in names]
        requests = np.array([float(named[n][1]) for n in names], dtype=np.float64)
        return cls(ByName.of(names), numerators, places, requests)


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def task_spends(frame: pd.DataFrame, catalog: Catalog) -> TaskSpends | None:
    """Every task's exact cost in one vectorized pass (None: fractional traffic, to be priced task by task)."""
    import numpy as np

    from llmcost.key_costs import costs_by_key

    codes, labels = task_codes(frame)
    exact = costs_by_key(frame, catalog, codes, len(labels))
    if exact is None:
        return None
    weight = frame["weight"].to_numpy(dtype=np.float64)
    present = np.flatnonzero(np.bincount(codes, weights=weight, minlength=len(labels)) != 0)
    return TaskSpends(labels.take(present), np.asarray(exact.numerators)[present], exact.scale,
                      np.asarray(exact.priced_requests, dtype=np.float64)[present])


def task_codes(frame: pd.DataFrame) -> tuple[np.ndarray, ByName]:
    """Each row's task as a code into the returned names; rows without a task are the task "(none)"."""
    import numpy as np
    import pandas as pd

    values = frame["task"]
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
        categories = values.cat.categories
    else:
        raw, categories = pd.factorize(values, use_na_sentinel=True)
        codes = np.asarray(raw, dtype=np.int64)
    labels = ByName.of(categories)
    missing = codes < 0
    if missing.any():
        none = labels.index(NONE_LABEL)  # a task logged as "(none)" is the same key as no task
        if none is None:
            none, labels = len(labels), labels.plus(NONE_LABEL)
        codes[missing] = none
    return codes, labels
