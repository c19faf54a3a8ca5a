"""The real-sample corpus: every file reads through the CLI and prices like an independent reference.

Each entry of ``manifest.yaml`` (section ``files``) is a small file copied from a public repository
(provenance in README.md). Through the public CLI it must:

- ``llmcost logs inspect FILE --json``: read with no error, detected as the stated format, with the stated
  requests, skipped rows and model names;
- ``llmcost estimate FILE --baseline-only --format json --strict``: exit 0 (every model priced) with a
  baseline cost equal to the reference to the cent, and, from ``--format csv`` (exact decimals), within
  ``tolerance_usd`` (default $0.00000001: both sides are exact decimals) of it.

The reference is computed in ``realworld_reference.py`` from the file's own records (genai-prices, the
cost the source logged, or a provider's published rate named in the entry), never typed into the
manifest. Entries under ``refused`` are files llmcost must refuse: exit 2 with one line that names the
file and gives the stated hint. Entries under ``pending`` are not tested; the manifest says why for each.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from realworld_reference import Sample, load_manifest, reference_cost

SAMPLES = load_manifest("files")
REFUSED = load_manifest("refused")
CENT = Decimal("0.01")
DEFAULT_TOLERANCE = Decimal("0.00000001")


def _estimate(cli: Any, sample: Sample, fmt: str) -> str:
    result = cli("estimate", sample.path, "--baseline-only", "--format", fmt, "--strict", "--window-days", "1",
                 *sample.cli_args)
    assert result.exit_code == 0, f"{sample.id}: exit {result.exit_code}: {result.stderr.strip()}"
    return str(result.stdout)


def test_the_manifest_lists_every_sample_once() -> None:
    """Every file in samples/ is either tested or pending (with a reason), and no entry names a missing file."""
    from realworld_reference import HERE

    tested = [s.id for s in SAMPLES + REFUSED]
    pending = load_manifest("pending")
    listed = tested + [s.id for s in pending]
    on_disk = sorted(p.name for p in (HERE / "samples").iterdir())
    assert sorted(listed) == on_disk
    assert len(set(listed)) == len(listed)
    assert all(s.spec.get("reason") for s in pending)


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.id for s in SAMPLES])
def test_sample_reads_as_stated(cli: Any, sample: Sample) -> None:
    result = cli("logs", "inspect", sample.path, "--json", *sample.cli_args)
    assert result.exit_code == 0, f"{sample.id}: {result.stderr.strip()}"
    report = json.loads(result.stdout)
    spec = sample.spec
    assert report["files"][0]["format"] == spec["format"]
    assert report["requests"] == spec["requests"]
    assert report["files"][0]["skipped_total"] == spec.get("skipped", 0)
    assert sorted(m["model"] for m in report["models"]) == sorted(spec.get("read_models", spec["models"]))
    assert report["unresolved_models"] == []


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.id for s in SAMPLES])
def test_sample_prices_like_the_reference(cli: Any, sample: Sample) -> None:
    expected = reference_cost(sample)
    assert expected > 0, f"{sample.id}: a zero reference cannot tell a right price from a missing one"

    estimate = json.loads(_estimate(cli, sample, "json"))
    assert estimate["unpriced"] == []
    baseline = estimate["scenarios"][0]
    assert baseline["name"] == "baseline"
    observed = Decimal(str(baseline["observed_cost_usd"]))
    assert observed.quantize(CENT, ROUND_HALF_UP) == expected.quantize(CENT, ROUND_HALF_UP)

    rows = csv.DictReader(io.StringIO(_estimate(cli, sample, "csv")))
    exact = sum((Decimal(r["observed_cost_usd"]) for r in rows if r["scenario"] == "baseline"), Decimal(0))
    tolerance = Decimal(str(sample.spec.get("tolerance_usd", DEFAULT_TOLERANCE)))
    assert abs(exact - expected) <= tolerance, f"{sample.id}: llmcost {exact} vs reference {expected}"


@pytest.mark.parametrize("sample", REFUSED, ids=[s.id for s in REFUSED])
def test_sample_is_refused_with_its_hint(cli: Any, sample: Sample) -> None:
    for command in (("logs", "inspect"), ("estimate",)):
        result = cli(*command, sample.path, *sample.cli_args)
        assert result.exit_code == 2, f"{sample.id}: {command} exit {result.exit_code}"
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("llmcost: error: "), result.stderr
        assert sample.path.name in lines[0]
        assert sample.spec["hint"] in lines[0]
        assert result.stdout == ""
