"""The bench summary contract: what ``llmcost bench --format json`` writes and what ``estimate`` scenarios
and ``check`` read back. Fields may be added, never renamed.

```json
{"kind": "bench", "schema_version": 1, "suite": "name",
 "models": [{"model": "gpt-4o-mini", "requests": 20, "errors": 1, "error_rate": 0.05,
             "errors_by_type": {"timeout": 1}, "quality_pass_rate": 0.9, "cost_usd": 0.01,
             "cost_per_request_usd": 0.0005, "cost_per_1k_usd": 0.5,
             "ttft_ms": {"p50": 120.0, "p95": 300.0, "p99": 410.0},
             "latency_ms": {"p50": 900.0, "p95": 1500.0, "p99": 1800.0},
             "output_tokens_per_s": 85.0, "goodput": 0.95,
             "by_task": [{"task": "classify", "requests": 10, "quality_pass_rate": 1.0,
                          "cost_per_request_usd": 0.0004, "ttft_ms": {...}, "latency_ms": {...}}]}],
 "recommendation": [{"task": null, "model": "gpt-4o-mini", "reason": "cheapest meeting ..."}]}
```
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from llmcost.errors import InputError

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Percentiles:
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None

    @classmethod
    def from_json(cls, data: Any) -> Percentiles:
        if not isinstance(data, dict):
            return cls()
        return cls(*(_num(data.get(k)) for k in ("p50", "p95", "p99")))

    def to_json(self) -> dict[str, float | None]:
        return {"p50": self.p50, "p95": self.p95, "p99": self.p99}


@dataclass(frozen=True)
class TaskSummary:
    task: str
    requests: int
    quality_pass_rate: float | None = None
    cost_per_request_usd: float | None = None
    ttft_ms: Percentiles = field(default_factory=Percentiles)
    latency_ms: Percentiles = field(default_factory=Percentiles)


@dataclass(frozen=True)
class ModelSummary:
    model: str
    requests: int
    errors: int = 0
    error_rate: float = 0.0
    errors_by_type: dict[str, int] = field(default_factory=dict)
    quality_pass_rate: float | None = None
    cost_usd: float | None = None
    cost_per_request_usd: float | None = None
    cost_per_1k_usd: float | None = None
    ttft_ms: Percentiles = field(default_factory=Percentiles)
    latency_ms: Percentiles = field(default_factory=Percentiles)
    output_tokens_per_s: float | None = None
    goodput: float | None = None
    by_task: tuple[TaskSummary, ...] = ()

    def pass_rate(self, task: str | None = None) -> float | None:
        """Measured pass rate for ``task`` if the bench saw it, else the model's overall rate."""
        if task is not None:
            for t in self.by_task:
                if t.task == task and t.quality_pass_rate is not None:
                    return t.quality_pass_rate
        return self.quality_pass_rate


@dataclass(frozen=True)
class BenchSummary:
    models: tuple[ModelSummary, ...]
    suite: str = ""
    recommendation: tuple[dict[str, Any], ...] = ()
    # The file it was read from (llmcost.evidence reads it again for counts and samples); not part of equality.
    source: str = field(default="", compare=False)

    def model(self, name: str) -> ModelSummary | None:
        for m in self.models:
            if m.model == name:
                return m
        return None


def load_bench_summary(path: str | Path) -> BenchSummary:
    """Read a bench summary JSON (``llmcost bench --format json`` output) — or a per-request results file
    (``--results``, JSONL), summarized on the fly; errors name file and field."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read bench results: {exc.strerror or exc}", source=source) from None
    if is_results_file(text):
        return replace(_summarize_results(Path(path)), source=source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", source=source, line=exc.lineno) from None
    return replace(parse_bench_summary(data, source), source=source)


def is_results_file(text: str) -> bool:
    """Whether ``text`` is a ``bench --results`` JSONL file (its first line a bench-request record)."""
    first = text.lstrip().split("\n", 1)[0]
    try:
        data = json.loads(first)
    except json.JSONDecodeError:
        return False
    return isinstance(data, dict) and data.get("kind") == "bench-request"


def _summarize_results(path: Path) -> BenchSummary:
    from llmcost.bench.results import read_records
    from llmcost.bench.stats import Gates, build_summary

    records, _ = read_records(path)
    models = list(dict.fromkeys(r.model for r in records))
    return parse_bench_summary(build_summary(records, suite=path.stem, models=models, gates=Gates()), str(path))


def summary_models(data: Any, source: str = "<bench>") -> list[Any]:
    """The ``models`` list of a bench summary (``bench --format json``), after checking it is one."""
    if not isinstance(data, dict) or data.get("kind") != "bench":
        raise InputError("not a bench summary (expected a JSON object with \"kind\": \"bench\")",
                         source=source, field="kind")
    models = data.get("models")
    if not isinstance(models, list):
        raise InputError("must be a list", source=source, field="models")
    return models


def parse_bench_summary(data: Any, source: str = "<bench>") -> BenchSummary:
    models = summary_models(data, source)
    out = []
    for i, m in enumerate(models):
        where = f"models[{i}]"
        if not isinstance(m, dict) or not isinstance(m.get("model"), str):
            raise InputError("each entry needs a string 'model'", source=source, field=f"{where}.model")
        tasks = tuple(
            TaskSummary(str(t.get("task")), int(t.get("requests") or 0), _num(t.get("quality_pass_rate")),
                        _num(t.get("cost_per_request_usd")), Percentiles.from_json(t.get("ttft_ms")),
                        Percentiles.from_json(t.get("latency_ms")))
            for t in m.get("by_task") or [] if isinstance(t, dict)
        )
        out.append(ModelSummary(
            model=m["model"], requests=int(m.get("requests") or 0), errors=int(m.get("errors") or 0),
            error_rate=_num(m.get("error_rate")) or 0.0, errors_by_type=dict(m.get("errors_by_type") or {}),
            quality_pass_rate=_num(m.get("quality_pass_rate")), cost_usd=_num(m.get("cost_usd")),
            cost_per_request_usd=_num(m.get("cost_per_request_usd")), cost_per_1k_usd=_num(m.get("cost_per_1k_usd")),
            ttft_ms=Percentiles.from_json(m.get("ttft_ms")), latency_ms=Percentiles.from_json(m.get("latency_ms")),
            output_tokens_per_s=_num(m.get("output_tokens_per_s")), goodput=_num(m.get("goodput")), by_task=tasks,
        ))
    return BenchSummary(tuple(out), str(data.get("suite") or ""), tuple(data.get("recommendation") or ()))


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
