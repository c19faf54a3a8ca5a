"""Shared constants and helpers of the check/diff tests (imported by name: tests/check is on sys.path)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
CATALOG = DATA / "catalog.yaml"
HEAD = DATA / "head.jsonl"
BASE = DATA / "base.jsonl"
SCENARIOS = DATA / "scenarios.yaml"
ROOT = Path(__file__).resolve().parents[2]

PolicyWriter = Callable[..., Path]


def check_json(cli: Any, policy: Path, *args: Any) -> tuple[int, dict[str, Any]]:
    result = cli("check", "--policy", policy, "--format", "json", *args)
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def statuses(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(v["subject"], v["metric"], v["status"]) for v in report["verdicts"]]
