"""Start-up as an installed llmcost has it: the package's bytecode compiled before anything is timed.

``pip install`` compiles every module; a checkout run with ``PYTHONDONTWRITEBYTECODE=1`` (as some
development shells and CI images set) never writes ``.pyc`` files, so each fresh process compiles
llmcost's modules again (about 0.1 s of a 0.5 s command). The benchmarks call ``compiled()`` first, so a
start-up figure measures llmcost, not the compiler.
"""

from __future__ import annotations

import compileall
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "llmcost"


def compiled() -> None:
    compileall.compile_dir(str(PACKAGE), quiet=1)
