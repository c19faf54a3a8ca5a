"""The budget policy file (``llmcost.yaml``): a strict schema, loaded with errors naming file and field.

Relative paths inside a policy resolve against the policy file's own directory, so
``llmcost check --policy path/to/llmcost.yaml`` means the same thing from any working directory.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmcost import yamlfile
from llmcost.errors import PolicyError

DEFAULT_POLICY = "llmcost.yaml"
Money = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
Percent = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0, le=1)]
Millis = Annotated[float, Field(gt=0)]
Severity = Literal["error", "warn"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Inputs(_Strict):
    """Where the numbers come from."""

    logs: tuple[str, ...] = Field(default=(), description="needed unless every rule is a bench gate")
    log_format: str | None = None
    model: str | None = Field(default=None, description="model for log rows that name none")
    catalog: str | None = None
    scenarios: str | None = None
    scenario: str = "baseline"
    window_days: float | None = Field(default=None, gt=0)
    projection_days: int = Field(default=30, gt=0)
    bench: str | None = None
    baseline: str | None = None
    baseline_required: bool = Field(default=True, description="false: skip increase rules without a baseline")
    strict: bool = False
    skip_bad: bool = False


class _Rule(_Strict):
    name: str | None = None
    severity: Severity = "error"
    description: str | None = None


class _Scoped(_Rule):
    """A rule about the whole gated scenario, one model, one task or tag, or each model/task."""

    model: str | None = None
    task: str | None = None
    tag: str | None = None
    per: Literal["model", "task"] | None = None

    @model_validator(mode="after")
    def _one_scope(self) -> _Scoped:
        given = [k for k in ("model", "task", "tag", "per") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give at most one of model, task, tag, per (got {', '.join(given)})")
        return self


class MonthlySpend(_Scoped):
    kind: Literal["monthly_spend"]
    max_usd: Money


class CostPer1k(_Scoped):
    kind: Literal["cost_per_1k_requests"]
    max_usd: Money


class IncreaseVsBaseline(_Rule):
    kind: Literal["increase_vs_baseline"]
    model: str | None = None
    max_usd: Money | None = None
    max_pct: Percent | None = None

    @model_validator(mode="after")
    def _some_limit(self) -> IncreaseVsBaseline:
        if self.max_usd is None and self.max_pct is None:
            raise ValueError("give max_usd, max_pct or both")
        return self


class ScenarioSavings(_Rule):
    kind: Literal["scenario_savings"]
    scenario: str
    min_usd: Money | None = None
    min_pct: Percent | None = None

    @model_validator(mode="after")
    def _some_limit(self) -> ScenarioSavings:
        if self.min_usd is None and self.min_pct is None:
            raise ValueError("give min_usd, min_pct or both")
        return self


class BenchGate(_Rule):
    kind: Literal["bench"]
    model: str
    min_quality_pass_rate: Rate | None = None
    max_p95_latency_ms: Millis | None = None
    max_p95_ttft_ms: Millis | None = None
    max_error_rate: Rate | None = None

    @model_validator(mode="after")
    def _some_limit(self) -> BenchGate:
        limits = (self.min_quality_pass_rate, self.max_p95_latency_ms, self.max_p95_ttft_ms, self.max_error_rate)
        if all(v is None for v in limits):
            raise ValueError("give at least one of min_quality_pass_rate, max_p95_latency_ms, "
                             "max_p95_ttft_ms, max_error_rate")
        return self


class QualityRule(_Rule):
    """Expected pass rate of a scenario's traffic (llmcost.evidence), overall, for one task or each task."""

    kind: Literal["quality"]
    min_quality: Rate
    scenario: str | None = Field(default=None, description="default: inputs.scenario")
    task: str | None = None
    per: Literal["task"] | None = None
    use: Literal["point", "low"] = Field(default="point", description="low: the 95% interval's lower bound")
    max_unmeasured_share: Rate = Field(default=0.0, description="traffic the bench never scored, at most")

    @model_validator(mode="after")
    def _one_scope(self) -> QualityRule:
        if self.task is not None and self.per is not None:
            raise ValueError("give at most one of task, per")
        return self


class LatencyRule(_Rule):
    """Latency percentiles of a scenario's traffic (logged latency, else bench-measured)."""

    kind: Literal["latency"]
    scenario: str | None = Field(default=None, description="default: inputs.scenario")
    max_p95_latency_ms: Millis | None = None
    max_p99_latency_ms: Millis | None = None
    max_p95_ttft_ms: Millis | None = None
    max_p99_ttft_ms: Millis | None = None

    @model_validator(mode="after")
    def _some_limit(self) -> LatencyRule:
        if all(v is None for v in (self.max_p95_latency_ms, self.max_p99_latency_ms, self.max_p95_ttft_ms,
                                   self.max_p99_ttft_ms)):
            raise ValueError("give at least one of max_p95_latency_ms, max_p99_latency_ms, max_p95_ttft_ms, "
                             "max_p99_ttft_ms")
        return self


Rule = MonthlySpend | CostPer1k | IncreaseVsBaseline | ScenarioSavings | BenchGate | QualityRule | LatencyRule
RULE_KINDS: dict[str, type[_Rule]] = {
    "monthly_spend": MonthlySpend,
    "cost_per_1k_requests": CostPer1k,
    "increase_vs_baseline": IncreaseVsBaseline,
    "scenario_savings": ScenarioSavings,
    "bench": BenchGate,
    "quality": QualityRule,
    "latency": LatencyRule,
}


class PolicyFile(_Strict):
    version: Literal[1] = 1
    inputs: Inputs
    rules: tuple[dict[str, Any], ...] = Field(min_length=1)


class Policy:
    """A validated policy: inputs with paths resolved, typed rules, and where each rule sits in the file."""

    def __init__(self, source: str, inputs: Inputs, rules: tuple[Rule, ...], lines: tuple[int | None, ...]):
        self.source = source
        self.inputs = inputs
        self.rules = rules
        self.lines = lines

    def rule_name(self, index: int) -> str:
        rule = self.rules[index]
        return rule.name or f"{rule.kind}#{index + 1}"


def load_policy(path: str | Path | None = None) -> Policy:
    """Read and validate a policy file (default ``llmcost.yaml`` in the working directory)."""
    file = Path(path) if path is not None else Path(DEFAULT_POLICY)
    if not file.is_file():
        hint = " (pass --policy FILE, or copy examples/llmcost.yaml)" if path is None else ""
        raise PolicyError(f"no such policy file{hint}", source=str(file))
    data = yamlfile.read_yaml(file, PolicyError)
    if data is None:
        raise PolicyError("file is empty", source=str(file))
    top = yamlfile.validate(data, PolicyFile, str(file), PolicyError)
    rules = tuple(_rule(raw, i, str(file)) for i, raw in enumerate(top.rules))
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.name in seen:
            raise PolicyError(f"duplicate rule name '{rule.name}'", source=str(file), field=f"rules[{i}].name")
        if rule.name:
            seen.add(rule.name)
    inputs = _resolve_paths(top.inputs, file.parent)
    return Policy(str(file), inputs, rules, _rule_lines(file))


def _rule(raw: dict[str, Any], index: int, source: str) -> Rule:
    where = f"rules[{index}]"
    kind = raw.get("kind")
    if kind is None:
        raise PolicyError(f"missing (one of: {', '.join(RULE_KINDS)})", source=source, field=f"{where}.kind")
    model = RULE_KINDS.get(str(kind))
    if model is None:
        raise PolicyError(f"unknown rule kind '{kind}' (one of: {', '.join(RULE_KINDS)})", source=source,
                          field=f"{where}.kind")
    try:
        return model.model_validate(raw)  # type: ignore[return-value]
    except ValidationError as exc:
        first = exc.errors()[0]
        sub = yamlfile.field_path(tuple(first["loc"]))
        msg = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
        msg = msg.removeprefix("Value error, ")
        label = f" (in '{raw['name']}')" if raw.get("name") else ""
        raise PolicyError(f"{msg}{label}", source=source, field=f"{where}.{sub}" if sub else where) from None


def _resolve_paths(inputs: Inputs, base: Path) -> Inputs:
    def rel(value: str | None) -> str | None:
        if value is None or value == "-" or Path(value).is_absolute():
            return value
        return str(base / value)

    catalog = inputs.catalog
    if catalog is not None and (base / catalog).exists():
        catalog = str(base / catalog)
    return inputs.model_copy(update={
        "logs": tuple(rel(p) or p for p in inputs.logs),
        "catalog": catalog,
        "scenarios": rel(inputs.scenarios),
        "bench": rel(inputs.bench),
        "baseline": rel(inputs.baseline),
    })


def _rule_lines(file: Path) -> tuple[int | None, ...]:
    """The 1-based line where each entry of ``rules`` starts (for annotations pointing at the policy)."""
    import yaml

    try:
        node = yaml.compose(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):  # pragma: no cover - the file was just read and parsed
        return ()
    if not isinstance(node, yaml.MappingNode):
        return ()
    for key, value in node.value:
        if key.value == "rules" and isinstance(value, yaml.SequenceNode):
            return tuple(item.start_mark.line + 1 for item in value.value)
    return ()
