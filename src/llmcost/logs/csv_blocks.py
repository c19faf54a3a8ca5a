"""pyarrow's CSV reader parses in blocks (1 MiB by default) and cannot parse a row longer than a block
("straddling object straddles two block boundaries"): a valid CSV with one 50 MB quoted cell (a prompt in
a LiteLLM or Helicone export) failed. :func:`with_bigger_blocks` retries such a read with bigger blocks, so
the common file keeps pyarrow's parallel small blocks and only a file with a huge row pays for big ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import pyarrow.csv as pacsv

T = TypeVar("T")
# Block sizes tried after the default; pyarrow takes a block size below 2 GiB.
BIGGER = (64 << 20, 512 << 20, (2 << 30) - 1)


def with_bigger_blocks(read: Callable[[pacsv.ReadOptions | None], T],
                       options: pacsv.ReadOptions | None = None) -> T:
    """``read(options)``, retried with bigger ``block_size`` while pyarrow says a row straddles blocks."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        return read(options)
    except pa.ArrowInvalid as exc:
        if "straddl" not in str(exc):
            raise
        first = exc
    for size in BIGGER:
        bigger = pacsv.ReadOptions(block_size=size) if options is None else _resized(options, size)
        try:
            return read(bigger)
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc):
                raise
    raise first


def _resized(options: pacsv.ReadOptions, size: int) -> pacsv.ReadOptions:
    import pyarrow.csv as pacsv

    return pacsv.ReadOptions(use_threads=options.use_threads, block_size=size, skip_rows=options.skip_rows,
                             skip_rows_after_names=options.skip_rows_after_names,
                             column_names=options.column_names, encoding=options.encoding,
                             autogenerate_column_names=options.autogenerate_column_names)
