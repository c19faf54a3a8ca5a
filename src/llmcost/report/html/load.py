"""Saved JSON results (what CI keeps as artifacts) read back for ``llmcost report``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llmcost.errors import InputError
from llmcost.report.html.model import Section
from llmcost.report.html.sections import result_kind, section_for


def load_results(paths: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """Each file as (path, result dict). A bench ``--results`` JSONL file is summarized as ``llmcost diff``
    does; anything that is not an estimate, bench or check result is an error naming the file."""
    out = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise InputError(f"cannot read file: {why}", source=path) from None
        out.append((path, _parse(path, text)))
    return out


def _parse(path: str, text: str) -> dict[str, Any]:
    from llmcost.bench.summary import is_results_file

    if is_results_file(text):
        from llmcost.diff import load_result

        _, summary = load_result(path)
        plain: dict[str, Any] = json.loads(json.dumps(summary, default=float))
        return plain
    def refuse(name: str) -> float:
        raise InputError(f"invalid JSON: {name} is not a number JSON allows", source=path)

    try:
        data = json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", source=path, line=exc.lineno) from None
    result_kind(data, path)
    return dict(data)


def build_sections(results: list[tuple[str, dict[str, Any]]]) -> list[Section]:
    """A page section per result; a result of the right kind that lacks a field it needs is named."""
    sections = []
    for source, result in results:
        try:
            sections.append(section_for(result, source))
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            what = f"field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise InputError(f"not a complete llmcost {result.get('kind')} result: missing or malformed {what}",
                             source=source) from None
    return sections


def page_for(result: dict[str, Any], source: str) -> str:
    """The HTML page of one result, as ``--format html`` writes it."""
    from llmcost.report.html.page import render_page

    return render_page(build_sections([(source, result)]), title=f"llmcost {result.get('kind')} report")
