"""The one self-contained HTML page: sections of facts, charts and tables, with vega, vega-lite and
vega-embed inlined (from vl-convert) so it opens offline and makes no request to any host."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from html import escape
from pathlib import Path
from typing import Any

from llmcost.report.html.model import EXTRA_HINT, Chart, Section, Table

FOLD_ROWS = 30
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1240px;
padding:24px;color:#1d1d1f;background:#fff}
h1{font-size:1.6em;margin:0 0 4px}h2{border-top:2px solid #ddd;padding-top:18px;margin-top:32px}
h3{font-size:1.05em;margin:22px 0 6px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:8px 0 16px}
dl.facts dt{font-weight:600;color:#555}dl.facts dd{margin:0}
.charts{display:flex;flex-wrap:wrap;gap:18px}
.chart{border:1px solid #e3e3e3;border-radius:6px;padding:8px;margin:0}
ul.notes{color:#666;font-size:.92em}summary h3{display:inline;cursor:pointer}
table{border-collapse:collapse;margin:6px 0 14px;font-size:.9em}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;white-space:nowrap}
th{background:#f4f4f6}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.status-PASS{color:#2e7d32;font-weight:600}.status-WARN{color:#b26a00;font-weight:600}
.status-FAIL{color:#c62828;font-weight:600}.status-SKIP{color:#888}
"""

RENDER = """
(function () {
  var specs = document.querySelectorAll('script.vl-spec');
  var pending = [];
  specs.forEach(function (el) {
    var target = document.getElementById(el.getAttribute('data-chart'));
    pending.push(vegaEmbed(target, JSON.parse(el.textContent), {renderer: 'svg', actions: false})
      .catch(function (err) {
        console.error('chart ' + target.id + ': ' + err);
        target.textContent = 'chart failed: ' + err;
      }));
  });
  Promise.all(pending).then(function () {
    document.body.setAttribute('data-charts-rendered', String(pending.length));
  });
})();
"""


@functools.cache
def javascript() -> str:
    """vega, vega-lite and vega-embed as one script, from the vl-convert wheel (no network). Bundling
    takes vl-convert a second or two of CPU, so the bundle is kept in the user's cache directory, named by
    the vl-convert version that made it; an unwritable cache only means bundling again next time."""
    try:
        import vl_convert
    except ImportError:
        from llmcost.errors import UsageError

        raise UsageError(EXTRA_HINT) from None
    cached = _cache_path()
    with contextlib.suppress(OSError, UnicodeDecodeError):
        text = cached.read_text(encoding="utf-8")
        if BUNDLE_MARK in text:
            return text
    bundle = str(vl_convert.javascript_bundle()).replace("</script", "<\\/script")  # type: ignore[call-arg]
    with contextlib.suppress(OSError):
        cached.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".vega-", suffix=".tmp", dir=cached.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(bundle)
            os.replace(tmp, cached)
        finally:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
    return bundle


BUNDLE_MARK = "vegaEmbed"


def _cache_path() -> Path:
    from importlib.metadata import version

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "llmcost" / f"vega-bundle-vl-convert-{version('vl-convert-python')}.js"


def script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' can close it or start a comment."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(sections: list[Section], *, title: str = "llmcost report") -> str:
    body = [f"<h1>{escape(title)}</h1>",
            "<p class=\"lede\">Built by llmcost from its JSON results; every chart's numbers are in the page "
            "(script elements of type application/json).</p>"]
    for i, section in enumerate(sections):
        body.append(_section(section, f"s{i}"))
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body)
            + f"\n<script>{javascript()}</script>\n<script>{RENDER}</script>\n</body>\n</html>\n")


def _section(section: Section, prefix: str) -> str:
    parts = [f"<section class=\"result result-{escape(section.kind)}\">", f"<h2>{escape(section.title)}</h2>"]
    if section.facts:
        parts.append("<dl class=\"facts\">" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>"
                                                       for k, v in section.facts) + "</dl>")
    if section.charts:
        parts.append("<div class=\"charts\">" + "".join(_chart(c, f"{prefix}-{c.key}") for c in section.charts)
                     + "</div>")
    if section.notes:
        parts.append("<ul class=\"notes\">" + "".join(f"<li>{escape(n)}</li>" for n in section.notes) + "</ul>")
    parts += [_table(t) for t in section.tables]
    parts.append("</section>")
    return "\n".join(parts)


def _chart(chart: Chart, element_id: str) -> str:
    return (f"<figure class=\"chart\" aria-label=\"{escape(chart.title)}\"><div id=\"{escape(element_id)}\"></div>"
            f"<script type=\"application/json\" class=\"vl-spec\" data-chart=\"{escape(element_id)}\" "
            f"data-key=\"{escape(chart.key)}\">{script_json(chart.spec)}</script></figure>")


def _table(table: Table) -> str:
    def cell(tag: str, i: int, text: str) -> str:
        classes = ["num"] if i in table.numeric else []
        if tag == "td" and table.headers[i] == "Status":
            classes.append(f"status-{text}")
        cls = f" class=\"{' '.join(classes)}\"" if classes else ""
        return f"<{tag}{cls}>{escape(text)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(table.headers))
    rows = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(r)) + "</tr>" for r in table.rows)
    body = f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    if len(table.rows) > FOLD_ROWS:  # an hourly breakdown: folded, so the page stays readable
        return (f"<details><summary><h3>{escape(table.title)} ({len(table.rows):,} rows)</h3></summary>"
                f"{body}</details>")
    return f"<h3>{escape(table.title)}</h3>{body}"
