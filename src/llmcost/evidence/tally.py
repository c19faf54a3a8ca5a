"""A scenario's traffic summed for quality and latency, chunk by chunk, in bounded memory: requests per
(serving model, task), requests per model answered in one attempt, and — for the logged traffic — the
log's latency histograms per model. Everything adds up across chunks, so a streamed log gives the
whole-file result.

Cascade and retry rows carry ``served_share`` (the share of the row's attempts whose answer is used;
a retried request's failed attempts answer nothing) and cascade rows ``cascade_step``; other
strategies' rows answer every request they stand for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmcost.evidence.bench import BenchEvidence
from llmcost.evidence.histogram import BINS, bin_index
from llmcost.evidence.latency import (
    DEFAULT_HIT_LATENCY_MS,
    CascadeStepTraffic,
    LatencyEstimate,
    estimate_latency,
)
from llmcost.evidence.quality import UNKNOWN_MODEL, QualityEstimate, estimate_quality

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.catalog import Catalog

NO_TASK = "(none)"
RESPONSE_CACHES = ("exact_cache", "semantic_cache")
UNMEASURED_NOTE = "quality unmeasured: give bench results (bench_results: in the scenario file or --bench FILE)"


@dataclass(frozen=True)
class ScenarioEvidence:
    """Quality and latency of one scenario's traffic."""

    quality: QualityEstimate
    latency: LatencyEstimate

    def to_json(self) -> dict[str, Any]:
        return {"quality": self.quality.to_json(), "latency": self.latency.to_json()}


class EvidenceTally:
    def __init__(self, catalog: Catalog | None, *, logged: bool = False):
        self.catalog = catalog
        self.logged = logged
        self.served: dict[tuple[str, str | None], float] = {}
        self.answered: dict[str, float] = {}
        self.log_hists: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.has_task = False

    def add(self, frame: pd.DataFrame) -> None:
        import numpy as np

        if frame.empty:
            return
        codes, models = self._model_codes(frame)
        weight = frame["weight"].to_numpy(dtype=np.float64)
        served = weight * _column(frame, "served_share", 1.0)
        single = served * (_column(frame, "cascade_step", -1.0) < 0)
        tcodes, tasks = self._task_codes(frame)
        width = len(tasks) + 1
        sums = np.bincount((codes + 1) * width + tcodes + 1, weights=served, minlength=(len(models) + 1) * width)
        for flat in np.flatnonzero(sums):
            m, t = divmod(int(flat), width)
            key = (models[m - 1] if m else UNKNOWN_MODEL, tasks[t - 1] if t else NO_TASK if self.has_task else None)
            self.served[key] = self.served.get(key, 0.0) + float(sums[flat])
        per_model = np.bincount(codes + 1, weights=single, minlength=len(models) + 1)
        for code in np.flatnonzero(per_model):
            name = models[int(code) - 1] if code else UNKNOWN_MODEL
            self.answered[name] = self.answered.get(name, 0.0) + float(per_model[code])
        if self.logged:
            self._add_log_latency(frame, codes, models, weight)

    def _model_codes(self, frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        import numpy as np
        import pandas as pd

        if "model_id" in frame.columns:
            ids = frame["model_id"]
        else:
            from llmcost.token_groups import model_ids

            assert self.catalog is not None, "a frame without model_id needs the catalog to resolve models"
            ids = model_ids(frame, self.catalog)
        if not isinstance(ids.dtype, pd.CategoricalDtype):
            ids = ids.astype("category")
        return ids.cat.codes.to_numpy().astype(np.int64), [str(c) for c in ids.cat.categories]

    def _task_codes(self, frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        import numpy as np
        import pandas as pd

        if "task" not in frame.columns:
            return np.full(len(frame), -1, dtype=np.int64), []
        self.has_task = True
        task = frame["task"]
        if isinstance(task.dtype, pd.CategoricalDtype):  # as most readers give it: its codes, no string copy
            return task.cat.codes.to_numpy().astype(np.int64), [str(c) for c in task.cat.categories]
        codes, uniques = pd.factorize(task.astype("string"), use_na_sentinel=True)
        return codes.astype(np.int64), [str(u) for u in uniques]

    def _add_log_latency(self, frame: pd.DataFrame, codes: np.ndarray, models: list[str], weight: np.ndarray) -> None:
        import numpy as np

        hists: list[np.ndarray | None] = []
        for column in ("latency_ms", "ttft_ms"):
            if column not in frame.columns:
                hists.append(None)
                continue
            values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
            rows = np.isfinite(values) & (codes >= 0)
            flat = codes[rows] * BINS + bin_index(values[rows])
            counts = np.bincount(flat, weights=weight[rows], minlength=len(models) * BINS)
            hists.append(counts.reshape(len(models), BINS))
        if all(h is None for h in hists):
            return
        for m, name in enumerate(models):
            e2e, ttft = (np.zeros(BINS) if h is None else h[m] for h in hists)
            if e2e.any() or ttft.any():
                old = self.log_hists.get(name)
                self.log_hists[name] = (e2e, ttft) if old is None else (old[0] + e2e, old[1] + ttft)

    def result(self, evidence: BenchEvidence, details: Mapping[str, Any],
               log_hists: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
               hit_latency_ms: float = DEFAULT_HIT_LATENCY_MS) -> ScenarioEvidence:
        """Quality and latency from what was summed; ``details`` are the scenario's (merged) details,
        ``log_hists`` the logged traffic's latency histograms (default: this tally's own)."""
        quality = estimate_quality(self.served, evidence, self.has_task)
        latency = estimate_latency(self.answered, self.log_hists if log_hists is None else log_hists, evidence,
                                   hits=response_cache_hits(details), hit_latency_ms=hit_latency_ms,
                                   cascade=cascade_steps(details), more_cascades=routing_cascades(details))
        return ScenarioEvidence(quality, latency)


def _column(frame: pd.DataFrame, name: str, default: float) -> np.ndarray:
    import numpy as np

    if name not in frame.columns:
        return np.full(len(frame), default)
    return frame[name].to_numpy(dtype=np.float64, na_value=default)


def response_cache_hits(details: Mapping[str, Any]) -> float:
    """Requests a response cache answered (an exact cache's hits plus an assumed semantic share)."""
    hits = 0.0
    for key in RESPONSE_CACHES:
        info = details.get(key)
        if not isinstance(info, Mapping):
            continue
        found = float(info.get("hits") or 0.0)
        rate = float(info.get("assumed_semantic_hit_rate") or 0.0)
        hits += found + (float(info.get("requests") or 0.0) - found) * rate
    return hits


def cascade_steps(details: Mapping[str, Any]) -> list[CascadeStepTraffic]:
    info = details.get("cascade")
    if not isinstance(info, Mapping):
        return []
    return [CascadeStepTraffic(str(s["model"]), float(s["answered"])) for s in info.get("steps") or []]


def routing_cascades(details: Mapping[str, Any]) -> list[list[CascadeStepTraffic]]:
    """The cascade of each routing rule with ``try_first`` (``routing.cascades`` of the details)."""
    routing = details.get("routing")
    infos = routing.get("cascades") if isinstance(routing, Mapping) else None
    return [cascade_steps({"cascade": info}) for info in infos or [] if isinstance(info, Mapping)]


class EvidenceRun:
    """Tallies for every scenario of an estimate; scenario 0 is the logged traffic, whose latencies
    stand for each model's in every scenario."""

    def __init__(self, evidence: BenchEvidence, catalog: Catalog, count: int,
                 hit_latency_ms: float = DEFAULT_HIT_LATENCY_MS):
        self.evidence = evidence
        self.hit_latency_ms = hit_latency_ms
        self.tallies = [EvidenceTally(catalog, logged=i == 0) for i in range(count)]

    def add(self, index: int, frame: pd.DataFrame) -> None:
        self.tallies[index].add(frame)

    def results(self, details: Sequence[Mapping[str, Any]]) -> list[ScenarioEvidence]:
        logged = self.tallies[0].log_hists
        return [t.result(self.evidence, d, logged, self.hit_latency_ms)
                for t, d in zip(self.tallies, details, strict=True)]


def scenario_quality(frame: pd.DataFrame, evidence: BenchEvidence, catalog: Catalog | None = None) -> QualityEstimate:
    """Quality of a scenario's resulting traffic (``frame`` with ``model_id``, or ``catalog`` to resolve)."""
    tally = EvidenceTally(catalog)
    tally.add(frame)
    return estimate_quality(tally.served, evidence, tally.has_task)


def scenario_latency(frame: pd.DataFrame, evidence: BenchEvidence, hit_latency_ms: float = DEFAULT_HIT_LATENCY_MS,
                     *, log: pd.DataFrame | None = None, details: Mapping[str, Any] | None = None,
                     catalog: Catalog | None = None) -> LatencyEstimate:
    """Latency of a scenario's resulting traffic; ``log`` is the logged traffic whose ``latency_ms``/
    ``ttft_ms`` stand for each model (default: ``frame`` itself, right for the logged traffic)."""
    logged = EvidenceTally(catalog, logged=True)
    logged.add(frame if log is None else log)
    tally = EvidenceTally(catalog)
    tally.add(frame)
    return tally.result(evidence, details or {}, logged.log_hists, hit_latency_ms).latency
