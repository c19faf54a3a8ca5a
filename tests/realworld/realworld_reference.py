"""Reference costs for the real-sample corpus, computed independently of llmcost.

Every sample's expected cost comes from the file itself, never from a number typed into the manifest:

- ``genai-prices``: the usage of every record, taken with genai-prices' own extractor
  (``genai_prices.extract_usage``) or with the dotted paths the entry names, priced by
  ``genai_prices.calc_price`` at the record's own timestamp;
- ``logged``: the cost the source recorded (a dotted path, summed over the records);
- ``hand``: the record's token counts times per-million rates the entry states, with the provider rule
  that gives them (used only where both price databases are wrong for the date of the sample).

An entry can also say ``adjust_usd`` with a reason (a fee llmcost does not price, such as a web search
call that a gateway's logged cost includes).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.yaml"
MTOK = Decimal(1_000_000)


@dataclass(frozen=True)
class Sample:
    """One manifest entry: a sample file and what reading and pricing it must give."""

    path: Path
    spec: dict[str, Any]

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def cli_args(self) -> list[str]:
        args = [str(a) for a in self.spec.get("args", [])]
        if self.spec.get("log_format"):
            args += ["--log-format", str(self.spec["log_format"])]
        return args


def load_manifest(section: str = "files") -> list[Sample]:
    """The entries of one manifest section (``files``, ``refused``, or ``pending``: not tested yet)."""
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return [Sample(HERE / entry["path"], entry) for entry in data.get(section) or []]


def all_model_names() -> list[str]:
    """Distinct model names as the corpus files log them (tested and pending entries)."""
    entries = load_manifest("files") + load_manifest("refused") + load_manifest("pending")
    names = {str(m) for s in entries for m in s.spec.get("models", [])}
    return sorted(names)


def records(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON records of a sample: one object, a JSON array, or JSONL."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        for line in text.splitlines():
            if line.strip():
                yield json.loads(line)
        return
    doc = json.loads(text)
    yield from doc if isinstance(doc, list) else [doc]


def dig(obj: Any, dotted: str) -> Any:
    """The value at a dotted path (``usage.prompt_tokens``), or None where any step is missing."""
    for key in dotted.split("."):
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _selected(path: Path, ref: dict[str, Any]) -> Iterator[dict[str, Any]]:
    where = ref.get("where")
    for record in records(path):
        if where is None or dig(record, where) is not None:
            yield record


def _usage_from_paths(record: dict[str, Any], paths: dict[str, str]) -> dict[str, int]:
    return {key: int(dig(record, dotted) or 0) for key, dotted in paths.items()}


def _genai_prices_cost(record: dict[str, Any], ref: dict[str, Any]) -> Decimal:
    from genai_prices import Usage, calc_price, extract_usage

    body = dig(record, ref["record"]) if ref.get("record") else record
    when = _timestamp(dig(record, ref["timestamp"])) if ref.get("timestamp") else None
    provider = ref["provider_id"]
    if "usage" in ref:
        usage = Usage(**_usage_from_paths(record, ref["usage"]))
        model = str(ref.get("model") or dig(record, ref["model_path"]))
    else:
        extracted = extract_usage(body, provider_id=provider, api_flavor=ref.get("api_flavor", "default"))
        usage = extracted.usage
        model = ref.get("model") or (extracted.model.id if extracted.model else None)
        if model is None:
            raise ValueError(f"genai-prices found no model in a record of provider {provider!r}; name one")
    return calc_price(usage, model, provider_id=provider, genai_request_timestamp=when).total_price


def _hand_cost(record: dict[str, Any], ref: dict[str, Any]) -> Decimal:
    tokens = _usage_from_paths(record, ref["usage"])
    return sum((Decimal(tokens[k]) * Decimal(str(rate)) / MTOK for k, rate in ref["mtok"].items()), Decimal(0))


def reference_cost(sample: Sample) -> Decimal:
    """The sample's expected baseline cost in USD, from its own records."""
    ref = sample.spec["reference"]
    kind = ref["kind"]
    total = Decimal(0)
    with warnings.catch_warnings():
        # genai-prices warns about its own snapshot age; that is not the sample's concern.
        warnings.simplefilter("ignore")
        for record in _selected(sample.path, ref):
            if kind == "genai-prices":
                total += _genai_prices_cost(record, ref)
            elif kind == "logged":
                total += Decimal(str(dig(record, ref["field"])))
            elif kind == "hand":
                total += _hand_cost(record, ref)
            else:
                raise ValueError(f"{sample.id}: unknown reference kind {kind!r}")
    return total + Decimal(str(ref.get("adjust_usd", 0)))
