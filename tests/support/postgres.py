"""A real, throw-away PostgreSQL server for tests, started from the system's initdb/pg_ctl.

It listens on 127.0.0.1 only, on a free port, with trust authentication, in a temporary
directory that is removed afterwards. PostgreSQL refuses to run as root, so when the tests
run as root (as CI does) the server runs as the ``postgres`` system user (created by the
Debian package) or ``nobody``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class PostgresUnavailableError(RuntimeError):
    """The binaries are missing or the server would not start."""


def find_bindir() -> Path | None:
    """Directory holding initdb/pg_ctl/postgres: PATH first, then Debian's versioned dirs."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return candidates[-1].parent if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise PostgresUnavailableError("running as root and no 'postgres' or 'nobody' user exists")


@dataclass
class PostgresServer:
    """One server; ``url(dbname)`` gives a psycopg 3 SQLAlchemy URL."""

    bindir: Path
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="autopack-pg-")))
    port: int = field(default_factory=_free_port)
    user: str = "autopack"
    _os_user: str | None = None

    def _run(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args),
            check=True,
            capture_output=True,
            text=True,
            user=self._os_user,
            cwd=self.root,
            timeout=120,
            **kw,
        )

    def start(self) -> PostgresServer:
        """initdb + pg_ctl start; raises PostgresUnavailableError with the server's words."""
        self._os_user = _run_as()
        data, sock = self.root / "data", self.root / "sock"
        sock.mkdir()
        if self._os_user:
            entry = pwd.getpwnam(self._os_user)
            for p in (self.root, sock):
                os.chown(p, entry.pw_uid, entry.pw_gid)
        try:
            self._run(
                str(self.bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                self.user,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
                "-N",
            )
            opts = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {sock} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
            )
            self._run(
                str(self.bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                opts,
                "-l",
                str(self.root / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            log = self.root / "server.log"
            detail = log.read_text()[-2000:] if log.exists() else ""
            stderr = getattr(exc, "stderr", "") or ""
            self.stop()
            raise PostgresUnavailableError(f"PostgreSQL did not start: {stderr}{detail}") from exc
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise PostgresUnavailableError("PostgreSQL did not accept connections within 30 s")

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL for a database on this server."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever is still on it."""
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server (immediate) and remove its directory."""
        data = self.root / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [str(self.bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                user=self._os_user,
                cwd=self.root,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)
