"""The local engine: every core of this machine.

Partitions are summed side by side, up to ``IN_FLIGHT`` at a time on as many threads (reading, decoding,
checking and grouping a partition all run in Arrow's C++ with the GIL released), so the cores stay busy
through the single-threaded checks and the Python between Arrow's calls, and memory stays at a few
partitions whatever the size of the log. With more cores than partitions in flight, each partition also
uses Arrow's thread pool (sized to ``jobs``); with ``--jobs 1``, one partition after another on one thread.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from llmcost.engines.partitions import sum_partition

if TYPE_CHECKING:
    from llmcost.catalog import Catalog
    from llmcost.engines.arrow_baseline import PartialBaseline
    from llmcost.engines.interface import Partition

# Partitions read and summed at once: each holds its columns in memory (about 45 MB per 1M rows).
IN_FLIGHT = 4


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

        side_by_side = min(self.jobs, len(partitions), IN_FLIGHT)
        inner = self.jobs > side_by_side  # cores to spare: each partition on Arrow's pool too
        before = pa.cpu_count()
        pa.set_cpu_count(self.jobs)  # Arrow's pool: the Parquet decoder and the group-by
        try:
            if side_by_side <= 1:
                return _merged(sum_partition(part, catalog, threads=inner) for part in partitions)
            return _side_by_side(partitions, catalog, side_by_side, inner)
        finally:
            pa.set_cpu_count(before)

    def close(self) -> None:
        return None


def _side_by_side(partitions: Sequence[Partition], catalog: Catalog, threads: int,
                  inner: bool) -> PartialBaseline | None:
    """The partitions summed on ``threads`` threads, at most that many in flight (memory), merged in order."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads, thread_name_prefix="llmcost-baseline") as pool:
        pending = [pool.submit(sum_partition, part, catalog, threads=inner) for part in partitions[:threads]]
        results: list[PartialBaseline | None] = []
        for part in partitions[threads:]:
            results.append(pending.pop(0).result())
            if results[-1] is None:  # the full reader takes over: stop reading
                for future in pending:
                    future.cancel()
                return None
            pending.append(pool.submit(sum_partition, part, catalog, threads=inner))
        results.extend(future.result() for future in pending)
    return _merged(results)


def _merged(summed: Iterable[PartialBaseline | None]) -> PartialBaseline | None:
    total: PartialBaseline | None = None
    for part in summed:
        if part is None:
            return None
        total = part if total is None else total.merge(part)
    return total
