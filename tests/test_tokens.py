"""Offline token counting: bundled encodings, no network, no tiktoken cache; ``llmcost tokens``; estimated
prompt tokens in logs."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from llmcost import tokens
from llmcost.catalog import load_catalog
from llmcost.errors import InputError, UsageError


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    tokens.get_encoding.cache_clear()
    yield
    tokens.get_encoding.cache_clear()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Any connection attempt fails, and tiktoken's cache points at an empty directory."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    monkeypatch.setenv("DATA_GYM_CACHE_DIR", str(cache))
    return cache


@pytest.mark.parametrize(("name", "ids"), [("o200k_base", [24912, 2375]), ("cl100k_base", [15339, 1917])])
def test_known_tokens_offline_without_tiktoken_cache(no_network: Path, name: str, ids: list[int]) -> None:
    enc = tokens.get_encoding(name)
    assert enc.name == name
    assert enc.encode("hello world") == ids
    assert tokens.count_tokens(["hello world"], name) == [2]
    assert list(no_network.iterdir()) == []  # tiktoken's own cache was never written


def test_encodings_are_built_once_per_process() -> None:
    assert tokens.get_encoding("o200k_base") is tokens.get_encoding("o200k_base")


def test_batch_counts_and_special_token_text() -> None:
    assert tokens.count_tokens(["hello world", "", "hello world hello world"]) == [2, 0, 4]
    assert tokens.count_tokens([]) == []
    # Special-token text in user data is ordinary text, not an error and not one token.
    assert tokens.count_tokens(["<|endoftext|>"])[0] > 1


def test_specs_match_tiktoken_and_files_match_its_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    from tiktoken_ext import openai_public

    seen: dict[str, str] = {}

    def fake_load(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        seen[url.rsplit("/", 1)[1].removesuffix(".tiktoken")] = expected_hash or ""
        return {}

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", fake_load)
    for name, spec in tokens.SPECS.items():
        theirs = openai_public.ENCODING_CONSTRUCTORS[name]()
        assert theirs["pat_str"] == spec.pat_str
        assert theirs["special_tokens"] == spec.special_tokens
        assert seen[name] == spec.sha256
        data = tokens.encoding_path(name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == spec.sha256


def test_corrupted_or_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "o200k_base.tiktoken"
    shutil.copyfile(tokens.encoding_path("o200k_base"), target)
    with target.open("ab") as fh:
        fh.write(b"AA== 999999\n")
    with pytest.raises(InputError, match=r"o200k_base\.tiktoken: encoding file is corrupted: sha256"):
        tokens.get_encoding("o200k_base", tmp_path)
    with pytest.raises(InputError, match=r"cl100k_base\.tiktoken: cannot read encoding file"):
        tokens.get_encoding("cl100k_base", tmp_path)
    with pytest.raises(UsageError, match="unknown encoding 'p50k_base'"):
        tokens.get_encoding("p50k_base")


def test_encoding_for_models() -> None:
    cat = load_catalog()
    assert tokens.encoding_for("gpt-4o-2024-08-06", cat) == tokens.TokenizerChoice(
        "o200k_base", False, "catalog tokenizer of 'gpt-4o'")
    assert tokens.encoding_for("gpt-3.5-turbo", cat).encoding == "cl100k_base"
    claude = tokens.encoding_for("claude-sonnet-4", cat)
    assert (claude.encoding, claude.approximate) == ("o200k_base", True)
    assert tokens.encoding_for("mystery", cat).approximate
    assert tokens.encoding_for(None, None).approximate


# ---------------------------------------------------------------- CLI


def test_cli_counts_a_file_and_stdin(cli: Any, tmp_path: Path, no_network: Path) -> None:
    path = tmp_path / "prompt.txt"
    path.write_text("hello world")
    result = cli("tokens", str(path))
    assert (result.exit_code, result.stdout) == (0, "2\n")
    piped = cli("tokens", "-", "--json", input="hello world hello world")
    assert json.loads(piped.stdout) == {"tokens": 4, "encoding": "o200k_base", "approximate": True}
    assert cli("tokens", input="hello world").stdout == "2\n"


def test_cli_model_and_encoding(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("hello world")
    gpt35 = cli("tokens", str(path), "--model", "gpt-3.5-turbo-0125", "--json")
    assert json.loads(gpt35.stdout) == {"tokens": 2, "encoding": "cl100k_base", "approximate": False}
    claude = cli("tokens", str(path), "-m", "claude-sonnet-4", "--json")
    assert json.loads(claude.stdout)["approximate"] is True
    assert "approximate count with o200k_base" in claude.stderr
    forced = cli("tokens", str(path), "-e", "cl100k_base", "--json")
    assert json.loads(forced.stdout) == {"tokens": 2, "encoding": "cl100k_base", "approximate": False}
    sheet = cli("tokens", str(path), "-m", "gpt-4o", "--catalog", "article-sheet-a", "--json")
    assert json.loads(sheet.stdout)["approximate"] is False


@pytest.mark.parametrize(("args", "content", "message"), [
    (["missing.txt"], None, "missing.txt: cannot read file"),
    (["bin.txt"], b"\xff\xfe\x00", "bin.txt: not UTF-8 text"),
    (["ok.txt", "-e", "gpt2"], b"hi", "unknown encoding 'gpt2'"),
])
def test_cli_errors(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str],
                    content: bytes | None, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    if content is not None:
        (tmp_path / args[0]).write_bytes(content)
    result = cli("tokens", *args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr


# ---------------------------------------------------------------- logs with prompt text, no token counts


def test_estimate_counts_prompts_without_input_tokens(cli: Any, tmp_path: Path, no_network: Path) -> None:
    rows = [
        {"timestamp": "2026-01-01T00:00:00Z", "model": "gpt-4o", "prompt": "hello world", "output_tokens": 10},
        {"timestamp": "2026-01-01T12:00:00Z", "model": "gpt-4o", "prompt": "hello world", "input_tokens": 1000,
         "output_tokens": 10},
        {"timestamp": "2026-01-02T00:00:00Z", "model": "gpt-4o", "prompt": "hello world hello world",
         "input_tokens": None, "output_tokens": 10},
    ]
    log = tmp_path / "prompts.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = cli("estimate", str(log), "--log-format", "llmcost", "--baseline-only", "--format", "json")
    assert result.exit_code == 0, result.stderr
    (model,) = json.loads(result.stdout)["scenarios"][0]["by_model"]
    assert model["input_tokens"] == 2 + 1000 + 4
    expected = (D(1006) * D("2.5") + D(30) * 10) / 10**6
    assert D(str(model["observed_cost_usd"])) == expected


def test_conform_flags_estimated_rows() -> None:
    import pandas as pd

    from llmcost.frame import conform

    df = pd.DataFrame({"timestamp": ["2026-01-01T00:00:00Z"] * 3, "model": ["m"] * 3,
                       "prompt": ["hello world", "hello world", None],
                       "input_tokens": [None, 7, 5], "output_tokens": [1, 1, 1]})
    frame = conform(df, source="t").frame
    assert frame["input_tokens"].tolist() == [2, 7, 5]
    assert frame["tokens_estimated"].tolist() == [True, False, False]
    no_column = conform(df.drop(columns="input_tokens").iloc[:2], source="t").frame
    assert no_column["input_tokens"].tolist() == [2, 2]
    untouched = conform(df.drop(columns="prompt"), source="t", skip_bad=True)
    assert "tokens_estimated" not in untouched.frame.columns
