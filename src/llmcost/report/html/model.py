"""What a report section is made of, and the optional ``report`` extra every chart needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from llmcost.errors import UsageError

EXTRA_HINT = "HTML reports and chart images need the 'report' extra: pip install 'llmcost[report]'"
WIDTH = 560
HEIGHT = 260


@dataclass(frozen=True)
class Chart:
    """One Vega-Lite chart: ``key`` names its image file, ``spec`` is the full Vega-Lite JSON."""

    key: str
    title: str
    spec: dict[str, Any]


@dataclass(frozen=True)
class Table:
    """An HTML table: header cells, rows of display strings, and which columns are numeric (right-aligned)."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Section:
    """Everything one result contributes to the page."""

    kind: str
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def altair() -> ModuleType:
    """Altair, or a one-line error naming the extra to install."""
    try:
        import altair as alt
    except ImportError:
        raise UsageError(EXTRA_HINT) from None
    return alt


def finish(chart: Any, key: str, title: str, *, width: int = WIDTH, height: int = HEIGHT) -> Chart:
    """A titled, sized chart as its Vega-Lite dict."""
    spec = chart.properties(title=title, width=width, height=height).to_dict()
    return Chart(key=key, title=title, spec=spec)


def chart_values(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every data row a spec carries (inline ``data.values`` or the top-level ``datasets``), for tests
    and for anyone reading a chart's numbers back out of a page."""
    rows: list[dict[str, Any]] = []
    for values in (spec.get("datasets") or {}).values():
        rows.extend(values)
    data = spec.get("data") or {}
    rows.extend(data.get("values") or [])
    return rows
