"""Record JSON: exact shapes (spec-2 §9, §15 items 20-21), the fast line encoders, tiers."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pureflow.core import (
    FORBIDDEN_KEYS,
    CancellationToken,
    DeadlockDiagnostic,
    ErrorRecord,
    ExecutionContextRecord,
    ExecutionError,
    ExecutionMetadata,
    ExternalEffectRecord,
    LifecycleEvent,
    LifecycleEventKind,
    LifecycleRecord,
    MessageBoundaryKind,
    MessageEndpoint,
    MessageRecord,
    MessageRoute,
    MetadataRecord,
    MetadataTier,
    NodeContext,
    Packet,
    PacketPayload,
    QueuePressureKind,
    QueuePressureRecord,
    encode_json_line,
)
from pureflow.types import PortId, WorkflowId
from pureflow.workflow import PortDirection

CTX = NodeContext("flow", "node", ExecutionMetadata.first_attempt("run-1"))
CTX_JSON = (
    '{"cancellation":{"state":"active"},"execution":{"attempt":1,"execution_id":"run-1"},'
    '"node_id":"node","workflow_id":"flow"}'
)


def test_canonical_lines_of_the_spec() -> None:
    assert LifecycleRecord(LifecycleEventKind.NODE_STARTED, CTX).to_json_line() == (
        f'{{"context":{CTX_JSON},"kind":"node_started","record_type":"lifecycle"}}\n'
    )
    record = QueuePressureRecord(
        QueuePressureKind.RESERVE_READY, PortDirection.OUTPUT, PortId("out"), None, 0, None, None
    )
    assert record.to_json_line() == (
        '{"capacity":null,"connected_edge_count":0,"context":null,"direction":"output",'
        '"kind":"reserve_ready","port_id":"out","queued_count":null,'
        '"record_type":"queue_pressure"}\n'
    )


def test_exact_shapes() -> None:
    qp = QueuePressureRecord(
        QueuePressureKind.RECEIVE_READY, PortDirection.INPUT, PortId("in"), CTX, 2, 5, 3
    )
    assert qp.to_json_line() == (
        f'{{"capacity":5,"connected_edge_count":2,"context":{CTX_JSON},"direction":"input",'
        '"kind":"receive_ready","port_id":"in","queued_count":3,'
        '"record_type":"queue_pressure"}\n'
    )
    route = MessageRoute(MessageEndpoint("a", "out"), MessageEndpoint("b", "in"))
    packet = Packet.create(
        "m-1", "flow", CTX.execution, route, PacketPayload.bytes(b"secret payload")
    )
    message = MessageRecord.from_packet(MessageBoundaryKind.ENQUEUED, packet)
    assert message.to_json_line() == (
        '{"kind":"enqueued","message":{"execution":{"attempt":1,"execution_id":"run-1"},'
        '"message_id":"m-1","route":{"source":{"node_id":"a","port_id":"out"},'
        '"target":{"node_id":"b","port_id":"in"}},"workflow_id":"flow"},'
        '"record_type":"message"}\n'
    )
    assert "secret" not in message.to_json_line()
    effect = ExternalEffectRecord.completed(CTX, "network_outbound", "GET", "https://x", "200")
    assert effect.to_json_line() == (
        f'{{"context":{CTX_JSON},"effect":"network_outbound",'
        '"kind":"external_effect_completed","operation":"GET","record_type":"external_effect",'
        '"response_status":"200","target":"https://x"}\n'
    )
    requested = ExternalEffectRecord.requested(CTX, "clock", "now", "system")
    assert requested.to_json_value()["response_status"] is None
    failed = ErrorRecord.node_failed(CTX, ExecutionError("boom"))
    assert failed.to_json_line() == (
        '{"diagnostic":null,"error":{"code":"CDT-EXEC-001",'
        '"message":"CDT-EXEC-001: node execution failed: boom","retry_disposition":"unknown",'
        '"visibility":"internal"},"execution":{"attempt":1,"execution_id":"run-1"},'
        '"kind":"node_failed","node_id":"node","record_type":"error","workflow_id":"flow"}\n'
    )
    diagnostic = DeadlockDiagnostic(
        scheduled_node_count=2,
        pending_node_count=2,
        bounded_edge_count=1,
        no_progress_timeout_ms=5,
        cycle_policy="reject_cycles",
    )
    workflow_failed = ErrorRecord.workflow_failed(
        WorkflowId("flow"), CTX.execution, ExecutionError("stuck"), diagnostic
    )
    value = workflow_failed.to_json_value()
    assert value["node_id"] is None
    assert value["diagnostic"] == {
        "bounded_edge_count": 1,
        "cancelled_node_count": 0,
        "completed_node_count": 0,
        "cycle_policy": "reject_cycles",
        "failed_node_count": 0,
        "feedback_loop_startup": None,
        "feedback_loop_termination": None,
        "no_progress_timeout_ms": 5,
        "pending_node_count": 2,
        "scheduled_node_count": 2,
        "type": "workflow_deadlock",
    }
    filled = diagnostic.with_terminal_counts(1, 2, 3).with_feedback_loop(
        "start_all_nodes", "all_nodes_complete"
    )
    assert filled.to_json_value()["failed_node_count"] == 2
    assert filled.to_json_value()["feedback_loop_startup"] == "start_all_nodes"
    extended = filled.with_extra(blocked_nodes=[{"node_id": "a", "port_id": "in"}])
    assert extended.to_json_value()["blocked_nodes"] == [{"node_id": "a", "port_id": "in"}]
    context = ExecutionContextRecord(CTX)
    assert context.to_json_value() == {
        "context": json.loads(CTX_JSON),
        "kind": "execution_context",
        "record_type": "execution_context",
    }


def test_cancellation_is_a_snapshot_taken_at_creation() -> None:
    token = CancellationToken.active()
    from pureflow.core import CancellationHandle

    handle = CancellationHandle()
    ctx = CTX.with_cancellation_token(handle.token)
    before = LifecycleRecord(LifecycleEventKind.NODE_STARTED, ctx)
    handle.cancel("stop")
    after = LifecycleRecord.from_event(LifecycleEvent(LifecycleEventKind.NODE_CANCELLED, ctx))
    assert before.to_json_value()["context"]["cancellation"] == {"state": "active"}
    assert after.to_json_value()["context"]["cancellation"] == {
        "reason": "stop",
        "state": "requested",
    }
    assert after.to_json_line() == encode_json_line(after.to_json_value())
    assert not token.is_cancelled()


def test_tiers() -> None:
    assert LifecycleRecord.tier is MetadataTier.CONTROL
    assert ErrorRecord.tier is MetadataTier.CONTROL
    assert ExecutionContextRecord.tier is MetadataTier.CONTROL
    assert MessageRecord.tier is MetadataTier.DATA
    assert QueuePressureRecord.tier is MetadataTier.DATA


# --- property tests ---------------------------------------------------------------------

ids = st.from_regex(r"[A-Za-z0-9_.:\-é]{1,12}", fullmatch=True)
texts = st.text(max_size=20)


@st.composite
def contexts(draw: st.DrawFn) -> NodeContext:
    ctx = NodeContext(
        draw(ids), draw(ids), ExecutionMetadata(draw(ids), draw(st.integers(1, 2**32 - 1)))
    )
    if draw(st.booleans()):
        ctx = ctx.with_cancellation(draw(texts))
    return ctx


@st.composite
def routes(draw: st.DrawFn) -> MessageRoute:
    source = draw(st.none() | st.builds(MessageEndpoint, ids, ids))
    return MessageRoute(source, MessageEndpoint(draw(ids), draw(ids)))


@st.composite
def records(draw: st.DrawFn) -> MetadataRecord:
    ctx = draw(contexts())
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return ExecutionContextRecord(ctx)
    if choice == 1:
        return LifecycleRecord(draw(st.sampled_from(list(LifecycleEventKind))), ctx)
    if choice == 2:
        packet = Packet.create(
            draw(ids), draw(ids), ctx.execution, draw(routes()), PacketPayload.bytes(b"x")
        )
        return MessageRecord.from_packet(draw(st.sampled_from(list(MessageBoundaryKind))), packet)
    if choice == 3:
        return QueuePressureRecord(
            draw(st.sampled_from(list(QueuePressureKind))),
            draw(st.sampled_from(list(PortDirection))),
            PortId(draw(ids)),
            draw(st.none() | st.just(ctx)),
            draw(st.integers(0, 9)),
            draw(st.none() | st.integers(1, 99)),
            draw(st.none() | st.integers(0, 99)),
        )
    if choice == 4:
        error = ExecutionError(draw(texts))
        if draw(st.booleans()):
            return ErrorRecord.node_failed(ctx, error)
        return ErrorRecord.workflow_failed(ctx.workflow_id, ctx.execution, error)
    return ExternalEffectRecord(
        draw(st.sampled_from(list(__import__("pureflow.core").core.ExternalEffectKind))),
        ctx,
        "network_outbound",
        draw(texts),
        draw(texts),
        response_status=draw(st.none() | texts),
    )


KNOWN_KINDS = (
    {kind.value for kind in LifecycleEventKind}
    | {kind.value for kind in MessageBoundaryKind}
    | {kind.value for kind in QueuePressureKind}
    | {"node_failed", "workflow_failed", "execution_context"}
    | {"external_effect_requested", "external_effect_completed", "external_effect_failed"}
)


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = set(value)
        for item in value.values():
            found |= _keys(item)
        return found
    if isinstance(value, list):
        return set().union(*(_keys(item) for item in value)) if value else set()
    return set()


@settings(max_examples=128, deadline=None)
@given(record=records())
def test_records_have_known_kinds_no_forbidden_keys_and_canonical_lines(
    record: MetadataRecord,
) -> None:
    value = record.to_json_value()
    assert value["kind"] in KNOWN_KINDS
    assert value["record_type"] == record.record_type
    assert not (_keys(value) & FORBIDDEN_KEYS)
    line = record.to_json_line()
    assert line == encode_json_line(value)
    assert line.endswith("\n")
    assert "\n" not in line[:-1]
    assert json.loads(line) == value
