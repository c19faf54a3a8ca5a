"""A real PostgreSQL server for the tests, started from Debian's binaries (tests/components.py) on 127.0.0.1.

initdb refuses to run as root, so when the tests run as root the server runs as the ``postgres`` user
the Debian package creates (its data and socket directories under a temporary directory it owns). The
server asks for a password (scram-sha-256) on TCP, so a wrong one is really refused.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from remote_servers import free_port

USER = "llm"
PASSWORD = "pg-Secret-4711"


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str
    password: str

    def url(self, database: str, *, password: str | None = None) -> str:
        auth = self.user if password is None else f"{self.user}:{password}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{database}"


def _as_owner(owner: pwd.struct_passwd | None) -> Callable[[], None] | None:
    if owner is None:
        return None

    def drop() -> None:
        os.setgid(owner.pw_gid)
        os.setuid(owner.pw_uid)

    return drop


@contextmanager
def postgres_server(bindir: Path) -> Iterator[PgServer]:
    """initdb, pg_ctl start on a free port (socket in the temp dir), yield, pg_ctl stop, remove everything."""
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="llmcost-pg-"))
    data, sockets = base / "data", base / "run"
    sockets.mkdir()
    pwfile = base / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if owner is not None:
        for path in (base, sockets, pwfile):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"LC_ALL": "C"}

    def run(*args: str, check: bool = True) -> None:
        subprocess.run(args, env=env, preexec_fn=_as_owner(owner), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, check=check, timeout=120)

    port = free_port()
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={pwfile}", "--auth=scram-sha-256",
            "-E", "UTF8")
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start")
        yield PgServer("127.0.0.1", port, USER, PASSWORD)
    finally:
        if (data / "postmaster.pid").exists():
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(base, ignore_errors=True)
