"""Per-request results: one JSON line per request, appended and flushed as each completes, so an
interrupted run loses nothing and ``--resume`` can skip what already succeeded.

Money is written as a decimal string (``"0.000123"``) so sums stay exact.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from llmcost.errors import InputError

RECORD_KIND = "bench-request"
MAX_OUTPUT_CHARS = 4000

Key = tuple[str, str, int]


@dataclass(frozen=True)
class Record:
    """What happened to one (prompt, model, repetition)."""

    prompt_id: str
    model: str
    repetition: int
    task: str | None = None
    ok: bool = False
    error_type: str | None = None
    error: str | None = None
    gave_up: str | None = None  # why a failed request was not retried (again)
    attempts: int = 1
    started_at: str | None = None
    ttft_ms: float | None = None
    latency_ms: float | None = None
    itl_ms: float | None = None
    tpot_ms: float | None = None
    output_tokens_per_s: float | None = None
    input_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    cache_write_1h_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    usage_source: str | None = None
    cost_usd: Decimal | None = None
    provider_cost_usd: Decimal | None = None
    passed: bool | None = None
    checks: tuple[dict[str, Any], ...] = ()
    judge_score: int | None = None
    finish_reason: str | None = None
    output: str | None = None
    streamed: bool = True
    tags: tuple[str, ...] = field(default=())

    @property
    def key(self) -> Key:
        return (self.prompt_id, self.model, self.repetition)

    def to_json(self) -> str:
        data = asdict(self)
        for name in ("cost_usd", "provider_cost_usd"):
            value = data[name]
            data[name] = None if value is None else str(value)
        data["checks"] = list(self.checks)
        data["tags"] = list(self.tags)
        return json.dumps({"kind": RECORD_KIND, **data}, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("cost_usd", "provider_cost_usd"):
            if values.get(name) is not None:
                values[name] = Decimal(str(values[name]))
        values["checks"] = tuple(values.get("checks") or ())
        values["tags"] = tuple(values.get("tags") or ())
        return cls(**values)


class ResultsWriter:
    """Appends records to a JSONL file, one flushed line each."""

    def __init__(self, path: Path, *, append: bool):
        self.path = path
        try:
            self._fh: IO[str] = path.open("a" if append else "w", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write results: {exc.strerror or exc}", source=str(path)) from None

    def write(self, record: Record) -> None:
        self._fh.write(record.to_json() + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def read_records(path: Path) -> tuple[list[Record], int]:
    """Records of a results file (later lines for the same key win) and how many lines were unreadable
    (a line cut off by an interrupted run, say)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read results: {exc.strerror or exc}", source=str(path)) from None
    latest: dict[Key, Record] = {}
    bad = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict) or data.get("kind") != RECORD_KIND:
                raise ValueError("not a bench record")
            record = Record.from_json(data)
        except (ValueError, TypeError):
            bad += 1
            continue
        latest[record.key] = record
    return list(latest.values()), bad


def finished_keys(records: list[Record]) -> set[Key]:
    """Keys that need no new request on ``--resume``: those that succeeded."""
    return {r.key for r in records if r.ok}


def merge(old: list[Record], new: list[Record]) -> list[Record]:
    """Old records overlaid by new ones with the same key, in first-seen order."""
    out: dict[Key, Record] = {r.key: r for r in old}
    for r in new:
        out[r.key] = r
    return list(out.values())
