"""What the bench measured, as evidence for scenarios: pass counts per (model, task) with Wilson
intervals, and latency samples per model.

Read from a ``bench --results`` file (JSONL, one record per request: everything is exact) or from a
``bench --format json`` summary (pass counts from ``quality_passed``/``quality_scored``, latency from
``latency_samples_ms``/``ttft_samples_ms``; an older summary without them gives counts rebuilt from the
rate and the request count, and latency from its p50/p95/p99 only — said in ``notes``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmcost.errors import InputError
from llmcost.evidence.wilson import wilson

if TYPE_CHECKING:
    import numpy as np

    from llmcost.bench.results import Record
    from llmcost.catalog import Catalog


@dataclass(frozen=True)
class PassRate:
    """Measured quality of a model (on one task, or on all its prompts when ``task`` is None)."""

    model: str
    task: str | None
    passed: int
    trials: int
    point: float
    low: float
    high: float

    @classmethod
    def of(cls, model: str, task: str | None, passed: int, trials: int) -> PassRate:
        low, high = wilson(passed, trials)
        return cls(model, task, passed, trials, passed / trials if trials else 0.0, low, high)


@dataclass(frozen=True)
class LatencySample:
    """A model's measured latencies (ms, sorted); ``exact`` False when rebuilt from percentiles."""

    model: str
    ttft_ms: np.ndarray
    e2e_ms: np.ndarray
    exact: bool = True


@dataclass(frozen=True)
class BenchEvidence:
    """Pass counts per (model, task) and latency per model, keyed by the model as the bench named it
    and, when a catalog was given, also by its catalog id."""

    counts: dict[tuple[str, str | None], tuple[int, int]]
    samples: dict[str, LatencySample]
    catalog: str | None = None
    source: str = ""
    notes: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)  # catalog id → bench name

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m for m, _ in self.counts) | dict.fromkeys(self.samples))

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(sorted({t for _, t in self.counts if t is not None}))

    def _name(self, model: str) -> str:
        return self.aliases.get(model, model)

    def pass_rate(self, model: str, task: str | None = None) -> PassRate | None:
        """The measured pass rate, or None when the bench never scored that (model, task)."""
        name = self._name(model)
        found = self.counts.get((name, task))
        if found is None or found[1] == 0:
            return None
        return PassRate.of(name, task, *found)

    def latency(self, model: str) -> LatencySample | None:
        return self.samples.get(self._name(model))

    def for_catalog(self, catalog: Catalog) -> BenchEvidence:
        """The same evidence checked against ``catalog``: a bench priced with another catalog is an error
        (field ``catalog``); bench models are also found by their catalog id."""
        if self.catalog is not None and self.catalog != catalog.source:
            raise InputError(f"these bench results were priced with catalog '{self.catalog}', not "
                             f"'{catalog.source}': rerun the bench with this catalog or pass its catalog",
                             source=self.source, field="catalog")
        aliases = dict(self.aliases)
        for name in self.models:
            found = catalog.resolve(name)
            if found is not None and found != name:
                aliases.setdefault(found, name)
        return BenchEvidence(self.counts, self.samples, self.catalog, self.source, self.notes, aliases)


def load_bench_evidence(path_or_paths: str | Path | Sequence[str | Path]) -> BenchEvidence:
    """Evidence from one or more bench results files (JSONL records or JSON summaries); a later file's
    figures for the same model replace an earlier one's. Errors name the file and the field."""
    paths = [path_or_paths] if isinstance(path_or_paths, str | Path) else list(path_or_paths)
    if not paths:
        raise InputError("no bench results file given", field="bench")
    parts = [_load_one(Path(p)) for p in paths]
    counts: dict[tuple[str, str | None], tuple[int, int]] = {}
    samples: dict[str, LatencySample] = {}
    catalogs = {p.catalog for p in parts if p.catalog is not None}
    if len(catalogs) > 1:
        raise InputError(f"bench results priced with different catalogs: {', '.join(sorted(catalogs))}",
                         source=parts[-1].source, field="catalog")
    for part in parts:
        for model in part.models:
            for key in [k for k in counts if k[0] == model]:
                del counts[key]
        counts.update(part.counts)
        samples.update(part.samples)
    notes = tuple(dict.fromkeys(n for p in parts for n in p.notes))
    return BenchEvidence(counts, samples, next(iter(catalogs), None), ", ".join(p.source for p in parts), notes)


def _load_one(path: Path) -> BenchEvidence:
    from llmcost.bench.summary import is_results_file

    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read bench results: {exc.strerror or exc}", source=source) from None
    if is_results_file(text):
        from llmcost.bench.results import read_records

        records, _ = read_records(path)
        if not records:
            raise InputError("no bench-request records", source=source)
        return from_records(records, source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", source=source, line=exc.lineno) from None
    return from_summary(data, source)


def from_records(records: Iterable[Record], source: str = "<bench>", catalog: str | None = None) -> BenchEvidence:
    """Exact evidence from per-request records: scored requests are trials (a failed request of a scored
    prompt counts as not passed, as in the bench summary), successful requests give latencies."""
    import numpy as np

    counts: dict[tuple[str, str | None], list[int]] = {}
    ttft: dict[str, list[float]] = {}
    e2e: dict[str, list[float]] = {}
    for r in records:
        ttft.setdefault(r.model, [])
        e2e.setdefault(r.model, [])
        if r.passed is not None:
            for key in ((r.model, None), (r.model, r.task)) if r.task is not None else ((r.model, None),):
                c = counts.setdefault(key, [0, 0])
                c[0] += int(bool(r.passed))
                c[1] += 1
        if r.ok and r.latency_ms is not None:
            e2e[r.model].append(float(r.latency_ms))
        if r.ok and r.ttft_ms is not None:
            ttft[r.model].append(float(r.ttft_ms))
    samples = {m: LatencySample(m, np.sort(np.asarray(ttft[m])), np.sort(np.asarray(e2e[m])))
               for m in e2e if e2e[m] or ttft[m]}
    return BenchEvidence({k: (v[0], v[1]) for k, v in counts.items()}, samples, catalog, source)


def from_summary(data: Any, source: str = "<bench>") -> BenchEvidence:
    """Evidence from a bench summary (``bench --format json``)."""
    from llmcost.bench.summary import summary_models

    models = summary_models(data, source)
    counts: dict[tuple[str, str | None], tuple[int, int]] = {}
    samples: dict[str, LatencySample] = {}
    notes: list[str] = []
    for i, m in enumerate(models):
        where = f"models[{i}]"
        if not isinstance(m, dict) or not isinstance(m.get("model"), str):
            raise InputError("each entry needs a string 'model'", source=source, field=f"{where}.model")
        name = m["model"]
        groups: list[tuple[str | None, Any, str]] = [(None, m, where)]
        tasks = m.get("by_task") or []
        if not isinstance(tasks, list):
            raise InputError("must be a list", source=source, field=f"{where}.by_task")
        for j, t in enumerate(tasks):
            if not isinstance(t, dict) or not isinstance(t.get("task"), str):
                raise InputError("each entry needs a string 'task'", source=source, field=f"{where}.by_task[{j}].task")
            groups.append((t["task"], t, f"{where}.by_task[{j}]"))
        for task, stats, at in groups:
            found = _counts(stats, source, at, notes)
            if found is not None:
                counts[(name, task)] = found
        sample = _latency(name, m, source, where, notes)
        if sample is not None:
            samples[name] = sample
    catalog = data.get("catalog")
    label = catalog.get("source") if isinstance(catalog, dict) else catalog
    if label is not None and not isinstance(label, str):
        raise InputError("must be the catalog's source name", source=source, field="catalog")
    return BenchEvidence(counts, samples, label, source, tuple(dict.fromkeys(notes)))


def _counts(stats: dict[str, Any], source: str, where: str, notes: list[str]) -> tuple[int, int] | None:
    passed, scored = stats.get("quality_passed"), stats.get("quality_scored")
    if passed is not None or scored is not None:
        if not isinstance(passed, int) or not isinstance(scored, int) or not (_count(passed) and _count(scored)) \
                or passed > scored:
            raise InputError(f"quality_passed and quality_scored must be counts with passed <= scored "
                             f"(got {passed!r}, {scored!r})", source=source, field=f"{where}.quality_passed")
        return (passed, scored) if scored else None
    rate = stats.get("quality_pass_rate")
    if rate is None:
        return None
    requests = stats.get("requests")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise InputError(f"must be a number from 0 to 1 (got {rate!r})", source=source,
                         field=f"{where}.quality_pass_rate")
    if not _count(requests) or not requests:
        raise InputError(f"must be a positive count (got {requests!r})", source=source, field=f"{where}.requests")
    notes.append("pass counts rebuilt from quality_pass_rate × requests (a summary from an older llmcost)")
    return round(rate * requests), int(requests)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _latency(name: str, m: dict[str, Any], source: str, where: str, notes: list[str]) -> LatencySample | None:
    import numpy as np

    arrays = []
    for key, fallback in (("ttft_samples_ms", "ttft_ms"), ("latency_samples_ms", "latency_ms")):
        raw = m.get(key)
        if raw is not None:
            if not isinstance(raw, list) or not all(isinstance(v, int | float) and v >= 0 for v in raw):
                raise InputError("must be a list of milliseconds (numbers >= 0)", source=source, field=f"{where}.{key}")
            arrays.append((np.sort(np.asarray(raw, dtype=np.float64)), True))
        else:
            arrays.append((_from_percentiles(m.get(fallback)), False))
    (ttft, exact_t), (e2e, exact_e) = arrays
    if not len(ttft) and not len(e2e):
        return None
    exact = (exact_t or not len(ttft)) and (exact_e or not len(e2e))
    if not exact:
        notes.append("bench latency rebuilt from p50/p95/p99 (no latency samples in the summary)")
    return LatencySample(name, ttft, e2e, exact)


def _from_percentiles(data: Any) -> np.ndarray:
    """100 values whose percentiles are the given p50/p95/p99 (linear between them, flat outside): a
    stand-in for a distribution only its percentiles describe."""
    import numpy as np

    if not isinstance(data, dict):
        return np.zeros(0)
    points = [(q, data.get(k)) for q, k in ((50, "p50"), (95, "p95"), (99, "p99"))]
    known = [(q, float(v)) for q, v in points if isinstance(v, int | float) and not isinstance(v, bool)]
    if not known:
        return np.zeros(0)
    qs = np.arange(100) + 0.5
    xp, fp = [q for q, _ in known], [v for _, v in known]
    return np.sort(np.interp(qs, xp, fp))
