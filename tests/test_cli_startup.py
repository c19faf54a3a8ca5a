"""``llmcost --help`` and ``llmcost catalog list`` must stay fast: no pandas, numpy, pyarrow or httpx on the way."""

from __future__ import annotations

import os
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


LIST_PROBE = """
import sys
sys.argv = ["llmcost", "catalog", "list"]
from llmcost.cli.main import main
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
print(",".join(sorted(m for m in {MODULES} if m in sys.modules)), file=sys.stderr)
"""


def test_catalog_list_imports_no_heavy_library_nor_yaml_or_rich() -> None:
    """Piped ``catalog list`` of the bundled catalog: the validated snapshot and the plain table text,
    so not even the YAML parser or rich is loaded (see tests/test_catalog_fast_path.py)."""
    code = LIST_PROBE.replace("{MODULES}", repr((*HEAVY, "yaml", "rich")))
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env["PYTHONIOENCODING"] = "utf-8"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                         encoding="utf-8")
    assert "│ gpt-4o " in out.stdout
    assert out.stderr.strip() == "", f"catalog list imported: {out.stderr.strip()}"


def test_every_command_has_help_text(cli: object) -> None:
    import typer.main

    from llmcost.cli.main import app

    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert {"estimate", "catalog", "logs"} <= set(commands)
    for name, command in commands.items():
        assert command.help or command.short_help, f"{name} has no help"
