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


def run(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), file=sys.stderr, flush=True)
    code = subprocess.call([str(c) for c in cmd], cwd=ROOT)
    if code:
        sys.exit(code)


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before any venv exists
        sys.exit(f"llmcost needs Python 3.11+, this is {sys.version.split()[0]}")
    stamp = VENV / f".llmcost-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest and PY.exists():
        return
    if not PY.exists():
        print(f"creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PY, "-m", "pip", "install", "--quiet", "-e", f".[{extras}]" if extras else ".")
    stamp.write_text(digest)


def demo() -> None:
    ensure_venv("")
    run(BIN / "llmcost", "estimate", "sample_logs/support_workload.jsonl.gz")


def test(args: list[str]) -> None:
    ensure_venv("dev")
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
