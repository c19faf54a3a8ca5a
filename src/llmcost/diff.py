"""What changed between two results: two ``estimate --format json`` files, or two bench results (a bench
summary JSON or a ``--results`` JSONL file, summarized the way ``check`` does).

Money is read from the JSON as ``Decimal`` (``parse_float=Decimal``), so a change of $0.10 is exactly that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from llmcost.bench.summary import BenchSummary, ModelSummary, is_results_file, parse_bench_summary
from llmcost.errors import InputError

ChangeStatus = Literal["added", "removed", "changed", "unchanged"]


@dataclass(frozen=True)
class Change:
    """One figure before and after; None on a side means the thing is absent there."""

    name: str
    before: Decimal | None
    after: Decimal | None

    @property
    def status(self) -> ChangeStatus:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "unchanged" if self.before == self.after else "changed"

    @property
    def delta(self) -> Decimal:
        return (self.after or Decimal(0)) - (self.before or Decimal(0))

    @property
    def pct(self) -> Decimal | None:
        """Change in percent of ``before``; None when there is no non-zero ``before`` to compare with."""
        if not self.before:
            return None
        return self.delta / self.before * 100


@dataclass(frozen=True)
class ScenarioDiff:
    total: Change
    models: tuple[Change, ...]

    @property
    def name(self) -> str:
        return self.total.name

    def model(self, name: str) -> Change | None:
        return next((m for m in self.models if m.name == name), None)


@dataclass(frozen=True)
class EstimateDiff:
    base: str
    head: str
    projection_days: int
    scenarios: tuple[ScenarioDiff, ...]

    def scenario(self, name: str) -> ScenarioDiff | None:
        return next((s for s in self.scenarios if s.name == name), None)


@dataclass(frozen=True)
class Metric:
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


@dataclass(frozen=True)
class BenchModelDiff:
    model: str
    status: ChangeStatus
    quality_pass_rate: Metric
    p95_latency_ms: Metric
    p95_ttft_ms: Metric
    cost_per_1k_usd: Metric
    error_rate: Metric


@dataclass(frozen=True)
class BenchDiff:
    base: str
    head: str
    models: tuple[BenchModelDiff, ...]
    warnings: tuple[str, ...] = ()  # why the two sides may not be comparable (different suites or prompts)


def diff_files(base: str | Path, head: str | Path) -> EstimateDiff | BenchDiff:
    """Compare two result files of the same kind; mismatched or unreadable inputs raise ``InputError``."""
    base_kind, base_data = load_result(base)
    head_kind, head_data = load_result(head)
    if base_kind != head_kind:
        raise InputError(f"cannot compare a {base_kind} result ({base}) with a {head_kind} result",
                         source=str(head), field="kind")
    if base_kind == "bench":
        result = diff_bench(parse_bench_summary(_floats(base_data), str(base)),
                            parse_bench_summary(_floats(head_data), str(head)), str(base), str(head))
        return BenchDiff(result.base, result.head, result.models, suite_warnings(base_data, head_data))
    return diff_estimates(base_data, head_data, str(base), str(head))


def load_result(path: str | Path) -> tuple[Literal["estimate", "bench"], dict[str, Any]]:
    """Read a result JSON (numbers as ``Decimal``) and say which kind it is. A bench ``--results`` JSONL
    file is summarized (without gates) and carries its ``prompt_ids``; it does not know its suite's name."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", source=source) from None
    if is_results_file(text):
        return "bench", _summarize_results(Path(path))
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", source=source, line=exc.lineno) from None
    if isinstance(data, dict) and data.get("kind") == "bench":
        return "bench", data
    if isinstance(data, dict) and data.get("kind", "estimate") == "estimate" and "scenarios" in data:
        return "estimate", data
    raise InputError("not an estimate or bench result (expected `llmcost estimate --format json` or "
                     "`llmcost bench` output)", source=source, field="kind")


def diff_estimates(base: dict[str, Any], head: dict[str, Any], base_name: str = "base",
                   head_name: str = "head") -> EstimateDiff:
    base_days = _projection_days(base, base_name)
    head_days = _projection_days(head, head_name)
    if base_days != head_days:
        raise InputError(f"projection days differ ({base_days} in {base_name}, {head_days} here); "
                         "estimate both with the same --days", source=head_name, field="projection_days")
    before = _scenarios(base, base_name)
    after = _scenarios(head, head_name)
    out = []
    for name in _union(before, after):
        b, a = before.get(name), after.get(name)
        b_models = b[1] if b else {}
        a_models = a[1] if a else {}
        models = tuple(Change(m, b_models.get(m), a_models.get(m)) for m in _union(b_models, a_models))
        total = Change(name, b[0] if b else None, a[0] if a else None)
        out.append(ScenarioDiff(total, tuple(sorted(models, key=lambda c: (-abs(c.delta), c.name)))))
    return EstimateDiff(base_name, head_name, head_days, tuple(out))


def suite_warnings(base: dict[str, Any], head: dict[str, Any]) -> tuple[str, ...]:
    """Warnings when two bench results did not run the same suite: by name when both files name it, by
    prompt ids when both are results files, else by the tasks both summaries list."""
    base_suite, head_suite = base.get("suite"), head.get("suite")
    if base_suite and head_suite:
        if base_suite != head_suite:
            return (f"base and head come from different suites ('{base_suite}' and '{head_suite}'); "
                    "their figures may not be comparable",)
        return ()
    if "prompt_ids" in base and "prompt_ids" in head:
        only_base = set(base["prompt_ids"]) - set(head["prompt_ids"])
        only_head = set(head["prompt_ids"]) - set(base["prompt_ids"])
        if only_base or only_head:
            return (f"base and head ran different prompts ({len(only_base)} only in base, {len(only_head)} "
                    "only in head); their figures may not be comparable",)
        return ()
    base_tasks, head_tasks = _tasks(base), _tasks(head)
    if base_tasks != head_tasks:
        return (f"base and head cover different tasks ({', '.join(sorted(base_tasks)) or 'none'} and "
                f"{', '.join(sorted(head_tasks)) or 'none'}); their figures may not be comparable",)
    return ()


def _tasks(data: dict[str, Any]) -> set[str]:
    models = data.get("models")
    if not isinstance(models, list):
        return set()
    return {str(t.get("task")) for m in models if isinstance(m, dict)
            for t in m.get("by_task") or [] if isinstance(t, dict)}


def _summarize_results(path: Path) -> dict[str, Any]:
    from llmcost.bench.results import read_records
    from llmcost.bench.stats import Gates, build_summary

    records, _ = read_records(path)
    models = list(dict.fromkeys(r.model for r in records))
    summary = build_summary(records, suite="", models=models, gates=Gates())
    summary["prompt_ids"] = sorted({r.prompt_id for r in records})
    return summary


def diff_bench(base: BenchSummary, head: BenchSummary, base_name: str = "base",
               head_name: str = "head") -> BenchDiff:
    before = {m.model: m for m in base.models}
    after = {m.model: m for m in head.models}
    out = []
    for name in _union(before, after):
        b, a = before.get(name), after.get(name)
        status: ChangeStatus = "added" if b is None else "removed" if a is None else "changed"
        metrics = {key: Metric(_metric(b, key), _metric(a, key)) for key in _BENCH_METRICS}
        if status == "changed" and all(m.before == m.after for m in metrics.values()):
            status = "unchanged"
        out.append(BenchModelDiff(name, status, **metrics))
    return BenchDiff(base_name, head_name, tuple(out))


_BENCH_METRICS = ("quality_pass_rate", "p95_latency_ms", "p95_ttft_ms", "cost_per_1k_usd", "error_rate")


def _metric(m: ModelSummary | None, key: str) -> float | None:
    if m is None:
        return None
    if key == "p95_latency_ms":
        return m.latency_ms.p95
    if key == "p95_ttft_ms":
        return m.ttft_ms.p95
    value: float | None = getattr(m, key)
    return value


def _projection_days(data: dict[str, Any], source: str) -> int:
    days = data.get("projection_days", 30)
    if isinstance(days, bool) or not isinstance(days, int | Decimal):
        raise InputError("must be a number of days", source=source, field="projection_days")
    return int(days)


def _scenarios(data: dict[str, Any], source: str) -> dict[str, tuple[Decimal, dict[str, Decimal]]]:
    """``{scenario: (monthly cost, {model: monthly cost})}``, validating the fields diff relies on."""
    scenarios = data.get("scenarios")
    if not isinstance(scenarios, list):
        raise InputError("must be a list", source=source, field="scenarios")
    out: dict[str, tuple[Decimal, dict[str, Decimal]]] = {}
    for i, s in enumerate(scenarios):
        where = f"scenarios[{i}]"
        if not isinstance(s, dict) or not isinstance(s.get("name"), str):
            raise InputError("each scenario needs a string 'name'", source=source, field=f"{where}.name")
        total = _usd(s.get("monthly_cost_usd"), source, f"{where}.monthly_cost_usd")
        models: dict[str, Decimal] = {}
        by_model = s.get("by_model", [])
        if not isinstance(by_model, list):
            raise InputError("must be a list", source=source, field=f"{where}.by_model")
        for j, m in enumerate(by_model):
            if not isinstance(m, dict) or not isinstance(m.get("model"), str):
                raise InputError("each entry needs a string 'model'", source=source,
                                 field=f"{where}.by_model[{j}].model")
            models[m["model"]] = _usd(m.get("monthly_cost_usd"), source, f"{where}.by_model[{j}].monthly_cost_usd")
        out[s["name"]] = (total, models)
    return out


def _usd(value: Any, source: str, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InputError("must be a number (USD)", source=source, field=field)
    return Decimal(value)


def _union(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    return list(first) + [k for k in second if k not in first]


def _floats(value: Any) -> Any:
    """Undo ``parse_float=Decimal`` for the bench parser, which works in floats."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return value
