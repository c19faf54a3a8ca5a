"""Bench suite files: the strict YAML schema and its expansion into concrete prompt cases.

```yaml
name: support-triage
defaults: {system: "Answer briefly.", temperature: 0, max_tokens: 200}
judge: {model: gpt-4o-mini, min_score: 4}        # optional; used by prompts that have a rubric
prompts:
  - id: capital
    task: qa
    tags: [geo]
    prompt: "What is the capital of {{country}}?"  # or messages: [{role: user, content: ...}]
    vars: [{country: France}, {country: Japan}]     # one case per entry (a mapping = one case)
    assert:
      - icontains: "{{capital}}"
    rubric: "Names the capital city and nothing else."
```
Variables are written ``{{name}}`` and fill prompts, messages, the system prompt, assertion values and
the rubric; an unknown name is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llmcost import yamlfile
from llmcost.bench.wire import ChatRequest
from llmcost.errors import SuiteError

VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
Scalar = str | int | float | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class JsonPathCheck(_Strict):
    path: str = Field(min_length=1, description="$.a.b[0] style path")
    equals: Any


class NumberCheck(_Strict):
    value: float
    tolerance: float = Field(default=0.0, ge=0)
    path: str | None = Field(default=None, description="read the number at this JSON path, else the first number")


class Assertion(_Strict):
    """Exactly one check per entry."""

    contains: str | None = None
    icontains: str | None = None
    not_contains: str | None = Field(default=None, alias="not-contains")
    regex: str | None = None
    equals: str | None = None
    is_json: bool | None = Field(default=None, alias="is-json")
    json_path: JsonPathCheck | None = Field(default=None, alias="json-path")
    number: NumberCheck | None = None
    max_output_tokens: int | None = Field(default=None, alias="max-output-tokens", gt=0)

    @model_validator(mode="after")
    def _one(self) -> Assertion:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("each assertion needs exactly one check (contains, icontains, not-contains, regex, "
                             f"equals, is-json, json-path, number, max-output-tokens); got {len(given)}")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"invalid regex: {exc}") from None
        return self

    @property
    def kind(self) -> str:
        for name, info in type(self).model_fields.items():
            if getattr(self, name) is not None:
                return info.alias or name
        return "?"


class Message(_Strict):
    role: Literal["user", "assistant"]
    content: str


class Defaults(_Strict):
    system: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int = Field(default=512, gt=0)


class JudgeConfig(_Strict):
    model: str = Field(min_length=1, description="a catalog model with an endpoint")
    min_score: int = Field(default=4, ge=1, le=5)


class PromptSpec(_Strict):
    id: str | None = Field(default=None, min_length=1)
    task: str | None = None
    tags: tuple[str, ...] = ()
    prompt: str | None = None
    messages: tuple[Message, ...] | None = None
    system: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, gt=0)
    vars: dict[str, Scalar] | list[dict[str, Scalar]] | None = None
    assertions: tuple[Assertion, ...] = Field(default=(), alias="assert")
    rubric: str | None = None

    @model_validator(mode="after")
    def _text(self) -> PromptSpec:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give either 'prompt' (text) or 'messages' (a chat), not both or neither")
        if self.messages is not None and (not self.messages or self.messages[-1].role != "user"):
            raise ValueError("'messages' must end with a user message")
        return self


class SuiteFile(_Strict):
    name: str | None = None
    description: str | None = None
    defaults: Defaults = Defaults()
    judge: JudgeConfig | None = None
    prompts: tuple[PromptSpec, ...] = Field(min_length=1)


@dataclass(frozen=True)
class PromptCase:
    """One concrete prompt to send to every model."""

    id: str
    task: str | None
    tags: tuple[str, ...]
    messages: tuple[tuple[str, str], ...]
    system: str | None
    temperature: float | None
    max_tokens: int
    assertions: tuple[Assertion, ...]
    rubric: str | None

    def request(self, *, stream: bool) -> ChatRequest:
        return ChatRequest(self.messages, self.system, self.max_tokens, self.temperature, stream)

    @property
    def text(self) -> str:
        """Everything the model reads, for counting prompt tokens."""
        return "\n".join([*([self.system] if self.system else []), *(content for _, content in self.messages)])


@dataclass(frozen=True)
class Suite:
    name: str
    cases: tuple[PromptCase, ...]
    judge: JudgeConfig | None = None


def load_suite(path: str | Path) -> Suite:
    """Read, validate and expand a suite file; errors name the file and field path."""
    p = Path(path)
    spec = yamlfile.load(p, SuiteFile, SuiteError)
    return expand(spec, str(p), default_name=p.stem)


def expand(spec: SuiteFile, source: str, default_name: str = "suite") -> Suite:
    cases: list[PromptCase] = []
    seen: set[str] = set()
    for i, prompt in enumerate(spec.prompts):
        where = f"prompts[{i}]"
        variants = prompt.vars if isinstance(prompt.vars, list) else [prompt.vars or {}]
        base = prompt.id or f"p{i + 1}"
        for j, values in enumerate(variants):
            case_id = base if len(variants) == 1 else f"{base}[{j}]"
            if case_id in seen:
                raise SuiteError(f"duplicate prompt id '{case_id}'", source=source, field=f"{where}.id")
            seen.add(case_id)
            cases.append(_case(spec, prompt, case_id, values, source, where))
    if spec.judge is None and any(c.rubric for c in cases):
        raise SuiteError("prompts have a 'rubric' but the suite names no judge model", source=source, field="judge")
    return Suite(spec.name or default_name, tuple(cases), spec.judge)


def _case(spec: SuiteFile, prompt: PromptSpec, case_id: str, values: dict[str, Scalar], source: str,
          where: str) -> PromptCase:
    def fill(text: str | None, field: str) -> str | None:
        return None if text is None else substitute(text, values, source, f"{where}.{field}")

    if prompt.messages is not None:
        messages = tuple((m.role, fill(m.content, f"messages[{k}].content") or "")
                         for k, m in enumerate(prompt.messages))
    else:
        messages = (("user", fill(prompt.prompt, "prompt") or ""),)
    assertions = tuple(_fill_assertion(a, values, source, f"{where}.assert[{k}]")
                       for k, a in enumerate(prompt.assertions))
    return PromptCase(
        id=case_id, task=prompt.task, tags=prompt.tags, messages=messages,
        system=fill(prompt.system if prompt.system is not None else spec.defaults.system, "system"),
        temperature=prompt.temperature if prompt.temperature is not None else spec.defaults.temperature,
        max_tokens=prompt.max_tokens or spec.defaults.max_tokens, assertions=assertions,
        rubric=fill(prompt.rubric, "rubric"),
    )


def substitute(text: str, values: dict[str, Scalar], source: str, field: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise SuiteError(f"unknown variable '{{{{{name}}}}}' (vars: {', '.join(sorted(values)) or 'none'})",
                             source=source, field=field)
        return str(values[name])

    return VAR.sub(one, text)


def _fill_assertion(a: Assertion, values: dict[str, Scalar], source: str, field: str) -> Assertion:
    changes: dict[str, Any] = {}
    for name in ("contains", "icontains", "not_contains", "regex", "equals"):
        value = getattr(a, name)
        if isinstance(value, str):
            changes[name] = substitute(value, values, source, field)
    return a.model_copy(update=changes) if changes else a
