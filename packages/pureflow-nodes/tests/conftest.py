"""Fixtures for the standard component tests: both anyio backends, the helper modules,
and a PostgreSQL server for the SQL connector tests.

The tests folder goes on ``sys.path`` so that tests can import ``nodes_flow_support``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from postgres_server import (  # noqa: E402 - the folder is on sys.path from here on
    SKIP_REASON,
    PostgresServer,
    postgres_server,
    server_binaries,
)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def postgresql() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session (skips when PostgreSQL is not installed)."""
    if server_binaries() is None:
        pytest.skip(SKIP_REASON)
    with postgres_server() as server:
        yield server
