"""Merging a scenario's details across the chunks of a streamed log, so they equal the whole-log ones.

Counts and token or dollar sums add up; settings (TTL, thresholds, the rule's target) are the same in
every chunk and are kept; lists of names are united; rates and shares are recomputed from the merged
counts, never averaged.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

# rate -> (numerator, denominator): the denominator is read from the same dict or, when it has none,
# from the enclosing one (a routing rule's share is of all the routed scenario's requests).
_RATES: dict[str, tuple[str, str]] = {
    "hit_rate": ("hits", "requests"),
    "request_hit_rate": ("hit_requests", "requests"),
    "token_hit_rate": ("cache_read_tokens", "input_tokens"),
    "routed_share": ("routed", "requests"),
    "answered_share": ("answered", "requests"),
    "compressed_share": ("compressed_requests", "requests"),
    "answers_differ_share": ("answers_differ", "compared_hits"),  # semantic cache
    "answers_dissimilar_share": ("answers_dissimilar", "compared_hits"),
    "batch_share": ("batch_requests", "requests"),
    "moved_share": ("moved_requests", "requests"),
    "mean_group_size": ("eligible_requests", "groups"),
}
# Numbers that are settings or per-request figures, not sums.
_SETTINGS = frozenset({
    "ttl_s", "max_entries", "min_tokens", "threshold_tokens", "ratio", "rule", "accept", "latency_ms",
    "assumed_semantic_hit_rate", "error_rates", "model_tiers",
    "measured",  # bench figures per model; its request_share is the last chunk's (see docs/scenarios.md)
    # failover: settings, and p99s each chunk computes from the histograms carried so far (the last is the log's)
    "threshold_ms", "percentile", "window_s", "cooldown_s", "min_requests", "latency_p99_before_ms",
    "latency_p99_after_ms",
    # coalesce: settings, and wait percentiles each chunk computes from the histogram carried so far
    "window_ms", "max_batch", "shared_prefix", "added_latency_ms",
    # semantic cache: settings
    "threshold", "answer_threshold",
})


def merge_details(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """``first`` and ``second`` (the same scenario on two chunks) as one set of details."""
    merged: dict[str, Any] = _merge(first, second)
    _finish(merged, None)
    return merged


def _merge(a: Any, b: Any, key: str = "") -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        if key in _SETTINGS:
            return {**a, **b}
        out = dict(a)
        for k, v in b.items():
            out[k] = _merge(a[k], v, k) if k in a else v
        return out
    if isinstance(a, list) and isinstance(b, list):
        if key in _SETTINGS or any(isinstance(x, dict) for x in [*a, *b]):
            same = len(a) == len(b) and key not in _SETTINGS
            return [_merge(x, y) for x, y in zip(a, b, strict=True)] if same else b
        return list(dict.fromkeys([*a, *b]))  # names (assumptions, models): united, in order
    if key in _SETTINGS or key in _RATES or isinstance(a, bool) or not isinstance(a, (int, float, Decimal)):
        return a if b is None else b
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a + b
    if isinstance(b, (int, float)) and not isinstance(b, bool) and not isinstance(a, Decimal):
        return a + b
    return a


def _finish(details: dict[str, Any], parent: dict[str, Any] | None) -> None:
    from llmcost.scenarios.common import share

    for key, value in details.items():
        if isinstance(value, dict) and key not in _SETTINGS:
            _finish(value, details)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    _finish(item, details)
    for rate, (num, den) in _RATES.items():
        source = details if den in details else parent
        if rate in details and num in details and source is not None and den in source:
            details[rate] = share(float(details[num]), float(source[den]))
    steps = details.get("steps")
    if "expected_latency_ms" in details and isinstance(steps, list) and details.get("requests"):  # cascade
        expected = sum(s["attempted"] * s["latency_ms"] for s in steps) / float(details["requests"])
        details["expected_latency_ms"] = round(expected, 3)
        details["extra_latency_ms_vs_last_step"] = round(expected - steps[-1]["latency_ms"], 3)
    if "expected_billed_attempts" in details and "requests" in details:  # retries
        total = float(details["requests"])
        details["extra_attempts_share"] = share(float(details["expected_billed_attempts"]) - total, total)
