"""Workload 11.2, stream join / window (``workloads/stream-join-window.workflow.json``).

``event-source`` and ``profile-source`` feed ``join-window`` (inputs ``events`` and
``profiles``), which loops on ``recv_any`` and joins on ``(window, account)``: a packet
whose key waits on the other side is matched and removed, otherwise it is stored (a later
packet with the same key overwrites it). ``sink`` collects the joined rows. Capacity 1
everywhere. Nodes are ``@node_executor`` functions.

Adaptation: ``recv_any`` here is fair (it rotates its starting port), where the
original's favoured the first declared port; the join's results do not depend on the
interleaving, and only the receive log's invariants are asserted, as the reference says.
"""

from __future__ import annotations

from collections import Counter

import pytest
from integration_support import CONFORMANCE
from pureflow.core import (
    ExecutionError,
    InMemoryMetadataSink,
    NodeContext,
    NodeExecutor,
    PortsIn,
    PortsOut,
    node_executor,
)
from pureflow.engine import TerminalState, run_workflow
from pureflow.format import load_workflow

pytestmark = pytest.mark.anyio

DOCUMENT = CONFORMANCE / "workloads" / "stream-join-window.workflow.json"
EVENTS = [
    "event:w1:alpha:click",
    "event:w1:beta:open",
    "event:w2:alpha:checkout",
    "event:w1:gamma:orphan-event",
    "event:w4:epsilon:late-orphan",
]
PROFILES = [
    "profile:w1:alpha:gold",
    "profile:w1:beta:silver",
    "profile:w2:alpha:platinum",
    "profile:w3:delta:orphan-profile",
]
PREFIX = {"events": "event", "profiles": "profile"}


def emitter(port: str, payloads: list[str]) -> NodeExecutor:
    @node_executor
    async def emit(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        for payload in payloads:
            await outputs.send(port, outputs.packet(port, payload))

    return emit


class JoinWindow:
    """The stateful join. ``log`` records ``{port}:{payload}`` per packet, then
    ``closed``; ``unmatched`` is what is left on each side, sorted by key."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.unmatched: dict[str, list[str]] = {}

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        waiting: dict[str, dict[tuple[str, str], str]] = {"events": {}, "profiles": {}}
        joined = outputs["joined"]
        while (item := await inputs.recv_any()) is not None:
            port, packet = item
            payload = (packet.payload.as_bytes() or b"").decode()
            self.log.append(f"{port}:{payload}")
            if port not in PREFIX:
                raise ExecutionError(f"join-window received packet on unexpected input `{port}`")
            fields = payload.split(":")
            if len(fields) != 4:
                raise ExecutionError(f"payload `{payload}` had {len(fields)} fields; expected 4")
            kind, window, account, value = fields
            if kind != PREFIX[port]:
                raise ExecutionError(f"payload `{payload}` does not belong on `{port}`")
            other = waiting["profiles" if port == "events" else "events"]
            key = (window, account)
            if key in other:
                match = other.pop(key).split(":")[3]
                action, tier = (value, match) if port == "events" else (match, value)
                await joined.send(joined.packet(f"joined:{window}:{account}:{action}:{tier}"))
            else:
                waiting[port][key] = payload
        self.log.append("closed")
        self.unmatched = {
            side: [entry for _, entry in sorted(kept.items())] for side, kept in waiting.items()
        }


class Sink:
    def __init__(self) -> None:
        self.rows: list[str] = []

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        self.rows.extend(
            [(p.payload.as_bytes() or b"").decode() async for p in inputs.iter("joined")]
        )


async def test_stream_join_window() -> None:
    """Joined rows and unmatched sets are the same under any interleaving. Counts:

    * lifecycle 12: 4 nodes x (scheduled, started, completed);
    * message 24: events 5 + 5, profiles 4 + 4, joined 3 + 3 (enqueued + dequeued);
    * queue_pressure, deterministic part 73: sends 3 each (5 events + 4 profiles + 3
      joined = 36); the join's 10 ``recv_any`` calls (9 packets, then end of stream)
      write ``receive_attempted`` for both ports, 20, plus ``receive_ready`` for each of
      the 9 packets; the sink 3x2+2 = 8. Two parts depend on scheduling: the join's
      ``receive_closed`` records (``recv_any`` reports an ended port once per call: the
      final call reports both, so at least 2, and every earlier call made after one
      source finished adds one, so at most 2 + 8) and one ``reserve_full`` per send that
      found its capacity-1 edge full (a first send never blocks: at most 4 + 3 + 2).
      The original's derived floor, 75, is 73 + the 2 closing records.
    """
    metadata = InMemoryMetadataSink()
    join, sink = JoinWindow(), Sink()
    executors: dict[str, NodeExecutor] = {
        "event-source": emitter("events", EVENTS),
        "profile-source": emitter("profiles", PROFILES),
        "join-window": join,
        "sink": sink,
    }
    summary = await run_workflow(load_workflow(DOCUMENT), executors, metadata=metadata)
    assert summary.terminal_state is TerminalState.COMPLETED
    assert (summary.scheduled_node_count, summary.completed_node_count) == (4, 4)
    assert sorted(sink.rows) == [
        "joined:w1:alpha:click:gold",
        "joined:w1:beta:open:silver",
        "joined:w2:alpha:checkout:platinum",
    ]
    assert join.unmatched == {
        "events": ["event:w1:gamma:orphan-event", "event:w4:epsilon:late-orphan"],
        "profiles": ["profile:w3:delta:orphan-profile"],
    }
    # The receive log: 9 entries, each source's order preserved, then ``closed``.
    assert len(join.log) == 10
    assert join.log[-1] == "closed"
    assert [e.removeprefix("events:") for e in join.log if e.startswith("events:")] == EVENTS
    assert [e.removeprefix("profiles:") for e in join.log if e.startswith("profiles:")] == PROFILES

    counts = Counter(r.record_type for r in metadata.records)
    assert (counts["lifecycle"], counts["message"], counts["error"]) == (12, 24, 0)
    pressure = Counter(metadata.kinds("queue_pressure"))
    closed, blocked = pressure["receive_closed"], pressure["reserve_full"]
    # ``receive_closed``: 1 at the end of the sink's drain, the rest from the join.
    assert 2 <= closed - 1 <= 10
    assert 0 <= blocked <= 9
    assert counts["queue_pressure"] - blocked - (closed - 1) == 73
    assert pressure["receive_attempted"] == 20 + 4
    assert pressure["receive_ready"] == 9 + 3
    assert summary.observed_message_count == 12


async def test_a_malformed_payload_fails_the_join() -> None:
    executors: dict[str, NodeExecutor] = {
        "event-source": emitter("events", ["event:w1:alpha"]),
        "profile-source": emitter("profiles", PROFILES),
        "join-window": JoinWindow(),
        "sink": Sink(),
    }
    summary = await run_workflow(load_workflow(DOCUMENT), executors)
    assert summary.terminal_state is TerminalState.FAILED
    assert str(summary.first_error) == (
        "CDT-EXEC-001: node execution failed: payload `event:w1:alpha` had 3 fields; expected 4"
    )
    assert summary.failed_node_count == 1
