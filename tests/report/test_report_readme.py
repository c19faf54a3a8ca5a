"""The README's report section: its commands run as shown, and its screenshots are small committed PNGs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from report_support import ROOT, specs

README = (ROOT / "README.md").read_text()
SECTION = README.split("## HTML reports and charts", 1)[1].split("\n## ", 1)[0]


def test_readme_html_commands_run(cli: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(ROOT)
    commands = [shlex.split(line[2:]) for line in SECTION.splitlines() if line.startswith("$ llmcost ")]
    assert [c[1] for c in commands] == ["estimate", "check", "report"]
    made = {}
    for args in commands[:2]:
        out = tmp_path / args[args.index("--output") + 1]
        args[args.index("--output") + 1] = str(out)
        done = cli(*args[1:])
        assert done.exit_code == 0, done.stderr
        made[args[1]] = specs(out.read_text())
    assert len(made["estimate"]) == 6 and len(made["check"]) == 2


def test_readme_screenshots_are_small_pngs() -> None:
    images = re.findall(r"\]\((docs/img/[^)]+\.png)\)", SECTION)
    assert len(images) == 3
    for image in images:
        data = (ROOT / image).read_bytes()
        assert data.startswith(b"\x89PNG") and 10_000 < len(data) < 200_000, image
