"""The shared prefix-block ordering gives exactly what a replay of the rows as they stand gives.

``PrefixIndex.replay`` has a fast path (one ordering of every block occurrence, shared by the run's
replays, filtered by serving model) and a general one (gather the rows' blocks and replay them,
used when rows repeat). Both are checked against an independent row-by-row simulation of a
sliding-TTL prefix cache, on random traffic: unsorted times, ties, several models (more than the
per-model loop handles), rows that do not reach the cache and rows removed before the replay.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from llmcost.scenarios import prefix_index
from llmcost.scenarios.prefix_index import PrefixIndex, encode_blocks, prepare


def simulate(blocks: list[list[int]], times: list[int], models: list[int], touching: list[bool],
             ttl: int) -> tuple[list[int], list[int]]:
    """Row by row in (time, row) order: leading cached blocks, and blocks up to the last one reused."""
    order = sorted(range(len(blocks)), key=lambda r: (times[r], r))
    last_touch: dict[tuple[int, int], int] = {}
    toucher: dict[tuple[int, int], tuple[int, int]] = {}
    lead = [0] * len(blocks)
    useful = [0] * len(blocks)
    for r in order:
        if not touching[r]:
            continue
        leading = True
        for pos, block in enumerate(blocks[r]):
            key = (block, models[r])
            seen = last_touch.get(key)
            hit = seen is not None and times[r] - seen < ttl
            if hit:
                prev_row, prev_pos = toucher[key]
                useful[prev_row] = max(useful[prev_row], prev_pos + 1)
            if leading and hit:
                lead[r] += 1
            else:
                leading = False
            last_touch[key] = times[r]
            toucher[key] = (r, pos)
    return lead, useful


def random_index(rng: np.random.Generator, rows: int, sort_times: bool) -> tuple[PrefixIndex, list[list[int]]]:
    # dense ids (codes 0..11), so either sort sees every block id next to its neighbours
    blocks = [list(rng.choice(12, size=rng.integers(0, 6), replace=False) + 1_000_003) for _ in range(rows)]
    times = rng.integers(0, 40, size=rows) * 10
    if sort_times:
        times = np.sort(times)
    column = pd.Series(blocks, dtype=object)
    codes, offsets, has_blocks, low = encode_blocks(column)
    assert isinstance(low, int)
    return PrefixIndex(codes, offsets, has_blocks, times.astype(np.int64), low=low), blocks


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("n_models", [1, 3, 11])
@pytest.mark.parametrize("sort", ["counting", "composite"])
def test_shared_ordering_matches_a_row_by_row_simulation(seed: int, n_models: int, sort: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    if sort == "composite":  # the fallback when pandas' counting sort is unavailable
        monkeypatch.setattr(prefix_index, "_counting_sort", lambda codes: None)
    rng = np.random.default_rng(seed)
    index, blocks = random_index(rng, 60, sort_times=seed % 2 == 0)
    present = np.sort(rng.choice(60, size=45, replace=False))  # rows an earlier strategy kept
    models = rng.integers(0, n_models, size=len(present))
    touching = rng.random(len(present)) < 0.85
    ttl = 50  # a multiple of the time step: gaps of exactly the TTL occur (and miss)
    lead, useful, counts = index.replay(present, models, touching, ttl)
    full_models = [-1] * 60
    full_touch = [False] * 60
    for r, m, t in zip(present, models, touching, strict=True):
        full_models[r], full_touch[r] = int(m), bool(t)
    want_lead, want_useful = simulate(blocks, index.times.tolist(), full_models, full_touch, ttl)
    got = {int(r): (int(a), int(b)) for r, a, b, t in zip(present, lead, useful, touching, strict=True) if t}
    assert got == {int(r): (want_lead[r], want_useful[r]) for r, t in zip(present, touching, strict=True) if t}
    assert counts.tolist() == [len(blocks[r]) for r in present]


def test_repeated_rows_take_the_general_path_and_replay_each_copy() -> None:
    """A cascade sends one request to two models: two rows, same base row, each a request of its own."""
    index = PrefixIndex(np.array([7, 8, 7, 8]), np.array([0, 2, 4]), np.array([True, True]),
                        np.array([0, 10], dtype=np.int64))
    rows = np.array([0, 0, 1, 1])
    models = np.array([0, 1, 0, 1])
    lead, _, counts = index.replay(rows, models, np.ones(4, dtype=bool), ttl=60)
    assert lead.tolist() == [0, 0, 2, 2]  # the second request reads both blocks at each model
    assert counts.tolist() == [2, 2, 2, 2]


def test_prepare_replaces_the_list_column_by_row_ids_and_keeps_nulls_apart() -> None:
    frame = pd.DataFrame({
        "timestamp": pd.to_datetime([0, 1, 2], unit="s", utc=True),
        "prefix_hashes": pd.Series([["a", "b"], None, ["a"]], dtype=object),
    })
    out, shared = prepare(frame)
    assert "prefix_hashes" not in out.columns
    assert out["request_row"].tolist() == [0, 1, 2]
    assert shared.prefix is not None
    assert shared.prefix.has_blocks.tolist() == [True, False, True]
    assert shared.prefix.offsets.tolist() == [0, 2, 2, 3]
    assert shared.prefix.codes.tolist() == [0, 1, 0]
    assert shared.prefix.raw(shared.prefix.codes).tolist() == ["a", "b", "a"]


def test_a_chunk_whose_rows_all_lack_prefix_blocks_is_prepared() -> None:
    """Read in chunks, a log can hand over a chunk where every prefix_hashes is null (an all-null column)."""
    import pandas as pd

    from llmcost.frame import conform
    from llmcost.scenarios.prefix_index import prepare

    raw = pd.DataFrame({"timestamp": ["2026-01-01T00:00:00Z"] * 2, "model": ["m"] * 2, "input_tokens": [10, 10],
                        "output_tokens": [1, 1], "prefix_hashes": pd.Series([None, None], dtype=object)})
    frame, shared = prepare(conform(raw, source="t").frame)
    assert len(frame) == 2 and shared.prefix is not None


@pytest.mark.parametrize("pick", ["in order", "shuffled", "repeated", "one", "none"])
def test_blocks_of_rows_are_each_rows_blocks_in_the_order_asked(pick: str) -> None:
    """Rows asked in order take the masked path, others the gathered one: the same blocks either way."""
    rng = np.random.default_rng(5)
    blocks = [list(rng.integers(0, 40, int(rng.integers(0, 6)))) for _ in range(300)]
    offsets = np.zeros(len(blocks) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in blocks], out=offsets[1:])
    codes = np.array([c for b in blocks for c in b], dtype=np.int32)
    index = PrefixIndex(codes, offsets, np.ones(len(blocks), dtype=bool), np.arange(len(blocks)))
    rows = {"in order": np.flatnonzero(rng.random(len(blocks)) < 0.6), "shuffled": rng.permutation(len(blocks))[:90],
            "repeated": np.array([5, 5, 2, 7, 2]), "one": np.array([3]), "none": np.array([], dtype=np.int64)}[pick]
    got, got_offsets = index.blocks_of(rows)
    assert [list(got[got_offsets[i]:got_offsets[i + 1]]) for i in range(len(rows))] == [blocks[r] for r in rows]
