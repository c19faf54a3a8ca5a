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
        from llmcost.estimate import assemble, with_baseline
        from llmcost.projection import window_of_ns

        partitions = parquet_partitions(files, log_format=log_format, default_model=default_model)
        if not partitions:
            return None
        small_pages()
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
    pool spinning up (~20 ms of 2 cores: a sum does no linear algebra; ``OPENBLAS_NUM_THREADS`` is only
    set when the caller has not set it)."""
    import gc
    import os
    import sys

    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    threshold = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


def small_pages() -> None:
    """Ask Linux for no transparent huge pages in this process from here on (``PR_SET_THP_DISABLE``).
    The partitions' buffers are a few MB each and Arrow's allocator touches its arenas sparsely; with
    huge pages every first touch zeroes 2 MB, which cost 0.15-0.3 s of a 10M-row baseline's 0.9 s of CPU
    on the 2-core machine this was measured on (half of it in the kernel's ``clear_page``). Elsewhere, or
    when refused, nothing changes."""
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE
    except (OSError, AttributeError):  # pragma: no cover - no libc prctl: huge pages as before
        return
