"""The list of known readers, format detection, and reading several files into one frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmcost.errors import InputError, UsageError
from llmcost.logs.interface import LogReader, ReadOptions, Source
from llmcost.logs.native import NativeReader
from llmcost.logs.remote import is_database, redact
from llmcost.logs.source import expand, open_source
from llmcost.logs.timerange import TimeRange

if TYPE_CHECKING:
    import pandas as pd

    from llmcost.frame import Conformed


def _readers() -> list[LogReader]:
    """Every reader, most specific first; the native reader is the fallback."""
    readers: list[LogReader] = []
    try:
        from llmcost.logs.formats import ALL_FORMAT_READERS
    except ImportError:  # pragma: no cover - formats package absent in minimal builds
        ALL_FORMAT_READERS = []
    readers.extend(ALL_FORMAT_READERS)
    readers.append(NativeReader())
    return readers


def readers() -> list[LogReader]:
    """Every reader, most specific first (for ``llmcost logs formats``)."""
    return _readers()


def reader_names() -> list[str]:
    return [r.name for r in _readers()]


def detect(source: Source, forced: str | None = None) -> LogReader:
    """Pick the reader for ``source``: the one named by ``--log-format``, else the first that sniffs it."""
    readers = _readers()
    if forced:
        for reader in readers:
            if reader.name == forced:
                return reader
        raise UsageError(f"unknown --log-format '{forced}' (known: {', '.join(r.name for r in readers)})")
    for reader in readers:
        if reader.sniff(source):
            return reader
    if {"custom_id", "method", "url", "body"} <= set(source.columns):
        raise InputError("this is a Batch API input file (the requests to send, with no usage): pass the batch's "
                         "output file (its output_file_id) instead", source=source.name)
    cols = ", ".join(source.columns[:12]) or "none"
    raise InputError(
        f"cannot detect the log format ({source.container} with fields: {cols}); "
        f"pass --log-format (one of: {', '.join(r.name for r in readers)})",
        source=source.name,
    )


def drop_repeated(reader: LogReader, result: Conformed, seen: dict[str, Any]) -> Conformed:
    """Drop (and count) rows a reader recognises as copies of rows of an earlier file read in the same run:
    a reader opts in with ``repeat_key(frame)`` (one hash per row) and ``repeat_reason`` (Codex copies a
    session's earlier events into the file of a resumed or forked session)."""
    import numpy as np

    from llmcost.frame import Conformed

    key_of = getattr(reader, "repeat_key", None)
    if key_of is None or result.frame.empty:
        return result
    keys = key_of(result.frame)
    earlier = seen.get(reader.name)
    if earlier is not None:
        again = np.isin(keys, earlier)
        if again.any():
            frame = result.frame.loc[~again].reset_index(drop=True)
            frame["model"] = frame["model"].cat.remove_unused_categories()
            skipped, reason = dict(result.skipped), str(getattr(reader, "repeat_reason", "repeated row"))
            skipped[reason] = skipped.get(reason, 0) + int(again.sum())
            result, keys = Conformed(frame, skipped), keys[~again]
    seen[reader.name] = keys if earlier is None else np.concatenate([earlier, keys])
    return result


def _read_database(url: str, options: ReadOptions, window: TimeRange, frames: list[pd.DataFrame]) -> FileReport:
    from llmcost.logs import postgres

    skipped: dict[str, int] = {}
    rows = 0
    for part in postgres.iter_spend_logs(url, postgres.FETCH_ROWS, options, since=window.since,
                                         until=window.until):
        frames.append(part.frame)
        rows += len(part.frame)
        for why, n in part.skipped.items():
            skipped[why] = skipped.get(why, 0) + n
    return FileReport(redact(url), postgres.FORMAT_NAME, rows, skipped)


@dataclass(frozen=True)
class FileReport:
    """What reading one file found."""

    path: str
    format: str
    rows: int
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


@dataclass(frozen=True)
class LogSet:
    """All requests read from the given logs, plus a report per file."""

    frame: pd.DataFrame
    files: tuple[FileReport, ...]

    @property
    def skipped_total(self) -> int:
        return sum(f.skipped_total for f in self.files)


def read_logs(
    paths: list[str],
    *,
    log_format: str | None = None,
    default_model: str | None = None,
    skip_bad: bool = False,
    columns: frozenset[str] | None = None,
    on_file: Callable[[str], None] | None = None,
    window: TimeRange | None = None,
) -> LogSet:
    """Read every file named (globs, ``-`` and URLs allowed) into one normalized frame.

    ``columns`` names the optional columns the caller needs beyond the core ones (None = keep all);
    ``window`` (``--since``/``--until``) leaves out the requests outside it.
    """
    import pandas as pd
    from pandas.api.types import union_categoricals

    from llmcost.frame import EXTRA_TOKEN_COLUMNS

    options = ReadOptions(default_model=default_model, skip_bad=skip_bad, columns=columns)
    frames: list[pd.DataFrame] = []
    reports: list[FileReport] = []
    seen: dict[str, Any] = {}
    window = window or TimeRange()
    for name in expand(paths):
        if is_database(name):  # LiteLLM's table, read in chunks, each mapped like an export
            report = _read_database(name, options, window, frames)
            reports.append(report)
            if on_file is not None:
                on_file(name)
            continue
        source = open_source(name)
        reader = detect(source, log_format)
        result = drop_repeated(reader, reader.read(source, options), seen)
        frames.append(window.within(result.frame))
        reports.append(FileReport(source.name, reader.name, len(frames[-1]), dict(result.skipped)))
        if on_file is not None:
            on_file(name)
    if len(frames) == 1:
        frame = frames[0]
    else:
        models = union_categoricals([f["model"] for f in frames], ignore_order=True)
        frame = pd.concat(frames, ignore_index=True)
        frame["model"] = pd.Categorical(frame["model"].astype("string"), categories=models.categories)
        for column in EXTRA_TOKEN_COLUMNS:  # a file without audio counts has none: 0, not NaN (unpriced)
            if column in frame.columns and frame[column].hasnans:
                frame[column] = frame[column].fillna(0).astype("int64")
    if frame.empty:
        skipped: dict[str, int] = {}
        for report in reports:
            for why, n in report.skipped.items():
                skipped[why] = skipped.get(why, 0) + n
        detail = "; ".join(f"skipped {n:,} row(s): {why}" for why, n in skipped.items())
        raise InputError("the logs hold no requests" + (f" ({detail})" if detail else ""),
                         source=", ".join(r.path for r in reports))
    return LogSet(frame, tuple(reports))
