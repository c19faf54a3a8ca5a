"""Latency-aware failover, replayed from the logged latencies (``failover`` in a scenario file).

A *source* is a catalog model in a region (``model_id`` and the logged ``region``; one region when the log
has none). Requests on the target model and on models the catalog does not know are never watched.

- **Rolling p99.** At a request's arrival ``t`` the p-th percentile (nearest rank: the smallest logged
  latency with at least p % of the window at or below it) is taken over the latencies of the source's
  requests that *completed* in ``(t - window, t]``, a request's completion being its arrival plus its
  ``latency_ms``: only latencies a load balancer could have seen. Rows count ``weight`` times; rows
  without a latency are not observations. Fewer than ``min_requests`` observations: no verdict (not shed).
- **Shed and back.** A request *breaches* when that p99 is above ``threshold_ms``. The source is shed for
  a request that breaches, and for any request arriving less than ``cooldown`` after the source's last
  breach (hysteresis: it comes back only after ``cooldown`` without a breach). The log is the health
  signal: a shed source's logged latencies keep arriving, as probes or other clients' traffic would.
- **Moved.** A request arriving while its source is shed goes to ``target`` at the target's prices; its
  logged provider-cache tokens no longer apply. Its latency is the target's latest logged latency (the
  target's latest request arriving at or before it), else the bench results' p50 of the target, else unknown.
- **Time shed** of a source: from each request that found it shed to the source's next request (an
  interval still open at the end of the log ends at the source's last request).
- **p99 before / after**: over every request of the scenario with a known latency, rounded to the
  millisecond: as logged, then with the moved requests at their new latency.

Everything is vectorized (per source: searchsorted over sorted completions and prefix sums); the loop
runs over sources only. Streaming carries, per scenario, the observations that can still enter a window,
each source's state at its last request, the target's last latency and the latency histograms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from llmcost.scenarios.common import (
    Context,
    clear_cache_columns,
    requests,
    resolve_target,
    set_model_ids,
    share,
    times_ns,
    union_codes,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from llmcost.scenarios.schema import Failover

NS_PER_MS = 1_000_000
_SCALE = 100_000  # percentiles in thousandths of a percent: exact integer comparisons


@dataclass
class FailoverTail:
    """What a chunk hands the next, per source (``model_id`` + region): the observations that can still
    enter a window (completion ns, latency, weight), its last request (time, shed) and last breach; the
    target's last logged latency; the latency histograms (integer ms → requests)."""

    obs: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    last: dict[str, tuple[int, bool]] = field(default_factory=dict)
    last_breach: dict[str, int] = field(default_factory=dict)
    target_latency: float | None = None
    before: dict[int, float] = field(default_factory=dict)
    after: dict[int, float] = field(default_factory=dict)


def latencies(frame: pd.DataFrame, ctx: Context, seen: bool) -> np.ndarray:
    """``latency_ms`` as float milliseconds (NaN = not logged); a log without the column is an error."""
    import numpy as np
    import pandas as pd

    if "latency_ms" not in frame.columns:
        if seen:  # a streamed chunk whose rows happen to carry no latency
            return np.full(len(frame), np.nan)
        raise ctx.error("the logs have no latency_ms column: failover replays the logged latencies "
                        "(log latency_ms per request, or leave failover out)", "failover")
    values = pd.to_numeric(pd.Series(frame["latency_ms"].to_numpy()), errors="coerce")
    out = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(out >= 0, out, np.nan)  # a negative latency is no observation (NaN stays NaN)


def source_codes(frame: pd.DataFrame, target: str) -> tuple[np.ndarray, list[str]]:
    """Per row a source code (-1 = not watched: unknown model or the target) and each source's name,
    ``model_id`` and region joined by a unit separator."""
    import numpy as np

    from llmcost.scenarios.common import category_codes

    model = frame["model_id"].cat.codes.to_numpy().astype(np.int64)
    models = [str(m) for m in frame["model_id"].cat.categories]
    if "region" in frame.columns:
        region, regions = category_codes(frame["region"])
    else:
        region, regions = np.full(len(frame), -1, dtype=np.int64), []
    slots = len(regions) + 1
    combined = model * slots + np.where(region < 0, len(regions), region)
    watched = model >= 0
    if target in models:
        watched &= model != models.index(target)
    present = np.bincount(combined[watched], minlength=1) > 0  # small ints: no sort needed
    found = np.flatnonzero(present)
    dense = np.cumsum(present) - 1
    codes = np.where(watched, dense[np.where(watched, combined, 0)], -1)
    names = [f"{models[c // slots]}\x1f{([*regions, ''])[c % slots]}" for c in found.tolist()]
    return codes, names


def time_order(times: np.ndarray) -> np.ndarray | None:
    """Row order by time (stable), or None when the rows already are in time order."""
    import numpy as np

    return None if bool(np.all(times[1:] >= times[:-1])) else np.argsort(times, kind="stable")


def breaches(query_t: np.ndarray, obs_done: np.ndarray, obs_lat: np.ndarray, obs_w: np.ndarray,
             cfg: Failover) -> np.ndarray:
    """Per arrival ``query_t`` (one source): is the nearest-rank percentile of the observations that
    completed in (t - window, t] above the threshold, with at least ``min_requests`` of them."""
    import numpy as np

    order = np.argsort(obs_done, kind="stable")
    done = obs_done[order]
    fast = obs_lat[order] <= cfg.threshold_ms
    if bool(np.all(obs_w == 1)):  # one request per row: counts, no weights to gather
        total = np.arange(len(done) + 1, dtype=np.float64)
        low = np.concatenate([[0], np.cumsum(fast)]).astype(np.float64)
    else:
        w = obs_w[order]
        total = np.concatenate([[0.0], np.cumsum(w)])
        low = np.concatenate([[0.0], np.cumsum(np.where(fast, w, 0.0))])
    hi = np.searchsorted(done, query_t, side="right")
    lo = np.searchsorted(done, query_t - round(cfg.window * 1e9), side="right")
    n = total[hi] - total[lo]
    at_or_below = low[hi] - low[lo]
    rank = round(cfg.percentile * 1000)
    # percentile > threshold  ⟺  the share at or below the threshold is under p %
    breach: np.ndarray = (n >= cfg.min_requests) & (at_or_below * _SCALE < rank * n)
    return breach


@dataclass
class SourceRun:
    """One source's verdicts in this chunk (its rows in arrival order) and its time shed."""

    rows: np.ndarray
    shed: np.ndarray
    time_shed_ns: int
    intervals: int


def replay_source(key: str, rows: np.ndarray, times: np.ndarray, breach: np.ndarray, tail: FailoverTail,
                  cooldown_ns: int) -> SourceRun:
    """Shed state at each of a source's arrivals (``rows``, ``times`` in time order); updates the tail."""
    import numpy as np

    floor = np.iinfo(np.int64).min // 2
    latest_breach = np.maximum.accumulate(np.where(breach, times, floor))
    latest_breach = np.maximum(latest_breach, tail.last_breach.get(key, floor))
    shed = breach | (times - latest_breach < cooldown_ns)
    prev_time, prev_shed = tail.last.get(key, (int(times[0]), False))
    gaps = np.diff(times, append=times[-1])
    time_shed = int(gaps[shed].sum()) + (int(times[0]) - prev_time if prev_shed else 0)
    starts = shed & ~np.concatenate([[prev_shed], shed[:-1]])
    tail.last[key] = (int(times[-1]), bool(shed[-1]))
    if int(latest_breach[-1]) > floor:
        tail.last_breach[key] = int(latest_breach[-1])
    return SourceRun(rows, shed, time_shed, int(starts.sum()))


def apply_failover(frame: pd.DataFrame, cfg: Failover, ctx: Context) -> pd.DataFrame:
    import numpy as np

    target = resolve_target(cfg.target, ctx, "failover.target")
    tails = ctx.shared.tails if ctx.shared is not None and ctx.shared.streaming else {}
    tail: FailoverTail = tails.setdefault(f"failover {ctx.scenario} {cfg.model_dump_json()}", FailoverTail())
    lat = latencies(frame, ctx, seen=bool(tail.before))
    times = times_ns(frame)
    order = time_order(times)
    weight = frame["weight"].to_numpy(dtype=np.float64)
    runs = _replay_sources(frame, target, times, order, lat, weight, tail, cfg)
    moved = np.zeros(len(frame), dtype=bool)
    for run in runs.values():
        moved[run.rows[run.shed]] = True
    codes, categories = union_codes(frame, [target])
    target_code = categories.index(target)
    new_latency = _moved_latency(codes == target_code, order, lat, tail, target, ctx)
    out = frame.copy(deep=False)
    new_codes = codes.copy()
    new_codes[moved] = target_code
    set_model_ids(out, new_codes, categories)
    clear_cache_columns(out, moved)
    after = np.where(moved, new_latency, lat)
    ones = None if float(np.abs(weight - 1).max(initial=0)) else np.empty(0)  # every row one request
    counted = _histogram(lat, weight if ones is None else ones)
    changed = np.flatnonzero(moved)  # after = as logged, less the moved rows' old latencies, plus their new
    _merge_into(tail.before, counted)
    _merge_into(tail.after, counted)
    _merge_into(tail.after, _histogram(lat[changed], weight[changed] if ones is None else ones), -1)
    _merge_into(tail.after, _histogram(new_latency[changed], weight[changed] if ones is None else ones))
    ctx.details["failover"] = _details(frame, out, moved, runs, tail, cfg, target, ctx,
                                       unknown=requests(frame, moved & np.isnan(after)))
    return out


def _replay_sources(frame: pd.DataFrame, target: str, times: np.ndarray, order: np.ndarray | None,
                    lat: np.ndarray, weight: np.ndarray, tail: FailoverTail, cfg: Failover) -> dict[str, SourceRun]:
    """Every watched source's verdicts, from its rows grouped in time order after the carried tail."""
    import numpy as np

    codes, names = source_codes(frame, target)
    ordered = codes if order is None else codes[order]
    small = ordered.astype(np.int16) if len(names) < 2**15 else ordered  # 16-bit keys: a radix sort
    by_source = np.argsort(small, kind="stable")  # within a source: time order
    rows_sorted = by_source if order is None else order[by_source]
    bounds = np.searchsorted(ordered[by_source], np.arange(-1, len(names) + 1))
    window_ns = round(cfg.window * 1e9)
    latest = int(times.max(initial=0))
    runs: dict[str, SourceRun] = {}
    for code, key in enumerate(names):
        rows = rows_sorted[bounds[code + 1]:bounds[code + 2]]
        known = rows[~np.isnan(lat[rows])]
        done = times[known] + np.rint(lat[known] * NS_PER_MS).astype(np.int64)
        carried = tail.obs.get(key)
        if carried is not None:
            done = np.concatenate([carried[0], done])
            obs_lat, obs_w = np.concatenate([carried[1], lat[known]]), np.concatenate([carried[2], weight[known]])
        else:
            obs_lat, obs_w = lat[known], weight[known]
        breach = breaches(times[rows], done, obs_lat, obs_w, cfg)
        runs[key] = replay_source(key, rows, times[rows], breach, tail, round(cfg.cooldown * 1e9))
        keep = done > latest - window_ns
        tail.obs[key] = (done[keep], obs_lat[keep], obs_w[keep])
    for key, (done, obs_lat, obs_w) in list(tail.obs.items()):  # sources absent from this chunk
        if key not in runs:
            keep = done > latest - window_ns
            tail.obs[key] = (done[keep], obs_lat[keep], obs_w[keep])
    return runs


def _moved_latency(is_target: np.ndarray, order: np.ndarray | None, lat: np.ndarray, tail: FailoverTail,
                   target: str, ctx: Context) -> np.ndarray:
    """Per row the target's latest logged latency at or before its arrival (NaN: none known)."""
    import numpy as np

    fallback = tail.target_latency
    if fallback is None and ctx.bench is not None:
        summary = ctx.bench.model(target)
        fallback = summary.latency_ms.p50 if summary is not None else None
    lat_t = lat if order is None else lat[order]
    candidate = (is_target if order is None else is_target[order]) & ~np.isnan(lat_t)
    latest = np.maximum.accumulate(np.where(candidate, np.arange(len(lat_t)), -1)) if len(lat_t) else \
        np.zeros(0, dtype=np.int64)
    ordered = np.where(latest >= 0, lat_t[np.maximum(latest, 0)], np.nan if fallback is None else fallback)
    if candidate.any():
        tail.target_latency = float(lat_t[latest[-1]])
    if order is None:
        return ordered
    out = np.empty(len(order))
    out[order] = ordered
    return out


def _histogram(values: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct whole milliseconds, requests) of the known ``values``; an empty ``weight``: one each."""
    import numpy as np

    known = ~np.isnan(values)
    ms = np.rint(values[known]).astype(np.int64)
    w = weight[known] if len(weight) else None
    if not len(ms):
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    low, high = int(ms.min()), int(ms.max())
    if high - low < 50_000_000:  # a dense count (O(n)) over the range of milliseconds seen
        counts = np.bincount(ms - low, weights=w).astype(np.float64)
        found = np.flatnonzero(counts)
        return found + low, counts[found]
    distinct, inverse = np.unique(ms, return_inverse=True)
    return distinct, np.bincount(inverse.ravel(), weights=w).astype(np.float64)


def _merge_into(histogram: dict[int, float], counted: tuple[np.ndarray, np.ndarray], sign: int = 1) -> None:
    for value, total in zip(counted[0].tolist(), counted[1].tolist(), strict=True):
        histogram[value] = histogram.get(value, 0.0) + sign * total


def percentile_ms(histogram: dict[int, float], percentile: float) -> float | None:
    """Nearest-rank percentile of an integer-ms histogram (None when empty)."""
    import numpy as np

    if not histogram:
        return None
    values = np.array(sorted(v for v, n in histogram.items() if n > 1e-9))  # moved away: zero left
    if not len(values):
        return None
    cum = np.cumsum([histogram[v] for v in values.tolist()])
    reached = cum * _SCALE >= round(percentile * 1000) * cum[-1]
    return float(values[int(np.argmax(reached))])


def _details(before: pd.DataFrame, after: pd.DataFrame, moved: np.ndarray, runs: dict[str, SourceRun],
             tail: FailoverTail, cfg: Failover, target: str, ctx: Context, unknown: float) -> dict[str, Any]:
    from llmcost.pricing import price

    cost_before = price(before.loc[moved], ctx.catalog).total if moved.any() else Decimal(0)
    cost_after = price(after.loc[moved], ctx.catalog).total if moved.any() else Decimal(0)
    weight = before["weight"].to_numpy()
    sources = {}
    for key, run in runs.items():
        model, region = key.split("\x1f")
        label = f"{model} ({region})" if region else model
        sources[label] = {"moved_requests": float(weight[run.rows[run.shed]].sum()),
                          "time_shed_s": _seconds(run.time_shed_ns), "shed_intervals": run.intervals}
    return {
        "target": target, "threshold_ms": cfg.threshold_ms, "percentile": cfg.percentile,
        "window_s": cfg.window, "cooldown_s": cfg.cooldown, "min_requests": cfg.min_requests,
        "requests": requests(before), "moved_requests": requests(before, moved),
        "moved_share": share(requests(before, moved), requests(before)),
        "moved_latency_unknown": unknown,
        "time_shed_s": _seconds(sum(r.time_shed_ns for r in runs.values())),
        "shed_intervals": sum(r.intervals for r in runs.values()),
        "cost_before_usd": cost_before, "cost_after_usd": cost_after, "cost_change_usd": cost_after - cost_before,
        "latency_p99_before_ms": percentile_ms(tail.before, 99.0),
        "latency_p99_after_ms": percentile_ms(tail.after, 99.0),
        "sources": sources,
    }


def _seconds(ns: int) -> Decimal:
    """Nanoseconds as exact seconds (sums over chunks add up to the whole-log figure)."""
    return Decimal(ns) / Decimal(1_000_000_000)
