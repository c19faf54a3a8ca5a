"""Run ``llmcost estimate ARGS`` in a fresh interpreter and say which of some modules it imported: what a
start-up test asks (a module imported in the pytest process says nothing about a command's own start)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

PROBE = """
import sys
sys.argv = ["llmcost", "estimate", *{ARGS}]
from llmcost.cli.main import main
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
print("IMPORTED:" + ",".join(sorted(m for m in {MODULES} if m in sys.modules)), file=sys.stderr)
"""


def probe_imports(args: list[str], modules: Sequence[str], cwd: Path) -> tuple[str, set[str]]:
    """(the command's stderr, which of ``modules`` it imported), LLMCOST_* settings left out."""
    code = PROBE.replace("{ARGS}", repr(args)).replace("{MODULES}", repr(tuple(modules)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMCOST_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env, cwd=cwd)
    assert out.returncode == 0, out.stderr
    line = next(s for s in out.stderr.splitlines() if s.startswith("IMPORTED:"))
    return out.stderr, {m for m in line.removeprefix("IMPORTED:").split(",") if m}
