"""Quality and latency of each candidate on each segment, from the bench evidence (``llmcost.evidence``).

Quality: the candidate's Wilson interval on the segment's task (on all its prompts for rows with no
task); the plan's bar uses the lower bound unless ``optimistic``. A task of the traffic the bench never
scored for a candidate is an error naming it: a plan never assumes a pass rate.

Latency: per candidate, the log's own ``latency_ms`` of that model's requests where the log has them,
else the bench's measured end-to-end latencies. A policy's latency is the traffic mixture of its models'
distributions; its p95 is at most L exactly when the mixture puts at least 95% of requests at or below
L (the inverted-CDF percentile), which is what makes the latency bars linear for the search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmcost.errors import InputError, UsageError
from llmcost.plan.search import TOLERANCE

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.catalog import Catalog
    from llmcost.evidence import BenchEvidence, PassRate
    from llmcost.plan.segments import Segment


@dataclass(frozen=True)
class Latency:
    """A candidate's latency distribution (sorted ms) and where it came from (``log`` or ``bench``)."""

    model: str
    samples: np.ndarray
    source: str

    def share_within(self, limit_ms: float) -> float:
        import numpy as np

        if not len(self.samples):
            return 0.0
        return float(np.searchsorted(self.samples, limit_ms, side="right")) / len(self.samples)


@dataclass(frozen=True)
class Mixed:
    """A mixture of latency distributions (e.g. a cascade: accepted on the first model, or both calls)."""

    parts: tuple[tuple[Latency, float], ...]
    source: str

    def share_within(self, limit_ms: float) -> float:
        return sum(share * lat.share_within(limit_ms) for lat, share in self.parts)


def check_candidates(names: Sequence[str], catalog: Catalog, evidence: BenchEvidence, option: str) -> list[str]:
    """Catalog ids of the candidates; each must be in the catalog and measured by the bench."""
    out = []
    for name in names:
        found = catalog.resolve(name)
        if found is None:
            raise UsageError(f"{option}: '{name}' is not a model of the catalog ({catalog.source})")
        if evidence.pass_rate(found) is None and evidence.latency(found) is None:
            raise InputError(f"no bench results for candidate '{name}' (bench models: "
                             f"{', '.join(evidence.models) or 'none'})", source=evidence.source, field="models")
        if found not in out:
            out.append(found)
    return out


def default_candidates(catalog: Catalog, evidence: BenchEvidence) -> list[str]:
    """Every bench model with a pass rate; a bench model the catalog does not know is an error."""
    out = []
    for i, name in enumerate(evidence.models):
        found = catalog.resolve(name)
        if found is None:
            raise InputError(f"bench model '{name}' is not in the catalog ({catalog.source}): bench results "
                             "for another catalog? pass that catalog with --catalog, or choose --candidates",
                             source=evidence.source, field=f"models[{i}].model")
        if evidence.pass_rate(found) is not None and found not in out:
            out.append(found)
    if not out:
        raise InputError("the bench results hold no scored requests (no pass rates)", source=evidence.source,
                         field="models")
    return out


def pass_rates(segments: Sequence[Segment], candidates: Sequence[str], evidence: BenchEvidence,
               by_class: dict[tuple[str, str | None, str], tuple[int, int]] | None = None) -> list[list[PassRate]]:
    """[segment][candidate] measured pass rate; a task without bench data is an error naming it. A segment
    of classifier-predicted prompts takes the candidate's pass count on the bench prompts of that class."""
    from llmcost.evidence import PassRate

    out = []
    for seg in segments:
        row = []
        for model in candidates:
            name = evidence.aliases.get(model, model)
            counts = (by_class or {}).get((name, seg.task, seg.predicted or ""))
            rate = PassRate.of(name, seg.task, *counts) if counts and counts[1] else evidence.pass_rate(model, seg.task)
            if rate is None:
                what = f"task '{seg.task}'" if seg.task is not None else "any prompt"
                raise InputError(f"no bench data for {what} on candidate '{model}' (the logs send "
                                 f"{seg.label} traffic; bench tasks: {', '.join(evidence.tasks) or 'none'}): "
                                 "bench that task, or leave the candidate out with --candidates",
                                 source=evidence.source, field="by_task")
            row.append(rate)
        out.append(row)
    return out


def latencies(frame: pd.DataFrame, candidates: Sequence[str], evidence: BenchEvidence,
              catalog: Catalog) -> dict[str, Latency]:
    """Each candidate's latency distribution: logged where the log has it, else measured by the bench."""
    import numpy as np

    from llmcost.pricing import model_ids

    logged: dict[str, np.ndarray] = {}
    if "latency_ms" in frame.columns:
        ids = model_ids(frame, catalog).astype("string").to_numpy(dtype=object)
        values = frame["latency_ms"].to_numpy(dtype=np.float64, na_value=np.nan)
        for model in candidates:
            mine = values[(ids == model) & ~np.isnan(values)]
            if len(mine):
                logged[model] = np.sort(mine)
    out = {}
    for model in candidates:
        if model in logged:
            out[model] = Latency(model, logged[model], "log")
            continue
        sample = evidence.latency(model)
        if sample is not None and len(sample.e2e_ms):
            out[model] = Latency(model, np.asarray(sample.e2e_ms, dtype=np.float64), "bench")
    return out


def require_latency(candidates: Sequence[str], found: dict[str, Latency], evidence: BenchEvidence) -> None:
    for model in candidates:
        if model not in found:
            raise InputError(f"no latency measured for candidate '{model}' (neither in the logs nor in the bench "
                             "results): a latency bar cannot be checked", source=evidence.source,
                             field="latency_samples_ms")


def mixture_percentiles(parts: Sequence[tuple[Latency | Mixed, float]], qs: Sequence[float] = (0.5, 0.95, 0.99),
                        ) -> list[float | None]:
    """Inverted-CDF percentiles of a mixture of distributions weighted by requests."""
    import numpy as np

    flat = [(sub, w * share) for lat, w in parts
            for sub, share in (lat.parts if isinstance(lat, Mixed) else ((lat, 1.0),))]
    live = [(lat, w) for lat, w in flat if w > 0 and len(lat.samples)]
    if not live:
        return [None for _ in qs]
    values = np.concatenate([lat.samples for lat, _ in live])
    weights = np.concatenate([np.full(len(lat.samples), w / len(lat.samples)) for lat, w in live])
    order = np.argsort(values, kind="stable")
    values, cum = values[order], np.cumsum(weights[order])
    total = cum[-1]
    out: list[float | None] = []
    for q in qs:
        i = int(np.searchsorted(cum, q * total * (1 - TOLERANCE), side="left"))  # as the search's bars
        out.append(float(values[min(i, len(values) - 1)]))
    return out
