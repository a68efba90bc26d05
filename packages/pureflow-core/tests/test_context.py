"""Attempts, cancellation handles and tokens, node contexts (spec-2 §3, §15 items 14-15)."""

from __future__ import annotations

import logging
import time

import anyio
import pytest
from pureflow.core import (
    CancellationHandle,
    CancellationRequest,
    CancellationState,
    CancellationToken,
    ExecutionAttempt,
    ExecutionMetadata,
    NodeContext,
)


def test_attempts_are_one_based() -> None:
    assert ExecutionAttempt.first().get() == 1
    assert ExecutionAttempt(3) == 3
    with pytest.raises(ValueError, match="between 1"):
        ExecutionAttempt(0)
    with pytest.raises(ValueError, match="between 1"):
        ExecutionAttempt(2**32)
    with pytest.raises(TypeError):
        ExecutionAttempt(True)
    first = ExecutionMetadata.first_attempt("run-1")
    assert first.attempt == 1
    assert first != ExecutionMetadata(first.execution_id, ExecutionAttempt(2))
    assert first.to_json_value() == {"attempt": 1, "execution_id": "run-1"}


def test_context_starts_active_and_with_cancellation(kit: object) -> None:
    ctx = NodeContext("flow", "node", ExecutionMetadata.first_attempt("run-1"))
    assert not ctx.is_cancelled()
    assert ctx.cancellation == CancellationState.ACTIVE
    assert ctx.config == {}
    cancelled = ctx.with_cancellation("shutdown requested")
    assert cancelled.is_cancelled()
    assert cancelled.cancellation.is_requested()
    assert cancelled.cancellation.reason == "shutdown requested"
    assert not ctx.is_cancelled()  # with_cancellation detaches: a new token
    assert cancelled.to_json_value()["cancellation"] == {
        "reason": "shutdown requested",
        "state": "requested",
    }


def test_shared_handle_first_request_wins() -> None:
    handle = CancellationHandle()
    execution = ExecutionMetadata.first_attempt("run-1")
    parent = NodeContext("flow", "parent", execution, cancellation_token=handle.token)
    child = NodeContext("flow", "child", execution).with_cancellation_token(handle.token)
    assert handle.cancel(CancellationRequest("supervisor shutdown")) is True
    assert handle.cancel("second reason") is False
    assert parent.is_cancelled()
    assert child.is_cancelled()
    assert handle.request == CancellationRequest("supervisor shutdown")
    assert child.cancellation.reason == "supervisor shutdown"
    assert handle.token == CancellationToken.cancelled("supervisor shutdown")
    assert CancellationToken.active() == CancellationToken()


def test_context_config_logger_and_equality() -> None:
    execution = ExecutionMetadata.first_attempt("run-1")
    ctx = NodeContext("flow", "clean", execution, config={"limit": 3})
    assert ctx.config["limit"] == 3
    with pytest.raises(TypeError):
        ctx.config["limit"] = 4  # type: ignore[index]
    assert isinstance(ctx.logger, logging.Logger)
    assert ctx.logger.name == "pureflow.node.clean"
    assert ctx.with_config({"x": 1}).config == {"x": 1}
    assert ctx == NodeContext("flow", "clean", execution)
    assert ctx != NodeContext("flow", "other", execution)


def test_tokens_are_created_outside_an_event_loop() -> None:
    handle = CancellationHandle()
    token = handle.token

    async def main() -> float:
        async def cancel_later() -> None:
            await anyio.sleep(0.01)
            handle.cancel("stop")

        async with anyio.create_task_group() as tg:
            tg.start_soon(cancel_later)
            start = time.perf_counter()
            request = await token.wait()
            assert request.reason == "stop"
            return time.perf_counter() - start

    for backend in ("asyncio", "trio"):
        handle = CancellationHandle()
        token = handle.token
        assert anyio.run(main, backend=backend) < 0.5


@pytest.mark.anyio
async def test_token_wait_wakes_every_waiter_at_once() -> None:
    handle = CancellationHandle()
    woken: list[float] = []

    async def waiter() -> None:
        await handle.token.wait()
        woken.append(time.perf_counter())

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(waiter)
        await anyio.sleep(0.01)
        start = time.perf_counter()
        handle.cancel("stop")
    assert len(woken) == 5
    assert max(woken) - start < 0.05
    # already cancelled: returns at once
    assert (await handle.token.wait()).reason == "stop"


@pytest.mark.anyio
async def test_token_wait_is_cancellable_by_scope() -> None:
    token = CancellationToken.active()
    with anyio.move_on_after(0.01) as scope:
        await token.wait()
    assert scope.cancelled_caught
    assert not token._slot.waiters  # the waiter unregistered itself
