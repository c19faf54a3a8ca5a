"""Routing rules with ``try_first``: a cascade ending at the rule's ``to``, for the requests the rule
matches (how ``llmcost plan --cascades`` writes a cascade chosen for a segment)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from scenario_helpers import apply, cost, frame, usd

from llmcost.scenarios.schema import ScenarioSpec


def test_cascade_rule_next_to_plain_rules_equals_the_hand_sum() -> None:
    df = frame([{"task": "hard"}, {"task": "easy"}, {"task": "other"}])
    spec = {"routing": {"rules": [
        {"when": {"task": "hard"}, "to": "big", "try_first": [{"model": "small", "accept": 0.6}]},
        {"when": {"task": "easy"}, "to": "mid"}]}}
    applied = apply(spec, df)
    # hard: small 1 × (1000×1 + 100×2) = 1200, big 0.4 × 12000 = 4800; easy on mid 4800; other stays on big 12000
    assert cost(applied) == usd(1200 + 4800 + 4800 + 12000)
    [info] = applied.details["routing"]["cascades"]
    assert info["rule"] == 0
    assert [s["answered_share"] for s in info["steps"]] == pytest.approx([0.6, 0.4])
    out = applied.frame
    plain = out["cascade_step"].to_numpy() == -1
    assert sorted(out.loc[plain, "model_id"].astype(str)) == ["big", "mid"]
    assert set(out["served_share"][plain]) == {1.0}


def test_one_rule_for_all_traffic_equals_the_cascade_strategy() -> None:
    df = frame([{"at": i, "input_tokens": 500 + 997 * i, "output_tokens": 30 + i} for i in range(12)])
    steps = [{"model": "small", "accept": 0.35}, {"model": "mid", "accept": 0.5}]
    routed = apply({"routing": {"rules": [{"to": "big", "try_first": steps}]}}, df)
    cascade = apply({"cascade": {"steps": [*steps, {"model": "big", "accept": 1}]}}, df)
    assert cost(routed) == cost(cascade)
    assert np.isclose(routed.frame["weight"].sum(), cascade.frame["weight"].sum())


def test_keep_cheaper_leaves_the_request_out_of_the_cascade() -> None:
    df = frame([{"model": "small"}])
    spec = {"routing": {"keep_cheaper": True, "rules": [
        {"to": "big", "try_first": [{"model": "mid", "accept": 0.5}]}]}}
    assert cost(apply(spec, df)) == usd(1200)  # stays on small: cheaper than the rule's target


@pytest.mark.parametrize("extra", [{"prompt_cache": {"ttl": "5m"}}, {"coalesce": {"window_ms": 1000}}])
def test_try_first_with_prompt_cache_or_coalesce_is_refused(extra: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="try_first cannot be combined"):
        ScenarioSpec.model_validate({"name": "s", "routing": {"rules": [
            {"to": "big", "try_first": [{"model": "small", "accept": 0.5}]}]}, **extra})


def test_bad_try_first_through_the_cli(cli: Any, tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text('{"timestamp": "2026-11-01T00:00:00Z", "model": "gpt-4o", "input_tokens": 10, '
                   '"output_tokens": 5}\n')
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text(yaml.safe_dump({"scenarios": [{"name": "s", "routing": {"rules": [
        {"to": "gpt-4o", "try_first": [{"model": "gpt-4o-mini", "accept": 1.5}]}]}}]}))
    out = cli("estimate", log, "--scenarios", scenarios)
    assert out.exit_code == 2
    assert out.stderr.strip().count("\n") == 0 and "try_first" in out.stderr


def test_latency_of_a_try_first_rule_adds_the_earlier_step() -> None:
    """As for the cascade strategy, the evidence times a request escalated by a routing rule's cascade as
    both calls; a request of a plain rule as its model's."""
    import pandas as pd

    from llmcost.evidence import scenario_latency
    from llmcost.evidence.bench import BenchEvidence, LatencySample

    ev = BenchEvidence({}, {"a": LatencySample("a", np.array([10.0]), np.array([100.0])),
                            "b": LatencySample("b", np.array([30.0]), np.array([1000.0]))})
    frame = pd.DataFrame({"model_id": pd.Categorical(["b", "a", "b"]),
                          "task": pd.array(["u", "t", "t"], dtype="string"),
                          "weight": np.array([2.0, 1.0, 0.5]), "cascade_step": np.array([-1.0, 0.0, 1.0]),
                          "served_share": np.array([1.0, 0.5, 1.0])})
    details = {"routing": {"cascades": [{"rule": 0, "steps": [{"model": "a", "answered": 0.5},
                                                              {"model": "b", "answered": 0.5}]}]}}
    lat = scenario_latency(frame, ev, details=details)
    # 2 requests on b alone (1000 ms), 0.5 answered by a (100 ms), 0.5 by a then b (1100 ms)
    assert lat.e2e_ms.p50 == pytest.approx(1000.0, rel=2e-3)
    assert lat.e2e_ms.p99 == pytest.approx(1100.0, rel=2e-3)
    without = scenario_latency(frame, ev, details={})
    assert without.e2e_ms.p99 == pytest.approx(1000.0, rel=2e-3)
