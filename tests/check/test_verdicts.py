"""The small frozen types under check and diff: verdict status and margins, changes and percentages."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from check_support import PolicyWriter, check_json

from llmcost.budget.verdict import Verdict
from llmcost.diff import Change
from llmcost.report.check_view import describe


def _v(bound: str, limit: str, actual: str | None, severity: str = "error", unit: str = "usd") -> Verdict:
    return Verdict("r", "k", "total", "m", severity, bound, Decimal(limit),  # type: ignore[arg-type]
                   None if actual is None else Decimal(actual), unit)  # type: ignore[arg-type]


def test_verdict_bounds_and_status() -> None:
    assert _v("max", "10", "10").status == "pass"          # the limit itself is allowed
    assert _v("max", "10", "10.01").status == "fail"
    assert _v("max", "10", "10.01", "warn").status == "warn"
    assert _v("min", "0.9", "0.9").status == "pass"
    assert _v("min", "0.9", "0.89").excess == Decimal("0.01")
    assert _v("max", "10", None).status == "fail"           # unmeasured fails closed
    assert _v("max", "10", "4").excess == Decimal(-6)


def test_describe_units() -> None:
    assert describe(_v("min", "0.95", "0.9", unit="rate")) == "total: m 90.0% (limit min 95.0%), 5.0 pts under"
    assert describe(_v("max", "1000", "1500", unit="ms")) == \
        "total: m 1,500 ms (limit max 1,000 ms), 500 ms over (50.0%)"
    assert describe(_v("max", "10", "12.5", unit="pct")) == "total: m 12.5% (limit max 10.0%), 2.5 pts over"


def test_change_status_and_pct() -> None:
    assert Change("m", Decimal(0), Decimal(5)).pct is None
    assert Change("m", Decimal(0), Decimal(5)).status == "changed"
    assert Change("m", Decimal(4), Decimal(5)).pct == Decimal(25)
    assert Change("m", None, Decimal(5)).status == "added"
    assert Change("m", Decimal(5), None).delta == Decimal(-5)


def test_tags_as_comma_separated_text(cli: Any, write_policy: PolicyWriter, tmp_path: Path) -> None:
    log = tmp_path / "tags.jsonl"
    log.write_text(
        '{"timestamp": "2026-11-01T00:00:00Z", "model": "small", "input_tokens": 1000000, "output_tokens": 0, '
        '"tags": "prod, web"}\n'
        '{"timestamp": "2026-11-02T00:00:00Z", "model": "small", "input_tokens": 2000000, "output_tokens": 0, '
        '"tags": "dev"}\n')
    policy = write_policy([{"kind": "monthly_spend", "tag": "web", "max_usd": 30}], logs=[str(log)])
    code, report = check_json(cli, policy)
    assert code == 0
    assert report["verdicts"][0]["actual"] == 30.0  # $1.00 per day × 30


def test_unpriced_traffic_in_the_markdown(cli: Any, write_policy: PolicyWriter, tmp_path: Path) -> None:
    from check_support import HEAD

    log = tmp_path / "mystery.jsonl"
    log.write_text(HEAD.read_text() + '{"timestamp": "2026-11-01T03:00:00Z", "model": "mystery-9", '
                   '"input_tokens": 10, "output_tokens": 1}\n')
    result = cli("check", "--policy", write_policy([{"kind": "monthly_spend", "max_usd": 200}], logs=[str(log)]),
                 "--format", "markdown")
    assert result.exit_code == 0
    assert "> Unpriced traffic left out of the totals: `mystery-9` (1 requests)." in result.stdout
