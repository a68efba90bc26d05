"""Fixtures for the core tests: both anyio backends, and a small kit of builders."""

from __future__ import annotations

from typing import Any

import pytest
from pureflow.core import (
    CancellationToken,
    ExecutionMetadata,
    InputPortHandle,
    MessageEndpoint,
    MessageRoute,
    NodeContext,
    OutputPortHandle,
    Packet,
    PacketPayload,
    PortsIn,
    PortsOut,
    bounded_edge_channel,
)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Kit:
    """Builders shared by the tests."""

    workflow = "flow"
    execution = ExecutionMetadata.first_attempt("run-1")

    def ctx(self, node: str = "node", token: CancellationToken | None = None) -> NodeContext:
        return NodeContext(self.workflow, node, self.execution, cancellation_token=token)

    def packet(
        self,
        message_id: str = "msg-1",
        payload: Any = b"data",
        *,
        source: tuple[str, str] | None = ("producer", "out"),
        target: tuple[str, str] = ("consumer", "in"),
    ) -> Packet:
        if not isinstance(payload, PacketPayload):
            payload = PacketPayload.bytes(payload)
        route = MessageRoute(
            None if source is None else MessageEndpoint(*source), MessageEndpoint(*target)
        )
        return Packet.create(message_id, self.workflow, self.execution, route, payload)

    def edge(
        self, capacity: int = 1, out_port: str = "out", in_port: str = "in"
    ) -> tuple[OutputPortHandle, InputPortHandle]:
        return bounded_edge_channel(out_port, in_port, capacity)

    def pair(
        self, capacity: int = 1, *, sink: Any = None, token: CancellationToken | None = None
    ) -> tuple[PortsOut, PortsIn]:
        """One edge out -> in, wrapped in port collections."""
        out_handle, in_handle = self.edge(capacity)
        outputs = PortsOut(["out"], [out_handle], sink=sink, cancellation_token=token)
        inputs = PortsIn(["in"], [in_handle], sink=sink, cancellation_token=token)
        return outputs, inputs


@pytest.fixture
def kit() -> Kit:
    return Kit()
