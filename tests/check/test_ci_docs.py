"""docs/ci.md's GitHub Actions workflow, run locally: its `llmcost` steps, as written, in a throwaway git repo.

The repo holds this project's example policy and sample log on `main`; a pull-request branch adds traffic.
Each step whose script runs `llmcost check` is executed the way the runner does (bash -eo pipefail) with the
variables GitHub sets (GITHUB_ACTIONS, GITHUB_BASE_REF, RUNNER_TEMP, GITHUB_STEP_SUMMARY).
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
import yaml
from check_support import ROOT

DOC = ROOT / "docs" / "ci.md"
SAMPLE = ROOT / "sample_logs" / "support_workload.jsonl.gz"
POLICY = ROOT / "examples" / "llmcost.yaml"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def yaml_block(heading: str) -> dict[str, Any]:
    """The first ```yaml block after ``heading`` in docs/ci.md, parsed."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match, f"no yaml block under '{heading}'"
    data = yaml.safe_load(match.group(1))
    assert isinstance(data, dict)
    return data


def workflow_steps() -> tuple[dict[str, str], list[dict[str, Any]]]:
    flow = yaml_block("GitHub Actions")
    assert "pull_request" in flow[True if True in flow else "on"]  # PyYAML reads the key `on` as True
    job = flow["jobs"]["llmcost"]
    return job["env"], job["steps"]


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def make_repo(tmp_path: Path, *, policy_on_main: bool = True) -> Path:
    """main: the example policy and sample log; branch `pr`: a new feature's traffic on top."""
    repo = tmp_path / "repo"
    (repo / "examples").mkdir(parents=True)
    (repo / "sample_logs").mkdir()
    shutil.copy(SAMPLE, repo / "sample_logs" / SAMPLE.name)
    _git(repo, "init", "-q", "-b", "main")
    if policy_on_main:
        shutil.copy(POLICY, repo / "examples" / "llmcost.yaml")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")  # what checkout with fetch-depth 0 gives
    _git(repo, "checkout", "-q", "-b", "pr")
    shutil.copy(POLICY, repo / "examples" / "llmcost.yaml")
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as fh:
        extra = [line.replace('"task":"summarize"', '"task":"digest"') for line in islice(fh, 700)]
    with gzip.open(repo / "sample_logs" / "digest_feature.jsonl.gz", "wt", encoding="utf-8") as out:
        out.writelines(extra)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "new digest feature")
    return repo


def run_llmcost_steps(repo: Path, tmp_path: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    job_env, steps = workflow_steps()
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMCOST_", "GITHUB_"))}
    env.update(job_env)
    env.update({"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", "GITHUB_ACTIONS": "true",
                "GITHUB_BASE_REF": "main", "GITHUB_WORKSPACE": str(repo), "RUNNER_TEMP": str(runner_temp),
                "GITHUB_STEP_SUMMARY": str(tmp_path / "step_summary.md"), "COLUMNS": "140"})
    results = {}
    for step in steps:
        script = step.get("run", "")
        if "llmcost check" not in script:
            continue
        results[step["name"]] = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=repo, env=env,
            capture_output=True, text=True, timeout=120)
    return results


def test_documented_github_workflow_runs(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    results = run_llmcost_steps(repo, tmp_path)
    assert list(results) == ["Estimate the target branch (baseline)", "Check the LLM budget"]
    base = results["Estimate the target branch (baseline)"]
    assert base.returncode == 0, base.stderr
    assert "::" not in base.stdout  # the baseline run stays quiet
    check = results["Check the LLM budget"]
    assert check.returncode == 1, check.stderr  # the PR breaches the budget: the job fails

    runner = tmp_path / "runner"
    assert (runner / "base-estimate.json").read_text().count('"kind": "estimate"') == 1
    junit = ET.parse(repo / "llmcost-junit.xml").getroot()
    failed = [c.get("name") for c in junit.iter("testcase") if c.find("failure") is not None]
    assert failed == ["monthly-total: total monthly cost", "per-model-cap: model claude-sonnet-4 monthly cost",
                      "no-surprise-increase: total increase vs baseline",
                      "no-surprise-increase: total increase vs baseline %"]

    lines = (POLICY.read_text().splitlines())
    rule_line = next(i for i, line in enumerate(lines, 1) if "name: monthly-total" in line)
    annotations = [line for line in check.stdout.splitlines() if line.startswith("::")]
    assert annotations[0].startswith(f"::error file=examples/llmcost.yaml,line={rule_line},"
                                     "title=llmcost budget%3A monthly-total::total: monthly cost $")
    assert sum(a.startswith("::error") for a in annotations) == 4

    report = (repo / "llmcost-report.md").read_text()
    assert report.startswith("## ❌ llmcost budget check")
    assert "### Change vs baseline" in report and "| **total** | $543.52 |" in report
    assert "| task | digest |" in report
    summary = (tmp_path / "step_summary.md").read_text()
    assert summary.strip() == report.strip()  # only the PR's check writes the step summary

    comment = next(s for s in workflow_steps()[1] if s.get("name") == "Comment on the pull request")
    assert "llmcost-report.md" in comment["run"] and "always()" in comment["if"]


def test_first_pull_request_without_a_baseline(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, policy_on_main=False)
    results = run_llmcost_steps(repo, tmp_path)
    assert results["Estimate the target branch (baseline)"].returncode == 0  # `|| true`: nothing to estimate
    assert not (tmp_path / "runner" / "base-estimate.json").exists()
    check = results["Check the LLM budget"]
    assert check.returncode == 1, check.stderr  # the total still breaches $600; increase rules are skipped
    junit = ET.parse(repo / "llmcost-junit.xml").getroot()
    skipped = [c.get("name") for c in junit.iter("testcase") if c.find("skipped") is not None]
    assert skipped == ["no-surprise-increase: total increase vs baseline",
                       "no-surprise-increase: total increase vs baseline %"]


def test_gitlab_job_uses_the_same_commands() -> None:
    job = yaml_block("GitLab CI")["llm-budget"]
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    checks = [line for line in job["script"] if "llmcost check" in line]
    assert len(checks) == 2
    assert "--save-estimate /tmp/base-estimate.json" in checks[0]
    assert "--baseline /tmp/base-estimate.json --markdown llmcost-report.md --format junit" in checks[1]
    assert job["artifacts"]["reports"]["junit"] == "llmcost-junit.xml"
    assert "merge_requests/$CI_MERGE_REQUEST_IID/notes" in job["after_script"][0]


def _doc_output(command: str) -> list[str]:
    """The lines printed under ``$ command`` in docs/ci.md (up to the end of that code block)."""
    text = DOC.read_text(encoding="utf-8")
    block = text.split(f"$ {command}\n", 1)[1].split("```", 1)[0]
    return [line.rstrip() for line in block.splitlines()]


def test_documented_check_output_is_real(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = cli("check", "--policy", "examples/llmcost.yaml")
    assert result.exit_code == 0, result.stderr
    assert [line.rstrip() for line in result.stdout.splitlines()] == _doc_output(
        "llmcost check --policy examples/llmcost.yaml")


def test_documented_diff_output_is_real(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from check_support import BASE, CATALOG, HEAD

    monkeypatch.chdir(tmp_path)
    for log, name in ((BASE, "base.json"), (HEAD, "head.json")):
        made = cli("estimate", log, "--catalog", CATALOG, "--baseline-only", "-f", "json", "-o", name)
        assert made.exit_code == 0, made.stderr
    result = cli("diff", "base.json", "head.json")
    assert result.exit_code == 0
    assert [line.rstrip() for line in result.stdout.splitlines()] == _doc_output("llmcost diff base.json head.json")
