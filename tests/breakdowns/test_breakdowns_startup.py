"""``estimate --baseline-only --by ...`` on Parquet (the Arrow breakdowns) starts like the baseline-only run
(tests/test_baseline_startup.py): no pandas, no pydantic (the bundled catalog loads light), no
``pyarrow.compute``; pandas' import alone costs more than the 10% a breakdown may add on 10M rows (issue
13). pyarrow imports pandas behind calls that look harmless (``pa.array`` or ``to_numpy`` on numpy data,
``fill_null``, ``pyarrow.acero``), so the whole path is probed in a fresh process; and the light catalog's
breakdowns equal the validated catalog's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from startup_probe import probe_imports

UNUSED = ("pandas", "pyarrow.dataset", "pyarrow.pandas_compat", "pyarrow.compute", "pydantic", "llmcost.catalog.schema")


def _log(path: Path, rows: int = 30_000) -> str:
    rng = np.random.default_rng(11)
    start = np.datetime64("2026-11-01", "ms")
    inputs = rng.integers(10, 4000, rows)
    table = pa.table({
        "timestamp": pa.array(start + np.sort(rng.integers(0, 9 * 86_400_000, rows)).astype("timedelta64[ms]"),
                              pa.timestamp("ms", tz="UTC")),
        "model": pa.array(rng.choice(["gpt-4o", "gpt-4o-mini", "no-such-model-x"], rows)).dictionary_encode(),
        "task": pa.array(rng.choice(["chat", "summarize", "classify"], rows)).dictionary_encode(),
        "user": pa.array([f"u{i}" for i in rng.integers(0, 30, rows)]),
        "tags": pa.array([["a, b", "c", None, '["x"]'][i] for i in rng.integers(0, 4, rows)]),
        "input_tokens": inputs, "cache_read_tokens": inputs // 4, "output_tokens": rng.integers(1, 900, rows),
        "batch": rng.random(rows) < 0.1,
    })
    pq.write_table(table, path, row_group_size=3_000, max_rows_per_page=200)
    return str(path)


def _probe(args: list[str], cwd: Path) -> set[str]:
    return probe_imports(args, UNUSED, cwd)[1]


@pytest.mark.parametrize("by", [["day"], ["task", "model"], ["day", "model", "task"], ["hour", "tag"], ["week,user"]])
def test_breakdowns_on_parquet_import_no_pandas(tmp_path: Path, by: list[str]) -> None:
    log = _log(tmp_path / "log.parquet")
    out = tmp_path / "out.json"
    args = [log, "--baseline-only", *[a for b in by for a in ("--by", b)], "--format", "json", "--output", str(out)]
    imported = _probe(args, tmp_path)
    assert imported == set(), f"--by {by} on the Arrow path imported {sorted(imported)}"
    result = json.loads(out.read_text())
    assert len(result["breakdowns"]) == len(by)


def test_the_probe_sees_pandas_on_the_full_reader(tmp_path: Path) -> None:
    """The same probe where the Arrow breakdowns do not run (a CSV log): pandas is seen, so the test above
    can fail."""
    log = tmp_path / "log.csv"
    log.write_text(pq.read_table(_log(tmp_path / "log.parquet")).slice(0, 50).to_pandas().to_csv(index=False))
    imported = _probe([str(log), "--baseline-only", "--by", "day", "--format", "json", "--output",
                       str(tmp_path / "o.json")], tmp_path)
    assert "pandas" in imported


@pytest.mark.parametrize("by", [["day", "model", "task"], ["provider", "tag", "user,week"]])
def test_the_light_catalog_gives_the_same_breakdowns(cli: Any, tmp_path: Path, by: list[str]) -> None:
    from llmcost.breakdowns import parse_by
    from llmcost.catalog import load_catalog
    from llmcost.pipeline import estimate_logs
    from llmcost.report.estimate_json import render_json
    from llmcost.scenarios.interface import Baseline

    log = _log(tmp_path / "log.parquet")
    result = cli("estimate", log, "--baseline-only", *[a for b in by for a in ("--by", b)], "--format", "json")
    assert result.exit_code == 0, result.stderr
    validated = load_catalog(None)  # pydantic
    assert type(validated).__name__ != "LightCatalog"
    estimate, _ = estimate_logs([log], validated, [Baseline()], breakdowns=parse_by(by))
    assert json.loads(result.stdout) == json.loads(render_json(estimate))
