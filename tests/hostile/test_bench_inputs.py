"""Bench options a user can get wrong: a malformed --endpoint URL or an empty --model is one line before anything
is sent, and -n 100000000 is planned and priced as a number, not as 100 million objects."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from llmcost.bench.runner import plan
from llmcost.bench.suite import load_suite
from llmcost.bench.targets import Target

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "suites" / "sample.yaml"


@pytest.mark.parametrize(("url", "says"), [
    ("http://[::1", "not a valid URL (Invalid IPv6 URL)"),
    ("http://127.0.0.1:99999/v1", "Port out of range"),
    ("ftp://host/v1", "must be an http(s) URL"),
    ("http://", "must be an http(s) URL with a host"),
    ("http://ho st/v1", "whitespace or a control character"),
    ("http://user:hunter2@host:0/v1", "bad port"),
])
def test_a_malformed_endpoint_is_one_line(cli: Any, url: str, says: str) -> None:
    out = cli("bench", SUITE, "--dry-run", "--endpoint", url, "--model", "m")
    assert out.exit_code == 2
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and says in lines[0], out.stderr
    assert "hunter2" not in out.stderr


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_model_is_refused(cli: Any, name: str) -> None:
    out = cli("bench", SUITE, "--dry-run", "--endpoint", "http://127.0.0.1:9/v1", "--model", name)
    assert out.exit_code == 2 and "--model is empty" in out.stderr


def test_a_hundred_million_repetitions_are_priced_without_being_listed(cli: Any) -> None:
    cases = len(load_suite(SUITE).cases)
    out = cli("bench", SUITE, "--dry-run", "--endpoint", "http://127.0.0.1:9/v1", "--model", "gpt-4o",
              "-n", "100000000", "--format", "json")
    assert out.exit_code == 0, out.stderr
    small = cli("bench", SUITE, "--dry-run", "--endpoint", "http://127.0.0.1:9/v1", "--model", "gpt-4o",
                "-n", "1", "--format", "json")
    big, one = json.loads(out.stdout), json.loads(small.stdout)
    assert big["requests"] == 100_000_000 * cases
    from decimal import Decimal

    assert Decimal(str(big["projected_cost_usd"])) == Decimal(str(one["projected_cost_usd"])) * 100_000_000


def test_the_lazy_plan_is_the_list_it_replaces() -> None:
    suite = load_suite(SUITE)
    targets = [Target("a", "openai", "http://x", "a"), Target("b", "openai", "http://x", "b")]
    rng = random.Random(7)
    for reps in (1, 3):
        every = [(c.id, t.name, r) for r in range(reps) for c in suite.cases for t in targets]
        for skip in (set(), set(rng.sample(every, len(every) // 3)), {("nope", "a", 0)}):
            planned = plan(suite.cases, targets, reps, skip)
            expected = [k for k in every if k not in skip]
            assert [j.key for j in planned] == expected
            assert len(planned) == len(expected)
            assert [planned[i].key for i in range(len(planned))] == expected
            assert planned[-1].key == expected[-1]
            with pytest.raises(IndexError):
                planned[len(expected)]
