"""``watch-folder``: the initial scan, a packet per created or changed file matching the
glob, and a run that ends only when cancelled (or at ``limit``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from nodes_flow_support import Flow
from pureflow.core import CancellationHandle, NodeContext, PortsIn, PortsOut
from pureflow.engine import BindingError, TerminalState

pytestmark = pytest.mark.anyio


class _Watching(logging.Handler):
    """Wakes the test when the node says it is watching."""

    def __init__(self) -> None:
        super().__init__()
        self.ready = anyio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("watch-folder: watching"):
            self.ready.set()


@pytest.fixture
def watching() -> Iterator[_Watching]:
    handler = _Watching()
    logger = logging.getLogger("pureflow.node.watch")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


class _Collector:
    """Keeps every packet; ``arrived`` is set (and replaced) on each one."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.arrived = anyio.Event()

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        async for packet in inputs["in"]:
            self.values.append(packet.payload.value)
            self.arrived.set()

    async def wait_for(self, count: int) -> None:
        while len(self.values) < count:
            self.arrived = anyio.Event()
            await self.arrived.wait()


async def test_watch_folder_scans_then_reports_changes_until_cancelled(
    tmp_path: Path, watching: _Watching
) -> None:
    folder = tmp_path / "inbox"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.csv").write_text("old")
    (folder / "sub" / "a.csv").write_text("old")
    (folder / "notes.txt").write_text("ignored")
    config = {"path": "inbox", "glob": "*.csv", "initial_scan": True, "debounce_ms": 50}
    collector = _Collector()
    flow = Flow().add("watch", "builtin:watch-folder", [], ["out"], config)
    flow.use("sink", collector, ["in"]).connect("watch.out", "sink.in")
    handle = CancellationHandle()

    async def change_files() -> None:
        await watching.ready.wait()
        await collector.wait_for(2)
        await anyio.wait_all_tasks_blocked()  # the watcher's thread is watching
        (folder / "new.csv").write_text("fresh")
        (folder / "skip.txt").write_text("not matched")
        await collector.wait_for(3)
        (folder / "b.csv").write_text("changed")
        await collector.wait_for(4)
        handle.cancel("enough")

    async with anyio.create_task_group() as group:
        group.start_soon(change_files)
        summary = await flow.run(tmp_path, expect_success=False, cancellation=handle)
    assert summary.terminal_state is TerminalState.CANCELLED
    assert [(v["relative"], v["change"]) for v in collector.values] == [
        ("b.csv", "existing"),
        ("sub/a.csv", "existing"),
        ("new.csv", "added"),
        ("b.csv", "modified"),
    ]
    assert collector.values[2]["path"] == str(folder / "new.csv")


async def test_watch_folder_stops_at_its_limit(tmp_path: Path, watching: _Watching) -> None:
    config = {"path": ".", "glob": "*.json", "recursive": False, "limit": 2, "debounce_ms": 20}
    collector = _Collector()
    flow = Flow().add("watch", "builtin:watch-folder", [], ["out"], config)
    flow.use("sink", collector, ["in"]).connect("watch.out", "sink.in")

    async def create() -> None:
        await watching.ready.wait()
        await anyio.wait_all_tasks_blocked()
        (tmp_path / "sub").mkdir()
        (tmp_path / "sub" / "deep.json").write_text("{}")  # not recursive: left out
        (tmp_path / "one.json").write_text("{}")
        await collector.wait_for(1)
        (tmp_path / "two.json").write_text("{}")

    async with anyio.create_task_group() as group:
        group.start_soon(create)
        await flow.run(tmp_path)
    assert [v["relative"] for v in collector.values] == ["one.json", "two.json"]


async def test_a_missing_folder_fails_the_node(tmp_path: Path) -> None:
    flow = Flow().add("watch", "builtin:watch-folder", [], ["out"], {"path": "absent"})
    flow.capture("sink")
    summary = await flow.connect("watch.out", "sink.in").run(tmp_path, expect_success=False)
    assert f"watch-folder: `{tmp_path / 'absent'}` is not a folder" in str(summary.first_error)


def test_a_missing_extra_names_the_watch_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "watchfiles" else real(name, *a),
    )
    with pytest.raises(BindingError) as caught:
        Flow().add("watch", "builtin:watch-folder", [], ["out"], {"path": "."}).bind_only()
    assert "pip install 'pureflow-nodes[watch]'" in str(caught.value)
