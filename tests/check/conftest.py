"""Fixtures for the check/diff tests: policy files written on the fly, baseline and head estimates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from check_support import BASE, CATALOG, HEAD, PolicyWriter


@pytest.fixture
def write_policy(tmp_path: Path) -> PolicyWriter:
    """Write a policy gating head.jsonl on the test catalog; ``inputs`` entries override the defaults."""

    def write(rules: list[dict[str, Any]], name: str = "llmcost.yaml", **inputs: Any) -> Path:
        base: dict[str, Any] = {"logs": [str(HEAD)], "catalog": str(CATALOG)}
        base.update(inputs)
        path = tmp_path / name
        path.write_text(yaml.safe_dump({"version": 1, "inputs": base, "rules": rules}, sort_keys=False))
        return path

    return write


def _estimate(cli: Any, log: Path, out: Path) -> Path:
    result = cli("estimate", log, "--catalog", CATALOG, "--baseline-only", "--format", "json", "--output", out)
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture
def baseline_json(tmp_path: Path, cli: Any) -> Path:
    """base.jsonl estimated with the real CLI: the machine contract the baseline rule and diff read."""
    return _estimate(cli, BASE, tmp_path / "base-estimate.json")


@pytest.fixture
def head_json(tmp_path: Path, cli: Any) -> Path:
    return _estimate(cli, HEAD, tmp_path / "head-estimate.json")
