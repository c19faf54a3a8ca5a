"""Prompt-caching replay end to end on the real Mooncake conversation trace (kvcache-ai/Mooncake,
FAST25-release/traces/conversation_trace.jsonl, Apache-2.0; Qin et al., "Mooncake", FAST 2025).

The frame is built from the JSONL here (each hash_id names one 512-token block); the vectorized
replay must agree exactly with a straightforward dict-based replay of the same semantics.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from scenario_helpers import tiny

from llmcost.frame import conform
from llmcost.pricing import price
from llmcost.scenarios.engine import ComposedScenario
from llmcost.scenarios.schema import ScenarioSpec

TRACE = Path(__file__).resolve().parents[3] / "shared" / "traces" / "mooncake_conversation_trace.jsonl"
pytestmark = pytest.mark.skipif(not TRACE.exists(), reason="shared Mooncake trace not available")


def mooncake_frame() -> pd.DataFrame:
    raw = pd.read_json(TRACE, lines=True)
    df = pd.DataFrame({
        "timestamp": pd.Timestamp("2026-11-02T00:00:00Z") + pd.to_timedelta(raw["timestamp"], unit="ms"),
        "model": "big",  # tiny catalog: $10 in, $1 cache read, $12.50 / $20 writes, $20 out
        "input_tokens": raw["input_length"],
        "output_tokens": raw["output_length"],
        "prefix_hashes": raw["hash_ids"],
    })
    return conform(df, source=str(TRACE)).frame


def dict_replay(df: pd.DataFrame, ttl_s: float, min_tokens: int = 1024) -> list[int]:
    """The reference: walk requests in time order, one dict of block → last use."""
    last: dict[int, float] = {}
    out = []
    secs = (df["timestamp"] - df["timestamp"].min()).dt.total_seconds().tolist()
    for now, blocks, n in zip(secs, df["prefix_hashes"], df["input_tokens"], strict=True):
        if n < min_tokens:
            out.append(0)
            continue
        lead = 0
        for b in blocks:
            if b in last and now - last[b] < ttl_s:
                lead += 1
            else:
                break
        for b in blocks:
            last[b] = now
        cached = min(lead * 512, int(n))
        out.append(cached if cached >= min_tokens else 0)
    return out


# (ttl, requests reading the cache, cached tokens, tokens written, token hit rate)
EXPECTED = [
    ("5m", 3_639, 38_139_560, 105_412_200, 0.263406),
    ("1h", 4_630, 50_298_114, 93_253_646, 0.347377),
]


@pytest.mark.parametrize(("ttl", "hits", "read", "written", "token_rate"), EXPECTED)
def test_mooncake_prompt_cache_replay(ttl: str, hits: int, read: int, written: int, token_rate: float) -> None:
    df = mooncake_frame()
    catalog = tiny()
    spec = ScenarioSpec.model_validate({"name": f"pc-{ttl}", "prompt_cache": {"ttl": ttl}})
    applied = ComposedScenario(spec).apply(df, catalog)
    expected = dict_replay(df, 300 if ttl == "5m" else 3600)
    assert applied.frame["cache_read_tokens"].astype(int).tolist() == expected
    info = applied.details["prompt_cache"]
    assert info["requests"] == 12_031
    assert info["replayed_from_prefix_hashes"] == 12_031
    assert info["eligible_requests"] == 10_677  # the rest are under 1,024 tokens
    # every request shares block 0, but a cached run of one 512-token block is under min_tokens: no read
    assert info["hit_requests"] == hits
    assert (info["cache_read_tokens"], info["cache_write_tokens"]) == (read, written)
    assert info["token_hit_rate"] == token_rate
    total_in = int(df["input_tokens"].sum())
    total_out = int(df["output_tokens"].sum())
    write_rate = Decimal("12.5") if ttl == "5m" else Decimal(20)
    by_hand = (Decimal(total_in - read - written) * 10 + Decimal(read) * 1 + Decimal(written) * write_rate
               + Decimal(total_out) * 20) / 1_000_000
    assert price(applied.frame, catalog).total == by_hand


def test_mooncake_through_the_log_reader_and_cli(cli: object, tmp_path: Path) -> None:
    """The same replay via `llmcost estimate` and the Mooncake log reader gives the same numbers."""
    import json

    spec = tmp_path / "pc.yaml"
    spec.write_text("scenarios:\n  - name: pc-5m\n    prompt_cache: {ttl: 5m}\n"
                    "  - name: pc-1h\n    prompt_cache: {ttl: 1h}\n", encoding="utf-8")
    result = cli("estimate", TRACE, "--model", "claude-sonnet-4", "--scenarios", spec,  # type: ignore[operator]
                 "--format", "json")
    if result.exit_code != 0 and "cannot detect" in result.stderr:
        pytest.skip("no Mooncake log reader in this build")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    details = {s["name"]: s.get("details", {}).get("prompt_cache") for s in data["scenarios"]}
    for name, (_, hits, read, written, rate) in zip(("pc-5m", "pc-1h"), EXPECTED, strict=True):
        got = details[name]
        assert (got["hit_requests"], got["cache_read_tokens"], got["cache_write_tokens"]) == (hits, read, written)
        assert got["token_hit_rate"] == rate
