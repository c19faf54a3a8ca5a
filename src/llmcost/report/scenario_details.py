"""One-line summaries of a scenario's details (hit rates, routed shares, refusals, cascade steps),
shared by the estimate table and any text renderer. Pure: dict in, strings out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from llmcost.report.money import count, usd


def _pct(value: Any) -> str:
    return f"{float(value) * 100:.1f}%"


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"


def summary_lines(details: dict[str, Any]) -> list[str]:
    """Human lines for every strategy present in ``details``, in the order they were applied."""
    lines: list[str] = []
    for key, render in _RENDERERS:
        if key in details:
            lines.append(render(details[key]))
    return lines


def _exact(d: dict[str, Any]) -> str:
    if d.get("note"):
        return f"exact cache: {d['note']}"
    bound = f", max {d['max_entries']:,} entries (LRU)" if d.get("max_entries") else ""
    text = (f"exact cache (TTL {_duration(d['ttl_s'])}{bound}): {_pct(d['hit_rate'])} hit rate "
            f"({count(d['hits'])} of {count(d['requests'])} requests), {count(d['input_tokens_saved'])} input "
            f"and {count(d['output_tokens_saved'])} output tokens not sent")
    if d.get("assumed_semantic_hit_rate"):
        text += f"; ASSUMED semantic hits on {_pct(d['assumed_semantic_hit_rate'])} of misses"
    return text


def _compression(d: dict[str, Any]) -> str:
    via = f" by {d['compressor']}" if d.get("compressor") else ""
    return (f"compression{via}: {count(d['compressed_requests'])} requests ({_pct(d['compressed_share'])}) over "
            f"{d['threshold_tokens']:,} tokens cut to {d['ratio']:.0%}, {count(d['input_tokens_removed'])} input "
            "tokens removed")


def _routing(d: dict[str, Any]) -> str:
    parts = [f"{_pct(r['routed_share'])} → {r['model']}" for r in d["rules"] if r["routed"]]
    text = f"routing: {_pct(d['routed_share'])} of requests rerouted ({', '.join(parts) or 'none'})"
    if d.get("context_window_refusals"):
        text += f"; {count(d['context_window_refusals'])} refused by a context window (kept on their model)"
    if d.get("tokens_recounted_requests"):
        text += f"; {d['tokens_recounted_requests']:,} re-counted with the target tokenizer"
    return text


def _cascade(d: dict[str, Any]) -> str:
    steps = ", ".join(f"{s['model']} answers {_pct(s['answered_share'])}" for s in d["steps"])
    text = f"cascade: {steps}"
    if "expected_latency_ms" in d:
        text += (f"; expected latency {d['expected_latency_ms']:,.0f} ms "
                 f"({d['extra_latency_ms_vs_last_step']:+,.0f} ms vs the last step alone)")
    refused = sum(s["context_window_refusals"] for s in d["steps"])
    if refused:
        text += f"; {count(refused)} step(s) skipped for context window"
    return text


def _prompt(d: dict[str, Any]) -> str:
    return (f"prompt caching (TTL {d['ttl']}): {_pct(d['request_hit_rate'])} of requests read the cache, "
            f"{_pct(d['token_hit_rate'])} of input tokens cached "
            f"({count(d['replayed_from_prefix_hashes'])} requests replayed from prefix_hashes)")


def _coalesce(d: dict[str, Any]) -> str:
    wait = d["added_latency_ms"]
    text = (f"coalescing (≤{d['max_batch']} within {d['window_ms']:g} ms): {count(d['eligible_requests'])} requests "
            f"sent as {count(d['groups'])} (mean group {d['mean_group_size']:.2f}); "
            f"{count(d['prefix_tokens_saved'])} shared-prefix tokens not re-sent")
    if d["overhead_input_tokens"] or d["overhead_output_tokens"]:
        text += (f", {count(d['overhead_input_tokens'])} input and {count(d['overhead_output_tokens'])} output "
                 "tokens added (separators, instructions)")
    return text + f"; added wait p50 {wait['p50']:,.0f} ms, p95 {wait['p95']:,.0f} ms, p99 {wait['p99']:,.0f} ms"


def _failover(d: dict[str, Any]) -> str:
    cooldown = f", cooldown {_duration(d['cooldown_s'])}" if d["cooldown_s"] else ""
    before, after = d["latency_p99_before_ms"], d["latency_p99_after_ms"]
    p99 = f"; p99 latency {before:,.0f} → {after:,.0f} ms" if before is not None and after is not None else ""
    unknown = f" ({count(d['moved_latency_unknown'])} moved with no target latency)" \
        if d["moved_latency_unknown"] else ""
    return (f"failover (p{d['percentile']:g} > {d['threshold_ms']:,.0f} ms over {_duration(d['window_s'])}{cooldown}) "
            f"→ {d['target']}: {count(d['moved_requests'])} requests moved ({_pct(d['moved_share'])}), "
            f"{d['shed_intervals']:,} shed intervals, {float(d['time_shed_s']) / 3600:,.1f} h shed; cost of the "
            f"moved requests {_usd(d['cost_before_usd'])} → {_usd(d['cost_after_usd'])}{p99}{unknown}")


def _usd(value: Any) -> str:
    """Dollars from the estimate (a Decimal) or from its JSON dict (a number, for the HTML page)."""
    return usd(None if value is None else Decimal(str(value)))


def _batch(d: dict[str, Any]) -> str:
    text = f"batch: {count(d['moved_requests'])} requests moved; {_pct(d['batch_share'])} of traffic at batch rates"
    if d.get("models_without_batch_pricing"):
        text += f" (no batch price, billed standard: {', '.join(d['models_without_batch_pricing'])})"
    return text


def _retries(d: dict[str, Any]) -> str:
    return (f"retries: {_pct(d['extra_attempts_share'])} extra billed attempts; "
            f"{count(d['failed_after_fallback'])} requests still failing after the fallback chain")


def _semantic(d: dict[str, Any]) -> str:
    from llmcost.report.semantic import summary_line

    return summary_line(d)


_RENDERERS = (
    ("exact_cache", _exact), ("semantic_cache", _semantic), ("failover", _failover),
    ("compression", _compression), ("routing", _routing), ("cascade", _cascade),
    ("prompt_cache", _prompt), ("coalesce", _coalesce), ("batch", _batch), ("retries", _retries),
)
