"""The small interface every log reader implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from llmcost.frame import Conformed

Container = Literal["csv", "json", "jsonl", "parquet"]


@dataclass(frozen=True)
class Source:
    """One input: a file path (or ``-`` for stdin) and the bytes-level facts detection needs."""

    name: str
    container: Container
    data: bytes | None = None  # whole content when it did not come from a plain file (stdin)
    gzip: bool = False
    columns: tuple[str, ...] = ()  # CSV header, parquet schema, or the first JSON object's top-level keys
    first_object: dict[str, object] | None = field(default=None, compare=False)

    @property
    def path(self) -> str:
        return self.name


@dataclass(frozen=True)
class ReadOptions:
    default_model: str | None = None
    skip_bad: bool = False
    # Columns the caller needs (None = all). Flat readers skip the rest at read time, which is what
    # makes a baseline estimate of a 10M-row Parquet file cost little more than reading its numbers.
    columns: frozenset[str] | None = None


class LogReader(Protocol):
    """Reads one source format into the normalized frame."""

    name: str
    description: str

    def sniff(self, source: Source) -> bool:
        """True when ``source`` looks like this reader's format (from columns or first object)."""

    def read(self, source: Source, options: ReadOptions) -> Conformed:
        """Return the normalized frame and counts of skipped rows; raise InputError on bad input."""
