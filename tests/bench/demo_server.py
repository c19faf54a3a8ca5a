"""Serve three fake models for suites/sample.yaml on 127.0.0.1 and write a catalog pointing at them.

    python tests/bench/demo_server.py --catalog /tmp/demo-catalog.yaml   # runs until Ctrl-C
    llmcost bench suites/sample.yaml -c /tmp/demo-catalog.yaml -n 3

Used for the real run shown in docs/bench.md. The models answer from canned replies with injected
delays: ``demo-mini`` is fast and cheap but garbles the extraction, ``demo-large`` is right and slow,
``demo-haiku`` (Anthropic Messages API) is right except for the arithmetic's format.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_fake_llm import Behavior, serve

LABELS = {"charged twice": "billing", "crashes": "bug", "dark mode": "feature-request"}


def answers(extract: str, arithmetic: str) -> Behavior:
    def reply(prompt: str) -> str:
        for clue, label in LABELS.items():
            if clue in prompt:
                return label
        if "Extract the order" in prompt:
            return extract
        return arithmetic

    return Behavior(reply=reply)


def behaviors() -> dict[str, Behavior]:
    mini = answers('{"item": "pens", "quantity": 3}', "2100")
    mini.ttft_s, mini.itl_s = 0.08, 0.01
    large = answers('{"item": "blue pens", "quantity": 3}', "2100")
    large.ttft_s, large.itl_s = 0.25, 0.03
    haiku = answers('```json\n{"item": "blue pens", "quantity": 3}\n```', "The total is $2,100 per year.")
    haiku.ttft_s, haiku.itl_s = 0.15, 0.02
    return {"demo-mini": mini, "demo-large": large, "demo-haiku": haiku}


def catalog(url: str) -> dict[str, object]:
    def model(mid: str, api: str, inp: float, out: float) -> dict[str, object]:
        base = f"{url}/v1" if api == "openai" else url
        return {"id": mid, "provider": api, "input_mtok": inp, "output_mtok": out,
                "endpoint": {"base_url": base, "api": api, "api_key_env": "DEMO_API_KEY"}}

    return {"source": "demo (local fake server)", "as_of": "2026-11-01", "models": [
        model("demo-mini", "openai", 0.15, 0.60), model("demo-large", "openai", 2.50, 10.00),
        model("demo-haiku", "anthropic", 1.00, 5.00)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", required=True, help="where to write the catalog")
    args = parser.parse_args()
    with serve(behaviors()) as fake:
        Path(args.catalog).write_text(yaml.safe_dump(catalog(fake.url), sort_keys=False))
        print(f"serving on {fake.url}; catalog written to {args.catalog}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
