"""Builders shared by the runtime tests (imported by name; see conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import anyio
from pureflow.core import (
    CancellationToken,
    ExecutionMetadata,
    InMemoryMetadataSink,
    InputPortHandle,
    LifecycleError,
    LifecycleEvent,
    LifecycleEventKind,
    MessageEndpoint,
    MessageRoute,
    MetadataError,
    MetadataRecord,
    NodeContext,
    OutputPortHandle,
    Packet,
    PacketPayload,
    PortsIn,
    PortsOut,
    bounded_edge_channel,
)

WORKFLOW = "flow"
EXECUTION = ExecutionMetadata.first_attempt("run-1")


def make_ctx(node: str = "node", token: CancellationToken | None = None) -> NodeContext:
    return NodeContext(WORKFLOW, node, EXECUTION, cancellation_token=token)


def make_packet(message_id: str, payload: PacketPayload | bytes | str) -> Packet:
    if not isinstance(payload, PacketPayload):
        payload = PacketPayload.bytes(payload)
    here = MessageEndpoint("producer", "out")
    route = MessageRoute(here, MessageEndpoint("node", "in"))
    return Packet.create(message_id, WORKFLOW, EXECUTION, route, payload)


def edge(capacity: int = 1) -> tuple[OutputPortHandle, InputPortHandle]:
    """One anonymous edge ``out -> in``."""
    return bounded_edge_channel("out", "in", capacity)


def feeder(handle: OutputPortHandle, token: CancellationToken | None = None) -> PortsOut:
    """The test's side of an edge into the node under test."""
    return PortsOut(["out"], [handle], cancellation_token=token)


def drain_side(handle: InputPortHandle, token: CancellationToken | None = None) -> PortsIn:
    """The test's side of an edge out of the node under test."""
    return PortsIn(["in"], [handle], cancellation_token=token)


def record_keys(sink: InMemoryMetadataSink) -> list[tuple[str, str]]:
    """``(record_type, kind)`` of every record, in order."""
    return [(rec.record_type, str(rec.kind)) for rec in sink.records]


def lifecycle_kinds(sink: InMemoryMetadataSink) -> list[str]:
    return sink.kinds("lifecycle")


def all_closed(inputs: PortsIn, outputs: PortsOut) -> bool:
    return all(port.closed for port in inputs.ports) and all(port.closed for port in outputs.ports)


class RecordingHook:
    """Records every lifecycle event; raises ``LifecycleError("hook failed")`` on the kinds
    in ``fail_on``."""

    def __init__(self, fail_on: frozenset[LifecycleEventKind] = frozenset()) -> None:
        self.events: list[LifecycleEvent] = []
        self.fail_on = fail_on

    def observe(self, event: LifecycleEvent) -> None:
        self.events.append(event)
        if event.kind in self.fail_on:
            raise LifecycleError("hook failed")

    @property
    def kinds(self) -> list[str]:
        return [str(event.kind) for event in self.events]


class FailingSink(InMemoryMetadataSink):
    """An in-memory sink that refuses the records ``refuse`` picks."""

    def __init__(
        self,
        refuse: Callable[[MetadataRecord], bool],
        error: Callable[[], Exception] = lambda: MetadataError("metadata sink failed"),
    ) -> None:
        super().__init__()
        self.refuse = refuse
        self.error = error
        self.refused: list[MetadataRecord] = []

    def record(self, record: MetadataRecord) -> None:
        if self.refuse(record):
            self.refused.append(record)
            raise self.error()
        super().record(record)


def is_lifecycle(kind: LifecycleEventKind) -> Callable[[MetadataRecord], bool]:
    return lambda rec: rec.record_type == "lifecycle" and rec.kind == kind


__all__ = [
    "EXECUTION",
    "WORKFLOW",
    "FailingSink",
    "RecordingHook",
    "all_closed",
    "drain_side",
    "edge",
    "feeder",
    "is_lifecycle",
    "lifecycle_kinds",
    "make_ctx",
    "make_packet",
    "record_keys",
    "wait_until",
]


async def wait_until(predicate: Callable[[], bool]) -> None:
    """Poll ``predicate`` until it holds. Used only for state that has no event to wait
    on (a port parked by a worker thread, a send waiter queued on an edge)."""
    with anyio.fail_after(5):
        while not predicate():  # noqa: ASYNC110 - nothing to await: plain state is polled
            await anyio.sleep(0.001)
