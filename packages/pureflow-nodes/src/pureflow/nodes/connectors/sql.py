"""``sql-read`` and ``sql-write``: SQL databases through SQLAlchemy 2 (extra ``sql``;
PostgreSQL also needs ``postgresql``, which brings psycopg).

The database is a SQLite file (``path``, the embedded default) or any SQLAlchemy URL
(``url``, or ``url_env`` naming an environment variable that holds it). A password never
sits in the document: ``password_env`` names the environment variable that holds it, read
when the node runs.

A SQLite database is switched to write-ahead logging (``PRAGMA journal_mode=WAL``, which
stays with the file) so that a reader's open query does not block a writer's commits: a
workflow may read and write the same file at once.

Both components use SQLAlchemy's synchronous engine, one connection per node, and make
every database call in a worker thread, one chunk or batch per trip (the async engine is
asyncio-only; Pureflow nodes run on asyncio and trio alike). So:

* ``sql-read`` streams its query with ``stream_results`` (a server-side cursor on
  PostgreSQL; SQLite steps its statement as rows are fetched) and fetches ``chunk_size``
  rows at a time. It fetches the next chunk only when the last one has been sent, so a
  full edge stops the reading: memory holds one chunk, whatever the table's size.
* ``sql-write`` takes up to ``batch_size`` packets at a time and writes each batch in its
  own transaction: a batch is committed whole or rolled back whole.

Rows travel as control payloads: JSON objects keyed by column name.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence, Set
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import anyio
import anyio.to_thread
from pureflow.contract import Determinism, EffectCapability, RetryDisposition
from pureflow.core import (
    ComponentConfigError,
    ExecutionError,
    NodeConfig,
    NodeContext,
    PacketPayload,
    PayloadKind,
    PortsIn,
    PortsOut,
    component,
)
from pureflow.nodes._common import object_schema, send_or_stop
from pureflow.nodes.connectors._support import MissingExtra, environment_value, require

if TYPE_CHECKING:
    from sqlalchemy import Connection, CursorResult, Engine, Table
    from sqlalchemy.engine import URL

T = TypeVar("T")
_CONTROL = PayloadKind.CONTROL

DATABASE_SCHEMA: Final[dict[str, Any]] = {
    "path": {
        "type": "string",
        "minLength": 1,
        "description": "A SQLite database file (the embedded default); relative to the "
        "workflow file's folder.",
    },
    "url": {
        "type": "string",
        "minLength": 1,
        "description": "A SQLAlchemy database URL without a password, such as "
        "`postgresql+psycopg://app@db.example:5432/shop`.",
    },
    "url_env": {
        "type": "string",
        "minLength": 1,
        "description": "The environment variable holding the database URL (it may "
        "contain the password).",
    },
    "password_env": {
        "type": "string",
        "minLength": 1,
        "description": "The environment variable holding the password for `url`.",
    },
}
"""Where the database is: exactly one of ``path``, ``url``, ``url_env``."""

ONE_DATABASE: Final = [{"required": [key]} for key in ("path", "url", "url_env")]


def _sqlalchemy_error(err: BaseException) -> str:
    """The first line of the driver's message (SQLAlchemy appends the SQL and a link)."""
    original = getattr(err, "orig", None)
    text = str(original if original is not None else err).strip()
    return text.splitlines()[0] if text else type(err).__name__


class Database:
    """One node's database, described by its config; connected only when the node runs.

    Binding checks what it can without a connection or a secret: SQLAlchemy is
    installed, the URL parses, has no password, and its driver is installed.
    """

    def __init__(self, component_name: str, config: NodeConfig) -> None:
        require(component_name, "sqlalchemy")
        self.component = component_name
        self.path: Path | None = None
        self.url_text: str | None = None
        self.url_env: str | None = config.get("url_env")
        self.password_env: str | None = config.get("password_env")
        if "path" in config:
            self.path = config.resolve_path(config["path"])
        elif "url" in config:
            self.url_text = str(config["url"])
            url = self._parse(self.url_text, "/url")
            if url.password is not None:
                raise ComponentConfigError(
                    "the URL holds a password: put it in an environment variable and "
                    "name that variable in `password_env` (or the whole URL in `url_env`)",
                    location="/url",
                )
            self._check_driver(url)
        if self.password_env is not None and self.url_text is None:
            raise ComponentConfigError(
                "`password_env` goes with `url` (a SQLite file has no password; a URL from "
                "`url_env` carries its own)",
                location="/password_env",
            )

    def _parse(self, text: str, location: str) -> URL:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            return make_url(text)
        except ArgumentError as err:
            raise ComponentConfigError(
                f"`{text}` is not a database URL", location=location
            ) from err

    def _check_driver(self, url: URL) -> None:
        from sqlalchemy.exc import NoSuchModuleError

        try:
            url.get_dialect().import_dbapi()
        except NoSuchModuleError as err:
            raise ComponentConfigError(
                f"SQLAlchemy has no database dialect `{url.drivername}`", location="/url"
            ) from err
        except ImportError as err:
            if url.get_backend_name() == "postgresql":
                raise MissingExtra(self.component, ["psycopg"]) from err
            raise ImportError(
                f"the `{url.drivername}` database driver is not installed ({err})"
            ) from err

    def url(self) -> URL:
        """The URL to connect to, with the password from the environment (at run time)."""
        from sqlalchemy.engine import URL as URL_

        if self.path is not None:
            return URL_.create("sqlite", database=str(self.path))
        if self.url_env is not None:
            text = environment_value(self.component, self.url_env, "url_env")
            try:
                url = self._parse(text, "/url_env")
            except ComponentConfigError as err:
                raise ExecutionError(
                    f"{self.component}: environment variable `{self.url_env}` does not hold "
                    "a database URL"
                ) from err
            self._check_driver(url)
            return url
        assert self.url_text is not None
        url = self._parse(self.url_text, "/url")
        if self.password_env is not None:
            password = environment_value(self.component, self.password_env, "password_env")
            url = url.set(password=password)
        return url

    def describe(self) -> str:
        """The database for messages: the URL without its password."""
        if self.path is not None:
            return f"sqlite:///{self.path}"
        if self.url_text is not None:
            return self.url_text
        return f"the URL in `${self.url_env}`"

    def connect(self) -> tuple[Engine, Connection]:
        """Create the engine and open its one connection (blocking: call in a thread)."""
        from sqlalchemy import create_engine, event
        from sqlalchemy.exc import SQLAlchemyError

        if self.path is not None and not self.path.is_file():
            # sqlite3 would create an empty database; a missing file is a mistake here.
            raise ExecutionError(f"{self.component}: no SQLite database at `{self.path}`")
        url = self.url()
        options: dict[str, Any] = {}
        sqlite = url.get_backend_name() == "sqlite"
        if sqlite:
            # Every call comes from some worker thread, one at a time.
            options["connect_args"] = {"check_same_thread": False}
        engine = create_engine(url, **options)
        if sqlite:
            event.listen(engine, "connect", _write_ahead_log)
        try:
            return engine, engine.connect()
        except SQLAlchemyError as err:
            engine.dispose()
            raise ExecutionError(
                f"{self.component}: cannot connect to `{self.describe()}`: {_sqlalchemy_error(err)}"
            ) from err


_JOURNAL_SWITCH = threading.Lock()


def _write_ahead_log(connection: Any, record: Any) -> None:  # noqa: ARG001 - the event's signature
    """Switch a SQLite database to write-ahead logging (it stays so): a reader's open
    query then no longer blocks a writer's commits, so ``sql-read`` and ``sql-write`` can
    work on the same file at once. The switch needs the database to itself, and SQLite
    does not wait for that (it answers "database is locked" at once), so the nodes of a
    run that connect together take turns, and a database already in WAL mode is left
    as it is."""
    cursor = connection.cursor()
    try:
        with _JOURNAL_SWITCH:
            (mode,) = cursor.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


async def _blocking(component_name: str, what: str, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a worker thread; a SQLAlchemy error becomes an
    :class:`ExecutionError` that says what was being done."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return await anyio.to_thread.run_sync(function, *args)
    except SQLAlchemyError as err:
        raise ExecutionError(f"{component_name}: {what}: {_sqlalchemy_error(err)}") from err


async def _close(engine: Engine | None, connection: Connection | None) -> None:
    """Close the connection and dispose of the engine, even while being cancelled."""
    with anyio.CancelScope(shield=True):
        if connection is not None:
            await anyio.to_thread.run_sync(connection.close)
        if engine is not None:
            await anyio.to_thread.run_sync(engine.dispose)


# --- reading -------------------------------------------------------------------------------


def json_value(value: Any) -> Any:
    """A column value as JSON: numbers, strings, booleans and NULL as they are; a
    DECIMAL as an integer or a float; dates and times as ISO 8601 text; a UUID as text;
    bytes as base64 text; anything else through ``str``."""
    import base64
    import datetime
    import decimal
    import uuid

    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict | list):
        return value
    return str(value)


_PLAIN: Final = (str, int, float, type(None))


def _fetch_records(result: CursorResult[Any], keys: Sequence[str], size: int) -> list[Any]:
    """Worker-thread side: the next ``size`` rows as JSON objects."""
    records = []
    for row in result.fetchmany(size):
        values = [v if isinstance(v, _PLAIN) else json_value(v) for v in row]
        records.append(dict(zip(keys, values, strict=True)))
    return records


@component(
    name="sql-read",
    inputs=[],
    outputs=["out"],
    effects=[
        EffectCapability.FILESYSTEM_READ,
        EffectCapability.NETWORK_OUTBOUND,
        EffectCapability.ENVIRONMENT_READ,
    ],
    determinism=Determinism.UNKNOWN,
    retry=RetryDisposition.SAFE,
    config_schema=object_schema(
        {
            **DATABASE_SCHEMA,
            "query": {
                "type": "string",
                "minLength": 1,
                "description": "The SQL query; `:name` marks a parameter.",
            },
            "params": {
                "type": "object",
                "default": {},
                "description": "Values for the query's `:name` parameters.",
            },
            "chunk_size": {
                "type": "integer",
                "minimum": 1,
                "default": 1000,
                "description": "Rows fetched per trip to the database.",
            },
        },
        required=["query"],
        oneOf=ONE_DATABASE,
    ),
)
class SqlRead:
    """Stream the rows of a SQL query, one JSON object per row (keys are column names).

    The query streams through a server-side cursor, `chunk_size` rows at a time; the next
    chunk is fetched only when the last one has been sent, so a full edge stops the reading
    and memory does not grow with the table. DECIMAL values become numbers, dates and
    times ISO 8601 text, bytes base64 text. A failed query fails the node with the
    database's message.
    """

    def __init__(self, config: NodeConfig) -> None:
        self.database = Database("sql-read", config)
        self.query = str(config["query"])
        self.params = dict(config.get("params", {}))
        self.chunk_size = int(config.get("chunk_size", 1000))

    def _execute(self, connection: Connection) -> CursorResult[Any]:
        from sqlalchemy import text

        streaming = connection.execution_options(
            stream_results=True, max_row_buffer=self.chunk_size
        )
        return streaming.execute(text(self.query), self.params)

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        out = outputs["out"]
        where = self.database.describe()
        engine: Engine | None = None
        connection: Connection | None = None
        rows = chunks = 0
        try:
            engine, connection = await _blocking("sql-read", where, self.database.connect)
            result = await _blocking(
                "sql-read", f"query failed on `{where}`", self._execute, connection
            )
            keys = list(result.keys())
            while records := await _blocking(
                "sql-read",
                f"fetching rows from `{where}` failed",
                _fetch_records,
                result,
                keys,
                self.chunk_size,
            ):
                chunks += 1
                rows += len(records)
                ctx.logger.debug("sql-read: chunk %d: %d rows", chunks, len(records))
                for record in records:
                    if not await send_or_stop(out, out.packet(PacketPayload(_CONTROL, record))):
                        return
        finally:
            await _close(engine, connection)
            ctx.logger.info("sql-read: read %d rows in %d chunks from `%s`", rows, chunks, where)


# --- writing -------------------------------------------------------------------------------


class _TableWriter:
    """Worker-thread side of ``sql-write``: the reflected table and one transaction per
    batch."""

    def __init__(self, connection: Connection, table: Table, upsert_key: Sequence[str]) -> None:
        from sqlalchemy.types import JSON

        self.connection = connection
        self.table = table
        self.upsert_key = list(upsert_key)
        self.backend = connection.dialect.name
        self.json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}

    def statement(self, columns: Sequence[str]) -> Any:
        from sqlalchemy import insert

        if not self.upsert_key:
            return insert(self.table)
        if self.backend == "postgresql":
            from sqlalchemy.dialects import postgresql as dialect
        elif self.backend == "sqlite":
            from sqlalchemy.dialects import sqlite as dialect  # type: ignore[no-redef]
        else:  # checked before the first batch
            raise AssertionError(self.backend)
        statement = dialect.insert(self.table)
        updates = {c: statement.excluded[c] for c in columns if c not in self.upsert_key}
        if not updates:
            return statement.on_conflict_do_nothing(index_elements=self.upsert_key)
        return statement.on_conflict_do_update(index_elements=self.upsert_key, set_=updates)

    def write(self, columns: Sequence[str], rows: list[dict[str, Any]]) -> None:
        """Write one batch in one transaction (rolled back if anything fails)."""
        nested = [c for c in columns if c not in self.json_columns]
        for row in rows:
            for column in nested:
                value = row[column]
                if isinstance(value, dict | list):
                    row[column] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        with self.connection.begin():
            self.connection.execute(self.statement(columns), rows)


def _reflect(connection: Connection, name: str, schema: str | None) -> Table | None:
    from sqlalchemy import MetaData, Table
    from sqlalchemy.exc import NoSuchTableError

    try:
        table = Table(name, MetaData(), autoload_with=connection, schema=schema)
    except NoSuchTableError:
        table = None
    # Reflection opened a transaction (SQLAlchemy 2 begins one on first use): end it so
    # each batch gets its own.
    connection.rollback()
    return table


@component(
    name="sql-write",
    inputs=["in"],
    outputs=[],
    effects=[
        EffectCapability.FILESYSTEM_WRITE,
        EffectCapability.NETWORK_OUTBOUND,
        EffectCapability.EXTERNAL_EFFECT,
        EffectCapability.ENVIRONMENT_READ,
    ],
    retry=RetryDisposition.UNKNOWN,
    config_schema=object_schema(
        {
            **DATABASE_SCHEMA,
            "table": {"type": "string", "minLength": 1, "description": "The table to write."},
            "schema": {
                "type": "string",
                "minLength": 1,
                "description": "The table's schema (PostgreSQL), if not the default one.",
            },
            "batch_size": {
                "type": "integer",
                "minimum": 1,
                "default": 500,
                "description": "Rows per transaction, at most.",
            },
            "upsert_key": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 1,
                "uniqueItems": True,
                "description": "Columns of a unique key: a row whose key exists updates it "
                "instead (PostgreSQL and SQLite).",
            },
        },
        required=["table"],
        oneOf=ONE_DATABASE,
    ),
)
class SqlWrite:
    """Insert each packet (a JSON object keyed by column name) as a row of `table`, in
    batches of up to `batch_size` rows, one transaction per batch.

    A failed batch is rolled back whole and fails the node, naming the table and the
    batch's messages; batches before it stay committed. With `upsert_key` a row whose key
    is already in the table updates that row, so running the workflow again converges
    instead of duplicating rows. Keys the table lacks fail the node; missing keys are NULL
    (or the column default when no row of the batch has them).
    """

    def __init__(self, config: NodeConfig) -> None:
        self.database = Database("sql-write", config)
        self.table_name = str(config["table"])
        self.schema: str | None = config.get("schema")
        self.batch_size = int(config.get("batch_size", 500))
        self.upsert_key: list[str] = list(config.get("upsert_key", []))

    def _open(self, connection: Connection) -> _TableWriter:
        table = _reflect(connection, self.table_name, self.schema)
        if table is None:
            raise ExecutionError(
                f"sql-write: table `{self.table_name}` not found in `{self.database.describe()}`"
            )
        writer = _TableWriter(connection, table, self.upsert_key)
        if self.upsert_key:
            if writer.backend not in ("postgresql", "sqlite"):
                raise ExecutionError(
                    f"sql-write: `upsert_key` works on PostgreSQL and SQLite, not {writer.backend}"
                )
            unknown = [c for c in self.upsert_key if c not in table.columns]
            if unknown:
                raise ExecutionError(
                    f"sql-write: `upsert_key` names columns table `{self.table_name}` lacks: "
                    + ", ".join(f"`{c}`" for c in unknown)
                )
        return writer

    def _rows(
        self, batch: Sequence[Any], known: Set[str]
    ) -> tuple[list[str], list[dict[str, Any]]]:
        """The batch's columns (every key any row has, in first-seen order) and its rows
        with every column present."""
        columns: dict[str, None] = {}
        values: list[dict[str, Any]] = []
        for packet in batch:
            value = packet.payload.value
            if not isinstance(value, dict):
                raise ExecutionError(
                    f"sql-write: message `{packet.message_id}` is a {type(value).__name__}, "
                    "not a JSON object"
                )
            for key in value:
                if key not in columns:
                    if key not in known:
                        raise ExecutionError(
                            f"sql-write: message `{packet.message_id}` has a field table "
                            f"`{self.table_name}` lacks: `{key}`"
                        )
                    columns[key] = None
            values.append(value)
        names = list(columns)
        rows = [{name: value.get(name) for name in names} for value in values]
        return names, rows

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        source = inputs["in"]
        where = self.database.describe()
        target = f"`{self.table_name}` in `{where}`"
        engine: Engine | None = None
        connection: Connection | None = None
        rows = batches = 0
        try:
            engine, connection = await _blocking("sql-write", where, self.database.connect)
            writer = await _blocking(
                "sql-write", f"reading table {target} failed", self._open, connection
            )
            known = set(writer.table.columns.keys())
            while batch := await source.recv_many(self.batch_size):
                columns, values = self._rows(batch, known)
                first, last = batch[0].message_id, batch[-1].message_id
                await _blocking(
                    "sql-write",
                    f"writing {len(values)} rows (messages `{first}` to `{last}`) into "
                    f"{target} failed; that batch was rolled back",
                    writer.write,
                    columns,
                    values,
                )
                batches += 1
                rows += len(values)
                ctx.logger.debug("sql-write: batch %d: committed %d rows", batches, len(values))
        finally:
            await _close(engine, connection)
            ctx.logger.info(
                "sql-write: wrote %d rows in %d transactions into %s", rows, batches, target
            )
