"""Scoring an answer: deterministic assertions, and an optional rubric scored by a judge model."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from llmcost.bench.suite import Assertion, PromptCase
from llmcost.bench.wire import ChatRequest

NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")
PATH_PART = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[['\"]([^'\"]+)['\"]\]")
SCORE = re.compile(r"SCORE\s*[:=]\s*([1-5])\b", re.IGNORECASE)


@dataclass(frozen=True)
class Check:
    kind: str
    passed: bool
    detail: str = ""


def check_all(case: PromptCase, text: str, output_tokens: int | None) -> tuple[Check, ...]:
    return tuple(check(a, text, output_tokens) for a in case.assertions)


def check(a: Assertion, text: str, output_tokens: int | None) -> Check:
    """Run one assertion against an answer."""
    kind = a.kind
    if a.contains is not None:
        return Check(kind, a.contains in text)
    if a.icontains is not None:
        return Check(kind, a.icontains.lower() in text.lower())
    if a.not_contains is not None:
        return Check(kind, a.not_contains not in text)
    if a.regex is not None:
        return Check(kind, re.search(a.regex, text) is not None)
    if a.equals is not None:
        return Check(kind, text.strip() == a.equals.strip())
    if a.is_json is not None:
        return Check(kind, (parse_json(text) is not _MISSING) == a.is_json)
    if a.json_path is not None:
        found = json_path(parse_json(text), a.json_path.path)
        ok = found is not _MISSING and found == a.json_path.equals
        return Check(kind, ok, "" if ok else f"got {_short(found)}")
    if a.number is not None:
        value = _number_at(text, a.number.path)
        ok = value is not None and abs(value - a.number.value) <= a.number.tolerance
        return Check(kind, ok, "" if ok else f"got {value}")
    assert a.max_output_tokens is not None
    ok = output_tokens is not None and output_tokens <= a.max_output_tokens
    return Check(kind, ok, "" if ok else f"got {output_tokens}")


class _Missing:
    def __repr__(self) -> str:
        return "nothing"


_MISSING: Any = _Missing()
_FENCE = re.compile(r"^```(?:json)?\s*\n(.*?)\n```\s*$", re.DOTALL)


def parse_json(text: str) -> Any:
    """The answer as JSON (a Markdown code fence around it is allowed), or ``_MISSING``."""
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        return json.loads(body)
    except ValueError:
        return _MISSING


def json_path(data: Any, path: str) -> Any:
    """Follow ``$.a.b[0]['c d']`` into ``data``; ``_MISSING`` when any step is absent."""
    rest = path.strip()
    if rest.startswith("$"):
        rest = rest[1:]
    node = data
    pos = 0
    while pos < len(rest) and node is not _MISSING:
        match = PATH_PART.match(rest, pos)
        if match is None:
            return _MISSING
        key, index, quoted = match.groups()
        pos = match.end()
        if index is not None:
            i = int(index)
            node = node[i] if isinstance(node, list) and i < len(node) else _MISSING
        else:
            name = key if key is not None else quoted
            node = node.get(name, _MISSING) if isinstance(node, dict) else _MISSING
    return node


def _number_at(text: str, path: str | None) -> float | None:
    if path is not None:
        found = json_path(parse_json(text), path)
        if isinstance(found, int | float) and not isinstance(found, bool):
            return float(found)
        text = found if isinstance(found, str) else ""
    match = NUMBER.search(text)
    return float(match.group(0).replace(",", "")) if match else None


def _short(value: Any) -> str:
    return repr(value)[:60]


def judge_request(case: PromptCase, answer: str) -> ChatRequest:
    """The request a judge model gets: the rubric, the conversation and the answer; it replies ``SCORE: n``."""
    asked = "\n\n".join(f"[{role}]\n{content}" for role, content in case.messages)
    prompt = (
        "You grade an AI assistant's answer against a rubric. Reply with one line of reasoning, then a final "
        "line of the form 'SCORE: n' where n is 1 (fails the rubric) to 5 (fully meets it).\n\n"
        f"## Rubric\n{case.rubric}\n\n## Conversation\n{asked}\n\n## Answer\n{answer}"
    )
    return ChatRequest((("user", prompt),), None, 200, 0.0, False)


def judge_score(reply: str) -> int | None:
    """The last ``SCORE: n`` in a judge's reply, or None when it gave none."""
    found = SCORE.findall(reply)
    return int(found[-1]) if found else None
