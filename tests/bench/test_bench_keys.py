"""API keys are checked before anything is sent: a key an HTTP header cannot carry, or a key passed where
the NAME of its variable belongs, stops the run with exit 2 and one line that shows no part of it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from bench_fake_llm import Behavior, ServerHandle, serve

Cli = Callable[..., Any]

MARK = "SENTINEL"  # every secret below contains it; it must appear in nothing llmcost writes
SUITE = {"name": "keys", "prompts": [{"id": "q", "prompt": "What is the capital of France?", "max_tokens": 20}]}


@pytest.fixture
def fake() -> Iterator[ServerHandle]:
    with serve({"oa": Behavior(), "an": Behavior()}) as handle:
        yield handle


def write_inputs(tmp_path: Path, url: str, key_env: str = "BENCH_KEY") -> tuple[Path, Path]:
    models = [{"id": mid, "provider": api, "input_mtok": 1, "output_mtok": 2,
               "endpoint": {"base_url": url + ("/v1" if api == "openai" else ""), "api": api,
                            "api_key_env": key_env}}
              for mid, api in (("oa", "openai"), ("an", "anthropic"))]
    catalog, suite = tmp_path / "catalog.yaml", tmp_path / "suite.yaml"
    catalog.write_text(yaml.safe_dump({"source": "test", "as_of": "2026-11-01", "models": models}))
    suite.write_text(yaml.safe_dump(SUITE))
    return catalog, suite


def bench(cli: Cli, tmp_path: Path, catalog: Path, suite: Path, *args: str) -> Any:
    return cli("bench", suite, "-c", catalog, "--retries", "0", "--results", tmp_path / "r.jsonl",
               "-f", "json", "-o", tmp_path / "summary.json", *args)


def assert_refused(out: Any, fake: ServerHandle, tmp_path: Path, *inputs: Path) -> str:
    """Exit 2, one line on stderr, nothing on stdout, no request sent, the secret in no file llmcost wrote."""
    assert out.exit_code == 2, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("llmcost: error: "), out.stderr
    assert out.stdout == ""
    assert MARK not in out.stdout + out.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p not in inputs]
    assert all(MARK not in p.read_text(errors="replace") for p in written), written
    assert fake.seen == {} and fake.auth == []
    return lines[0]


@pytest.mark.parametrize(("value", "why"), [
    ("sk-SENTINEL-first\nsk-SENTINEL-second", "a line break"),
    ("sk-SENTINEL-a\rb", "a line break"),
    ("sk-SENTINEL-clé", "a non-ASCII character"),
    ("Bearer sk-SENTINEL-abc", "whitespace"),
    ("sk-SENTINEL\tabc", "whitespace"),
    ("sk-SENTINEL\x7fabc", "a control character"),
    ("sk-SENTINEL\x01abc", "a control character"),
])
def test_a_key_no_header_can_carry_is_refused_before_sending(cli: Cli, fake: ServerHandle, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch, value: str,
                                                              why: str) -> None:
    monkeypatch.setenv("BENCH_KEY", value)
    catalog, suite = write_inputs(tmp_path, fake.url)
    for models in ("oa", "an"):
        line = assert_refused(bench(cli, tmp_path, catalog, suite, "--models", models), fake, tmp_path,
                              catalog, suite)
        assert line == (f"llmcost: error: API key in environment variable BENCH_KEY (for {models}) is not "
                        f"usable: it contains {why}; nothing was sent")


def test_the_same_check_holds_for_an_ad_hoc_endpoint(cli: Cli, fake: ServerHandle, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_GATEWAY_KEY", "sk-SENTINEL-\u00e9\u00e9")
    catalog, suite = write_inputs(tmp_path, fake.url)
    out = bench(cli, tmp_path, catalog, suite, "--endpoint", fake.url + "/v1", "--model", "oa",
                "--api-key-env", "MY_GATEWAY_KEY")
    assert "MY_GATEWAY_KEY (for oa) is not usable: it contains a non-ASCII character" in \
        assert_refused(out, fake, tmp_path, catalog, suite)


@pytest.mark.parametrize("value", ["sk-SENTINEL-abc123", "Bearer SENTINEL", "SENTINEL-ключ", "9SENTINEL",
                                   "SENTINEL\nNAME", "ключSENTINEL", ""])
def test_a_key_given_to_api_key_env_is_refused_without_echo(cli: Cli, fake: ServerHandle, tmp_path: Path,
                                                            value: str) -> None:
    catalog, suite = write_inputs(tmp_path, fake.url)
    out = bench(cli, tmp_path, catalog, suite, "--endpoint", fake.url + "/v1", "--model", "oa",
                "--api-key-env", value)
    line = assert_refused(out, fake, tmp_path, catalog, suite)
    assert line == ("llmcost: error: --api-key-env takes the NAME of an environment variable (letters, digits "
                    "and '_', not starting with a digit), not a key; the value given is not shown")
    only_models = bench(cli, tmp_path, catalog, suite, "--models", "oa", "--api-key-env", value)
    assert assert_refused(only_models, fake, tmp_path, catalog, suite) == line  # refused even where unused


@pytest.mark.parametrize("value", ["gsk_SENTINELabc123XYZ", "SENTINEL0123456789ABCDEF", "sk_SENTINEL",
                                   "a1b2c3d4e5f6SENTINEL0a1b2c3"])
def test_an_unset_name_that_could_be_a_key_is_not_echoed(cli: Cli, fake: ServerHandle, tmp_path: Path,
                                                         value: str) -> None:
    """A key can be a valid variable name (Groq's gsk_..., hex keys): when no such variable is set, the
    'not set' error must not print it back, whether it came from --api-key-env or the catalog."""
    catalog, suite = write_inputs(tmp_path, fake.url)
    out = bench(cli, tmp_path, catalog, suite, "--endpoint", fake.url + "/v1", "--model", "oa",
                "--api-key-env", value)
    assert assert_refused(out, fake, tmp_path, catalog, suite) == (
        "llmcost: error: API key not set: the environment variable named for oa is empty or missing (its "
        "name is not shown: it is not an upper-case variable name and could be a key)")
    catalog, suite = write_inputs(tmp_path, fake.url, key_env=value)
    out = bench(cli, tmp_path, catalog, suite, "--models", "oa,an")
    assert "the environment variable named for oa, an is empty or missing (its name is not shown" in \
        assert_refused(out, fake, tmp_path, catalog, suite)


def test_a_key_in_the_catalog_api_key_env_is_refused_without_echo(cli: Cli, fake: ServerHandle,
                                                                  tmp_path: Path) -> None:
    catalog, suite = write_inputs(tmp_path, fake.url, key_env="sk-SENTINEL-abc123")
    line = assert_refused(bench(cli, tmp_path, catalog, suite, "--models", "oa"), fake, tmp_path, catalog, suite)
    assert "api_key_env" in line and "must be the NAME of an environment variable" in line


def test_conventional_and_lower_case_names_still_work(cli: Cli, fake: ServerHandle, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation refuses only what cannot work: a lower-case variable name is fine when it is set, and a
    conventional name that is unset is still named in the error."""
    secret = "sk-SENTINEL-valid-key_0123"
    monkeypatch.setenv("my_gateway_key", secret)
    catalog, suite = write_inputs(tmp_path, fake.url)
    out = bench(cli, tmp_path, catalog, suite, "--endpoint", fake.url + "/v1", "--model", "oa",
                "--api-key-env", "my_gateway_key")
    assert out.exit_code == 0, out.stderr
    assert fake.auth == [f"Bearer {secret}"]
    assert json.loads((tmp_path / "summary.json").read_text())["models"][0]["errors"] == 0
    for path in (tmp_path / "r.jsonl", tmp_path / "summary.json"):
        assert MARK not in path.read_text()
    unset = bench(cli, tmp_path, catalog, suite, "--models", "oa")
    assert unset.exit_code == 2 and unset.stderr.strip() == (
        "llmcost: error: API key not set: environment variable BENCH_KEY (for oa) is empty or missing")
