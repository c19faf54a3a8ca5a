"""Fixtures for bench end-to-end tests: a catalog and a suite pointing at the local fake server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

SECRET = "sk-llmcost-SENTINEL-7f3a9c2e"
SUITE = {
    "name": "e2e",
    "prompts": [
        {"id": "capital", "task": "qa", "prompt": "What is the capital of France?", "max_tokens": 50,
         "assert": [{"icontains": "paris"}]},
        {"id": "sum", "task": "math", "prompt": "What is two plus two?", "max_tokens": 10,
         "assert": [{"number": {"value": 4}}]},
    ],
}


def model_entry(mid: str, url: str, *, api: str = "openai", key_env: str | None = "BENCH_TEST_KEY",
                input_mtok: float = 1, output_mtok: float = 2) -> dict[str, Any]:
    endpoint: dict[str, Any] = {"base_url": url + ("/v1" if api == "openai" else ""), "api": api}
    if key_env:
        endpoint["api_key_env"] = key_env
    return {"id": mid, "provider": api, "input_mtok": input_mtok, "output_mtok": output_mtok, "endpoint": endpoint}


@pytest.fixture
def write_catalog(tmp_path: Path) -> Callable[[list[dict[str, Any]]], Path]:
    def write(models: list[dict[str, Any]]) -> Path:
        path = tmp_path / "catalog.yaml"
        path.write_text(yaml.safe_dump({"source": "test", "as_of": "2026-11-01", "models": models}))
        return path

    return write


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(SUITE, sort_keys=False))
    return path


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BENCH_TEST_KEY", SECRET)
    return SECRET
