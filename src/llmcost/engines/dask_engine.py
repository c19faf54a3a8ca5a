"""The Dask engine: the same partition kernels on a ``dask.distributed`` cluster (``llmcost[dask]``).

Each worker reads its partitions itself (local paths the workers see, or ``s3://``/``gs://``/``az://``/
``https://`` through the logs' one opening function) and returns token sums; the client adds them and
prices once in ``Decimal``. Dask clusters deploy on Kubernetes, YARN, HPC schedulers and clouds; the
scheduler's address comes from ``--scheduler`` or ``DASK_SCHEDULER_ADDRESS``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from llmcost.errors import InputError, UsageError

if TYPE_CHECKING:
    from llmcost.catalog import Catalog
    from llmcost.engines.arrow_baseline import PartialBaseline
    from llmcost.engines.interface import Partition

EXTRA_HINT = "--engine dask needs the 'dask' extra: pip install 'llmcost[dask]'"
CONNECT_TIMEOUT_S = 20


class DaskEngine:
    name = "dask"

    def __init__(self, scheduler: str | None = None) -> None:
        address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
        if not address:
            raise UsageError("--engine dask needs --scheduler ADDRESS (or DASK_SCHEDULER_ADDRESS), e.g. "
                             "tcp://127.0.0.1:8786")
        try:
            import distributed
        except ImportError:
            raise UsageError(EXTRA_HINT) from None
        connect: Any = distributed.Client  # untyped library: kept behind Any
        try:
            self.client: Any = connect(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {address}: {_first_line(exc)}") from None
        self.address = address
        self.notes: list[str] = []  # what ran elsewhere than asked, and why (the command prints them)
        self.jobs = max(1, sum(int(w.get("nthreads", 1)) for w in
                               self.client.scheduler_info().get("workers", {}).values()))

    def baseline(self, partitions: Sequence[Partition], catalog: Catalog) -> PartialBaseline | None:
        [shipped] = self.client.scatter([catalog], broadcast=True)
        futures = self.client.map(sum_partition, list(partitions), catalog=shipped, pure=False)
        total: PartialBaseline | None = None
        try:
            for summed in self.client.gather(futures):
                if summed is None:
                    return None
                total = summed if total is None else total.merge(summed)
        except OSError as exc:
            raise InputError(f"a Dask worker could not read the log: {_first_line(exc)}",
                             source=_which(partitions, exc)) from None
        return total

    def close(self) -> None:
        self.client.close()


def sum_partition(part: Partition, catalog: Catalog) -> PartialBaseline | None:
    """Runs in a worker: read the partition and sum its token groups, on the worker's own threads."""
    from llmcost.engines.partitions import sum_partition as summed
    from llmcost.engines.replay_task import worker_threads

    with worker_threads() as n:
        return summed(part, catalog, threads=n > 1)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _which(partitions: Sequence[Partition], exc: Any) -> str:
    text = str(exc)
    return next((p.path for p in partitions if p.path in text), partitions[0].path if partitions else "")
