"""How much of the real-sample corpus the bundled default catalog prices, and which pending samples now pass.

    .venv/bin/python tests/realworld/model_coverage.py            # share of model names that resolve to a price
    .venv/bin/python tests/realworld/model_coverage.py --pending  # also try every pending sample
    .venv/bin/python tests/realworld/model_coverage.py --catalog NAME_OR_FILE  # against another catalog

The share is taken over the distinct model names the corpus files log (tested and pending entries of
manifest.yaml), each priced through the public CLI: one row per name in llmcost's own CSV format, run
through ``llmcost estimate --baseline-only --format json``; a name is covered when it is not in
``unpriced``. (Named model_coverage.py, not coverage.py, so that it never shadows the coverage package
when pytest puts this folder on sys.path.)
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from realworld_reference import Sample, all_model_names, load_manifest, reference_cost  # noqa: E402

LLMCOST = [str(Path(sys.executable).with_name("llmcost"))]
CATALOG: list[str] = []  # ["--catalog", NAME] when the command line names one


def _llmcost(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LLMCOST, *args, *CATALOG], capture_output=True, text=True, check=False)


def unpriced_names(names: list[str]) -> dict[str, str]:
    """Model name -> reason, for every name the default catalog does not price."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "models.csv"
        with log.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["timestamp", "model", "input_tokens", "output_tokens"])
            writer.writerows(["2026-01-01T00:00:00Z", name, 1000, 1000] for name in names)
        result = _llmcost("estimate", str(log), "--baseline-only", "--format", "json", "--window-days", "1")
    if result.returncode != 0:
        raise SystemExit(f"llmcost estimate failed: {result.stderr.strip()}")
    return {u["model"]: u["reason"] for u in json.loads(result.stdout)["unpriced"]}


def try_sample(sample: Sample) -> str:
    """'passes', or what fails, for one (pending) sample, as the test would check it."""
    if "reference" not in sample.spec:
        return "no price reference (see its reason)"
    common = ["--baseline-only", "--format", "csv", "--strict", "--window-days", "1", *sample.cli_args]
    result = _llmcost("estimate", str(sample.path), *common)
    if result.returncode != 0:
        return f"exit {result.returncode}: {result.stderr.strip().splitlines()[-1]}"
    rows = csv.DictReader(io.StringIO(result.stdout))
    cost = sum((Decimal(r["observed_cost_usd"]) for r in rows if r["scenario"] == "baseline"), Decimal(0))
    expected = reference_cost(sample)
    tolerance = Decimal(str(sample.spec.get("tolerance_usd", "0.00000001")))
    return "passes" if abs(cost - expected) <= tolerance else f"llmcost {cost} vs reference {expected}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pending", action="store_true", help="also try every pending sample")
    parser.add_argument("--catalog", help="price with this catalog (name or file) instead of the default")
    options = parser.parse_args()
    if options.catalog:
        CATALOG.extend(["--catalog", options.catalog])

    names = all_model_names()
    missing = unpriced_names(names)
    priced = len(names) - len(missing)
    catalog = options.catalog or "the default catalog"
    print(f"model names in the corpus: {len(names)}; priced by {catalog}: {priced} "
          f"({100 * priced / len(names):.1f}%)")
    for name, reason in sorted(missing.items()):
        print(f"  unpriced: {name} ({reason})")
    if options.pending:
        for sample in load_manifest("pending"):
            print(f"{sample.id}: {try_sample(sample)}")


if __name__ == "__main__":
    main()
