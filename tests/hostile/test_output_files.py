"""Files llmcost writes: the old file stays whole and keeps its mode, the umask is respected, several outputs are
all checked before any is written, and every OS failure (a directory, no permission, a full disk) is one line."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_logs" / "support_workload.jsonl.gz"
POLICY = ROOT / "examples" / "llmcost.yaml"


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith("llmcost: error: "), stderr
    return lines[0]


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_a_new_file_gets_the_umask_default_not_0600(cli: Any, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out = cli("estimate", SAMPLE, "--baseline-only", "--format", "json", "--output", tmp_path / "a.json")
    finally:
        os.umask(old)
    assert out.exit_code == 0, out.stderr
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644


def test_a_replaced_file_keeps_its_mode(cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    target.write_text("old")
    target.chmod(0o640)
    out = cli("estimate", SAMPLE, "--baseline-only", "--format", "json", "--output", target)
    assert out.exit_code == 0, out.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text() != "old"


def test_output_that_is_a_directory(cli: Any, tmp_path: Path) -> None:
    out = cli("estimate", SAMPLE, "--baseline-only", "--output", tmp_path)
    assert out.exit_code == 2
    assert "is a directory" in one_error_line(out.stderr)


@pytest.mark.skipif(os.geteuid() == 0 and not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_one_line(cli: Any) -> None:
    out = cli("estimate", SAMPLE, "--baseline-only", "--format", "json", "--output", "/dev/full")
    assert out.exit_code == 2
    assert "/dev/full: cannot write: No space left on device" in one_error_line(out.stderr)


def test_a_read_only_directory_is_one_line(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root can write anywhere, so the refusal comes from a mkstemp that fails as it would without permission."""
    import tempfile

    def refuse(*_: Any, **__: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    target = tmp_path / "a.json"
    target.write_text("old")
    out = cli("estimate", SAMPLE, "--baseline-only", "--format", "json", "--output", target)
    assert out.exit_code == 2
    assert "cannot write: Permission denied" in one_error_line(out.stderr)
    assert target.read_text() == "old"


def test_a_failed_write_leaves_the_old_file_and_no_temp(cli: Any, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import llmcost.cli.common as common

    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fh: Any) -> None:
            self.fh = fh

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: Any) -> None:
            self.fh.close()

        def write(self, _: str) -> None:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(common.os, "fdopen", lambda fd, *a, **k: Full(real_fdopen(fd, *a, **k)))
    target = tmp_path / "a.json"
    target.write_text("old")
    out = cli("estimate", SAMPLE, "--baseline-only", "--format", "json", "--output", target)
    assert out.exit_code == 2
    assert "No space left on device; the old file is unchanged" in one_error_line(out.stderr)
    assert target.read_text() == "old" and leftovers(tmp_path) == []


def test_check_writes_nothing_when_one_of_its_outputs_cannot_be_written(cli: Any, tmp_path: Path) -> None:
    out_json = tmp_path / "out.json"
    out = cli("check", "--policy", POLICY, "--format", "json", "--output", out_json,
              "--markdown", tmp_path / "nodir" / "pr.md")
    assert out.exit_code == 2
    assert "nodir/pr.md: output directory does not exist" in one_error_line(out.stderr)
    assert not out_json.exists()


def test_bench_checks_its_outputs_before_sending_anything(cli: Any, tmp_path: Path) -> None:
    out = cli("bench", ROOT / "suites" / "sample.yaml", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m",
              "--results", tmp_path / "nodir" / "r.jsonl")
    assert out.exit_code == 2
    assert "output directory does not exist" in one_error_line(out.stderr)
