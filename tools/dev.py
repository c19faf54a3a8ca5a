#!/usr/bin/env python3
"""Set-up and everyday tasks with nothing but Python 3.11+.

    python3 tools/dev.py demo    # make .venv, install llmcost, run `llmcost estimate` on the sample log
    python3 tools/dev.py test    # make .venv, install llmcost[dev], run ruff, mypy and the test suite

The virtual environment lives in .venv (or $LLMCOST_VENV) and is reinstalled only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("LLMCOST_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
CONSTRAINTS = ROOT / "tools" / "constraints-dev.txt"
# The FinOps Foundation's focus-validator pins numpy<2 and pandas<3, so it gets a venv of its own; the FOCUS
# export test runs it as a separate program, the way a finance team would.
FOCUS_VENV = Path(os.environ.get("LLMCOST_FOCUS_VENV", ROOT / ".venv-focus"))
# multimethod 2 removed the `overload` that its pandera 0.17 imports.
FOCUS_VALIDATOR = ("focus-validator==1.0.0", "multimethod<1.11")


def run(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), file=sys.stderr, flush=True)
    code = subprocess.call([str(c) for c in cmd], cwd=ROOT)
    if code:
        sys.exit(code)


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before any venv exists
        sys.exit(f"llmcost needs Python 3.11+, this is {sys.version.split()[0]}")
    stamp = VENV / f".llmcost-{extras or 'base'}"
    # The dev extras pull in s3fs, moto and boto3, whose botocore pins send pip's resolver backtracking for
    # many minutes in a fresh venv: the versions the suite was last run with are pinned as constraints.
    constraints = ["-c", str(CONSTRAINTS)] if extras == "dev" and CONSTRAINTS.exists() else []
    hashed = (ROOT / "pyproject.toml").read_bytes() + (CONSTRAINTS.read_bytes() if constraints else b"")
    digest = hashlib.sha256(hashed).hexdigest()
    if stamp.exists() and stamp.read_text() == digest and PY.exists():
        return
    if not PY.exists():
        print(f"creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PY, "-m", "pip", "install", "--quiet", *constraints, "-e", f".[{extras}]" if extras else ".")
    stamp.write_text(digest)


def ensure_focus_validator() -> None:
    bindir = FOCUS_VENV / ("Scripts" if os.name == "nt" else "bin")
    stamp = FOCUS_VENV / ".llmcost-focus"
    if stamp.exists() and stamp.read_text() == " ".join(FOCUS_VALIDATOR):
        return
    if not (bindir / "python").exists():
        print(f"creating {FOCUS_VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(FOCUS_VENV)
    run(bindir / "python", "-m", "pip", "install", "--quiet", *FOCUS_VALIDATOR)
    stamp.write_text(" ".join(FOCUS_VALIDATOR))


def demo() -> None:
    ensure_venv("")
    run(BIN / "llmcost", "estimate", "sample_logs/support_workload.jsonl.gz")


def test(args: list[str]) -> None:
    ensure_venv("dev")
    ensure_focus_validator()
    os.environ.setdefault("LLMCOST_FOCUS_VENV", str(FOCUS_VENV))
    run(BIN / "ruff", "check", "src", "tests", "benchmarks", "tools")
    run(BIN / "mypy")
    run(PY, "-m", "pytest", *args)


def main() -> None:
    task = sys.argv[1] if len(sys.argv) > 1 else ""
    if task == "demo":
        demo()
    elif task == "test":
        test(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
