"""Where the real components that tests start live, and what a test does when one is missing.

`.ci/run` installs them (Debian's chromium and postgresql) and sets LLMCOST_REQUIRE_COMPONENTS=1, so in CI a
missing component fails the test instead of skipping it. A developer without them gets a skip naming what
is missing. The environment is read at import time, before the autouse fixture clears LLMCOST_* variables.
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = os.environ.get("LLMCOST_REQUIRE_COMPONENTS") == "1"
FOCUS_VENV = Path(os.environ.get("LLMCOST_FOCUS_VENV", ROOT / ".venv-focus"))


def missing(what: str) -> None:
    """Skip (on a developer's machine) or fail (in CI) because a real component is not installed."""
    if REQUIRED:
        pytest.fail(f"{what} is not installed, and CI requires it", pytrace=False)
    pytest.skip(f"{what} is not installed")


def chromium() -> Path:
    """Debian's headless Chromium."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return Path(found)
    missing("chromium (Debian package chromium)")
    raise AssertionError("unreachable")


def postgres_bin() -> Path:
    """The directory holding PostgreSQL's initdb and pg_ctl (Debian package postgresql)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    if which:
        return Path(which).resolve().parent
    missing("PostgreSQL server (Debian package postgresql)")
    raise AssertionError("unreachable")


def focus_validator() -> Path:
    """The FinOps Foundation's focus-validator, in the venv of its own that `tools/dev.py test` makes."""
    exe = FOCUS_VENV / "bin" / "focus-validator"
    if exe.exists():
        return exe
    missing(f"focus-validator (expected at {exe}; `python3 tools/dev.py test` installs it)")
    raise AssertionError("unreachable")
