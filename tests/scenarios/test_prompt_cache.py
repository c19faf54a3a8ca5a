"""Provider prompt caching replayed from prefix_hashes (Mooncake semantics) and the per-task stand-in."""

from __future__ import annotations

import numpy as np
from scenario_helpers import apply, cost, frame, usd

from llmcost.scenarios.replay import leading_block_hits

ROWS = [
    # t=0: nothing cached; writes min(3 × 512, 1400) = 1400
    {"at": 0, "model": "small", "input_tokens": 1400, "output_tokens": 0, "prefix_hashes": [1, 2, 3]},
    # t=60: blocks 1, 2 cached (1024 read); writes min(4 × 512, 2000) − 1024 = 976
    {"at": 60, "model": "small", "input_tokens": 2000, "output_tokens": 0, "prefix_hashes": [1, 2, 4, 5]},
    # t=359: 1, 2, 4 last used 299 s ago: all cached, 1536 capped at the 1300-token input
    {"at": 359, "model": "small", "input_tokens": 1300, "output_tokens": 0, "prefix_hashes": [1, 2, 4]},
    # t=660: block 1 last used 301 s ago: expired; writes 1024, 76 uncached
    {"at": 660, "model": "small", "input_tokens": 1100, "output_tokens": 0, "prefix_hashes": [1, 9]},
    # below min_tokens (1024): neither reads nor writes
    {"at": 661, "model": "small", "input_tokens": 500, "output_tokens": 0, "prefix_hashes": [1]},
    # another model has its own cache: writes 1024 at big's $12.50
    {"at": 700, "model": "big", "input_tokens": 1024, "output_tokens": 0, "prefix_hashes": [1, 2]},
]


def test_prefix_replay_on_hand_made_rows() -> None:
    applied = apply({"prompt_cache": {"ttl": "5m"}}, frame(ROWS))
    out = applied.frame
    assert out["cache_read_tokens"].tolist() == [0, 1024, 1300, 0, 0, 0]
    assert out["cache_write_tokens"].tolist() == [1400, 976, 0, 1024, 0, 1024]
    assert out["cache_write_1h_tokens"].tolist() == [0] * 6
    # small: 1400×1.25 + (1024×0.1 + 976×1.25) + 1300×0.1 + (1024×1.25 + 76×1) + 500×1 = 5058.4 µ$
    # big: 1024 × 12.5 = 12800 µ$
    assert cost(applied) == usd("17858.4")
    info = applied.details["prompt_cache"]
    assert info["hit_requests"] == 2
    assert info["request_hit_rate"] == round(2 / 6, 6)
    assert info["cache_read_tokens"] == 2324


def test_one_hour_ttl_bills_1h_writes_and_ignores_a_too_short_cached_prefix() -> None:
    applied = apply({"prompt_cache": {"ttl": "1h"}}, frame(ROWS))
    out = applied.frame
    # t=660 now finds block 1 (used at 359) still cached, but 512 tokens is under min_tokens (1024):
    # no read, and the request writes its prompt again
    assert out["cache_read_tokens"].tolist() == [0, 1024, 1300, 0, 0, 0]
    assert out["cache_write_1h_tokens"].tolist() == [1400, 976, 0, 1024, 0, 1024]
    # small: 1400×2 + (102.4 + 976×2) + 130 + (1024×2 + 76) + 500 = 7608.4; big: 1024×20 = 20480
    assert cost(applied) == usd("28088.4")


def test_leading_run_stops_at_the_first_uncached_block() -> None:
    blocks = np.array([7, 8, 9, 7, 5, 9])
    offsets = np.array([0, 3, 6])
    lead = leading_block_hits(blocks, offsets, np.array([0, 1]), ttl=10)
    assert lead.tolist() == [0, 1]  # block 9 was cached too, but block 5 breaks the run


def test_stand_in_prefix_per_model_and_task() -> None:
    df = frame([
        {"at": 0, "model": "small", "input_tokens": 3000, "output_tokens": 0, "task": "chat"},
        {"at": 100, "model": "small", "input_tokens": 3000, "output_tokens": 0, "task": "chat"},
        {"at": 100, "model": "small", "input_tokens": 3000, "output_tokens": 0, "task": "summarize"},
    ])
    spec = {"prompt_cache": {"prefix_tokens": {"default": 2000, "by_task": {"summarize": 1000}}, "min_tokens": 1024}}
    applied = apply(spec, df)
    assert applied.frame["cache_read_tokens"].tolist() == [0, 2000, 0]
    # summarize's 1000-token prefix is under min_tokens: nothing cached or written
    assert applied.frame["cache_write_tokens"].tolist() == [2000, 0, 0]
    # 2000×1.25 + 1000 | 2000×0.1 + 1000 | 3000
    assert cost(applied) == usd(3500 + 1200 + 3000)
    assert "assume a shared prefix of 2,000 tokens" in applied.details["assumptions"][0]


def test_writes_reused_only_pays_for_blocks_a_later_request_reads() -> None:
    applied = apply({"prompt_cache": {"ttl": "5m", "writes": "reused"}}, frame(ROWS))
    out = applied.frame
    assert out["cache_read_tokens"].tolist() == [0, 1024, 1300, 0, 0, 0]
    # row 0: blocks 1, 2 are read at t=60 (block 3 never again); row 1: 1, 2, 4 read at t=359
    assert out["cache_write_tokens"].tolist() == [1024, 512, 0, 0, 0, 0]
    # small: (1280 + 376) + (102.4 + 640 + 464) + 130 + 1100 + 500 = 4592.4; big: 1024 × 10 = 10240
    assert cost(applied) == usd("14832.4")
    assert any("foresight" in a for a in applied.details["assumptions"])
