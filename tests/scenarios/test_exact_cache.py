"""Exact response cache replay: TTL boundary, sliding refresh, LRU eviction order, lookup cost."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from scenario_helpers import apply, cost, frame, tiny, usd

from llmcost.scenarios.replay import replay_lru, replay_ttl

# every request below is big, 1000 in / 100 out: 1000 × $10 + 100 × $20 per Mtok = $0.012


def test_ttl_boundary_hit_at_ttl_minus_1s_miss_at_ttl_plus_1s() -> None:
    df = frame([
        {"at": 0, "prompt_hash": "a"},
        {"at": 3599, "prompt_hash": "a"},          # 1 s inside the 1 h TTL: hit (refreshes the entry)
        {"at": 3599 + 3601, "prompt_hash": "a"},   # 1 s past the TTL since the last use: miss
        {"at": 10, "prompt_hash": "b"},            # other key: miss
    ])
    applied = apply({"exact_cache": {"ttl": "1h"}}, df)
    assert cost(applied) == usd(3 * 12_000)
    info = applied.details["exact_cache"]
    assert (info["requests"], info["hits"], info["hit_rate"]) == (4, 1, 0.25)
    assert info["cost_saved_usd"] == Decimal("0.012")


def test_a_hit_refreshes_the_entry_sliding_expiration() -> None:
    df = frame([{"at": 0, "prompt_hash": "a"}, {"at": 3000, "prompt_hash": "a"}, {"at": 6000, "prompt_hash": "a"}])
    applied = apply({"exact_cache": {"ttl": 3600}}, df)
    assert applied.details["exact_cache"]["hits"] == 2  # 6000 s after the write, 3000 s after the refresh
    assert cost(applied) == usd(12_000)


def test_key_includes_the_model_unless_disabled() -> None:
    df = frame([{"at": 0, "prompt_hash": "a"}, {"at": 1, "prompt_hash": "a", "model": "small"}])
    assert apply({"exact_cache": {}}, df).details["exact_cache"]["hits"] == 0
    assert apply({"exact_cache": {"per_model": False}}, df).details["exact_cache"]["hits"] == 1


def test_lookup_cost_is_charged_per_hit() -> None:
    df = frame([{"at": i, "prompt_hash": "a"} for i in range(3)])
    applied = apply({"exact_cache": {"hit_cost_usd": "0.001"}}, df)
    assert applied.extra_cost == Decimal("0.002")
    assert cost(applied) == usd(12_000 + 2_000)


def test_lru_eviction_order() -> None:
    # a b a c a b with room for 2: a miss, b miss, a hit [b a], c miss evicts b [a c], a hit [c a],
    # b miss (evicted) — a FIFO cache would have evicted a instead and missed at row 4.
    keys = np.array([0, 1, 0, 2, 0, 1])
    hits = replay_lru(keys, np.arange(6), ttl=100, max_entries=2)
    assert hits.tolist() == [False, False, True, False, True, False]
    assert replay_ttl(keys, np.arange(6), ttl=100).tolist() == [False, False, True, False, True, True]
    df = frame([{"at": i, "prompt_hash": "abacab"[i]} for i in range(6)])
    applied = apply({"exact_cache": {"max_entries": 2}}, df)
    assert applied.details["exact_cache"]["hits"] == 2
    assert cost(applied) == usd(4 * 12_000)


def test_lru_respects_ttl() -> None:
    hits = replay_lru(np.array([0, 0, 0]), np.array([0, 5, 20]), ttl=10, max_entries=5)
    assert hits.tolist() == [False, True, False]


def test_rows_without_a_key_never_hit_and_no_key_column_is_reported() -> None:
    df = frame([{"at": 0, "prompt_hash": None}, {"at": 1, "prompt_hash": None}])
    assert apply({"exact_cache": {}}, df).details["exact_cache"]["hits"] == 0
    bare = apply({"exact_cache": {}}, frame([{"at": 0}, {"at": 1}]))
    assert "nothing to replay" in bare.details["exact_cache"]["note"]
    assert cost(bare) == usd(24_000)


def test_assumed_semantic_hits_are_labelled() -> None:
    df = frame([{"at": 0, "prompt_hash": "a"}, {"at": 1, "prompt_hash": "b"}])
    applied = apply({"exact_cache": {"assumed_semantic_hit_rate": 0.25}}, df)
    assert cost(applied) == usd(2 * 12_000 * 0.75)
    assert any("assumed" in a for a in applied.details["assumptions"])


def test_unsorted_timestamps_replay_in_time_order() -> None:
    keys = np.array([0, 0, 0])
    assert replay_ttl(keys, np.array([50, 0, 45]), ttl=10).tolist() == [True, False, False]


@pytest.mark.parametrize("slice_rows", [None, 64])  # built a slice at a time: one slice, or several
@pytest.mark.parametrize("seed", range(5))
def test_vectorized_replay_matches_a_dict_replay(seed: int, slice_rows: int | None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from llmcost.scenarios import replay

    if slice_rows is not None:
        monkeypatch.setattr(replay, "_SLICE", slice_rows)
    rng = np.random.default_rng(seed)
    n = 500
    keys = rng.integers(-1, 40, n)
    times = rng.integers(0, 2000, n)
    expected = np.zeros(n, dtype=bool)
    reused = np.zeros(n, dtype=bool)
    last: dict[int, int] = {}
    last_row: dict[int, int] = {}
    for i in sorted(range(n), key=lambda i: (times[i], i)):
        k = int(keys[i])
        if k >= 0:
            expected[i] = k in last and times[i] - last[k] < 60
            if expected[i]:
                reused[last_row[k]] = True
            last[k] = int(times[i])
            last_row[k] = i
    assert (replay_ttl(keys, times, 60) == expected).all()
    assert (replay.replay_ttl_reuse(keys, times, 60)[1] == reused).all()
    assert (replay_lru(keys, times, 60, 10_000) == expected).all()


@pytest.mark.parametrize("spec", [{"exact_cache": {}},
                                  {"exact_cache": {"assumed_semantic_hit_rate": 0.5}},
                                  {"exact_cache": {}, "batch": {"share": 0.5}},
                                  {"exact_cache": {}, "routing": {"rules": [{"to": "small"}]}}])
def test_sums_handed_on_are_the_sums_of_the_traffic(spec: dict[str, object]) -> None:
    """A scenario whose one strategy is the exact cache hands on its misses' sums (summed with the hits', in
    one pass); with anything after the cache (or scaled misses) the traffic is summed again. Either way the
    sums are those of the traffic: one model unknown to the catalog among them."""
    from llmcost.pricing import aggregate
    from llmcost.scenarios.interface import summed

    df = frame([{"at": i, "prompt_hash": "abcab"[i % 5], "model": "mystery" if i == 7 else "big"}
                for i in range(12)])
    applied = apply(spec, df)
    assert (applied.sums is not None) == (spec == {"exact_cache": {}})
    groups, expected = summed(applied, tiny()), aggregate(applied.frame, tiny())
    assert groups.known == expected.known and dict(groups.unknown.items()) == dict(expected.unknown.items())
    assert 0 < applied.details["exact_cache"]["hits"] < 12
