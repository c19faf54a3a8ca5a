"""Serve gpt-4o-mini, gpt-4o and claude-sonnet-4-0 look-alikes on 127.0.0.1 for tests/plan/plan_demo_suite.yaml,
and write a bench catalog pointing at them (docs/plan.md runs it).

    python tests/plan/plan_demo_server.py --catalog /tmp/plan-demo-catalog.yaml   # until Ctrl-C
    llmcost bench tests/plan/plan_demo_suite.yaml -c /tmp/plan-demo-catalog.yaml -n 4 --results r.jsonl

Canned replies, so the pass counts are known: the mini model labels every ticket, answers 4 of the 6
support questions and keeps the outcome of 2 of the 6 threads; gpt-4o misses one thread; the Sonnet
look-alike passes everything. Delays: mini fast (TTFT 60 ms), gpt-4o 150 ms, Sonnet 250 ms.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from bench_fake_llm import Behavior, serve

SUITE = yaml.safe_load((Path(__file__).resolve().parent / "plan_demo_suite.yaml").read_text())
ANSWERS: dict[str, str] = {}  # the prompt's own variable (question, ticket, thread) -> the expected answer
for prompt in SUITE["prompts"]:
    for v in prompt["vars"]:
        ANSWERS[v.get("question") or v.get("ticket") or v["thread"]] = v.get("key") or v.get("label") or v["outcome"]
MISSES = {"gpt-4o-mini": ("Billing > Contacts", "Project > Danger zone", "fixed in 4.2", "moved to annual plan",
                          "SSO enabled", "CSV sent"),
          "gpt-4o": ("discount accepted",), "claude-sonnet-4-0": ()}


def behavior(model: str, ttft_s: float, itl_s: float) -> Behavior:
    def reply(prompt: str) -> str:
        for clue, answer in ANSWERS.items():
            if clue in prompt:
                return "I am not sure." if answer in MISSES[model] else f"Done: {answer}."
        return "I am not sure."

    return Behavior(reply=reply, ttft_s=ttft_s, itl_s=itl_s)


def behaviors() -> dict[str, Behavior]:
    return {"gpt-4o-mini": behavior("gpt-4o-mini", 0.06, 0.01), "gpt-4o": behavior("gpt-4o", 0.15, 0.02),
            "claude-sonnet-4-0": behavior("claude-sonnet-4-0", 0.25, 0.03)}


def catalog(url: str) -> dict[str, object]:
    """The three models at the default catalog's prices, their endpoints on the local server."""
    from llmcost.catalog import load_catalog

    real = load_catalog("default")
    models = []
    for mid in behaviors():
        m = real.model(mid)
        models.append({"id": mid, "provider": "openai", "input_mtok": float(m.input_mtok or 0),
                       "output_mtok": float(m.output_mtok or 0),
                       "endpoint": {"base_url": f"{url}/v1", "api": "openai", "api_key_env": "DEMO_API_KEY"}})
    return {"source": "plan demo (local fake server)", "as_of": "2026-11-01", "models": models}


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
