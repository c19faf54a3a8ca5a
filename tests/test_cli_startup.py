"""``llmcost --help`` and ``llmcost catalog list`` must stay fast: no pandas, numpy, pyarrow or httpx on the way,
and no pydantic either (typer < 0.29 does not coerce options through it; see docs/catalog-startup.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("pandas", "numpy", "pyarrow", "httpx", "tiktoken")
NOT_FOR_HELP = (*HEAVY, "pydantic", "pydantic_core")

PROBE = """
import sys
from typer.testing import CliRunner
from llmcost.cli.main import app
for args in (["--help"], ["estimate", "--help"], ["catalog", "--help"], ["--version"]):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (args, result.output)
print(",".join(sorted(m for m in {HEAVY} if m in sys.modules)))
"""


def test_help_imports_no_heavy_library_nor_pydantic() -> None:
    code = PROBE.replace("{HEAVY}", repr(NOT_FOR_HELP))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"--help imported: {out.stdout.strip()}"


LIST_PROBE = """
import sys
sys.argv = ["llmcost", "catalog", "list", *{ARGS}]
from llmcost.cli.main import main
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
print(",".join(sorted(m for m in {MODULES} if m in sys.modules)), file=sys.stderr)
"""


@pytest.mark.parametrize(("args", "shows"), [
    ((), "│ gpt-4o "), (("--tier", "hot"), "│ claude-opus-4-7 "),
    (("--catalog", "article-sheet-b", "--provider", "deepseek"), "│ deepseek-"),
])
def test_catalog_list_imports_no_heavy_library_nor_pydantic_yaml_or_rich(args: tuple[str, ...], shows: str) -> None:
    """Piped ``catalog list`` of a bundled catalog: rows read straight from the checked snapshot and the
    plain table text, so neither pydantic, the YAML parser nor rich is loaded (see
    tests/test_catalog_fast_path.py)."""
    modules = (*NOT_FOR_HELP, "yaml", "rich", "llmcost.catalog.schema", "llmcost.catalog.load")
    code = LIST_PROBE.replace("{MODULES}", repr(modules)).replace("{ARGS}", repr(args))
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env["PYTHONIOENCODING"] = "utf-8"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                         encoding="utf-8")
    assert shows in out.stdout
    assert out.stderr.strip() == "", f"catalog list imported: {out.stderr.strip()}"


def test_every_command_has_help_text(cli: object) -> None:
    import typer.main

    from llmcost.cli.main import app

    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert {"estimate", "catalog", "logs"} <= set(commands)
    for name, command in commands.items():
        assert command.help or command.short_help, f"{name} has no help"


RUN = "import sys; sys.argv = ['llmcost', *sys.argv[1:]]; from llmcost.cli.main import {what}; {call}"
CALLS = {"main": "main()", "app": "sys.exit(run_one_line(app, sys.argv[1:]))"}


@pytest.mark.parametrize("args", [
    ["catalog", "list"], ["catalog", "list", "--tier", "hot"], ["catalog", "--help"], ["catalog"],
    ["catalog", "nosuch"], ["estimate", "--help"], ["estimate"], ["logs", "inspect", "--help"],
    ["tokens", "--help"], ["check", "--help"], ["diff", "--help"], ["bench", "--help"], ["nosuch"],
    ["--version"], ["--help"], [], ["estimate", "missing.jsonl"],
])
def test_building_only_the_command_run_changes_nothing(args: list[str], tmp_path: Path) -> None:
    """main() builds just the command named first (start-up time); the full app must answer the same."""
    def run(what: str) -> tuple[int, str, str]:
        code = RUN.format(what="main" if what == "main" else "app, run_one_line", call=CALLS[what])
        out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=tmp_path)
        return out.returncode, out.stdout, out.stderr

    assert run("main") == run("app")


POOL_PROBE = """
import sys
sys.argv = ["llmcost", "estimate", {LOG!r}, "--baseline-only", "--format", "json", "--output", {OUT!r}]
from llmcost.cli.main import main
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
import pyarrow as pa
print("POOL:" + pa.default_memory_pool().backend_name)
"""


def _has_jemalloc() -> bool:
    import pyarrow as pa

    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        return False
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux") or not _has_jemalloc(),
                    reason="jemalloc is chosen on Linux, where pyarrow's wheels have it")
@pytest.mark.parametrize("asked", [None, "system"])
def test_the_command_reads_with_arrows_jemalloc_unless_told_otherwise(tmp_path: Path, asked: str | None) -> None:
    """mimalloc copied Arrow's growing list buffers into freshly zeroed memory: seconds of system time on a
    10M-row log. The command picks jemalloc; an explicit ARROW_DEFAULT_MEMORY_POOL wins."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    log = tmp_path / "log.parquet"
    pq.write_table(pa.table({"timestamp": pa.array([0, 1], pa.timestamp("ms", tz="UTC")), "model": ["gpt-4o"] * 2,
                             "input_tokens": [10, 20], "output_tokens": [1, 2]}), log)
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL" and not k.startswith("LLMCOST_")}
    if asked:
        env["ARROW_DEFAULT_MEMORY_POOL"] = asked
    code = POOL_PROBE.replace("{LOG!r}", repr(str(log))).replace("{OUT!r}", repr(str(tmp_path / "out.json")))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
    assert out.returncode == 0, out.stderr
    assert f"POOL:{asked or 'jemalloc'}" in out.stdout
