"""Results every report test reads, made once per module through the real CLI: an estimate of the sample
log, a budget check of the example policy, and a bench run against the local fake LLM server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from report_support import POLICY, SAMPLE, bench_json
from typer.testing import CliRunner

from llmcost.cli.main import app


class _Cli:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: Any) -> Any:
        return self.runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """estimate.json, check.json and bench.json."""
    tmp = tmp_path_factory.mktemp("results")
    cli = _Cli()
    out = {"estimate": tmp / "estimate.json", "check": tmp / "check.json"}
    done = cli("estimate", SAMPLE, "-f", "json", "-o", out["estimate"])
    assert done.exit_code == 0, done.stderr
    done = cli("check", "--policy", POLICY, "-f", "json", "-o", out["check"])
    assert done.exit_code == 0, done.stderr
    out["bench"] = bench_json(cli, tmp)
    return out
