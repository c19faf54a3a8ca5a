"""Budget policies for CI: the policy schema, rule evaluation and the verdicts ``llmcost check`` reports."""

from __future__ import annotations

from llmcost.budget.policy import DEFAULT_POLICY, Policy, load_policy
from llmcost.budget.run import CheckRun, run_check
from llmcost.budget.verdict import CheckResult, Driver, Verdict

__all__ = ["DEFAULT_POLICY", "CheckResult", "CheckRun", "Driver", "Policy", "Verdict", "load_policy",
           "run_check"]
