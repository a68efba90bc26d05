"""Fault injection: Hypothesis builds random graphs step by step (sources, relays with
fan-out and fan-in, edge capacities), injects faults (a node that fails after some
packets, a slow consumer, a cooperative cancel or an abort from inside the run) and runs
each graph under both failure policies. Whatever happens, these hold:

* the run ends (a hang fails the test, naming the graph);
* every node is scheduled once and every node that started has exactly one terminal
  record; the summary counts agree with the records;
* no packet is delivered twice on an edge, and what node code received is what the
  metadata says was dequeued;
* a packet that was sent and never delivered is accounted for by an error: the run did
  not complete. A completed run delivered every packet to every node downstream;
* a run whose metadata sink fails (a full disk) never counts as completed, never hangs
  and never raises out of ``run``.

The figures of docs/reliability.md come from this module: ``FaultyRuns.settings``
(examples and steps) and the counters it prints with ``-s``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

import anyio
import anyio.lowlevel
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from pureflow.core import InMemoryMetadataSink, MetadataError, MetadataRecord
from pureflow.engine import FailurePolicy, Flow, RunHandle, RunPolicy, TerminalState, run

MAX_NODES = 7
HANG_LIMIT = 60.0  # seconds: far beyond any of these runs; reaching it is a hang

TERMINAL = {"node_completed", "node_failed", "node_cancelled"}


class InjectedFault(Exception):
    """What a node told to fail raises."""


@dataclass
class NodeSpec:
    node_id: str
    packets: int = 0  # a source's packet count (relays send what they receive)
    fail_after: int | None = None  # raise after receiving (or sending) this many
    slow: int = 0  # checkpoints per packet: a slow consumer
    cancel_after: int | None = None  # cancel the run cooperatively after this many
    abort_after: int | None = None  # abort the run after this many
    batch: bool = False  # a source sends with send_many


@dataclass
class Observed:
    """What node code saw, per node."""

    received: Counter[str] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)


def node_code(spec: NodeSpec, seen: Observed, handle: RunHandle) -> Any:
    def after_one(count: int) -> None:
        if spec.fail_after is not None and count >= spec.fail_after:
            raise InjectedFault(f"{spec.node_id} fails after {count}")
        if spec.cancel_after is not None and count >= spec.cancel_after:
            handle.cancel(f"{spec.node_id} cancels")
        if spec.abort_after is not None and count >= spec.abort_after:
            handle.abort()

    async def code(ctx: Any, inputs: Any, outputs: Any) -> None:
        out = outputs.port("out") if "out" in outputs else None
        if "in" not in inputs:  # a source
            if spec.fail_after == 0:
                raise InjectedFault(f"{spec.node_id} fails at once")
            if out is None:
                return
            if spec.batch:
                await out.send_many(out.packet(n) for n in range(spec.packets))
                seen.sent[spec.node_id] += spec.packets
                after_one(spec.packets)
                return
            for n in range(spec.packets):
                await out.send(out.packet(n))
                seen.sent[spec.node_id] += 1
                after_one(seen.sent[spec.node_id])
            return
        async for packet in inputs.iter("in"):
            seen.received[spec.node_id] += 1
            for _ in range(spec.slow):
                await anyio.lowlevel.checkpoint()
            after_one(seen.received[spec.node_id])
            if out is not None:  # a new packet (a new id): ids stay unique in a diamond
                await out.send(out.packet(packet.value))
                seen.sent[spec.node_id] += 1

    return code


class FailingSink(InMemoryMetadataSink):
    """Keeps ``room`` records, then fails every write, as a full disk does."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room
        self.refused = 0

    def record(self, record: MetadataRecord) -> None:
        if len(self) >= self.room:
            self.refused += 1
            raise MetadataError("failed to write metadata to `disk`: No space left on device")
        super().record(record)


class FaultyRuns(RuleBasedStateMachine):
    """Builds a graph with the rules below; ``run_and_check`` runs it and checks it."""

    runs: ClassVar[int] = 0
    outcomes: ClassVar[Counter[str]] = Counter()  # terminal states over every run of the session

    def __init__(self) -> None:
        super().__init__()
        self.specs: list[NodeSpec] = []
        self.edges: list[tuple[str, str, int]] = []  # (from, to, capacity)
        self.sink_room: int | None = None  # the metadata fails after this many records

    # --- building -------------------------------------------------------------------

    @precondition(lambda self: len(self.specs) < MAX_NODES)
    @rule(packets=st.integers(0, 12), batch=st.booleans())
    def add_source(self, packets: int, batch: bool) -> None:
        self.specs.append(NodeSpec(f"n{len(self.specs)}", packets=packets, batch=batch))

    @precondition(lambda self: 0 < len(self.specs) < MAX_NODES)
    @rule(data=st.data())
    def add_relay(self, data: st.DataObject) -> None:
        node_id = f"n{len(self.specs)}"
        ids = [spec.node_id for spec in self.specs]
        upstream = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=2, unique=True))
        for source in upstream:  # only to earlier nodes: a DAG
            self.edges.append((source, node_id, data.draw(st.integers(1, 4))))
        self.specs.append(NodeSpec(node_id))

    @precondition(lambda self: self.specs)
    @rule(data=st.data())
    def inject(self, data: st.DataObject) -> None:
        spec = data.draw(st.sampled_from(self.specs))
        fault = data.draw(st.sampled_from(["fail", "slow", "cancel", "abort"]))
        count = data.draw(st.integers(0, 6))
        if fault == "fail":
            spec.fail_after = count
        elif fault == "slow":
            spec.slow = 1 + count * 3
        elif fault == "cancel":
            spec.cancel_after = max(count, 1)
        else:
            spec.abort_after = max(count, 1)

    @rule(room=st.integers(0, 60))
    def fill_the_disk(self, room: int) -> None:
        self.sink_room = room

    # --- running --------------------------------------------------------------------

    @precondition(lambda self: len(self.specs) >= 2)
    @rule(policy=st.sampled_from(list(FailurePolicy)))
    def run_and_check(self, policy: FailurePolicy) -> None:
        seen = Observed()
        handle = RunHandle()
        flow = Flow()
        for spec in self.specs:
            flow.add(spec.node_id, node_code(spec, seen, handle))
        for source, target, capacity in self.edges:
            flow.connect(f"{source}.out", f"{target}.in", capacity=capacity)
        sink = InMemoryMetadataSink() if self.sink_room is None else FailingSink(self.sink_room)

        async def bounded() -> Any:
            with anyio.fail_after(HANG_LIMIT):
                return await run(
                    flow,
                    metadata=sink,
                    cancellation=handle,
                    policy=RunPolicy(failure=policy, grace_seconds=0.05),
                )

        try:
            summary = anyio.run(bounded)
        except TimeoutError:
            raise AssertionError(f"the run hung: {self.specs} {self.edges}") from None
        FaultyRuns.runs += 1
        FaultyRuns.outcomes[summary.terminal_state.value] += 1
        if isinstance(sink, FailingSink) and sink.refused:
            # Records were refused: the run cannot count as completed (it failed with the
            # metadata error, or was already failing or cancelled when the refused
            # record was written). The invariants below need every record.
            FaultyRuns.outcomes["metadata failed"] += 1
            assert summary.terminal_state is not TerminalState.COMPLETED, summary
            assert summary.first_error is not None
            return
        self.check_records(sink, summary)
        self.check_packets(sink, seen, summary)

    def check_records(self, sink: InMemoryMetadataSink, summary: Any) -> None:
        lifecycle = [r.to_json_value() for r in sink.of_type("lifecycle")]
        kinds: dict[str, list[str]] = {spec.node_id: [] for spec in self.specs}
        for record in lifecycle:
            kinds[record["context"]["node_id"]].append(record["kind"])
        for node_id, seen in kinds.items():
            assert seen.count("node_scheduled") == 1, (node_id, seen)
            terminal = [kind for kind in seen if kind in TERMINAL]
            if "node_started" in seen:
                assert len(terminal) == 1, (node_id, seen)
                assert seen.index("node_started") < seen.index(terminal[0]), (node_id, seen)
            else:
                assert terminal == [], (node_id, seen)
        ended = Counter(kind for seen in kinds.values() for kind in seen if kind in TERMINAL)
        assert summary.pending_node_count == 0
        assert summary.completed_node_count == ended["node_completed"]
        assert summary.failed_node_count == ended["node_failed"]
        assert summary.cancelled_node_count == ended["node_cancelled"]
        assert summary.scheduled_node_count == len(self.specs)

    def check_packets(self, sink: InMemoryMetadataSink, seen: Observed, summary: Any) -> None:
        enqueued: Counter[tuple[str, str, str]] = Counter()
        dequeued: Counter[tuple[str, str, str]] = Counter()
        dropped: Counter[tuple[str, str, str]] = Counter()
        by_kind = {"enqueued": enqueued, "dequeued": dequeued, "dropped": dropped}
        for record in sink.of_type("message"):
            value = record.to_json_value()
            message = value["message"]
            route = message["route"]
            key = (message["message_id"], route["source"]["node_id"], route["target"]["node_id"])
            by_kind[value["kind"]][key] += 1
        assert max(enqueued.values(), default=1) == 1, "a packet entered an edge twice"
        assert max(dequeued.values(), default=1) == 1, "a packet was delivered twice"
        assert set(dequeued) <= set(enqueued), "delivered without being sent"
        assert not set(dequeued) & set(dropped), "both delivered and dropped"
        delivered_to = Counter(target for _, _, target in dequeued)
        for spec in self.specs:
            assert seen.received[spec.node_id] == delivered_to[spec.node_id], spec
        undelivered = set(enqueued) - set(dequeued)
        if summary.terminal_state is TerminalState.COMPLETED:
            assert not undelivered, f"lost without an error: {sorted(undelivered)[:5]}"
            for spec in self.specs:
                upstream = [source for source, target, _ in self.edges if target == spec.node_id]
                expected = sum(seen.sent[source] for source in upstream)
                if upstream:
                    assert seen.received[spec.node_id] == expected, spec
        elif undelivered:
            assert summary.error_count >= 1
            assert summary.first_error is not None

    @invariant()
    def graph_is_a_dag(self) -> None:
        position = {spec.node_id: n for n, spec in enumerate(self.specs)}
        assert all(position[source] < position[target] for source, target, _ in self.edges)


FaultyRuns.TestCase.settings = settings(
    max_examples=250,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestFaultyRuns = FaultyRuns.TestCase


def test_the_suite_exercised_every_outcome() -> None:
    """Run after the machine (file order): the random runs ended in every terminal state,
    so the invariants were checked on completed, failed and cancelled runs alike."""
    if FaultyRuns.runs == 0:  # this test alone: run the machine first
        TestFaultyRuns().runTest()
    print(f"fault suite: {FaultyRuns.runs} runs, outcomes {dict(FaultyRuns.outcomes)}")
    assert set(FaultyRuns.outcomes) == {"completed", "failed", "cancelled", "metadata failed"}
