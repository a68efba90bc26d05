"""The loop monitor names node code that holds the event loop, records it, and (under a
watchdog) interrupts it; code that awaits is never named."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import anyio
import pytest
from pureflow.core import InMemoryMetadataSink
from pureflow.engine import Flow, RunPolicy, TerminalState, run
from pureflow.engine.loop_monitor import LoopMonitor, blocked_node_at, node_of

pytestmark = pytest.mark.anyio


async def numbers(ctx: Any, inputs: Any, outputs: Any) -> None:
    await outputs["out"].send(outputs["out"].packet(1))


async def blocker(ctx: Any, inputs: Any, outputs: Any) -> None:
    async for _ in inputs["in"]:
        time.sleep(0.5)  # noqa: ASYNC251 - blocks the loop on purpose


async def polite(ctx: Any, inputs: Any, outputs: Any) -> None:
    async for _ in inputs["in"]:
        await anyio.sleep(0.5)


def pipeline(node: Any) -> Flow:
    return (
        Flow()
        .add("source", numbers, outputs=["out"])
        .add("slow", node)
        .connect("source.out", "slow.in")
    )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the monitor watches the asyncio loop the CLI runs


async def test_a_node_that_blocks_the_loop_is_named_with_its_line() -> None:
    sink = InMemoryMetadataSink()
    summary = await run(pipeline(blocker), metadata=sink, policy=RunPolicy(loop_block_seconds=0.1))
    assert summary.terminal_state is TerminalState.COMPLETED
    (warning,) = summary.warnings
    line = blocker.__code__.co_firstlineno + 2
    assert warning.startswith("node `slow` blocked the event loop for ")
    assert f"test_loop_monitor.py:{line}, in blocker)" in warning
    assert warning.endswith('declare blocking code with `run_in="thread"`, or await an async API')
    (record,) = sink.of_type("warning")
    value = record.to_json_value()
    assert (value["kind"], value["node_id"], value["message"]) == (
        "event_loop_blocked",
        "slow",
        warning,
    )
    assert value["seconds"] >= 0.1


async def test_a_node_that_awaits_is_never_named() -> None:
    sink = InMemoryMetadataSink()
    summary = await run(pipeline(polite), metadata=sink, policy=RunPolicy(loop_block_seconds=0.1))
    assert summary.warnings == []
    assert sink.of_type("warning") == []
    assert "warnings" not in summary.to_json()


async def test_the_monitor_can_be_switched_off() -> None:
    summary = await run(pipeline(blocker), policy=RunPolicy(loop_block_seconds=None))
    assert summary.warnings == []


@pytest.mark.skipif(sys.platform == "win32", reason="SIGUSR2")
async def test_under_a_watchdog_a_node_holding_the_loop_past_it_fails_there() -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.fail("the interrupt is delivered to the main thread: run tests there")

    async def stuck(ctx: Any, inputs: Any, outputs: Any) -> None:
        async for _ in inputs["in"]:
            time.sleep(60)  # noqa: ASYNC251 - interrupted by the monitor long before

    summary = await run(
        pipeline(stuck), policy=RunPolicy(loop_block_seconds=0.1, watchdog_seconds=0.3)
    )
    assert summary.terminal_state is TerminalState.FAILED
    message = str(summary.node_errors["slow"])
    assert "node `slow` blocked the event loop for " in message
    assert "past the watchdog's 0.3 s" in message


def test_only_node_code_is_named() -> None:
    assert node_of(sys._getframe()) is None  # a test, not a node
    assert blocked_node_at(sys._getframe()) is None  # no run on this thread
    with pytest.raises(ValueError, match="threshold must be > 0"):
        LoopMonitor(0)
