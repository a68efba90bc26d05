"""A throwaway PostgreSQL server for the connector tests and the SQL benchmark.

:func:`postgres_server` starts Debian's ``postgresql`` binaries (``initdb``, ``pg_ctl``)
on a fresh data directory, listening on a free loopback port only (no Unix socket), with
a password-protected role; it stops the server and deletes the directory on exit. As root
(CI) the server runs as the ``postgres`` user (or ``nobody``), since PostgreSQL refuses to
run as root. :func:`server_binaries` is ``None`` when PostgreSQL is not installed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

USER = "pureflow"
PASSWORD = "pureflow-test-secret"
DATABASE = "postgres"


@dataclass(frozen=True)
class PostgresServer:
    """A running server: connect with ``url`` (no password in it) and ``password``."""

    host: str
    port: int
    user: str = USER
    password: str = PASSWORD
    database: str = DATABASE

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{self.database}"

    @property
    def url_with_password(self) -> str:
        return (
            f"postgresql+psycopg://{self.user}:{self.password}@{self.host}:{self.port}/"
            f"{self.database}"
        )


def server_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: on ``PATH``, or where Debian puts
    them (``/usr/lib/postgresql/<version>/bin``, newest first)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


SKIP_REASON = (
    "PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
    "apt-get install postgresql (.ci/run does)"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_user() -> str | None:
    """Who runs the server: ``None`` (this user) unless this is root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root, and there is no `postgres` or `nobody` user")


def _run(command: list[str], user: str | None) -> None:
    if user is not None:
        command = ["runuser", "-u", user, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a server; stop it and remove its files on exit."""
    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError(SKIP_REASON)
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="pureflow-pg-"))
    try:
        data, password_file, log = root / "data", root / "password", root / "server.log"
        password_file.write_text(PASSWORD + "\n")
        if user is not None:
            entry = pwd.getpwnam(user)
            for path in (root, password_file):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        _run(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-sync",
            ],
            user,
        )
        port = _free_port()
        options = f"-h 127.0.0.1 -p {port} -k '' -c fsync=off -c full_page_writes=off"
        pg_ctl = str(binaries / "pg_ctl")
        _run([pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "start"], user)
        try:
            yield PostgresServer("127.0.0.1", port)
        finally:
            _run([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], user)
    finally:
        shutil.rmtree(root, ignore_errors=True)
