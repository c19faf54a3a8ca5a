"""The README's examples are real: its commands run and its CI snippets match docs/ci.md (which is tested)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_has_exactly_two_setup_commands() -> None:
    setup = README.split("## Set up", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^    (python3 tools/dev\.py \w+)", setup, flags=re.M)
    assert commands == ["python3 tools/dev.py demo", "python3 tools/dev.py test"]
    assert "tools/dev.py test" in (ROOT / ".ci" / "run").read_text()


def test_estimate_example_output_matches_a_real_run(cli: Any, monkeypatch: Any) -> None:
    monkeypatch.chdir(ROOT)
    shown = README.split("$ llmcost estimate sample_logs/support_workload.jsonl.gz\n", 1)[1].split("\n...", 1)[0]
    result = cli("estimate", "sample_logs/support_workload.jsonl.gz")
    assert result.exit_code == 0
    for line in shown.splitlines():
        if line.startswith("│"):
            assert line.strip() in result.stdout, line


def test_check_example_exits_as_documented(cli: Any, monkeypatch: Any) -> None:
    monkeypatch.chdir(ROOT)
    result = cli("check", "--policy", "examples/llmcost.yaml")
    assert result.exit_code == 0
    assert "Budget check passed" in result.stdout + result.stderr


def test_ci_snippets_are_the_tested_ones_in_docs() -> None:
    ci_doc = (ROOT / "docs" / "ci.md").read_text()
    for marker in ("# .github/workflows/llm-budget.yml", "# .gitlab-ci.yml"):
        block = README.split(marker, 1)[1].split("```", 1)[0]
        assert block in ci_doc, marker


def test_linked_docs_exist() -> None:
    for link in re.findall(r"\]\(((?:docs|examples|sample_logs)/[^)]+)\)", README):
        assert (ROOT / link).exists(), link
