"""The semantic-cache replay against a row-by-row reference written from the rules alone (TTL, scope,
max_entries, per-threshold caches), whole and in chunks, with exact and HNSW search."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from llmcost.scenarios import semantic_replay as sr
from llmcost.scenarios.semantic_replay import ReplayState, pair_sims, replay_chunk


def make_log(seed: int, n: int = 600, n_groups: int = 120, parts: int = 3, dims: int = 16):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((8, dims))
    vec = centers[rng.integers(0, 8, n_groups)] + 0.45 * rng.standard_normal((n_groups, dims))
    vec = (vec / np.linalg.norm(vec, axis=1, keepdims=True)).astype(np.float32)
    group_part = rng.integers(0, parts, n_groups)
    groups = rng.integers(0, n_groups, n)
    groups[rng.random(n) < 0.1] = -1  # no prompt text
    times = np.sort(rng.integers(0, 3_600, n)).astype(np.int64) * 1_000_000_000
    return vec, group_part, groups, times


def reference(vec, group_part, groups, times, tau, ttl, cap):
    """The rules, one request at a time: every live entry of the partition compared."""
    entries: list[tuple[int, int, int, int]] = []  # time, group, rank, row
    hits = np.zeros(len(groups), dtype=bool)
    for r, (g, t) in enumerate(zip(groups.tolist(), times.tolist(), strict=False)):
        if g < 0:
            continue
        inserted = len(entries)
        live = [e for e in entries if t - e[0] < ttl and (cap is None or e[2] >= inserted - cap)
                and group_part[e[1]] == group_part[g]]
        best = -2.0
        for e in live:
            s = 1.0 if e[1] == g else float(pair_sims(vec[[e[1]]], vec[[g]])[0])
            best = max(best, s)
        if best >= tau:
            hits[r] = True
        else:
            entries.append((t, g, inserted, r))
    return hits


def run(vec, group_part, groups, times, taus, ttl, cap, search, cuts=()):
    state = ReplayState(list(taus), ttl, cap, search)
    state.add_groups(vec, group_part.astype(np.int64))
    rows = np.arange(len(groups), dtype=np.int64)
    eligible = groups >= 0
    out = [[] for _ in taus]
    bounds = [0, *cuts, len(groups)]
    for lo, hi in itertools.pairwise(bounds):
        d = replay_chunk(state, groups[lo:hi], times[lo:hi], rows[lo:hi], eligible[lo:hi])
        for i, h in enumerate(d.hits):
            out[i].append(h)
    return [np.concatenate(o) for o in out], state


@pytest.fixture(autouse=True)
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slices and candidate lists small enough that a 600-row log crosses many slices and overflows."""
    monkeypatch.setattr(sr, "SLICE", 64)
    monkeypatch.setattr(sr, "NEIGHBOURS", 4)
    monkeypatch.setattr(sr, "ANN_POOL", 8)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("ttl_s", "cap"), [(600, None), (3_600, None), (900, 20), (3_600, 5)])
@pytest.mark.parametrize("search", ["exact", "auto"])
def test_decisions_equal_the_reference(seed: int, ttl_s: int, cap: int | None, search: str) -> None:
    vec, part, groups, times = make_log(seed)
    taus = [0.9, 0.75, 0.95, 0.6]
    ttl = ttl_s * 1_000_000_000
    hits, state = run(vec, part, groups, times, taus, ttl, cap, search)
    for i, tau in enumerate(taus):
        expected = reference(vec, part, groups, times, tau, ttl, cap)
        assert expected.sum() > 0
        if search == "exact":
            assert (hits[i] == expected).all(), (tau, np.flatnonzero(hits[i] != expected)[:5])
        else:  # HNSW (i8 vectors) is approximate: a rare decision may differ
            assert (hits[i] != expected).mean() <= 0.005, tau
    assert state.fallbacks > 0  # the overflow path was exercised


@pytest.mark.parametrize("search", ["exact", "ann"])
def test_chunked_equals_whole(search: str) -> None:
    vec, part, groups, times = make_log(7, n=900)
    taus = [0.85, 0.7]
    ttl = 1_200 * 1_000_000_000
    whole, _ = run(vec, part, groups, times, taus, ttl, 50, search)
    chunked, _ = run(vec, part, groups, times, taus, ttl, 50, search, cuts=(1, 100, 333, 334, 640))
    for a, b in zip(whole, chunked, strict=False):
        assert (a == b).all()


def test_thresholds_are_independent_caches() -> None:
    """A sweep's thresholds each replay their own cache: a threshold's decisions alone equal its own run."""
    vec, part, groups, times = make_log(3)
    ttl = 3_600 * 1_000_000_000
    swept, _ = run(vec, part, groups, times, [0.9, 0.6, 0.75], ttl, None, "exact")
    for i, tau in enumerate([0.9, 0.6, 0.75]):
        alone, _ = run(vec, part, groups, times, [tau], ttl, None, "exact")
        assert (swept[i] == alone[0]).all()
