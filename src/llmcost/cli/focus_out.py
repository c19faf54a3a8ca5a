"""Writing ``estimate --format focus``: FOCUS CSV (stdout or a file), or Parquet when the name ends .parquet."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from llmcost.cli.common import write_output
from llmcost.errors import UsageError

if TYPE_CHECKING:
    from llmcost.estimate import Estimate
    from llmcost.focus import FocusExport


def write_focus(export: FocusExport, estimate: Estimate, output: str | None) -> None:
    from llmcost.focus import to_arrow, to_csv

    rows = export.rows(m.model for m in estimate.baseline.priced.unpriced)
    if output is not None and output.lower().endswith(".parquet"):
        _write_parquet_atomic(Path(output), to_arrow(rows))
    else:
        write_output(to_csv(rows), output)


def check_focus_output(output: str | None) -> None:
    """Parquet is binary: it needs a file name, never stdout."""
    if output in (None, "-"):
        return
    assert output is not None
    if output.lower().endswith(".parquet") and not Path(output).parent.is_dir():
        raise UsageError(f"{output}: output directory does not exist")


def _write_parquet_atomic(path: Path, table: object) -> None:
    """Temp file + rename in the target's directory, so a failure never leaves a partial file."""
    import pyarrow.parquet as pq

    directory = path.parent if str(path.parent) else Path()
    if not directory.is_dir():
        raise UsageError(f"{path}: output directory does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
