"""What a check found: one frozen ``Verdict`` per rule (and per subject), and the ``CheckResult``."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Sequence

    from llmcost.budget.verdict_set import Verdicts
    from llmcost.diff import EstimateDiff

Status = Literal["pass", "warn", "fail", "skip"]
Unit = Literal["usd", "pct", "rate", "ms"]


@dataclass(frozen=True)
class Verdict:
    """One rule applied to one subject (the total, a model, a task, a bench metric).

    ``limit`` is a maximum when ``bound`` is ``"max"`` and a minimum when it is ``"min"``.
    ``actual`` is None when the value could not be measured (a model missing from the bench results);
    such a verdict fails closed. ``skipped`` marks a rule that had nothing to compare with (no baseline,
    with ``inputs.baseline_required: false``); it neither passes nor fails.
    """

    rule: str
    kind: str
    subject: str
    metric: str
    severity: Literal["error", "warn"]
    bound: Literal["max", "min"]
    limit: Decimal
    actual: Decimal | None
    unit: Unit
    line: int | None = None
    note: str = ""
    skipped: bool = False

    @property
    def breached(self) -> bool:
        if self.skipped:
            return False
        if self.actual is None:
            return True
        return self.actual > self.limit if self.bound == "max" else self.actual < self.limit

    @property
    def status(self) -> Status:
        if self.skipped:
            return "skip"
        if not self.breached:
            return "pass"
        return "fail" if self.severity == "error" else "warn"

    @property
    def excess(self) -> Decimal | None:
        """How far past the limit (positive when breached), in the verdict's unit."""
        if self.actual is None or self.skipped:
            return None
        return self.actual - self.limit if self.bound == "max" else self.limit - self.actual


@dataclass(frozen=True)
class Driver:
    """A top cost driver of the gated scenario: a model or a task and its monthly cost."""

    by: Literal["model", "task"]
    name: str
    requests: float
    monthly_cost: Decimal
    share_pct: Decimal


@dataclass(frozen=True)
class CheckResult:
    policy: str
    scenario: str
    window_days: Decimal
    requests: int
    projection_days: int
    monthly_cost: Decimal
    verdicts: Sequence[Verdict]  # a tuple, or a ``verdict_set.Verdicts`` (columnar blocks for per-task rules)
    drivers: tuple[Driver, ...] = ()
    diff: EstimateDiff | None = None
    baseline_source: str | None = None
    unpriced: tuple[tuple[str, float], ...] = field(default_factory=tuple)
    bench_only: bool = False  # the policy has no logs, only bench gates: no window, no projected cost

    def with_status(self, status: Status) -> tuple[Verdict, ...]:
        """The verdicts of ``status``, in order (built for every one: ``count`` only counts them)."""
        return tuple(self._all.with_status(status))

    def count(self, status: Status) -> int:
        """How many verdicts have ``status`` (a per-task rule over a million tasks: no object per verdict)."""
        return self._all.count(status)

    @cached_property
    def _all(self) -> Verdicts:
        from llmcost.budget.verdict_set import as_verdicts

        return as_verdicts(self.verdicts)

    @property
    def failed(self) -> tuple[Verdict, ...]:
        return self.with_status("fail")

    @property
    def warnings(self) -> tuple[Verdict, ...]:
        return self.with_status("warn")

    @property
    def passed(self) -> bool:
        return not self.count("fail")

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1
