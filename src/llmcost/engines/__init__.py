"""Engines: where an estimate's partitioned work runs (``local``: every core; ``dask``: a cluster).

``make_engine`` picks one from the command line; ``baseline_estimate`` is what the pipeline calls for a
baseline-only run: partitions summed by the engine, priced once here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmcost.catalog import Catalog
    from llmcost.engines.interface import Engine
    from llmcost.estimate import Estimate
    from llmcost.scenarios.interface import Scenario

ENGINES = ("local", "dask")


def make_engine(name: str = "local", *, jobs: int | None = None, scheduler: str | None = None) -> Engine:
    """The engine called ``name``: ``local`` with ``jobs`` cores (default all), or ``dask`` connected to
    ``scheduler`` (default ``$DASK_SCHEDULER_ADDRESS``)."""
    from llmcost.errors import UsageError

    if jobs is not None and jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if name == "local":
        if scheduler is not None:
            raise UsageError("--scheduler needs --engine dask")
        from llmcost.engines.local import LocalEngine

        return LocalEngine(jobs)
    if name == "dask":
        from llmcost.engines.dask_engine import DaskEngine

        return DaskEngine(scheduler)
    raise UsageError(f"unknown --engine '{name}' (known: {', '.join(ENGINES)})")


def baseline_estimate(engine: Engine, files: list[str], catalog: Catalog, scenarios: Sequence[Scenario], *,
                      log_format: str | None = None, default_model: str | None = None,
                      projection_days: int = 30, window_days: float | None = None) -> Estimate | None:
    """The baseline of ``files`` summed partition by partition on ``engine`` and priced once; None when a
    file or a value needs the full reader (which then reads the logs as before)."""
    from decimal import Decimal

    from llmcost.engines.partitions import parquet_partitions

    with lean_summing():
        from llmcost.engines.memory import small_pages
        from llmcost.estimate import assemble, with_baseline
        from llmcost.projection import window_of_ns

        partitions = parquet_partitions(files, log_format=log_format, default_model=default_model)
        if not partitions:
            return None
        with small_pages():  # Arrow's arenas touched sparsely: see engines.memory
            summed = engine.baseline(partitions, catalog)
        if summed is None:
            return None
        window = window_of_ns(summed.start_ns, summed.end_ns, summed.requests, window_days)  # no pandas
        return assemble(window, with_baseline(scenarios), [(summed.groups, Decimal(0), {})], catalog,
                        projection_days)


@contextmanager
def lean_summing() -> Iterator[None]:
    """Around a partitioned sum (the baseline's, the breakdowns'): importing pyarrow and numpy with one
    young garbage collection instead of ~100, and, when numpy is not imported yet, without BLAS's thread
    pool spinning up (~20 ms of 2 cores: a sum does no linear algebra; ``OPENBLAS_NUM_THREADS`` is set
    only when the caller has not set it, and only for the block)."""
    import gc
    import os
    import sys

    set_here = "numpy" not in sys.modules and "OPENBLAS_NUM_THREADS" not in os.environ
    if set_here:
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
    threshold = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if set_here:  # read once, when numpy loaded BLAS: nothing else of this process sees it afterwards
            os.environ.pop("OPENBLAS_NUM_THREADS", None)
