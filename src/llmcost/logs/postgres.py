"""LiteLLM's own database: ``estimate postgresql://user@host:port/db`` reads the ``LiteLLM_SpendLogs`` table.

The table's columns are those of LiteLLM's published Prisma schema (``schema.prisma``, model
``LiteLLM_SpendLogs``); each row is mapped by the same code as a CSV/JSON export of it
(``llmcost.logs.formats.litellm.conform_spend_logs``): one mapping, two sources. Rows are read in time
order through a server-side (named) cursor, ``chunk_rows`` at a time, so memory does not grow with the
table; ``--since``/``--until`` become a ``WHERE`` on ``"startTime"`` (LiteLLM indexes it).

The password comes from libpq's own places (``PGPASSWORD``, ``~/.pgpass``, or the URL); it is never
printed: every message names the URL without it (``llmcost.logs.remote.redact``) and any library message
that quotes it has it replaced.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from llmcost.errors import InputError, UsageError
from llmcost.logs.interface import ReadOptions
from llmcost.logs.remote import redact

if TYPE_CHECKING:
    from llmcost.frame import Conformed

TABLE = "LiteLLM_SpendLogs"
# Older LiteLLM versions lack some optional columns; these the mapping cannot do without.
REQUIRED = ("startTime", "model", "prompt_tokens", "completion_tokens")
JSON_COLUMNS = ("metadata", "request_tags")
FORMAT_NAME = "litellm"
FETCH_ROWS = 100_000  # rows per fetch when the whole table is read into memory (no --chunk-rows)


def iter_spend_logs(url: str, chunk_rows: int, options: ReadOptions, *, since: datetime | None = None,
                    until: datetime | None = None) -> Iterator[Conformed]:
    """The table's rows with ``since <= startTime < until``, in time order, conformed chunk by chunk."""
    import numpy as np
    import pandas as pd

    from llmcost.logs.formats._rows import Rows
    from llmcost.logs.formats.litellm import conform_spend_logs

    psycopg = _psycopg()
    where = redact(url)
    done = 0
    try:
        conn = psycopg.connect(url, connect_timeout=10, application_name="llmcost")
    except psycopg.Error as exc:
        raise InputError(f"cannot connect: {_reason(exc, url)}", source=where) from None
    try:
        with conn:
            conn.execute("SET TIME ZONE 'UTC'")  # timestamptz columns print in UTC, like LiteLLM writes them
            columns = _columns(conn, where)
            query, params = _query(columns, since, until)
            with conn.cursor(name="llmcost_spend_logs") as cursor:
                cursor.execute(query, params)
                while batch := cursor.fetchmany(chunk_rows):
                    frame = pd.DataFrame.from_records(batch, columns=list(columns))
                    lines = np.arange(done + 1, done + len(batch) + 1)
                    done += len(batch)
                    yield conform_spend_logs(Rows(frame, lines, where, options, unit="row"))
        if done == 0:
            span = " ".join(f"{k} {v.isoformat()}" for k, v in (("from", since), ("before", until)) if v)
            raise InputError(f"table \"{TABLE}\" holds no rows" + (f" {span}" if span else ""), source=where)
    except psycopg.Error as exc:
        raise InputError(f"reading {TABLE} failed after {done:,} rows: {_reason(exc, url)}", source=where) from None
    finally:
        conn.close()


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise UsageError("reading postgresql:// needs the 'postgres' extra: pip install 'llmcost[postgres]'") from None
    return psycopg


def _columns(conn: Any, where: str) -> tuple[str, ...]:
    """The mapping's columns this table has (in the mapping's order); the required ones must be there."""
    from llmcost.logs.formats.litellm import SPEND_LOG_COLUMNS

    found = conn.execute(
        "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 "
        "AND NOT a.attisdropped", (f'"{TABLE}"',)).fetchall()
    have = {name for (name,) in found}
    if not have:
        raise InputError(f"no table \"{TABLE}\" in this database (is it LiteLLM's?)", source=where)
    missing = [c for c in REQUIRED if c not in have]
    if missing:
        raise InputError(f"table \"{TABLE}\" has no column {', '.join(missing)}", source=where)
    return tuple(c for c in SPEND_LOG_COLUMNS if c in have)


def _query(columns: tuple[str, ...], since: datetime | None, until: datetime | None
           ) -> tuple[str, dict[str, datetime]]:
    """SELECT of ``columns``: JSON as its text (an export's shape), timestamps as ISO text (in UTC)."""
    from llmcost.logs.formats.litellm import _NUMBERS

    selected = []
    for name in columns:
        quoted = f'"{name}"'
        selected.append(quoted if name in _NUMBERS else f"{quoted}::text AS {quoted}")
    conditions, params = [], {}
    if since is not None:
        conditions.append('"startTime" >= %(since)s')
        params["since"] = since
    if until is not None:
        conditions.append('"startTime" < %(until)s')
        params["until"] = until
    sql = f'SELECT {", ".join(selected)} FROM "{TABLE}"'
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    order = '"startTime", "request_id"' if "request_id" in columns else '"startTime"'
    return f"{sql} ORDER BY {order}", params


def _reason(exc: BaseException, url: str) -> str:
    """The library's last line of explanation, with no password in it."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    text = lines[-1] if lines else type(exc).__name__
    for prefix in ("FATAL:", "ERROR:"):
        text = text.split(prefix, 1)[-1].strip()
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return text.replace(url, redact(url))


def _secrets(url: str) -> list[str]:
    from urllib.parse import unquote, urlsplit

    found = []
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        found += [password, unquote(password)]
    if os.environ.get("PGPASSWORD"):
        found.append(os.environ["PGPASSWORD"])
    return [s for s in found if len(s) >= 4]  # a shorter one would garble the message, not hide anything
