"""``estimate postgresql://…``: LiteLLM's LiteLLM_SpendLogs table on a real PostgreSQL server started by the
tests (Debian's binaries), created from LiteLLM's published schema and filled with rows; results equal the
CSV export of the same rows to the cent, streamed or not; failures are one line with no password."""

from __future__ import annotations

import csv
import json
import random
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from components import postgres_bin
from pg_server import PgServer, postgres_server

DATA = Path(__file__).resolve().parent / "data"
SCHEMA = DATA / "litellm_spendlogs_schema.sql"
COLUMNS = ("request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens", "completion_tokens",
           "startTime", "endTime", "request_duration_ms", "completionStartTime", "model", "model_id",
           "model_group", "custom_llm_provider", "api_base", "user", "metadata", "cache_hit", "cache_key",
           "request_tags", "team_id", "organization_id", "end_user", "requester_ip_address", "messages",
           "response", "session_id", "status", "mcp_namespaced_tool_name", "agent_id", "proxy_server_request")
ROWS = 2400
MODELS = [("gpt-4o-mini", "openai"), ("claude-sonnet-4-20250514", "anthropic"), ("gpt-4o", "openai"),
          ("", "openai")]  # an empty model: the mapping falls back to model_group


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def spend_rows(n: int, seed: int = 16) -> list[dict[str, Any]]:
    """Rows shaped like a LiteLLM proxy's: cache details in metadata, cache hits, failures, fallbacks."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, 0, 0, 0)
    rows = []
    for i in range(n):
        t = start + timedelta(seconds=i * 53, milliseconds=rng.randrange(1000))
        model, provider = MODELS[i % len(MODELS)]
        prompt, completion = rng.randrange(50, 30_000), rng.randrange(1, 2_000)
        usage: dict[str, Any] = {}
        if i % 3 == 0:
            usage["prompt_tokens_details"] = {"cached_tokens": prompt // 2}
        if provider == "anthropic" and i % 5 == 0:
            usage["cache_creation_input_tokens"] = prompt // 4
            usage["cache_creation_token_details"] = {"ephemeral_1h_input_tokens": prompt // 8}
        if i % 7 == 0:
            usage["completion_tokens_details"] = {"reasoning_tokens": completion // 3}
        ttft = rng.randrange(80, 900)
        duration = ttft + rng.randrange(100, 9_000)
        rows.append({
            "request_id": f"chatcmpl-{i:06d}", "call_type": "acompletion", "api_key": "hashed-key",
            "spend": repr(round(rng.random() / 50, 9)), "total_tokens": prompt + completion,
            "prompt_tokens": prompt, "completion_tokens": completion, "startTime": _stamp(t),
            "endTime": _stamp(t + timedelta(milliseconds=duration)),
            "request_duration_ms": "" if i % 11 == 0 else duration,
            "completionStartTime": "" if i % 13 == 0 else _stamp(t + timedelta(milliseconds=ttft)),
            "model": model, "model_id": f"model-{i % 4}", "model_group": model or "gpt-4o-mini",
            "custom_llm_provider": provider, "api_base": "", "user": ["alice", "bob", ""][i % 3],
            "metadata": json.dumps({"user_api_key_alias": "k", "additional_usage_values": usage}),
            "cache_hit": "True" if i % 50 == 7 else "False", "cache_key": "",
            "request_tags": json.dumps([["prod"], ["prod", "search"], []][i % 3]),
            "team_id": "team-1", "organization_id": "", "end_user": "carol" if i % 3 == 2 else "",
            "requester_ip_address": "", "messages": "{}", "response": "{}", "session_id": f"s-{i // 10}",
            "status": "failure" if i % 97 == 0 else "success", "mcp_namespaced_tool_name": "", "agent_id": "",
            "proxy_server_request": "{}",
        })
    return rows


def write_export(rows: list[dict[str, Any]], path: Path) -> None:
    """The CSV export of the rows: the table's columns, JSON as text, timestamps as LiteLLM prints them."""
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    bindir = postgres_bin()
    with postgres_server(bindir) as server:
        yield server


def _admin(pg: PgServer, database: str = "postgres") -> Any:
    import psycopg

    return psycopg.connect(pg.url(database, password=pg.password), autocommit=True)


def _create(pg: PgServer, database: str, export: Path | None) -> None:
    with _admin(pg) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    with _admin(pg, database) as conn:
        if export is None:
            return
        conn.execute(SCHEMA.read_text())
        names = ", ".join(f'"{c}"' for c in COLUMNS)
        with conn.cursor().copy(f'COPY "LiteLLM_SpendLogs" ({names}) FROM STDIN WITH (FORMAT csv, HEADER true, '
                                'FORCE_NOT_NULL ("model"))') as copy:
            copy.write(export.read_bytes())


@pytest.fixture(scope="module")
def export(pg: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The database ``litellm`` holding the rows, and their CSV export (the same bytes COPY loaded)."""
    path = tmp_path_factory.mktemp("pg") / "LiteLLM_SpendLogs.csv"
    write_export(spend_rows(ROWS), path)
    _create(pg, "litellm", path)
    _create(pg, "no_litellm", None)
    bad = spend_rows(30, seed=3)
    bad[17]["prompt_tokens"] = -5
    bad_path = path.with_name("bad.csv")
    write_export(bad, bad_path)
    _create(pg, "bad_rows", bad_path)
    return path


@pytest.fixture
def password(pg: PgServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PGPASSWORD", pg.password)  # the password from libpq's environment, not the URL
    return pg.password


def estimate_json(cli: Any, *args: str) -> dict[str, Any]:
    result = cli("estimate", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def one_error_line(result: Any) -> str:
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return str(lines[0])


def test_table_prices_like_its_csv_export(cli: Any, pg: PgServer, export: Path, password: str) -> None:
    url = pg.url("litellm")
    for args in ((), ("--baseline-only",)):
        here = estimate_json(cli, str(export), *args)
        there = estimate_json(cli, url, *args)
        assert there == here
    assert here["window"]["requests"] == ROWS - sum(1 for i in range(ROWS) if i % 50 == 7)  # cache hits left out
    assert float(here["scenarios"][0]["observed_cost_usd"]) > 0


@pytest.mark.parametrize("chunk_rows", ["50", "333", "5000"])
def test_table_streamed_through_the_cursor_equals_the_export(cli: Any, pg: PgServer, export: Path, password: str,
                                                              chunk_rows: str) -> None:
    if chunk_rows == "50":  # many small fetches: the baseline only, to keep the test short
        here = estimate_json(cli, str(export), "--baseline-only")
        assert estimate_json(cli, pg.url("litellm"), "--baseline-only", "--chunk-rows", chunk_rows) == here
        return
    here = estimate_json(cli, str(export))
    assert estimate_json(cli, pg.url("litellm"), "--chunk-rows", chunk_rows) == here


def test_since_until_filter_in_the_query_like_the_file_filter(cli: Any, pg: PgServer, export: Path,
                                                              password: str) -> None:
    window = ("--since", "2026-11-01T06:00:00Z", "--until", "2026-11-01T18:30")
    here = estimate_json(cli, str(export), *window)
    there = estimate_json(cli, pg.url("litellm"), *window)
    streamed = estimate_json(cli, pg.url("litellm"), *window, "--chunk-rows", "100")
    assert there == here == streamed
    assert here["window"]["start"] >= "2026-11-01T06:00:00"
    assert here["window"]["end"] < "2026-11-01T18:30:00"
    assert 0 < here["window"]["requests"] < ROWS // 2


def test_a_window_with_no_rows_is_one_line(cli: Any, pg: PgServer, export: Path, password: str) -> None:
    line = one_error_line(cli("estimate", pg.url("litellm"), "--since", "2030-01-01"))
    assert "holds no rows from 2030-01-01" in line


def test_password_in_the_url_works_and_is_never_shown(cli: Any, pg: PgServer, export: Path) -> None:
    url = pg.url("litellm", password=pg.password)
    result = cli("estimate", url, "--baseline-only")  # cache hits are skipped: a warning names the source
    assert result.exit_code == 0, result.stderr
    assert "skipped" in result.stderr and pg.url("litellm") in result.stderr
    assert pg.password not in result.stdout + result.stderr


@pytest.mark.parametrize("where", ["url", "PGPASSWORD"])
def test_wrong_password_is_one_line_without_it(cli: Any, pg: PgServer, export: Path,
                                               monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    wrong = "Wrong-Pass-0815"
    if where == "url":
        url = pg.url("litellm", password=wrong)
    else:
        monkeypatch.setenv("PGPASSWORD", wrong)
        url = pg.url("litellm")
    result = cli("estimate", url)
    line = one_error_line(result)
    assert pg.url("litellm") in line and "password authentication failed" in line
    assert wrong not in result.stderr and pg.password not in result.stderr


def test_dropped_connection_mid_read_writes_nothing(cli: Any, pg: PgServer, export: Path, password: str,
                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server ends llmcost's backend (pg_terminate_backend from a second connection) after the first
    chunk: exit 2, one line, and no output file."""
    import psycopg

    real = psycopg.ServerCursor.fetchmany
    calls = []

    def fetch_then_drop(self: Any, size: int = 0) -> Any:
        calls.append(size)
        if len(calls) == 2:
            with _admin(pg) as admin:
                ended = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      "WHERE application_name = 'llmcost'").fetchall()
            assert ended == [(True,)]
        return real(self, size)

    monkeypatch.setattr(psycopg.ServerCursor, "fetchmany", fetch_then_drop)
    out = tmp_path / "estimate.json"
    line = one_error_line(cli("estimate", pg.url("litellm"), "--chunk-rows", "200", "-f", "json", "-o", str(out)))
    assert "failed after 200 rows" in line and pg.url("litellm") in line
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left either


def test_bad_row_names_the_row_and_column(cli: Any, pg: PgServer, export: Path, password: str) -> None:
    line = one_error_line(cli("estimate", pg.url("bad_rows")))
    assert pg.url("bad_rows") in line and "row 18" in line and "prompt_tokens" in line and "negative" in line
    skipped = cli("estimate", pg.url("bad_rows"), "--skip-bad", "--chunk-rows", "7")
    assert skipped.exit_code == 0 and "prompt_tokens: must not be negative" in skipped.stderr


def test_database_without_the_table(cli: Any, pg: PgServer, export: Path, password: str) -> None:
    line = one_error_line(cli("estimate", pg.url("no_litellm")))
    assert 'no table "LiteLLM_SpendLogs"' in line


def test_nothing_listening_is_one_line(cli: Any, password: str) -> None:
    from remote_servers import free_port

    url = f"postgres://llm:{password}@127.0.0.1:{free_port()}/litellm"
    result = cli("estimate", url)
    line = one_error_line(result)
    assert "cannot connect" in line and password not in result.stderr


def test_missing_postgres_extra_names_it(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    line = one_error_line(cli("estimate", "postgresql://llm@127.0.0.1:1/litellm"))
    assert "pip install 'llmcost[postgres]'" in line
