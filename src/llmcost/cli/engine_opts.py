"""``--jobs``, ``--engine`` and ``--scheduler``: where estimate and check run their partitioned work."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from llmcost.engines.interface import Engine


class EngineName(StrEnum):
    local = "local"
    dask = "dask"


JobsOpt = Annotated[
    int | None, typer.Option("--jobs", "-j", min=1, help="Cores to use on this machine.", show_default="all cores")
]
EngineOpt = Annotated[
    EngineName, typer.Option("--engine", help="Where partitioned work runs: this machine's cores, or a Dask "
                             "cluster (pip install 'llmcost[dask]').")
]
SchedulerOpt = Annotated[
    str | None, typer.Option("--scheduler", envvar="DASK_SCHEDULER_ADDRESS", show_default=False,
                             help="Dask scheduler address for --engine dask, e.g. tcp://10.0.0.5:8786 "
                             "[env: DASK_SCHEDULER_ADDRESS].")
]


@contextlib.contextmanager
def engine_from(name: EngineName, jobs: int | None, scheduler: str | None) -> Iterator[Engine]:
    """The engine the options name, closed (its cluster connection released) when the command is done.
    Replays on this machine use the local engine's jobs (with Dask: this machine's cores)."""
    from llmcost.engines import make_engine
    from llmcost.engines.local import all_cores
    from llmcost.engines.threads import workers

    engine = make_engine(name.value, jobs=jobs, scheduler=scheduler if name is EngineName.dask else None)
    try:
        with workers(engine.jobs if engine.name == "local" else all_cores()):
            yield engine
    finally:
        engine.close()
