"""Many names kept as columns give exactly what one object per name gave: per-task verdicts (statuses decided
exactly at the limit, shown and listed in the same order), unknown models' rows, rests and "incomplete" lists,
checked against the per-object algorithms the columnar code replaced (kept here as references)."""

from __future__ import annotations

import json
import pickle
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from llmcost.budget.verdict import Verdict
from llmcost.budget.verdict_set import STATUSES, ByName, RuleVerdicts, Verdicts, as_verdicts
from llmcost.catalog import load_catalog
from llmcost.name_sums import NameSums
from llmcost.pricing import PricedTraffic, TokenGroups, TokenSums, aggregate, describe_unpriced, price, price_groups
from llmcost.report.check_view import SHOWN_VERDICTS, shown_verdicts
from llmcost.report.model_rows import RestRow, busiest_across


def _frame(models: list[str], requests: list[int], task: list[str] | None = None) -> pd.DataFrame:
    n = len(models)
    frame = pd.DataFrame({
        "timestamp": pd.to_datetime(["2026-11-01T00:00:00Z"] * n), "model": models,
        "weight": requests, "input_tokens": [1000 * r for r in requests], "cache_read_tokens": [0] * n,
        "cache_write_tokens": [0] * n, "cache_write_1h_tokens": [0] * n,
        "output_tokens": [10 * r for r in requests], "reasoning_tokens": [0] * n, "batch": [False] * n})
    if task is not None:
        frame["task"] = task
    return frame


# ---- per-task rules: statuses exact at the limit ------------------------------------------------------------

def _write_log(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_task_exactly_at_its_limit_passes_and_a_token_more_fails(cli: Any, tmp_path: Path) -> None:
    """$0.10 observed × 3 (30 days / a 10-day window) is exactly $0.30: in floats 0.1 * 3.0 > 0.3, so a status
    decided in floats alone would fail the task that is exactly at its limit."""
    rows = [{"timestamp": "2026-11-01T00:00:00Z", "model": "gpt-4o", "task": "at-limit", "input_tokens": 40_000,
             "output_tokens": 0},
            {"timestamp": "2026-11-01T00:00:00Z", "model": "gpt-4o", "task": "over", "input_tokens": 40_001,
             "output_tokens": 0}]
    log = _write_log(tmp_path / "log.jsonl", rows)
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"version: 1\ninputs:\n  logs: ['{log}']\n  catalog: frontier\n  window_days: 10\nrules:\n"
                      "  - name: per-task\n    kind: monthly_spend\n    per: task\n    max_usd: 0.3\n"
                      "  - name: unit\n    kind: cost_per_1k_requests\n    per: task\n    max_usd: 100\n")
    out = cli("check", "--policy", policy, "--format", "json")
    data = json.loads(out.stdout)
    got = {(v["rule"], v["subject"]): (v["status"], v["actual"]) for v in data["verdicts"]}
    assert got[("per-task", "task at-limit")] == ("pass", 0.3)
    assert got[("per-task", "task over")][0] == "fail"
    assert got[("unit", "task at-limit")] == ("pass", 100.0)  # $0.10 per request × 1000: exactly the limit
    assert got[("unit", "task over")][0] == "fail"
    assert out.exit_code == 1 and data["summary"] == {"failed": 2, "warnings": 0, "skipped": 0, "passed": 2}


def test_per_task_verdicts_equal_pricing_each_task_alone(cli: Any, tmp_path: Path) -> None:
    """Every per-task verdict (order, status, actual) as the per-object code made it: each task priced alone,
    projected, compared in Decimal; tasks listed by name."""
    rng = np.random.default_rng(3)
    models = ["gpt-4o", "gpt-4o-mini", "no-such-model"]
    rows = [{"timestamp": f"2026-11-0{1 + i % 3}T00:00:00Z", "model": models[int(rng.integers(0, 3))],
             "task": f"t{int(rng.integers(0, 400))}", "input_tokens": int(rng.integers(0, 200_000)),
             "output_tokens": int(rng.integers(0, 3000))} for i in range(3000)]
    log = _write_log(tmp_path / "log.jsonl", rows)
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"version: 1\ninputs:\n  logs: ['{log}']\n  catalog: frontier\n  window_days: 3\nrules:\n"
                      "  - name: per-task\n    kind: monthly_spend\n    per: task\n    max_usd: 20\n"
                      "    severity: warn\n")
    data = json.loads(cli("check", "--policy", policy, "--format", "json").stdout)
    frame = pd.DataFrame(rows)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    for column in ("cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens", "reasoning_tokens"):
        frame[column] = 0
    frame["weight"], frame["batch"] = 1, False
    catalog = load_catalog("frontier")
    factor = Decimal(10)  # 30 days / a 3-day window
    expected = []
    for name in sorted(frame["task"].unique()):
        alone = price(frame[frame["task"] == name], catalog).total
        expected.append((f"task {name}", "warn" if alone * factor > 20 else "pass"))
    got = [(v["subject"], v["status"]) for v in data["verdicts"]]
    assert got == expected
    assert 0 < data["summary"]["warnings"] < len(expected)


# ---- the verdict sequence: shown, listed and counted as the per-object code did -----------------------------

def _verdict(rule: str, subject: str, status: str) -> Verdict:
    over = status in ("fail", "warn")
    return Verdict(rule, "monthly_spend", subject, "monthly cost", "warn" if status == "warn" else "error", "max",
                   Decimal(1), Decimal(2 if over else 0), "usd", skipped=status == "skip")


def _old_shown(verdicts: list[Verdict], limit: int) -> tuple[list[Verdict], dict[str, int]]:
    """report.check_view.shown_verdicts as it was, one object per verdict."""
    if len(verdicts) <= limit:
        return list(verdicts), {}
    urgent = [i for i, v in enumerate(verdicts) if v.status in ("fail", "warn")][:limit]
    others = [i for i, v in enumerate(verdicts) if v.status not in ("fail", "warn")][:limit - len(urgent)]
    keep = set(urgent) | set(others)
    counts: dict[str, int] = {}
    for i, v in enumerate(verdicts):
        if i not in keep:
            counts[v.status] = counts.get(v.status, 0) + 1
    return [v for i, v in enumerate(verdicts) if i in keep], counts


@pytest.mark.parametrize("seed", range(5))
def test_blocks_show_list_and_count_like_one_object_per_verdict(seed: int) -> None:
    rng = np.random.default_rng(seed)
    parts: list[Verdict | RuleVerdicts] = []
    flat: list[Verdict] = []
    for b in range(3):
        parts.append(_verdict("total", f"total {b}", str(rng.choice(STATUSES))))
        flat.append(parts[-1])  # type: ignore[arg-type]
        names = [f"task {rng.integers(0, 10**6):06d}-{b}-{i}" for i in range(int(rng.integers(0, 300)))]
        statuses = rng.choice([0, 0, 0, 1, 2], len(names)).astype(np.int8)  # a few failures and warnings
        made = {i: _verdict(f"per-task-{b}", names[i], STATUSES[statuses[i]]) for i in range(len(names))}
        parts.append(RuleVerdicts(statuses, made.__getitem__, ByName.of(names)))
        flat += [made[i] for i in sorted(range(len(names)), key=names.__getitem__)]
    every = Verdicts(parts)
    assert list(every) == flat and len(every) == len(flat)
    assert [every[i] for i in range(len(flat))] == flat
    for limit in (0, 5, SHOWN_VERDICTS, 10_000):
        assert every.shown(limit) == _old_shown(flat, limit)
    assert shown_verdicts(every) == _old_shown(flat, SHOWN_VERDICTS)
    for status in STATUSES:
        assert every.count(status) == sum(v.status == status for v in flat)
        assert every.with_status(status) == [v for v in flat if v.status == status]
    assert as_verdicts(flat).shown(7) == _old_shown(flat, 7)


def test_names_sort_as_python_sorts_them() -> None:
    names = ["b", "a", "Z", "é", "ä", "日本", "a b", "😀", "(none)", "task-10", "task-9"]
    order = ByName.of(names)
    assert [names[i] for i in order.order.tolist()] == sorted(names)
    assert [names[i] for i in order.first(np.arange(len(names)), 4).tolist()] == sorted(names)[:4]
    assert order.index("日本") == names.index("日本") and order.index("missing") is None
    odd = ByName.of(["b", "\ud800x", "a"])  # a lone surrogate: kept, sorted by code point
    assert [odd.name(i) for i in odd.order.tolist()] == ["a", "b", "\ud800x"]


# ---- unknown models as columns ------------------------------------------------------------------------------

def _many(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = [f"custom-{i % 97}" if i % 5 else "gpt-4o" for i in range(n)]
    return _frame(names, [int(r) for r in rng.integers(1, 4, n)])


def test_unknown_models_price_as_one_object_each_did() -> None:
    catalog = load_catalog("frontier")
    frame = _many(1)
    priced = price(frame, catalog)
    assert isinstance(aggregate(frame, catalog).unknown, NameSums)
    by_hand = frame[frame["model"] != "gpt-4o"].groupby("model")[["weight", "input_tokens", "output_tokens"]].sum()
    unknown = [m for m in priced.by_model if m.cost is None]
    assert [m.model for m in unknown] == sorted(by_hand.index)
    for m in unknown:
        row = by_hand.loc[m.model]
        assert (m.tokens.requests, m.tokens.input_tokens, m.tokens.output_tokens) == tuple(row.tolist())
        assert isinstance(m.tokens.requests, int) and m.unpriced_reason.startswith("not in catalog")
    old = PricedTraffic(priced.by_model)  # the same models, every one an object
    assert describe_unpriced(priced) == describe_unpriced(priced.unpriced) == describe_unpriced(old)
    assert priced.tokens == old.tokens and priced.total == old.total and priced.unpriced_count == len(unknown)
    assert priced.unpriced_requests() == [(m.model, m.tokens.requests) for m in unknown]
    assert priced.busiest_unpriced(7) == sorted(unknown, key=lambda m: (-m.tokens.requests, m.model))[:7]


def test_name_sums_merge_pickle_and_change_like_a_dict() -> None:
    catalog = load_catalog("frontier")
    a, b = aggregate(_many(1), catalog), aggregate(_many(2, 300).iloc[::2], catalog)
    merged = a.merge(b)
    assert isinstance(merged.unknown, NameSums)
    plain = TokenGroups(a.known, dict(a.unknown)).merge(TokenGroups(b.known, dict(b.unknown)))
    assert dict(merged.unknown) == dict(plain.unknown)
    assert price_groups(merged, catalog).by_model == price_groups(plain, catalog).by_model
    copy = pickle.loads(pickle.dumps(merged.unknown))
    assert dict(copy) == dict(merged.unknown)
    extra = TokenSums(2, 20, 0, 0, 0, 0, 2, 0, 0, 0)
    copy["zzz"] = extra
    copy["custom-1"] = extra
    del copy["custom-2"]
    assert copy["zzz"] == extra == copy["custom-1"] and "custom-2" not in copy and len(copy) == len(merged.unknown)


def _old_requests_by_model(scenarios: list[Any], limit: int) -> tuple[list[str], list[tuple[float, list[Decimal],
                                                                                              int]]]:
    """report.estimate_table._requests_by_model's ranking and rest as it was, one object per model."""
    per = [{m.model: m for m in s.priced.by_model} for s in scenarios]
    busy: dict[str, float] = {}
    for s in scenarios:
        for m in s.priced.by_model:
            busy[m.model] = busy.get(m.model, 0.0) + m.tokens.requests
    ranked = sorted(busy, key=lambda name: -busy[name])
    rest = ranked[limit:]
    cells = []
    for models in per:
        others = [models[n] for n in rest if n in models]
        cells.append((float(sum(m.tokens.requests for m in others)), [m.cost for m in others if m.cost is not None],
                      len(others)))
    return ranked[:limit], cells


class _Outcome:
    def __init__(self, priced: PricedTraffic):
        self.priced = priced


@pytest.mark.parametrize("seed", range(4))
def test_busiest_models_across_scenarios_rank_as_before(seed: int) -> None:
    """Ties (many names with the same requests) break by first appearance, scenario by scenario; scenarios
    may lose or gain names."""
    catalog = load_catalog("frontier")
    base = _many(seed)
    fewer = base[base["model"] != "custom-3"].copy()
    fewer["model"] = fewer["model"].replace({"custom-5": "gpt-4o-mini", "custom-7": "aaa-name"})
    scenarios = [_Outcome(price(f, catalog)) for f in (base, fewer, base.iloc[::3])]
    for limit in (1, 5, 25, 1000):
        shown, cells, n_rest = busiest_across(tuple(scenarios), limit)  # type: ignore[arg-type]
        old_shown, old_cells = _old_requests_by_model(scenarios, limit)
        assert shown == old_shown
        assert [(c.requests, c.priced, c.models) for c in cells] == old_cells
        assert n_rest == len({m.model for s in scenarios for m in s.priced.by_model}) - len(shown)


def test_the_rest_row_sums_what_one_object_per_model_summed() -> None:
    catalog = load_catalog("frontier")
    priced = price(_many(5), catalog)
    for rows in (1, 3, 25):
        ordered = list(priced.priced) + sorted(priced.unpriced, key=lambda m: (-m.tokens.requests, m.model))
        shown = (list(priced.priced) + priced.busiest_unpriced(max(0, rows - len(priced.priced))))[:rows]
        assert shown == ordered[:rows]
        rest = RestRow.of(priced, shown)
        old = ordered[rows:]
        assert rest.models == len(old)
        assert rest.costs == [m.cost for m in old if m.cost is not None]
        assert rest.tokens == TokenSums(*(sum(getattr(m.tokens, f) for m in old)
                                          for f in TokenSums.__dataclass_fields__))


def _old_beyond(base: PricedTraffic, mine: PricedTraffic) -> tuple[Any, ...]:
    had = {m.model: m.tokens.requests for m in base.unpriced}
    kept = {m.model for m in mine.unpriced}
    extra = [m for m in mine.unpriced if m.tokens.requests > had.get(m.model, 0) * (1 + 1e-9)]
    return (*extra, *[m for m in base.unpriced if m.model not in kept])


def test_unpriced_beyond_the_baseline_as_before() -> None:
    from llmcost.pricing import unpriced_beyond

    catalog = load_catalog("frontier")
    base = _many(7)
    more = base.copy()
    more.loc[more["model"] == "custom-11", "weight"] += 5  # more requests than the baseline's
    more["model"] = more["model"].replace({"custom-12": "gpt-4o", "gpt-4o": "custom-new"})  # moved both ways
    for a, b in ((base, base), (base, more), (more, base), (base, base.iloc[::2])):
        pa, pb = price(a, catalog), price(b, catalog)
        assert unpriced_beyond(pa, pb) == _old_beyond(pa, pb)
    assert unpriced_beyond(price(base, catalog), price(more, catalog))  # the case is not empty


def test_huge_token_counts_are_priced_exactly_with_python_integers() -> None:
    """Sums past int64's reach switch key_costs to Python integers: still each task's exact cost."""
    from llmcost.breakdowns.keys import row_keys
    from llmcost.key_costs import costs_by_key

    catalog = load_catalog("frontier")
    frame = _frame(["gpt-4o", "gpt-4o", "gpt-4o-mini", "no-such"], [1, 1, 1, 1], ["a", "b", "a", "b"])
    frame["input_tokens"] = [2**52, 3, 2**51 + 1, 7]
    keys = row_keys(frame, ("task",))
    got = costs_by_key(frame, catalog, keys.codes, keys.n_keys)
    assert got is not None and got.numerators.dtype == object
    for k in range(keys.n_keys):
        task = keys.decode(k)[0]
        assert got.cost[k] == price(frame[frame["task"] == task], catalog).total
    small = costs_by_key(frame.assign(input_tokens=[5, 3, 1, 7]), catalog, keys.codes, keys.n_keys)
    assert small is not None and small.numerators.dtype == np.int64


def test_equal_requests_rank_by_first_appearance_not_by_name() -> None:
    catalog = load_catalog("frontier")
    first = _Outcome(price(_frame(["custom-b", "custom-c", "gpt-4o"], [2, 2, 1]), catalog))
    later = _Outcome(price(_frame(["aaa"], [2]), catalog))
    for limit, expected in ((1, ["custom-b"]), (2, ["custom-b", "custom-c"]), (3, ["custom-b", "custom-c", "aaa"])):
        shown, _cells, n_rest = busiest_across((first, later), limit)  # type: ignore[arg-type]
        assert shown == expected == _old_requests_by_model([first, later], limit)[0]
        assert n_rest == 4 - limit


def test_text_columns_become_the_categoricals_pyarrow_made() -> None:
    """The reader builds categoricals from Arrow's dictionary (no Python string per distinct task, no
    uniqueness check): the frame equals pyarrow's own conversion, nulls, codes' width and category order too."""
    import pyarrow as pa

    from llmcost.logs.native import table_to_pandas

    rng = np.random.default_rng(0)
    for distinct in (3, 200, 40_000):
        tasks = [None if i % 97 == 0 else f"task-{int(rng.integers(0, distinct))}-é" for i in range(60_000)]
        table = pa.table({"model": pa.array([f"m{i % 5}" for i in range(60_000)]), "task": pa.array(tasks),
                          "input_tokens": pa.array(np.arange(60_000))})
        table = pa.Table.from_batches(table.to_batches(max_chunksize=7_000))  # several chunks
        expected = pa.table({n: table.column(n).dictionary_encode() if n != "input_tokens" else table.column(n)
                             for n in table.column_names}).to_pandas()
        got = table_to_pandas(table)
        pd.testing.assert_frame_equal(got, expected)
        assert got["task"].cat.codes.dtype == expected["task"].cat.codes.dtype


def test_the_fast_json_list_is_what_json_dumps_writes() -> None:
    from llmcost.report.json_text import dumps, flat_list

    items: list[dict[str, Any]] = [
        {"rule": "r", "subject": "task \"quoted\" é \u202e\n", "limit": 0.3, "actual": None, "n": 3, "ok": True},
        {"x": float("nan"), "y": -1e-7, "z": 12345678901234.5, "b": False},
        {"nested": {"a": [1, 2]}, "text": "t"},
        {},
    ]
    expected = json.dumps({"k": items}, indent=2, ensure_ascii=False)
    got = json.dumps({"k": []}, indent=2, ensure_ascii=False).replace('"k": []', f'"k": {flat_list(items, 1)}')
    assert got == expected
    assert f"[\n  {flat_list(items, 1)}\n]" == json.dumps([items], indent=2, ensure_ascii=False)
    many = {"a": {"b": items * 40, "c": [items * 20, 1]}, "d": items * 16, "e": [{"f": items * 30}]}
    for ascii_only in (True, False):
        assert dumps(many, ensure_ascii=ascii_only) == json.dumps(many, indent=2, ensure_ascii=ascii_only)
