"""Reading request logs of every known format into the normalized frame.

``read_logs`` expands globs, detects each file's format (or takes ``--log-format``), reads each with
its reader and concatenates the results.
"""

from __future__ import annotations

from llmcost.logs.registry import FileReport, LogSet, detect, read_logs, reader_names

__all__ = ["FileReport", "LogSet", "detect", "read_logs", "reader_names"]
