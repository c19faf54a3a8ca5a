"""Every YAML file kind (catalog, scenarios, policy, bench suite) read the same strict way: a key written twice is
an error naming both lines, an impossible date and bytes that are not UTF-8 are errors naming the line, never a
traceback, and a silent 100x price change is impossible."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmcost import yamlfile
from llmcost.errors import CatalogError

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_logs" / "support_workload.jsonl.gz"

CATALOG = """source: test
as_of: 2026-01-01
models:
  - id: gpt-4o
    provider: openai
    input_mtok: 2.0
    output_mtok: 10
"""


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("llmcost: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_duplicate_price_key_is_an_error_naming_both_lines(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "cat.yaml"
    path.write_text(CATALOG.replace("    output_mtok: 10\n", "    input_mtok: 200.0\n    output_mtok: 10\n"))
    out = cli("catalog", "validate", path)
    assert out.exit_code == 2
    line = one_error_line(out.stderr)
    assert f"{path}:7" in line and "duplicate key 'input_mtok'" in line and "line 6" in line and "line 7" in line


def test_a_second_models_list_is_an_error_not_a_silent_replacement(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "cat.yaml"
    path.write_text(CATALOG + "models:\n  - id: gpt-4o-mini\n    input_mtok: 0.15\n    output_mtok: 0.6\n")
    out = cli("estimate", SAMPLE, "--catalog", path, "--baseline-only")
    assert out.exit_code == 2
    assert "duplicate key 'models' (first on line 3, again on line 8)" in one_error_line(out.stderr)


def test_the_same_key_in_different_mappings_and_merge_keys_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("a: {x: 1}\nb: {x: 2}\nbase: &b {y: 1, z: 2}\nc:\n  <<: *b\n  y: 3\n")
    assert yamlfile.read_yaml(path, CatalogError) == {"a": {"x": 1}, "b": {"x": 2}, "base": {"y": 1, "z": 2},
                                                      "c": {"y": 3, "z": 2}}


@pytest.mark.parametrize("kind", ["scenarios", "policy", "suite"])
def test_duplicate_keys_in_every_other_file_kind(cli: Any, tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.yaml"
    if kind == "scenarios":
        path.write_text("scenarios:\n  - name: a\n    batch: {share: 0.5}\n    batch: {share: 1.0}\n")
        out = cli("estimate", SAMPLE, "--scenarios", path)
    elif kind == "policy":
        path.write_text(f"version: 1\ninputs:\n  logs: ['{SAMPLE}']\n  logs: []\nrules: []\n")
        out = cli("check", "--policy", path)
    else:
        path.write_text("name: s\nname: t\nprompts: []\n")
        out = cli("bench", path, "--dry-run", "--endpoint", "http://127.0.0.1:9", "--model", "gpt-4o")
    assert out.exit_code == 2
    line = one_error_line(out.stderr)
    assert str(path) in line and "duplicate key" in line


def test_an_impossible_date_names_its_line(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "cat.yaml"
    path.write_text(CATALOG.replace("as_of: 2026-01-01", "as_of: 2025-13-45"))
    out = cli("catalog", "validate", path)
    assert out.exit_code == 2
    line = one_error_line(out.stderr)
    assert f"{path}:2" in line and "invalid date '2025-13-45'" in line


def test_invalid_utf8_names_line_and_byte(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "cat.yaml"
    path.write_bytes(CATALOG.replace("source: test", "source: te\xffst").encode("latin-1"))
    out = cli("catalog", "validate", path)
    assert out.exit_code == 2
    line = one_error_line(out.stderr)
    assert f"{path}:1" in line and "not valid UTF-8" in line and "0xff" in line


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_a_byte_order_mark_is_read_as_yaml_allows(cli: Any, tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "cat.yaml"
    path.write_bytes(CATALOG.encode(encoding))
    out = cli("catalog", "validate", path)
    assert out.exit_code == 0, out.stderr


def test_utf16_that_is_broken_is_an_error(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "cat.yaml"
    path.write_bytes(CATALOG.encode("utf-16") + b"\x00\xd8")  # a lone high surrogate
    out = cli("catalog", "validate", path)
    assert out.exit_code == 2
    assert "not valid UTF-16" in one_error_line(out.stderr)


def test_a_control_character_names_its_line(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "cat.yaml"
    path.write_text(CATALOG.replace("source: test", "source: 'te\x01st'"))
    out = cli("catalog", "validate", path)
    assert out.exit_code == 2
    assert "control character U+0001" in one_error_line(out.stderr)


@pytest.mark.parametrize("value", ["1.0e+30", "1000001", ".nan", ".inf", "-1"])
def test_absurd_prices_fail_validation_instead_of_estimate(cli: Any, tmp_path: Path, value: str) -> None:
    path = tmp_path / "cat.yaml"
    path.write_text(CATALOG.replace("input_mtok: 2.0", f"input_mtok: {value}"))
    out = cli("catalog", "validate", path)
    assert out.exit_code == 2
    assert "models[0].input_mtok" in one_error_line(out.stderr)


def test_the_largest_allowed_price_still_rounds_to_the_cent(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "cat.yaml"
    path.write_text(CATALOG.replace("input_mtok: 2.0", "input_mtok: 1000000"))
    out = cli("estimate", SAMPLE, "--catalog", path, "--baseline-only", "--format", "json")
    assert out.exit_code == 0, out.stderr
    assert '"total_cost_usd"' in out.stdout or '"observed_cost_usd"' in out.stdout


def test_deep_nesting_is_an_error_not_a_crash(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "cat.yaml"
    path.write_text("a: " + "[" * 100_000 + "]" * 100_000 + "\n")
    out = cli("catalog", "validate", path)
    assert out.exit_code == 2
    one_error_line(out.stderr)
