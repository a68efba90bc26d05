"""Batch inputs and outputs (spec-2 §11, §15 item 25) and the executor protocols."""

from __future__ import annotations

from typing import Any

import pytest
from pureflow.core import (
    BatchExecutor,
    BatchInputs,
    BatchOutputs,
    NodeContext,
    NodeExecutor,
    PortsIn,
    PortsOut,
    node_executor,
)


class Echo:
    def invoke(self, inputs: BatchInputs) -> BatchOutputs:
        outputs = BatchOutputs()
        for packet in inputs.packets("in"):
            outputs.push("out", packet)
        return outputs


def test_batch_keys_sorted_and_packets_ordered(kit: Any) -> None:
    batch = BatchInputs()
    batch.push("right", kit.packet("r1"))
    batch.push("left", kit.packet("l1"))
    batch.push("right", kit.packet("r2"))
    assert list(batch.packets_by_port()) == ["left", "right"]
    assert [p.message_id for p in batch.packets("right")] == ["r1", "r2"]
    assert batch.packets("missing") == []
    assert len(batch) == 3
    assert batch == BatchInputs.from_packets(
        {"left": [kit.packet("l1")], "right": [kit.packet("r1"), kit.packet("r2")]}
    )
    assert [port for port, _ in batch] == ["left", "right"]
    taken = batch.into_packets_by_port()
    assert list(taken) == ["left", "right"]
    assert batch.is_empty()


def test_echo_executor(kit: Any) -> None:
    echo = Echo()
    assert isinstance(echo, BatchExecutor)
    inputs = BatchInputs.from_packets({"in": [kit.packet("a"), kit.packet("b")]})
    outputs = echo.invoke(inputs)
    assert [p.message_id for p in outputs.packets("out")] == ["a", "b"]
    assert echo.invoke(BatchInputs.new()).is_empty()
    assert BatchInputs() != BatchOutputs()


@pytest.mark.anyio
async def test_node_executor_decorator(kit: Any) -> None:
    seen: list[str] = []

    @node_executor
    async def node(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        seen.append(ctx.node_id)

    assert isinstance(node, NodeExecutor)
    await node.run(kit.ctx("n1"), PortsIn(), PortsOut())
    assert seen == ["n1"]
    assert "node" in repr(node)
