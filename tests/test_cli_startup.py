"""``llmcost --help`` must stay fast: no pandas, numpy, pyarrow or httpx on the way."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pandas", "numpy", "pyarrow", "httpx", "tiktoken")

PROBE = """
import sys
from typer.testing import CliRunner
from llmcost.cli.main import app
for args in (["--help"], ["estimate", "--help"], ["catalog", "--help"], ["--version"]):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (args, result.output)
print(",".join(sorted(m for m in {HEAVY} if m in sys.modules)))
"""


def test_help_imports_no_heavy_library() -> None:
    code = PROBE.replace("{HEAVY}", repr(HEAVY))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"--help imported: {out.stdout.strip()}"


def test_every_command_has_help_text(cli: object) -> None:
    import typer.main

    from llmcost.cli.main import app

    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert {"estimate", "catalog", "logs"} <= set(commands)
    for name, command in commands.items():
        assert command.help or command.short_help, f"{name} has no help"
