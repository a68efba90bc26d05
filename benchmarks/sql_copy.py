"""Copy a table through ``sql-read -> map -> sql-write``, beside a plain SQLAlchemy loop.

    python benchmarks/sql_copy.py [--rows 10000 1000000] [--database sqlite postgresql]

For each database and row count this fills a ``source`` table (id, name, amount, created),
then copies it into an empty ``target`` table twice, each time in a fresh child process:

* ``pureflow``: the workflow ``sql-read -> map -> sql-write`` (``chunk_size`` and
  ``batch_size`` 1000; the map adds ``amount_cents``), run by the engine;
* ``sqlalchemy``: the same copy written directly: one connection streams the query
  (``stream_results``, 1000 rows per ``fetchmany``), the same transform runs per row, and
  a second connection inserts each 1000 rows in a transaction.

It prints rows per second and the child's peak RSS, and the two ratios the connectors are
judged on: Pureflow's rows/s against the plain loop's, and Pureflow's peak RSS at the
largest count against the smallest (flat memory means the copy streams). PostgreSQL is a
throwaway server started from the ``postgresql`` package's binaries on a loopback port
(skipped when they are missing); SQLite is a file in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "packages" / "pureflow-nodes" / "tests"
CHUNK = 1000
PASSWORD_VARIABLE = "PUREFLOW_BENCH_PG_PASSWORD"


def transform(row: dict[str, Any]) -> dict[str, Any]:
    """The map step of both implementations."""
    row["amount_cents"] = round(row["amount"] * 100)
    return row


def _peak_rss_kib() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


# --- the children ----------------------------------------------------------------------------


def _copy_with_pureflow(config: dict[str, Any]) -> None:
    import anyio
    import pureflow.nodes
    from pureflow.engine import TerminalState, bind_workflow, run_workflow
    from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition, WorkflowGraph

    nodes = [
        NodeDefinition.of(
            "read",
            [],
            ["out"],
            component="builtin:sql-read",
            config={**config, "query": "SELECT * FROM source ORDER BY id", "chunk_size": CHUNK},
        ),
        NodeDefinition.of(
            "convert",
            ["in"],
            ["out"],
            component="builtin:map",
            config={"function": "sql_copy:transform"},
        ),
        NodeDefinition.of(
            "write",
            ["in"],
            [],
            component="builtin:sql-write",
            config={**config, "table": "target", "batch_size": CHUNK},
        ),
    ]
    edges = [
        EdgeDefinition.between(("read", "out"), ("convert", "in"), CHUNK),
        EdgeDefinition.between(("convert", "out"), ("write", "in"), CHUNK),
    ]
    workflow = WorkflowDefinition("sql-copy", WorkflowGraph(nodes, edges))
    bound = bind_workflow(workflow, base_dir=HERE, catalog=pureflow.nodes.catalog())
    summary = anyio.run(run_workflow, workflow, bound)
    if summary.terminal_state is not TerminalState.COMPLETED:
        raise SystemExit(f"the copy failed: {summary.first_error}")


def _copy_with_sqlalchemy(url: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    target = sqlalchemy.Table("target", sqlalchemy.MetaData(), autoload_with=engine)
    insert = sqlalchemy.insert(target)
    with engine.connect() as reading, engine.connect() as writing:
        result = reading.execution_options(stream_results=True, max_row_buffer=CHUNK).execute(
            sqlalchemy.text("SELECT * FROM source ORDER BY id")
        )
        while rows := result.fetchmany(CHUNK):
            batch = [transform(dict(row._mapping)) for row in rows]
            with writing.begin():
                writing.execute(insert, batch)
    engine.dispose()


def child(implementation: str, url: str, config: dict[str, Any]) -> None:
    """Run one copy in this process and print its JSON measurement."""
    # Imports first: the measurement is the copy, not the interpreter's start.
    import anyio  # noqa: F401
    import pureflow.engine
    import pureflow.nodes  # noqa: F401
    import sqlalchemy  # noqa: F401

    start = time.perf_counter()
    if implementation == "pureflow":
        _copy_with_pureflow(config)
    else:
        _copy_with_sqlalchemy(url)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_rss_kib": _peak_rss_kib()}))


# --- the parent ------------------------------------------------------------------------------


def _prepare(url: str, rows: int) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    postgres = engine.dialect.name == "postgresql"
    if not postgres:  # as sql-read and sql-write do: the plain loop reads and writes at once
        with engine.connect() as db:
            db.exec_driver_sql("PRAGMA journal_mode=WAL")
    with engine.begin() as db:
        for table in ("source", "target"):
            db.execute(sqlalchemy.text(f"DROP TABLE IF EXISTS {table}"))
        db.execute(
            sqlalchemy.text(
                "CREATE TABLE source (id INTEGER PRIMARY KEY, name TEXT, amount REAL, created TEXT)"
            )
        )
        db.execute(
            sqlalchemy.text(
                "CREATE TABLE target (id INTEGER PRIMARY KEY, name TEXT, amount REAL, "
                "created TEXT, amount_cents INTEGER)"
            )
        )
        if postgres:
            fill = (
                "INSERT INTO source SELECT n, 'customer ' || n, (n % 1000) / 7.0, "
                "'2024-01-01T00:00:00' FROM generate_series(1, :rows) AS n"
            )
        else:
            fill = (
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows) "
                "INSERT INTO source SELECT i, 'customer ' || i, (i % 1000) / 7.0, "
                "'2024-01-01T00:00:00' FROM n"
            )
        db.execute(sqlalchemy.text(fill), {"rows": rows})
    engine.dispose()


def _empty_target(url: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.begin() as db:
        db.execute(sqlalchemy.text("DELETE FROM target"))
    engine.dispose()


def _count_target(url: str) -> int:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.connect() as db:
        count = int(db.execute(sqlalchemy.text("SELECT count(*) FROM target")).scalar_one())
    engine.dispose()
    return count


def _measure(implementation: str, url: str, config: dict[str, Any], env: dict[str, str]) -> Any:
    argv = [sys.executable, __file__, "--child", implementation, url, json.dumps(config)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{implementation} copy failed:\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextmanager
def _databases(names: list[str], folder: Path) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    """(name, URL with password, node config) per database; PostgreSQL started here."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    server = None
    if "sqlite" in names:
        path = folder / "copy.db"
        found.append(("sqlite", f"sqlite:///{path}", {"path": str(path)}))
    if "postgresql" in names:
        sys.path.insert(0, str(TESTS))
        from postgres_server import SKIP_REASON, postgres_server, server_binaries

        if server_binaries() is None:
            print(f"postgresql: skipped: {SKIP_REASON}", file=sys.stderr)
        else:
            server = postgres_server()
            running = server.__enter__()
            os.environ[PASSWORD_VARIABLE] = running.password
            config = {"url": running.url, "password_env": PASSWORD_VARIABLE}
            found.append(("postgresql", running.url_with_password, config))
    try:
        yield found
    finally:
        if server is not None:
            server.__exit__(None, None, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument(
        "--database", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        implementation, url, config = options.child
        child(implementation, url, json.loads(config))
        return
    rows_list = sorted(options.rows)
    header = (
        f"{'database':<11} {'rows':>10} {'copy':<11} {'seconds':>8} {'rows/s':>9} {'peak RSS':>9}"
    )
    print(header)
    with (
        tempfile.TemporaryDirectory(prefix="pureflow-sql-") as folder,
        _databases(options.database, Path(folder)) as databases,
    ):
        env = dict(os.environ)
        for name, url, config in databases:
            peaks: dict[int, float] = {}
            for rows in rows_list:
                _prepare(url, rows)
                speed: dict[str, float] = {}
                for implementation in ("sqlalchemy", "pureflow"):
                    _empty_target(url)
                    result = _measure(implementation, url, config, env)
                    copied = _count_target(url)
                    if copied != rows:
                        raise SystemExit(f"{implementation} copied {copied} rows of {rows}")
                    speed[implementation] = rows / result["seconds"]
                    rss = result["peak_rss_kib"] / 1024
                    if implementation == "pureflow":
                        peaks[rows] = rss
                    print(
                        f"{name:<11} {rows:>10,} {implementation:<11} {result['seconds']:>8.2f} "
                        f"{speed[implementation]:>9,.0f} {rss:>7.1f} MiB",
                        flush=True,
                    )
                ratio = speed["pureflow"] / speed["sqlalchemy"]
                print(f"{name:<11} {rows:>10,} pureflow / sqlalchemy rows/s: {ratio:.2f}")
            if len(rows_list) > 1:
                small, large = rows_list[0], rows_list[-1]
                growth = peaks[large] - peaks[small]
                print(
                    f"{name:<11} pureflow peak RSS at {large:,} rows minus at {small:,}: "
                    f"{growth:+.1f} MiB"
                )


if __name__ == "__main__":
    main()
