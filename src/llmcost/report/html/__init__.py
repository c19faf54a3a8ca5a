"""HTML reports: one self-contained page (charts and tables) built from the JSON results that
``estimate``, ``bench`` and ``check`` write with ``--format json``, and the same charts as PNG/SVG images.

The page is fed the very dict ``--format json`` writes, so no number is computed twice. Charts are Vega-Lite
specs built with Altair; the page inlines vega, vega-lite and vega-embed, so it opens offline.
"""

from __future__ import annotations

from llmcost.report.html.model import Chart, Section
from llmcost.report.html.page import render_page
from llmcost.report.html.sections import result_kind, section_for

__all__ = ["Chart", "Section", "render_page", "result_kind", "section_for"]
