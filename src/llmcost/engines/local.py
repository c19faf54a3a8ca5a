"""The local engine: every core of this machine.

Partitions are read and summed one after another, each with Arrow's thread pool sized to ``jobs`` (the
Parquet decoder reads columns in parallel and the group-by aggregates in parallel), so memory stays at
one partition whatever the size of the log.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from llmcost.engines.partitions import sum_partition

if TYPE_CHECKING:
    from llmcost.catalog import Catalog
    from llmcost.engines.arrow_baseline import PartialBaseline
    from llmcost.engines.interface import Partition


def all_cores() -> int:
    """The cores this process may run on (the CPU affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


class LocalEngine:
    name = "local"

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = jobs if jobs is not None else all_cores()

    def baseline(self, partitions: Sequence[Partition], catalog: Catalog) -> PartialBaseline | None:
        import pyarrow as pa

        before = pa.cpu_count()
        pa.set_cpu_count(self.jobs)  # Arrow's pool: the Parquet decoder and the group-by
        try:
            total: PartialBaseline | None = None
            for part in partitions:
                summed = sum_partition(part, catalog, threads=self.jobs > 1)
                if summed is None:
                    return None
                total = summed if total is None else total.merge(summed)
            return total
        finally:
            pa.set_cpu_count(before)

    def close(self) -> None:
        return None
