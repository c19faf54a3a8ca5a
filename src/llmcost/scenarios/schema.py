"""The scenario file: a strict pydantic schema (unknown fields are errors, every error names its field).

```yaml
bench_results: bench.json        # optional; relative to this file; feeds `measured` values
scenarios:
  - name: cheap-and-cached
    exact_cache: {ttl: 24h}
    routing: {rules: [{when: {task: classify}, to: gpt-4o-mini}]}
```
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, field_validator, model_validator
from pydantic_core import PydanticCustomError

Fraction = Annotated[float, Field(ge=0, le=1)]
Tokens = Annotated[int, Field(ge=0)]
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, None: 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def _invalid(message: str) -> PydanticCustomError:
    """A validation error whose message is shown as is (no "Value error," prefix)."""
    return PydanticCustomError("invalid", message)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_duration(value: object) -> float:
    """``300``, ``"300s"``, ``"5m"``, ``"1h"``, ``"24h"``, ``"7d"`` → seconds."""
    if isinstance(value, bool):
        raise _invalid("must be a duration such as 300, '5m', '1h' or '24h'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise _invalid("must be a duration such as 300, '5m', '1h' or '24h'")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise _invalid("must be greater than 0")
    return seconds


Duration = Annotated[float, Field(gt=0)]


def _rate_or_measured(upper_inclusive: bool) -> PlainValidator:
    """A probability, or the word ``measured`` (taken from bench results). One error message, no
    pydantic union branch names in the field path."""

    def check(value: object) -> float | str:
        if value == "measured":
            return "measured"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid("must be a number from 0 to 1, or 'measured'")
        ok = 0 <= value <= 1 if upper_inclusive else 0 <= value < 1
        if not ok:
            raise _invalid("must be from 0 to 1" + ("" if upper_inclusive else " (less than 1)")
                             + ", or 'measured'")
        return float(value)

    return PlainValidator(check)


Acceptance = Annotated[float | str, _rate_or_measured(True)]
ErrorRate = Annotated[float | str, _rate_or_measured(False)]


class TokenRange(_Strict):
    """Inclusive bounds on a per-request token count."""

    min: Tokens | None = None
    max: Tokens | None = None

    @model_validator(mode="after")
    def _ordered(self) -> TokenRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise _invalid("min must not exceed max")
        return self


Script = Literal["latin", "cyrillic", "greek", "arabic", "hebrew", "devanagari", "cjk", "thai"]


class ClassifierRule(_Strict):
    """A complexity classifier written by ``llmcost plan --classifier`` (see ``plan.classifier``): logistic
    regression on hashed word n-grams of the prompt, predicting whether ``model`` passes it."""

    predicts: Literal["pass", "fail"] = Field(description="select the prompts predicted to pass, or to fail")
    model: str = Field(min_length=1, description="the model whose bench outcomes trained it")
    n_features: Annotated[int, Field(gt=0, le=1 << 24)]
    ngrams: tuple[Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]] = (1, 2)
    intercept: float
    weights: dict[Annotated[int, Field(ge=0)], float] = Field(description="hashed feature index -> weight")
    threshold: Annotated[float, Field(gt=0, lt=1)] = 0.5
    held_out_accuracy: Fraction | None = None


class Conditions(_Strict):
    """Which requests a rule selects. All given conditions must hold; none given = every request."""

    task: str | list[str] | None = None
    tags: str | list[str] | None = Field(default=None, description="any of these tags")
    model: str | list[str] | None = Field(default=None, description="model as logged, or its catalog id")
    input_tokens: TokenRange | None = None
    output_tokens: TokenRange | None = None
    prompt_regex: str | None = None
    share: Fraction | None = Field(default=None, description="deterministic hash-based share of matches")
    # prompt features (need the prompt text in the logs; see scenarios.prompt_features)
    has_code: bool | None = None
    questions: TokenRange | None = Field(default=None, description="question marks in the prompt, {min, max}")
    script: Script | list[Script] | None = Field(default=None, description="writing system of most letters")
    classifier: ClassifierRule | None = None

    @field_validator("prompt_regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise _invalid(f"not a valid regular expression: {exc}") from None
        return value


class Rule(_Strict):
    when: Conditions = Conditions()
    to: str = Field(min_length=1, description="catalog id, tier name, or tiers[N] (Nth cheapest tier)")
    try_first: list[CascadeStep] = Field(default_factory=list, description="a cascade: these steps are tried "
                                         "first (each answer accepted with its probability), then 'to'")


class Routing(_Strict):
    rules: list[Rule] = Field(min_length=1)
    keep_cheaper: bool = Field(default=False, description="leave a request on its model when that is cheaper")


class CascadeStep(_Strict):
    model: str = Field(min_length=1)
    accept: Acceptance = Field(description="probability this step's answer is accepted, or 'measured'")
    latency_ms: Annotated[float, Field(ge=0)] | None = None


class Cascade(_Strict):
    steps: list[CascadeStep] = Field(min_length=2)


class ExactCache(_Strict):
    ttl: Duration = 86400.0
    max_entries: Annotated[int, Field(gt=0)] | None = None
    key: Literal["prompt_hash", "prompt"] = "prompt_hash"
    per_model: bool = True
    hit_cost_usd: Annotated[Decimal, Field(ge=0)] = Decimal(0)
    assumed_semantic_hit_rate: Fraction = 0.0

    @field_validator("ttl", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)


class PrefixStandIn(_Strict):
    default: Tokens = 0
    by_task: dict[str, Tokens] = Field(default_factory=dict)


class PromptCache(_Strict):
    ttl: Literal["5m", "1h"] = "5m"
    min_tokens: Tokens = 1024
    block_tokens: Annotated[int, Field(gt=0)] = 512
    writes: Literal["all", "reused"] = Field(
        default="all", description="write every uncached block, or only up to the last block reused later")
    prefix_tokens: PrefixStandIn = PrefixStandIn()

    @property
    def ttl_seconds(self) -> float:
        return 300.0 if self.ttl == "5m" else 3600.0


class Compression(_Strict):
    threshold_tokens: Tokens
    ratio: Annotated[float, Field(gt=0, le=1, description="fraction of the input kept")]
    compressor: str | None = Field(default=None, description="catalog id or tier charged for compressing")


class Batch(_Strict):
    share: Fraction = 1.0
    when: Conditions = Conditions()


class Retries(_Strict):
    error_rate: dict[str, ErrorRate] = Field(min_length=1)
    max_retries: Annotated[int, Field(ge=0, le=10)] = 1
    fallback: list[str] = Field(default_factory=list)
    bill_failed: bool = True


class Failover(_Strict):
    """Latency-aware failover (see ``scenarios.failover``): shed a model/region whose rolling latency
    percentile is over ``threshold_ms``; its requests go to ``target`` meanwhile."""

    target: str = Field(min_length=1, description="catalog id, tier name, or tiers[N]")
    threshold_ms: Annotated[float, Field(gt=0)]
    window: Duration = 300.0
    percentile: Annotated[float, Field(gt=0, le=100)] = 99.0
    min_requests: Annotated[float, Field(gt=0)] = 20
    cooldown: Annotated[float, Field(ge=0)] = 0.0

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, value: object) -> float:
        return parse_duration(value)

    @field_validator("cooldown", mode="before")
    @classmethod
    def _cooldown(cls, value: object) -> float:
        return 0.0 if value == 0 or value == "0" else parse_duration(value)


def _tokens_or_prefix_hashes(value: object) -> int | str:
    if value == "prefix_hashes":
        return "prefix_hashes"
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid("must be a whole number of tokens (0 or more), or 'prefix_hashes'")
    return value


SharedPrefix = Annotated[int | str, PlainValidator(_tokens_or_prefix_hashes)]


class Coalesce(_Strict):
    """Request coalescing (see ``scenarios.coalesce``): requests of one model and scope arriving within
    ``window_ms`` of a group's first request, up to ``max_batch``, are sent as one request."""

    window_ms: Annotated[float, Field(gt=0)] = 1000.0
    max_batch: Annotated[int, Field(ge=2, le=10_000)] = 10
    when: Conditions = Conditions()
    scope: list[Literal["task", "user", "region"]] = Field(default_factory=list)
    shared_prefix_tokens: SharedPrefix = Field(
        default="prefix_hashes", description="tokens every request shares, or the common prefix_hashes blocks")
    block_tokens: Annotated[int, Field(gt=0)] = 512
    separator_tokens: Tokens = 0
    instruction_tokens: Tokens = 0
    overhead_output_tokens: Tokens = 0


class EmbedderSpec(_Strict):
    """How the semantic cache embeds text (see ``llmcost.embedders``)."""

    kind: Literal["openai-compatible", "wordllama", "column"] = "wordllama"
    model: str | None = Field(default=None, description="openai-compatible: the model sent (and priced)")
    price_as: str | None = Field(default=None, description="catalog id pricing the calls, if not ``model``")
    base_url: str = "https://api.openai.com/v1"
    api_key_env: str | None = Field(default="OPENAI_API_KEY", description="environment variable holding the key")
    dimensions: Annotated[int, Field(gt=0)] | None = None
    send_dimensions: bool = Field(default=False, description="ask the endpoint for ``dimensions`` (OpenAI v3)")
    batch_size: Annotated[int, Field(gt=0, le=2048)] = 256
    concurrency: Annotated[int, Field(gt=0, le=64)] = 4
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    timeout_s: Annotated[float, Field(gt=0)] = 60.0
    column: str = Field(default="embedding", description="column kind: the log column holding the vectors")


class SemanticJudge(_Strict):
    """A judge model grading a seeded sample of semantic-cache hit pairs (``scenarios.semantic_judge``)."""

    model: str = Field(min_length=1, description="a catalog model with an endpoint, or the model base_url serves")
    base_url: str | None = Field(default=None, description="an endpoint of your own (else the catalog's)")
    api: Literal["openai", "anthropic"] = "openai"
    api_key_env: str | None = Field(default=None, description="with base_url: the variable holding the key")
    sample: Annotated[int, Field(gt=0, le=10000)] = 50
    min_score: Annotated[int, Field(ge=1, le=5)] = 4
    seed: int = 0
    concurrency: Annotated[int, Field(gt=0, le=32)] = 4
    timeout_s: Annotated[float, Field(gt=0)] = 60.0


class SemanticCache(_Strict):
    """Semantic response cache (see ``scenarios.semantic_cache``): a request is answered by a live cached
    entry whose prompt embedding is at least ``threshold`` cosine-similar."""

    threshold: Annotated[float, Field(gt=0, le=1)] = 0.95
    ttl: Duration = 86400.0
    max_entries: Annotated[int, Field(gt=0)] | None = None
    per_model: bool = True
    scope: list[Literal["task", "user"]] = Field(default_factory=list)
    embedder: EmbedderSpec = EmbedderSpec()
    hit_cost_usd: Annotated[Decimal, Field(ge=0)] = Decimal(0)
    answer_threshold: Annotated[float, Field(gt=0, le=1)] = 0.9
    search: Literal["auto", "exact", "ann"] = "auto"
    sweep: list[Annotated[float, Field(gt=0, le=1)]] = Field(default_factory=list, max_length=200)
    judge: SemanticJudge | None = None

    @field_validator("ttl", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float:
        return parse_duration(value)


class ScenarioSpec(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    monthly_growth: Annotated[Decimal, Field(ge=-1, le=10)] = Decimal(0)
    exact_cache: ExactCache | None = None
    semantic_cache: SemanticCache | None = None
    compression: Compression | None = None
    routing: Routing | None = None
    cascade: Cascade | None = None
    prompt_cache: PromptCache | None = None
    batch: Batch | None = None
    retries: Retries | None = None
    coalesce: Coalesce | None = None
    failover: Failover | None = None

    @model_validator(mode="after")
    def _compatible(self) -> ScenarioSpec:
        if self.cascade is not None and self.routing is not None:
            raise _invalid("routing and cascade cannot be combined in one scenario (both choose the model)")
        if self.cascade is not None and self.prompt_cache is not None:
            raise _invalid("prompt_cache cannot be combined with cascade (cascade steps are fresh requests)")
        if self.cascade is not None and self.coalesce is not None:
            raise _invalid("coalesce cannot be combined with cascade (cascade attempts are expected fractions "
                           "of requests, not arrivals)")
        if self.routing is not None and any(r.try_first for r in self.routing.rules) and (
                self.prompt_cache is not None or self.coalesce is not None):
            raise _invalid("routing rules with try_first cannot be combined with prompt_cache or coalesce "
                           "(cascade steps are fresh requests, expected fractions of arrivals)")
        if self.failover is not None and (self.routing is not None or self.cascade is not None):
            raise _invalid("failover cannot be combined with routing or cascade (each chooses the model)")
        return self


class ScenarioFile(_Strict):
    bench_results: str | None = None
    scenarios: list[ScenarioSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ScenarioFile:
        seen: set[str] = set()
        for spec in self.scenarios:
            if spec.name in seen:
                raise _invalid(f"duplicate scenario name '{spec.name}'")
            seen.add(spec.name)
        return self
