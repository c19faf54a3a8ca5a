"""Where the work runs: the small interface the estimate pipeline calls, and the partitions it hands out.

An engine sums a log's token groups partition by partition (``arrow_baseline``) and hands them back to be
priced once, in ``Decimal``, on the client. ``local`` runs on this machine's cores, ``dask_engine`` on a
``dask.distributed`` cluster; scenarios and pricing do not know which one they run on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from llmcost.catalog import Catalog
    from llmcost.engines.arrow_baseline import PartialBaseline


@dataclass(frozen=True)
class Partition:
    """Some row groups of one Parquet log: the unit an engine reads and sums in one task."""

    path: str
    row_groups: tuple[int, ...]
    rows: int
    columns: tuple[str, ...]  # the columns to read (those of the file the baseline needs)
    stamps: tuple[int, int] | None = None  # first and last timestamp (ns) from statistics; None: read them
    # (column, lowest, highest) of count columns whose statistics record them in every row group
    bounds: tuple[tuple[str, int, int], ...] = ()


class Engine(Protocol):
    """Runs the partitioned kernels of an estimate."""

    name: str
    jobs: int

    def baseline(self, partitions: Sequence[Partition], catalog: Catalog) -> PartialBaseline | None:
        """The log's token groups summed over every partition, or None when a partition holds a value
        only the full reader handles (then the caller reads the log the ordinary way)."""

    def close(self) -> None:
        """Release what the engine holds (worker processes, a cluster connection)."""
