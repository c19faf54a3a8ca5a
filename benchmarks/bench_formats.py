"""Log readers at scale: 1M-line files of each source format, generated here in a temp dir (never committed).

    .venv/bin/python benchmarks/bench_formats.py [--lines 1000000] [--formats openai-chat,claude-code] [--slow]

For every format it writes one file of realistic records (the real field names, message content and
all), then times ``llmcost.logs.read_logs`` on it with ``time.perf_counter``: detection, parsing,
validation and normalization, exactly what ``llmcost estimate`` does. Target: nested JSON formats under
15 s per 1M lines on a 2-core machine. ``--slow`` also times the line-by-line fallback (a file whose
last line is truncated, read with ``--skip-bad``), which is what a malformed file costs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from llmcost.logs import read_logs

T0 = 1759650000
TEXT = "Sure. Here is a short answer that stands for the assistant's reply, with some more words in it."


def _numbers(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    inp = np.clip(rng.lognormal(7.5, 1.0, n), 20, 150_000).astype(np.int64)
    return {
        "t": T0 + np.sort(rng.integers(0, 7 * 86400, n)),
        "inp": inp,
        "cached": (inp * rng.choice([0, 0, 0.5, 0.9], n)).astype(np.int64) // 64 * 64,
        "out": np.clip(rng.lognormal(5.0, 1.0, n), 1, 8000).astype(np.int64),
        "i": np.arange(n),
    }


def _lines(template: str, n: int, seed: int, extra: Callable[[dict[str, int]], dict[str, object]] | None = None
           ) -> list[str]:
    cols = _numbers(n, seed)
    keys = list(cols)
    rows = zip(*(cols[k].tolist() for k in keys), strict=True)
    out = []
    for values in rows:
        record = dict(zip(keys, values, strict=True))
        if extra is not None:
            record.update(extra(record))
        out.append(template.format(**record, text=TEXT))
    return out


CHAT = ('{{"id":"chatcmpl-{i}","object":"chat.completion","created":{t},"model":"gpt-4o-mini-2024-07-18",'
        '"choices":[{{"index":0,"message":{{"role":"assistant","content":"{text}","refusal":null}},'
        '"logprobs":null,"finish_reason":"stop"}}],"usage":{{"prompt_tokens":{inp},"completion_tokens":{out},'
        '"total_tokens":0,"prompt_tokens_details":{{"cached_tokens":{cached},"audio_tokens":0}},'
        '"completion_tokens_details":{{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,'
        '"rejected_prediction_tokens":0}}}},"service_tier":"default","system_fingerprint":"fp_bench"}}')
RESPONSES = ('{{"id":"resp_{i}","object":"response","created_at":{t},"status":"completed","model":"gpt-4o",'
             '"output":[{{"type":"message","id":"msg_{i}","status":"completed","role":"assistant",'
             '"content":[{{"type":"output_text","text":"{text}","annotations":[]}}]}}],'
             '"usage":{{"input_tokens":{inp},"input_tokens_details":{{"cached_tokens":{cached}}},'
             '"output_tokens":{out},"output_tokens_details":{{"reasoning_tokens":0}},"total_tokens":0}}}}')
BATCH = ('{{"id":"batch_req_{i}","custom_id":"request-{i}","response":{{"status_code":200,"request_id":"req_{i}",'
         '"body":' + CHAT.replace("{{", "\x00").replace("}}", "\x01") + '}},"error":null}}')
BATCH = BATCH.replace("\x00", "{{").replace("\x01", "}}")
ANTHROPIC_USAGE = ('"usage":{{"input_tokens":{uncached},"cache_creation_input_tokens":{written},'
                   '"cache_read_input_tokens":{cached},"cache_creation":{{"ephemeral_5m_input_tokens":{written},'
                   '"ephemeral_1h_input_tokens":0}},"output_tokens":{out},"service_tier":"standard"}}')
MESSAGE = ('"id":"msg_{i}","type":"message","role":"assistant","model":"claude-sonnet-4-20250514",'
           '"content":[{{"type":"text","text":"{text}"}}],"stop_reason":"end_turn","stop_sequence":null,'
           + ANTHROPIC_USAGE)
ANTHROPIC = '{{"timestamp":{t},' + MESSAGE + "}}"
ANTHROPIC_BATCH = '{{"custom_id":"req-{i}","result":{{"type":"succeeded","message":{{' + MESSAGE + "}}}}}}"
CLAUDE_CODE = ('{{"parentUuid":"u-{i}","isSidechain":false,"userType":"external","cwd":"/home/dev/proj",'
               '"sessionId":"11111111-1111-4111-8111-111111111111","version":"1.0.89","gitBranch":"main",'
               '"message":{{' + MESSAGE + '}},"requestId":"req_{req}","type":"assistant","uuid":"u-{i}",'
               '"timestamp":"{iso}"}}')
LANGFUSE = ('{{"id":"obs-{i}","traceId":"trace-{i}","type":"GENERATION","name":"chat","startTime":"{iso}",'
            '"endTime":"{iso}","completionStartTime":"{iso}","model":"gpt-4o-mini","modelParameters":{{}},'
            '"input":null,"output":null,"metadata":{{}},"level":"DEFAULT","usage":{{"input":{uncached},'
            '"output":{out},"total":{total},"unit":"TOKENS"}},"usageDetails":{{"input":{uncached},'
            '"input_cached_tokens":{cached},"output":{out},"total":{total}}},"costDetails":{{"total":0.001}},'
            '"calculatedTotalCost":0.001,"latency":2.4,"timeToFirstToken":0.35}}')
GEMINI = ('{{"candidates":[{{"content":{{"parts":[{{"text":"{text}"}}],"role":"model"}},"finishReason":"STOP"}}],'
          '"usageMetadata":{{"promptTokenCount":{inp},"cachedContentTokenCount":{cached},'
          '"candidatesTokenCount":{out},"thoughtsTokenCount":0,"totalTokenCount":0}},'
          '"modelVersion":"gemini-2.5-flash","responseId":"r{i}","createTime":"{iso}"}}')
HELICONE = ('{{"request_id":"req-{i}","request_created_at":"{iso}","request_path":"https://api.openai.com/v1/chat",'
            '"request_user_id":"user-1","request_properties":{{"app":"bench"}},"request_model":"gpt-4o-mini",'
            '"response_id":"resp-{i}","response_status":200,"model":"gpt-4o-mini","provider":"OPENAI",'
            '"delay_ms":2400,"time_to_first_token":350,"total_tokens":0,"prompt_tokens":{inp},'
            '"prompt_cache_write_tokens":0,"prompt_cache_read_tokens":{cached},"completion_tokens":{out},'
            '"costUSD":0.001,"country_code":"US"}}')
MOONCAKE = '{{"timestamp":{ms},"input_length":{inp},"output_length":{out},"hash_ids":{blocks}}}'


def _anthropic(r: dict[str, int]) -> dict[str, object]:
    written = (r["inp"] - r["cached"]) // 2
    return {"uncached": r["inp"] - r["cached"] - written, "written": written,
            "iso": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(r["t"])), "req": r["i"] // 2}


def _langfuse(r: dict[str, int]) -> dict[str, object]:
    return {"uncached": r["inp"] - r["cached"], "total": r["inp"] + r["out"],
            "iso": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(r["t"]))}


def _mooncake(r: dict[str, int]) -> dict[str, object]:
    n = (r["inp"] + 511) // 512
    return {"ms": (r["t"] - T0) * 1000, "blocks": "[" + ",".join(str(r["i"] * 300 + k) for k in range(n)) + "]"}


JSONL: dict[str, tuple[str, Callable[[dict[str, int]], dict[str, object]] | None]] = {
    "openai-chat": (CHAT, None),
    "openai-responses": (RESPONSES, None),
    "openai-batch": (BATCH, None),
    "anthropic-messages": (ANTHROPIC, _anthropic),
    "anthropic-batch": (ANTHROPIC_BATCH, _anthropic),
    "claude-code": (CLAUDE_CODE, _anthropic),
    "langfuse": (LANGFUSE, _langfuse),
    "gemini": (GEMINI, _langfuse),
    "helicone": (HELICONE, _langfuse),
    "mooncake-trace": (MOONCAKE, _mooncake),
}


def _csv(fmt: str, n: int) -> str:
    import pandas as pd

    c = _numbers(n, 11)
    iso = pd.to_datetime(c["t"], unit="s").strftime("%Y-%m-%d %H:%M:%S.000")
    if fmt == "litellm":
        meta = np.char.add(np.char.add('{"additional_usage_values": {"prompt_tokens_details": {"cached_tokens": ',
                                       c["cached"].astype(str)), "}}}")
        frame = pd.DataFrame({"request_id": c["i"], "call_type": "acompletion", "spend": 0.001,
                              "total_tokens": c["inp"] + c["out"], "prompt_tokens": c["inp"],
                              "completion_tokens": c["out"], "startTime": iso, "endTime": iso,
                              "completionStartTime": iso, "model": "gpt-4o-mini", "model_group": "gpt-4o-mini",
                              "metadata": meta, "cache_hit": "False", "request_tags": "[]", "status": "success",
                              "messages": '[{"role": "user", "content": "hello"}]'})
    else:  # openrouter
        frame = pd.DataFrame({"generation_id": c["i"], "created_at": iso, "cost_total": 0.001,
                              "tokens_prompt": c["inp"], "tokens_completion": c["out"], "tokens_reasoning": 0,
                              "tokens_cached": c["cached"], "model_permaslug": "anthropic/claude-sonnet-4",
                              "cancelled": "false", "generation_time_ms": 2400, "time_to_first_token_ms": 350})
    text: str = frame.to_csv(index=False)
    return text


def _timed(path: Path, **kwargs: object) -> tuple[float, int, str]:
    start = time.perf_counter()
    logset = read_logs([str(path)], **kwargs)  # type: ignore[arg-type]
    return time.perf_counter() - start, len(logset.frame), logset.files[0].format


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--formats", default=",".join([*JSONL, "litellm", "openrouter"]))
    parser.add_argument("--slow", action="store_true", help="also time the line-by-line fallback")
    args = parser.parse_args()
    print(f"{'format':<20} {'lines':>10} {'MB':>7} {'read s':>8} {'lines/s':>10}  rows  (cores: {os.cpu_count()})")
    with tempfile.TemporaryDirectory(prefix="llmcost-bench-formats-") as tmp:
        for fmt in args.formats.split(","):
            path = Path(tmp) / (fmt + (".csv" if fmt in ("litellm", "openrouter") else ".jsonl"))
            if fmt in JSONL:
                template, extra = JSONL[fmt]
                path.write_text("\n".join(_lines(template, args.lines, 7, extra)) + "\n")
            else:
                path.write_text(_csv(fmt, args.lines))
            model = {"default_model": "gpt-4o-mini"} if fmt == "mooncake-trace" else {}
            seconds, rows, detected = _timed(path, **model)
            assert detected == fmt, (detected, fmt)
            mb = path.stat().st_size / 1e6
            print(f"{fmt:<20} {args.lines:>10,} {mb:>7.0f} {seconds:>8.2f} {args.lines / seconds:>10,.0f}  {rows:,}")
            if args.slow and fmt in JSONL:
                with path.open("a") as fh:
                    fh.write('{"truncated": \n')
                seconds, rows, _ = _timed(path, skip_bad=True, **model)
                print(f"{fmt + ' (fallback)':<20} {args.lines + 1:>10,} {mb:>7.0f} {seconds:>8.2f} "
                      f"{args.lines / seconds:>10,.0f}  {rows:,}")
            path.unlink()


if __name__ == "__main__":
    main()
