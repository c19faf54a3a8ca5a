"""The vectorized per-key pricing check uses for many tasks equals pricing each task's rows alone, to the last
digit, on traffic with every billing rule that changes a rate: price periods, long context, batch, service tiers
(with and without a card), request fees, cache reads and writes, unknown models, missing tasks."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from llmcost.breakdowns.keys import row_keys
from llmcost.catalog import load_catalog
from llmcost.key_costs import costs_by_key
from llmcost.pricing import price

MODELS = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "claude-opus-4-6", "deepseek-chat", "gemini-2.5-pro",
          "perplexity/pplx-7b-online", "no-such-model", "another-unknown"]


def traffic(seed: int, rows: int = 4000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    input_tokens = rng.choice([0, 50, 1_000, 30_000, 250_000], rows)
    cache_read = np.minimum(input_tokens, rng.choice([0, 0, 512, 20_000], rows))
    cache_write = np.minimum(input_tokens - cache_read, rng.choice([0, 0, 1024], rows))
    frame = pd.DataFrame({
        "timestamp": pd.Timestamp("2025-08-20", tz="UTC") + pd.to_timedelta(rng.integers(0, 40 * 86400, rows), "s"),
        "model": rng.choice(MODELS, rows),
        "task": rng.choice(np.array(["a", "b", "c", None, "d", "e"], dtype=object), rows),
        "weight": np.ones(rows),
        "input_tokens": input_tokens, "cache_read_tokens": cache_read, "cache_write_tokens": cache_write,
        "cache_write_1h_tokens": np.zeros(rows, dtype=np.int64),
        "output_tokens": rng.integers(0, 5000, rows), "reasoning_tokens": np.zeros(rows, dtype=np.int64),
        "batch": rng.random(rows) < 0.2,
    })
    # Service tiers where they exist (priority on gpt-4o), and one tier without a card: gpt-4o-mini in task e
    # is then unpriced in that task only.
    tier = np.where((frame["model"] == "gpt-4o") & (rng.random(rows) < 0.3), "priority", None)
    tier = np.where((frame["model"] == "gpt-4o-mini") & (frame["task"] == "e"), "no-card-tier", tier)
    frame["service_tier"] = pd.Series(tier, dtype=object)
    # Audio input on gpt-4o-mini in task d: no audio rate in the catalog, so gpt-4o-mini is unpriced in task d
    # while its other kinds there have rates (the whole model is left out of that task, as price_groups does).
    frame["audio_input_tokens"] = np.where((frame["model"] == "gpt-4o-mini") & (frame["task"] == "d"),
                                           np.minimum(frame["input_tokens"] - cache_read - cache_write, 10), 0)
    return frame


def by_task_alone(frame: pd.DataFrame, catalog: object) -> dict[str, tuple[Decimal, float]]:
    out = {}
    task = frame["task"].fillna("(none)")
    for name in sorted(task.unique()):
        priced = price(frame[task == name], catalog)  # type: ignore[arg-type]
        out[name] = (priced.total, sum(m.tokens.requests for m in priced.priced))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_every_task_costs_what_pricing_it_alone_costs(seed: int) -> None:
    catalog = load_catalog("default")
    frame = traffic(seed)
    keys = row_keys(frame, ("task",))
    got = costs_by_key(frame, catalog, keys.codes, keys.n_keys)
    assert got is not None
    vectorized = {keys.decode(k)[0]: (got.cost[k], float(got.priced_requests[k])) for k in range(keys.n_keys)}
    alone = by_task_alone(frame, catalog)
    assert vectorized.keys() == alone.keys()
    for name, (cost, requests) in alone.items():
        assert vectorized[name][0] == cost, name
        assert vectorized[name][1] == requests, name
    assert all(cost != 0 for cost, _ in alone.values())
    mini_in_e = price(frame[(frame.task == "e") & (frame.model == "gpt-4o-mini")], load_catalog("default"))
    assert mini_in_e.total == 0 and mini_in_e.unpriced  # the tier without a card is left out, not priced


def test_fractional_traffic_is_left_to_key_by_key_pricing() -> None:
    frame = traffic(1, rows=50)
    frame["weight"] = 0.5
    keys = row_keys(frame, ("task",))
    assert costs_by_key(frame, load_catalog("default"), keys.codes, keys.n_keys) is None
