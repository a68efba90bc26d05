"""``sql-read`` and ``sql-write`` against SQLite and a real PostgreSQL server: streaming in
chunks (a full edge stops the reader), batches in transactions (a failed batch rolls
back whole), upsert, credentials from the environment, and binding-time errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
import sqlalchemy
from nodes_flow_support import Flow
from postgres_server import PostgresServer
from pureflow.core import NodeContext, PortsIn, PortsOut
from pureflow.engine import BindingError, TerminalState

pytestmark = pytest.mark.anyio

PASSWORD_VARIABLE = "PUREFLOW_TEST_PG_PASSWORD"


@dataclass
class Database:
    """A test database: the node config that reaches it, and an engine for the test."""

    kind: str
    config: dict[str, Any]
    engine: sqlalchemy.Engine

    def execute(self, sql: str, params: Any = None) -> None:
        with self.engine.begin() as connection:
            connection.execute(sqlalchemy.text(sql), params or {})

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sqlalchemy.text(sql))]


@pytest.fixture(params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Database]:
    if request.param == "sqlite":
        engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'test.db'}")
        db = Database("sqlite", {"path": "test.db"}, engine)
    else:
        server: PostgresServer = request.getfixturevalue("postgresql")
        monkeypatch.setenv(PASSWORD_VARIABLE, server.password)
        engine = sqlalchemy.create_engine(server.url_with_password)
        config = {"url": server.url, "password_env": PASSWORD_VARIABLE}
        db = Database("postgresql", config, engine)
        for table in ("source", "target", "people"):
            db.execute(f"DROP TABLE IF EXISTS {table}")
    try:
        yield db
    finally:
        engine.dispose()


def _people(db: Database, count: int) -> None:
    db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL)")
    db.execute(
        "INSERT INTO people (id, name, score) VALUES (:id, :name, :score)",
        [{"id": i, "name": f"person {i}", "score": i / 2} for i in range(count)],
    )


def _debug(caplog: pytest.LogCaptureFixture, prefix: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(prefix)]


# --- reading ---------------------------------------------------------------------------------


async def test_sql_read_streams_rows_in_chunks(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _people(database, 5)
    caplog.set_level(logging.DEBUG, logger="pureflow.node.read")
    config = {
        **database.config,
        "query": "SELECT id, name, score FROM people WHERE id >= :low ORDER BY id",
        "params": {"low": 0},
        "chunk_size": 2,
    }
    flow = Flow().add("read", "builtin:sql-read", [], ["out"], config)
    got = flow.capture("sink")
    await flow.connect("read.out", "sink.in").run(tmp_path)
    assert got.values() == [{"id": i, "name": f"person {i}", "score": i / 2} for i in range(5)]
    assert _debug(caplog, "sql-read: chunk") == [
        "sql-read: chunk 1: 2 rows",
        "sql-read: chunk 2: 2 rows",
        "sql-read: chunk 3: 1 rows",
    ]


class _HeldSink:
    """Takes one packet, then waits for ``release`` before draining the rest."""

    def __init__(self) -> None:
        self.release = anyio.Event()
        self.values: list[Any] = []

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        first = await inputs["in"].recv()
        assert first is not None
        self.values.append(first.payload.value)
        await self.release.wait()
        async for packet in inputs["in"]:
            self.values.append(packet.payload.value)


async def test_a_full_edge_stops_the_reader(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _people(database, 200)
    caplog.set_level(logging.DEBUG, logger="pureflow.node.read")
    config = {**database.config, "query": "SELECT id FROM people ORDER BY id", "chunk_size": 10}
    sink = _HeldSink()
    flow = Flow().add("read", "builtin:sql-read", [], ["out"], config)
    flow.use("sink", sink, ["in"]).connect("read.out", "sink.in", 1)
    fetched_while_held: list[str] = []
    active: list[str] = []

    async def watch_the_reader() -> None:
        # The reader fills the edge and its chunk, then waits on `send`: nothing more is
        # fetched until the sink drains.
        await anyio.wait_all_tasks_blocked()
        while not _debug(caplog, "sql-read: chunk"):
            await anyio.wait_all_tasks_blocked()
        if database.kind == "postgresql":
            active.extend(
                str(query)
                for (query,) in database.rows(
                    "SELECT query FROM pg_stat_activity WHERE query LIKE 'FETCH FORWARD%'"
                )
            )
        fetched_while_held.extend(_debug(caplog, "sql-read: chunk"))
        sink.release.set()

    async with anyio.create_task_group() as group:
        group.start_soon(watch_the_reader)
        await flow.run(tmp_path)
    assert [v["id"] for v in sink.values] == list(range(200))
    assert 1 <= len(fetched_while_held) <= 2, fetched_while_held
    assert len(_debug(caplog, "sql-read: chunk")) == 20
    if database.kind == "postgresql":
        assert active, "no server-side cursor (FETCH FORWARD) while the reader was held"


async def test_sql_read_values_become_json(tmp_path: Path) -> None:
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'v.db'}")
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE v (b BLOB, n NUMERIC, t TEXT)"))
        connection.execute(sqlalchemy.text("INSERT INTO v VALUES (x'00ff', 2.5, NULL)"))
    engine.dispose()
    config = {"path": "v.db", "query": "SELECT b, n, t FROM v"}
    flow = Flow().add("read", "builtin:sql-read", [], ["out"], config)
    got = flow.capture("sink")
    await flow.connect("read.out", "sink.in").run(tmp_path)
    assert got.values() == [{"b": "AP8=", "n": 2.5, "t": None}]


async def test_a_missing_database_file_is_named(tmp_path: Path) -> None:
    config = {"path": "absent.db", "query": "SELECT 1"}
    flow = Flow().add("read", "builtin:sql-read", [], ["out"], config)
    flow.capture("sink")
    summary = await flow.connect("read.out", "sink.in").run(tmp_path, expect_success=False)
    assert f"sql-read: no SQLite database at `{tmp_path / 'absent.db'}`" in str(summary.first_error)
    assert not (tmp_path / "absent.db").exists()


async def test_a_failing_query_fails_the_node_naming_the_database(tmp_path: Path) -> None:
    sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'empty.db'}").connect().close()
    config = {"path": "empty.db", "query": "SELECT * FROM missing"}
    flow = Flow().add("read", "builtin:sql-read", [], ["out"], config)
    flow.capture("sink")
    summary = await flow.connect("read.out", "sink.in").run(tmp_path, expect_success=False)
    assert summary.terminal_state is TerminalState.FAILED
    message = str(summary.first_error)
    assert f"sql-read: query failed on `sqlite:///{tmp_path / 'empty.db'}`" in message
    assert "no such table: missing" in message


# --- writing ---------------------------------------------------------------------------------


def _target(db: Database) -> None:
    db.execute(
        "CREATE TABLE target (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "score REAL CHECK (score >= 0))"
    )


async def test_sql_write_commits_batches(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _target(database)
    caplog.set_level(logging.DEBUG, logger="pureflow.node.write")
    records = [{"id": i, "name": f"n{i}", "score": float(i)} for i in range(7)]
    flow = Flow().feed("feed", records)
    config = {**database.config, "table": "target", "batch_size": 3}
    flow.add("write", "builtin:sql-write", ["in"], [], config)
    await flow.connect("feed.out", "write.in").run(tmp_path)
    assert database.rows("SELECT id, name, score FROM target ORDER BY id") == [
        (i, f"n{i}", float(i)) for i in range(7)
    ]
    sizes = [int(m.split("committed ")[1].split()[0]) for m in _debug(caplog, "sql-write: batch")]
    assert sum(sizes) == 7
    assert all(1 <= size <= 3 for size in sizes), sizes


async def test_a_failed_batch_rolls_back_whole_and_names_its_messages(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _target(database)
    caplog.set_level(logging.DEBUG, logger="pureflow.node.write")
    records = [{"id": i, "name": f"n{i}", "score": float(i)} for i in range(9)]
    records[5]["score"] = -1.0  # breaks the CHECK constraint
    flow = Flow().feed("feed", records)
    config = {**database.config, "table": "target", "batch_size": 3}
    flow.add("write", "builtin:sql-write", ["in"], [], config)
    summary = await flow.connect("feed.out", "write.in").run(tmp_path, expect_success=False)
    assert summary.terminal_state is TerminalState.FAILED
    message = str(summary.first_error)
    assert "sql-write: writing" in message
    assert "into `target`" in message
    assert "that batch was rolled back" in message
    # Whole batches before the bad one are committed; the bad one left nothing.
    committed = sum(
        int(m.split("committed ")[1].split()[0]) for m in _debug(caplog, "sql-write: batch")
    )
    assert committed <= 5
    ids = [row[0] for row in database.rows("SELECT id FROM target ORDER BY id")]
    assert ids == list(range(committed))
    first = int(message.split("messages `feed-out-")[1].split("`", maxsplit=1)[0])
    last = int(message.split("to `feed-out-")[1].split("`", maxsplit=1)[0])
    assert first == committed <= 5 <= last


async def test_upsert_updates_rows_whose_key_exists(database: Database, tmp_path: Path) -> None:
    _target(database)
    database.execute("INSERT INTO target (id, name, score) VALUES (1, 'old', 1.0)")
    records = [{"id": 1, "name": "new", "score": 10.0}, {"id": 2, "name": "two", "score": 2.0}]
    config = {**database.config, "table": "target", "upsert_key": ["id"]}
    for _ in range(2):  # running it again converges instead of duplicating
        flow = Flow().feed("feed", records)
        flow.add("write", "builtin:sql-write", ["in"], [], config)
        await flow.connect("feed.out", "write.in").run(tmp_path)
        assert database.rows("SELECT id, name, score FROM target ORDER BY id") == [
            (1, "new", 10.0),
            (2, "two", 2.0),
        ]


async def test_without_upsert_a_rerun_is_refused_by_the_key(
    database: Database, tmp_path: Path
) -> None:
    _target(database)
    database.execute("INSERT INTO target (id, name, score) VALUES (1, 'old', 1.0)")
    flow = Flow().feed("feed", [{"id": 1, "name": "again", "score": 1.0}])
    flow.add("write", "builtin:sql-write", ["in"], [], {**database.config, "table": "target"})
    summary = await flow.connect("feed.out", "write.in").run(tmp_path, expect_success=False)
    assert "that batch was rolled back" in str(summary.first_error)
    assert database.rows("SELECT name FROM target") == [("old",)]


async def test_sql_write_refuses_unknown_fields_and_non_objects(tmp_path: Path) -> None:
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE t (a TEXT)"))
    engine.dispose()
    for value, expected in (
        ({"a": "x", "b": 1}, "has a field table `t` lacks: `b`"),
        ("text", "is a str, not a JSON object"),
    ):
        flow = Flow().feed("feed", [value])
        flow.add("write", "builtin:sql-write", ["in"], [], {"path": "w.db", "table": "t"})
        summary = await flow.connect("feed.out", "write.in").run(tmp_path, expect_success=False)
        assert expected in str(summary.first_error)


async def test_a_missing_table_is_named(tmp_path: Path) -> None:
    sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'w.db'}").connect().close()
    flow = Flow().feed("feed", [{"a": 1}])
    flow.add("write", "builtin:sql-write", ["in"], [], {"path": "w.db", "table": "nowhere"})
    summary = await flow.connect("feed.out", "write.in").run(tmp_path, expect_success=False)
    assert f"table `nowhere` not found in `sqlite:///{tmp_path / 'w.db'}`" in str(
        summary.first_error
    )


async def test_reading_and_writing_one_database_at_once(database: Database, tmp_path: Path) -> None:
    """The reader's query stays open while the writer commits batch after batch (SQLite
    in write-ahead-log mode; PostgreSQL as it is)."""
    _people(database, 3000)
    _target(database)
    read = {**database.config, "query": "SELECT id, name, score FROM people ORDER BY id"}
    write = {**database.config, "table": "target", "batch_size": 100}
    flow = Flow().add("read", "builtin:sql-read", [], ["out"], {**read, "chunk_size": 100})
    flow.add("write", "builtin:sql-write", ["in"], [], write)
    await flow.connect("read.out", "write.in", 10).run(tmp_path)
    assert database.rows("SELECT count(*), sum(id) FROM target") == [(3000, sum(range(3000)))]


# --- credentials and binding -----------------------------------------------------------------


async def test_a_password_comes_only_from_the_environment(
    postgresql: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = {"query": "SELECT 1 AS one"}
    with pytest.raises(BindingError) as caught:
        Flow().add(
            "read", "builtin:sql-read", [], ["out"], {"url": postgresql.url_with_password, **query}
        ).bind_only()
    assert "the URL holds a password" in str(caught.value)
    assert postgresql.password not in str(caught.value)

    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)
    config = {"url": postgresql.url, "password_env": PASSWORD_VARIABLE, **query}
    flow = Flow().add("read", "builtin:sql-read", [], ["out"], config)
    flow.capture("sink")
    summary = await flow.connect("read.out", "sink.in").run(tmp_path, expect_success=False)
    assert f"environment variable `{PASSWORD_VARIABLE}` (config `password_env`) is not set" in str(
        summary.first_error
    )

    monkeypatch.setenv("PUREFLOW_TEST_PG_URL", postgresql.url_with_password)
    flow = Flow().add(
        "read", "builtin:sql-read", [], ["out"], {"url_env": "PUREFLOW_TEST_PG_URL", **query}
    )
    got = flow.capture("sink")
    await flow.connect("read.out", "sink.in").run(tmp_path)
    assert got.values() == [{"one": 1}]


def test_config_errors_are_reported_at_binding() -> None:
    cases = [
        ({"query": "SELECT 1"}, "is not valid under any of the given schemas"),
        ({"path": "a.db", "url": "sqlite://", "query": "SELECT 1"}, "is valid under each of"),
        ({"url": "nonsense", "query": "SELECT 1"}, "`nonsense` is not a database URL"),
        ({"url": "nosuchdb://host/db", "query": "SELECT 1"}, "no database dialect `nosuchdb`"),
        ({"path": "a.db", "password_env": "X", "query": "SELECT 1"}, "`password_env` goes with"),
    ]
    for config, expected in cases:
        with pytest.raises(BindingError) as caught:
            Flow().add("read", "builtin:sql-read", [], ["out"], config).bind_only()
        assert expected in str(caught.value), (config, str(caught.value))


def test_a_missing_extra_fails_binding_with_the_pip_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    real = importlib.util.find_spec

    def without_sqlalchemy(name: str, *args: Any) -> Any:
        return None if name == "sqlalchemy" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_sqlalchemy)
    with pytest.raises(BindingError) as caught:
        Flow().add(
            "read", "builtin:sql-read", [], ["out"], {"path": "a.db", "query": "SELECT 1"}
        ).bind_only()
    message = str(caught.value)
    assert message == (
        "node `read`: component `builtin:sql-read`: needs `sqlalchemy`, which is not "
        "installed: pip install 'pureflow-nodes[sql]' (at /nodes/0/component)"
    )
    assert caught.value.problems[0].code == "binding.import_failed"
