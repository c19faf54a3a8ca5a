"""OpenAI-compatible bodies that name their host by an extension field are priced at that host's rates.

Field names as Groq (``x_groq``) and Cerebras (``time_info``) return them; see tests/realworld for recorded
responses of both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CATALOG = """
source: host test catalog
as_of: 2026-01-01
models:
  - {id: groq/gpt-oss-120b, aliases: [groq/openai/gpt-oss-120b], provider: groq, input_mtok: 0.15, output_mtok: 0.75}
  - {id: cerebras/gpt-oss-120b, provider: cerebras, input_mtok: 0.35, output_mtok: 0.75}
"""


def body(model: str, **extra: object) -> dict[str, object]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1756199010, "model": model,
            "choices": [], "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100},
            **extra}


def test_groq_and_cerebras_bodies_resolve_to_their_hosts(cli: Any, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    log = tmp_path / "chat.jsonl"
    rows = [body("openai/gpt-oss-120b", x_groq={"id": "req_01"}),
            body("gpt-oss-120b", time_info={"total_time": 0.03, "queue_time": 0.001}),
            body("gpt-oss-120b")]  # no host named: which host's price is unknown
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = cli("estimate", str(log), "--catalog", str(catalog), "--baseline-only", "--format", "json",
                 "--window-days", "1")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    costs = {m["model"]: m["observed_cost_usd"] for m in doc["scenarios"][0]["by_model"] if m.get("priced", True)}
    assert costs["groq/gpt-oss-120b"] == 0.000225  # 1000 x 0.15 + 100 x 0.75, per million
    assert costs["cerebras/gpt-oss-120b"] == 0.000425
    assert [u["model"] for u in doc["unpriced"]] == ["gpt-oss-120b"]
