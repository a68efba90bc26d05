"""Metadata record types and their canonical JSON.

Every record has a ``record_type``, a ``kind`` (a ``str`` enum whose value is the JSON
label), a :class:`MetadataTier`, :meth:`~MetadataRecord.to_json_value` (the JSON object as
Python data) and :meth:`~MetadataRecord.to_json_line` (compact JSON, keys sorted at every
level, non-ASCII unescaped, one ``\\n``: byte-identical to
``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\\n"``;
the hot record types assemble the line directly from cached fragments).

================== =========================================== =======
record_type        kinds                                        tier
================== =========================================== =======
execution_context  execution_context                            control
lifecycle          node_scheduled, node_started, node_completed control
                   node_failed, node_cancelled
message            enqueued, dequeued, dropped                  data
queue_pressure     receive_attempted, receive_ready,            data
                   receive_empty, receive_closed,
                   reserve_attempted, reserve_ready,
                   reserve_full, send_committed, send_dropped
error              node_failed, workflow_failed                 control
external_effect    external_effect_requested, _completed,       control
                   _failed
edge_statistics    periodic, final                              control
rule_eval          rule_eval                                    data
================== =========================================== =======

Records that show a node context take a snapshot of its cancellation state when they are
created. Records never carry wall-clock time, process or thread ids, or payload content
(:data:`FORBIDDEN_KEYS`); sinks can add a sequence number and a timestamp on request.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from json.encoder import encode_basestring
from typing import Any, ClassVar, Final

from pureflow.core.context import CancellationRequest, ExecutionMetadata, NodeContext
from pureflow.core.errors import PureflowError
from pureflow.core.lifecycle import LifecycleEvent, LifecycleEventKind
from pureflow.core.packets import MessageMetadata, MessageRoute, Packet
from pureflow.types import MessageId, NodeId, PortId, WorkflowId
from pureflow.workflow import PortDirection

FORBIDDEN_KEYS: Final = frozenset(
    {
        "timestamp",
        "wall_clock_timestamp",
        "thread_id",
        "process_id",
        "pid",
        "payload",
        "payload_bytes",
        "raw_payload_bytes",
    }
)
"""Keys the default record JSON never contains (reproducible output, no payloads)."""

_encode_str: Any = encode_basestring  # the encoder json.dumps uses with ensure_ascii=False


def encode_json_line(value: Any) -> str:
    """The canonical JSONL form of a JSON value: compact, sorted keys, one line."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class MetadataTier(enum.StrEnum):
    """How expensive a record is: control records are always kept by the tiered sink, data
    records may be sampled or dropped, high-cost data (payload detail) is opt-in."""

    CONTROL = "control"
    DATA = "data"
    HIGH_COST_DATA = "high_cost_data"


class MessageBoundaryKind(enum.StrEnum):
    ENQUEUED = "enqueued"
    DEQUEUED = "dequeued"
    DROPPED = "dropped"


class QueuePressureKind(enum.StrEnum):
    RECEIVE_ATTEMPTED = "receive_attempted"
    RECEIVE_READY = "receive_ready"
    RECEIVE_EMPTY = "receive_empty"
    RECEIVE_CLOSED = "receive_closed"
    RESERVE_ATTEMPTED = "reserve_attempted"
    RESERVE_READY = "reserve_ready"
    RESERVE_FULL = "reserve_full"
    SEND_COMMITTED = "send_committed"
    SEND_DROPPED = "send_dropped"


class EdgeStatisticsKind(enum.StrEnum):
    PERIODIC = "periodic"
    FINAL = "final"


class ErrorRecordKind(enum.StrEnum):
    NODE_FAILED = "node_failed"
    WORKFLOW_FAILED = "workflow_failed"


class ExternalEffectKind(enum.StrEnum):
    REQUESTED = "external_effect_requested"
    COMPLETED = "external_effect_completed"
    FAILED = "external_effect_failed"


# --- cached JSON fragments ------------------------------------------------------------


def _context_json(context: NodeContext, request: CancellationRequest | None) -> str:
    if request is None:
        text = context._json_active
        if text is None:
            text = context._json_active = _dumps(context._json_value(None))
        return text
    return _dumps(context._json_value(request))


def _execution_json(execution: ExecutionMetadata) -> str:
    return (
        f'{{"attempt":{int(execution.attempt)},'
        f'"execution_id":{_encode_str(execution.execution_id)}}}'
    )


def _route_json(route: MessageRoute) -> str:
    text = route._json
    if text is None:
        text = route._json = _dumps(route.to_json_value())
    return text


class MetadataRecord:
    """Base of the record types. Equality compares the JSON values."""

    __slots__ = ()

    record_type: ClassVar[str]
    tier: ClassVar[MetadataTier]
    kind: str

    @property
    def node_id(self) -> str | None:
        """The node a record is about, when it names one."""
        return None

    def to_json_value(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_json_line(self) -> str:
        return encode_json_line(self.to_json_value())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MetadataRecord):
            return NotImplemented
        return type(self) is type(other) and self.to_json_value() == other.to_json_value()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_json_line().rstrip()})"


class ExecutionContextRecord(MetadataRecord):
    """``{"context", "kind":"execution_context", "record_type":"execution_context"}``."""

    __slots__ = ("cancellation", "context")
    record_type = "execution_context"
    tier = MetadataTier.CONTROL
    kind = "execution_context"

    def __init__(self, context: NodeContext) -> None:
        self.context = context
        self.cancellation = context.cancellation_token.request

    @property
    def node_id(self) -> str | None:
        return self.context.node_id

    def to_json_value(self) -> dict[str, Any]:
        return {
            "context": self.context._json_value(self.cancellation),
            "kind": self.kind,
            "record_type": self.record_type,
        }


class LifecycleRecord(MetadataRecord):
    """``{"context", "kind", "record_type":"lifecycle"}``."""

    __slots__ = ("cancellation", "context", "kind")
    record_type = "lifecycle"
    tier = MetadataTier.CONTROL

    def __init__(self, kind: LifecycleEventKind, context: NodeContext) -> None:
        self.kind: LifecycleEventKind = LifecycleEventKind(kind)
        self.context = context
        self.cancellation = context.cancellation_token.request

    @classmethod
    def from_event(cls, event: LifecycleEvent) -> LifecycleRecord:
        return cls(event.kind, event.context)

    @property
    def node_id(self) -> str | None:
        return self.context.node_id

    def to_json_value(self) -> dict[str, Any]:
        return {
            "context": self.context._json_value(self.cancellation),
            "kind": str(self.kind),
            "record_type": self.record_type,
        }

    def to_json_line(self) -> str:
        return (
            f'{{"context":{_context_json(self.context, self.cancellation)},'
            f'"kind":"{self.kind}","record_type":"lifecycle"}}\n'
        )


class MessageRecord(MetadataRecord):
    """``{"kind", "message":{execution, message_id, route, workflow_id},
    "record_type":"message"}``. ``node_id`` is the route's target node for ``enqueued``
    and ``dequeued``, its source node for ``dropped`` (falling back to the target)."""

    __slots__ = ("execution", "kind", "message_id", "route", "workflow_id")
    record_type = "message"
    tier = MetadataTier.DATA

    def __init__(
        self,
        kind: MessageBoundaryKind,
        message_id: MessageId,
        workflow_id: WorkflowId,
        execution: ExecutionMetadata,
        route: MessageRoute,
    ) -> None:
        self.kind = kind
        self.message_id = message_id
        self.workflow_id = workflow_id
        self.execution = execution
        self.route = route

    @classmethod
    def from_packet(cls, kind: MessageBoundaryKind, packet: Packet) -> MessageRecord:
        return cls(kind, packet.message_id, packet.workflow_id, packet.execution, packet.route)

    @classmethod
    def from_metadata(cls, kind: MessageBoundaryKind, metadata: MessageMetadata) -> MessageRecord:
        return cls(
            kind, metadata.message_id, metadata.workflow_id, metadata.execution, metadata.route
        )

    @property
    def message(self) -> MessageMetadata:
        return MessageMetadata(self.message_id, self.workflow_id, self.execution, self.route)

    @property
    def node_id(self) -> str | None:
        source = self.route.source
        if self.kind is MessageBoundaryKind.DROPPED and source is not None:
            return source.node_id
        return self.route.target.node_id

    def to_json_value(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "message": {
                "execution": self.execution.to_json_value(),
                "message_id": str(self.message_id),
                "route": self.route.to_json_value(),
                "workflow_id": str(self.workflow_id),
            },
            "record_type": self.record_type,
        }

    def to_json_line(self) -> str:
        head, tail = message_line_parts(self.kind, self.workflow_id, self.execution, self.route)
        return f"{head}{_encode_str(self.message_id)}{tail}"


class QueuePressureRecord(MetadataRecord):
    """A port operation's view of its edges.

    ``{"capacity" (sum of edge capacities, null without edges), "connected_edge_count",
    "context" (or null), "direction", "kind", "port_id", "queued_count" (input: queued
    across the port's edges; output: null), "record_type":"queue_pressure"}``.
    """

    __slots__ = (
        "cancellation",
        "capacity",
        "connected_edge_count",
        "context",
        "direction",
        "kind",
        "port_id",
        "queued_count",
    )
    record_type = "queue_pressure"
    tier = MetadataTier.DATA

    def __init__(  # noqa: PLR0917 - built positionally on the hot path
        self,
        kind: QueuePressureKind,
        direction: PortDirection,
        port_id: PortId,
        context: NodeContext | None,
        connected_edge_count: int,
        capacity: int | None,
        queued_count: int | None,
    ) -> None:
        self.kind = kind
        self.direction = direction
        self.port_id = port_id
        self.context = context
        self.connected_edge_count = connected_edge_count
        self.capacity = capacity
        self.queued_count = queued_count
        self.cancellation = None if context is None else context._token._slot.request

    @property
    def node_id(self) -> str | None:
        return None if self.context is None else self.context.node_id

    def to_json_value(self) -> dict[str, Any]:
        context = self.context
        return {
            "capacity": self.capacity,
            "connected_edge_count": self.connected_edge_count,
            "context": None if context is None else context._json_value(self.cancellation),
            "direction": self.direction.value,
            "kind": str(self.kind),
            "port_id": str(self.port_id),
            "queued_count": self.queued_count,
            "record_type": self.record_type,
        }

    def to_json_line(self) -> str:
        queued = self.queued_count
        head = queue_pressure_line_head(
            self.kind,
            self.direction,
            self.port_id,
            self.context,
            self.cancellation,
            self.connected_edge_count,
            self.capacity,
        )
        return f"{head}{'null' if queued is None else int(queued)}{QUEUE_PRESSURE_LINE_TAIL}"


# --- line fragments shared by the records and the ports' direct JSONL path -------------
#
# A queue-pressure line is ``head + queued_count + QUEUE_PRESSURE_LINE_TAIL``; a message
# line is ``head + encoded message id + tail``. Ports cache the fragments (keyed on what
# they depend on) and hand finished lines to a JSONL sink (``JsonlMetadataSink.write_lines``).

QUEUE_PRESSURE_LINE_TAIL: Final = ',"record_type":"queue_pressure"}\n'


def queue_pressure_line_head(  # noqa: PLR0917 - mirrors QueuePressureRecord's fields
    kind: str,
    direction: PortDirection,
    port_id: str,
    context: NodeContext | None,
    cancellation: CancellationRequest | None,
    connected_edge_count: int,
    capacity: int | None,
) -> str:
    """A queue-pressure line up to and including ``"queued_count":``."""
    return (
        f'{{"capacity":{"null" if capacity is None else int(capacity)},'
        f'"connected_edge_count":{int(connected_edge_count)},'
        f'"context":{"null" if context is None else _context_json(context, cancellation)},'
        f'"direction":"{direction.value}","kind":"{kind}",'
        f'"port_id":{_encode_str(port_id)},'
        f'"queued_count":'
    )


def message_line_parts(
    kind: str,
    workflow_id: str,
    execution: ExecutionMetadata,
    route: MessageRoute,
) -> tuple[str, str]:
    """A message line's text before and after the encoded message id."""
    return (
        f'{{"kind":"{kind}","message":{{"execution":{_execution_json(execution)},"message_id":',
        f',"route":{_route_json(route)},'
        f'"workflow_id":{_encode_str(workflow_id)}}},"record_type":"message"}}\n',
    )


@dataclass(frozen=True, slots=True)
class DeadlockDiagnostic:
    """The ``workflow_deadlock`` diagnostic attached to a ``workflow_failed`` error record.

    ``extra`` holds extension fields (for example the blocked nodes and edge depths the
    engine's watchdog reports); they are merged into the JSON object, so the original's
    fields keep their exact shape.
    """

    scheduled_node_count: int
    pending_node_count: int
    bounded_edge_count: int
    no_progress_timeout_ms: int
    cycle_policy: str
    completed_node_count: int = 0
    failed_node_count: int = 0
    cancelled_node_count: int = 0
    feedback_loop_startup: str | None = None
    feedback_loop_termination: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def with_terminal_counts(
        self, completed: int, failed: int, cancelled: int
    ) -> DeadlockDiagnostic:
        return _replace(
            self,
            completed_node_count=completed,
            failed_node_count=failed,
            cancelled_node_count=cancelled,
        )

    def with_feedback_loop(self, startup: str, termination: str) -> DeadlockDiagnostic:
        return _replace(self, feedback_loop_startup=startup, feedback_loop_termination=termination)

    def with_extra(self, **extra: Any) -> DeadlockDiagnostic:
        return _replace(self, extra={**self.extra, **extra})

    def to_json_value(self) -> dict[str, Any]:
        value: dict[str, Any] = dict(self.extra)
        value.update(
            {
                "bounded_edge_count": self.bounded_edge_count,
                "cancelled_node_count": self.cancelled_node_count,
                "completed_node_count": self.completed_node_count,
                "cycle_policy": self.cycle_policy,
                "failed_node_count": self.failed_node_count,
                "feedback_loop_startup": self.feedback_loop_startup,
                "feedback_loop_termination": self.feedback_loop_termination,
                "no_progress_timeout_ms": self.no_progress_timeout_ms,
                "pending_node_count": self.pending_node_count,
                "scheduled_node_count": self.scheduled_node_count,
                "type": "workflow_deadlock",
            }
        )
        return value


def _replace(diagnostic: DeadlockDiagnostic, **changes: Any) -> DeadlockDiagnostic:
    return replace(diagnostic, **changes)


class ErrorRecord(MetadataRecord):
    """``{"diagnostic" (or null), "error", "execution", "kind", "node_id" (null for
    workflow_failed), "record_type":"error", "workflow_id"}``."""

    __slots__ = ("_node_id", "diagnostic", "error", "execution", "kind", "workflow_id")
    record_type = "error"
    tier = MetadataTier.CONTROL

    def __init__(
        self,
        kind: ErrorRecordKind,
        workflow_id: WorkflowId,
        node_id: NodeId | None,
        execution: ExecutionMetadata,
        error: PureflowError,
        *,
        diagnostic: DeadlockDiagnostic | None = None,
    ) -> None:
        self.kind = kind
        self.workflow_id = workflow_id
        self._node_id = node_id
        self.execution = execution
        self.error = error
        self.diagnostic = diagnostic

    @classmethod
    def node_failed(cls, context: NodeContext, error: PureflowError) -> ErrorRecord:
        return cls(
            ErrorRecordKind.NODE_FAILED,
            context.workflow_id,
            context.node_id,
            context.execution,
            error,
        )

    @classmethod
    def workflow_failed(
        cls,
        workflow_id: WorkflowId,
        execution: ExecutionMetadata,
        error: PureflowError,
        diagnostic: DeadlockDiagnostic | None = None,
    ) -> ErrorRecord:
        return cls(
            ErrorRecordKind.WORKFLOW_FAILED,
            WorkflowId(workflow_id),
            None,
            execution,
            error,
            diagnostic=diagnostic,
        )

    @property
    def node_id(self) -> str | None:
        return self._node_id

    def to_json_value(self) -> dict[str, Any]:
        return {
            "diagnostic": None if self.diagnostic is None else self.diagnostic.to_json_value(),
            "error": self.error.to_json(),
            "execution": self.execution.to_json_value(),
            "kind": str(self.kind),
            "node_id": None if self._node_id is None else str(self._node_id),
            "record_type": self.record_type,
            "workflow_id": str(self.workflow_id),
        }


class WarningRecordKind(enum.StrEnum):
    EVENT_LOOP_BLOCKED = "event_loop_blocked"


class WarningRecord(MetadataRecord):
    """Something the run survived but the user should fix.

    ``{"execution", "kind" ("event_loop_blocked"), "location" (``file:line`` of the node's
    code, or null), "message", "node_id" (or null), "record_type":"warning", "seconds"
    (how long, 0.001 s resolution), "workflow_id"}``. Not in the original; control tier.
    """

    __slots__ = ("_node_id", "execution", "kind", "location", "message", "seconds", "workflow_id")
    record_type = "warning"
    tier = MetadataTier.CONTROL

    def __init__(
        self,
        kind: WarningRecordKind,
        workflow_id: WorkflowId,
        execution: ExecutionMetadata,
        *,
        node_id: str | None,
        message: str,
        location: str | None = None,
        seconds: float | None = None,
    ) -> None:
        self.kind = kind
        self.workflow_id = workflow_id
        self.execution = execution
        self._node_id = node_id
        self.message = message
        self.location = location
        self.seconds = seconds

    @property
    def node_id(self) -> str | None:
        return self._node_id

    def to_json_value(self) -> dict[str, Any]:
        return {
            "execution": self.execution.to_json_value(),
            "kind": str(self.kind),
            "location": self.location,
            "message": self.message,
            "node_id": self._node_id,
            "record_type": self.record_type,
            "seconds": None if self.seconds is None else round(self.seconds, 3),
            "workflow_id": str(self.workflow_id),
        }


class ExternalEffectRecord(MetadataRecord):
    """``{"context", "effect", "kind", "operation", "record_type":"external_effect",
    "response_status" (or null), "target"}``; ``effect`` is a capability label such as
    ``network_outbound``."""

    __slots__ = (
        "cancellation",
        "context",
        "effect",
        "kind",
        "operation",
        "response_status",
        "target",
    )
    record_type = "external_effect"
    tier = MetadataTier.CONTROL

    def __init__(
        self,
        kind: ExternalEffectKind,
        context: NodeContext,
        effect: str,
        operation: str,
        target: str,
        *,
        response_status: str | None = None,
    ) -> None:
        self.kind = kind
        self.context = context
        self.cancellation = context.cancellation_token.request
        self.effect = str(effect)
        self.operation = operation
        self.target = target
        self.response_status = response_status

    @classmethod
    def requested(
        cls, context: NodeContext, effect: str, operation: str, target: str
    ) -> ExternalEffectRecord:
        return cls(ExternalEffectKind.REQUESTED, context, effect, operation, target)

    @classmethod
    def completed(
        cls,
        context: NodeContext,
        effect: str,
        operation: str,
        target: str,
        response_status: str | None = None,
    ) -> ExternalEffectRecord:
        return cls(
            ExternalEffectKind.COMPLETED,
            context,
            effect,
            operation,
            target,
            response_status=response_status,
        )

    @classmethod
    def failed(
        cls,
        context: NodeContext,
        effect: str,
        operation: str,
        target: str,
        response_status: str | None = None,
    ) -> ExternalEffectRecord:
        return cls(
            ExternalEffectKind.FAILED,
            context,
            effect,
            operation,
            target,
            response_status=response_status,
        )

    @property
    def node_id(self) -> str | None:
        return self.context.node_id

    def to_json_value(self) -> dict[str, Any]:
        return {
            "context": self.context._json_value(self.cancellation),
            "effect": self.effect,
            "kind": str(self.kind),
            "operation": self.operation,
            "record_type": self.record_type,
            "response_status": self.response_status,
            "target": self.target,
        }


class EdgeStatisticsRecord(MetadataRecord):
    """One edge's counters at a moment of the run (the large-run tier's records).

    ``{"capacity", "dropped", "edge_index", "execution", "kind" ("periodic" every
    interval, "final" when the run ends), "moved" (packets queued onto the edge so far),
    "queued_count" (packets waiting now), "received" (packets taken off so far),
    "receive_waits", "record_type":"edge_statistics", "sample" (1, 2, ... per run),
    "send_waits", "source", "target" (``node.port``), "workflow_id"}``. Counts only: no
    time, so identical runs give identical records.
    """

    __slots__ = ("execution", "fields", "kind", "sample", "workflow_id")
    record_type = "edge_statistics"
    tier = MetadataTier.CONTROL

    def __init__(
        self,
        kind: EdgeStatisticsKind,
        workflow_id: WorkflowId,
        execution: ExecutionMetadata,
        sample: int,
        fields: Mapping[str, Any],
    ) -> None:
        self.kind = kind
        self.workflow_id = workflow_id
        self.execution = execution
        self.sample = sample
        self.fields = dict(fields)

    @property
    def node_id(self) -> str | None:
        target = str(self.fields.get("target", ""))
        return target.rpartition(".")[0] or None

    def to_json_value(self) -> dict[str, Any]:
        value = {key: self.fields[key] for key in EDGE_STATISTICS_FIELDS}
        value.update(
            {
                "execution": self.execution.to_json_value(),
                "kind": str(self.kind),
                "record_type": self.record_type,
                "sample": self.sample,
                "workflow_id": str(self.workflow_id),
            }
        )
        return value


EDGE_STATISTICS_FIELDS: Final = (
    "edge_index",
    "source",
    "target",
    "capacity",
    "queued_count",
    "moved",
    "received",
    "dropped",
    "send_waits",
    "receive_waits",
)
"""The per-edge counters an :class:`EdgeStatisticsRecord` carries (from the running
edges' ``edge_depths()``)."""


class RuleEvalRecord(MetadataRecord):
    """One rule evaluation of a rule node: which rule decided (``matched_rule``, ``null``
    for the default action) and what the node did (``action_taken``).

    ``{"action_taken", "arrival_port", "conditions_evaluated", "execution", "hop_count",
    "kind":"rule_eval", "matched_rule", "node_id", "record_type":"rule_eval",
    "rule_set_id", "rules_evaluated", "source_node", "strategy", "tags_applied",
    "tags_present_at_eval", "workflow_id"}``. ``action_taken`` is ``{"kind":"route",
    "port"}``, ``{"kind":"drop"}``, ``{"kind":"dead_letter","reason"}``,
    ``{"kind":"tag","key","value"}`` (``value`` as JSON text) or
    ``{"kind":"halt","message"}``; tags are ``{"key","value"}`` objects;
    ``conditions_evaluated`` holds ``{"condition","matched","rule_id","surface"}`` objects
    (empty unless the rule set traces conditions). The values come ready-made from the
    rule node: this class only lays them out.
    """

    __slots__ = (
        "_node_id",
        "action_taken",
        "arrival_port",
        "conditions_evaluated",
        "execution",
        "hop_count",
        "matched_rule",
        "rule_set_id",
        "rules_evaluated",
        "source_node",
        "strategy",
        "tags_applied",
        "tags_present_at_eval",
        "workflow_id",
    )
    record_type = "rule_eval"
    tier = MetadataTier.DATA
    kind = "rule_eval"

    def __init__(
        self,
        context: NodeContext,
        *,
        rule_set_id: str,
        strategy: str,
        matched_rule: str | None,
        action_taken: Mapping[str, Any],
        rules_evaluated: int,
        tags_applied: Sequence[Mapping[str, Any]] = (),
        source_node: str | None = None,
        arrival_port: str | None = None,
        hop_count: int = 0,
        tags_present_at_eval: Sequence[Mapping[str, Any]] = (),
        conditions_evaluated: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self._node_id = context.node_id
        self.workflow_id = context.workflow_id
        self.execution = context.execution
        self.rule_set_id = rule_set_id
        self.strategy = strategy
        self.matched_rule = matched_rule
        self.action_taken = action_taken
        self.rules_evaluated = rules_evaluated
        self.tags_applied = tags_applied
        self.source_node = source_node
        self.arrival_port = arrival_port
        self.hop_count = hop_count
        self.tags_present_at_eval = tags_present_at_eval
        self.conditions_evaluated = conditions_evaluated

    @property
    def node_id(self) -> str | None:
        return self._node_id

    def to_json_value(self) -> dict[str, Any]:
        return {
            "action_taken": dict(self.action_taken),
            "arrival_port": self.arrival_port,
            "conditions_evaluated": [dict(trace) for trace in self.conditions_evaluated],
            "execution": self.execution.to_json_value(),
            "hop_count": self.hop_count,
            "kind": self.kind,
            "matched_rule": self.matched_rule,
            "node_id": str(self._node_id),
            "record_type": self.record_type,
            "rule_set_id": self.rule_set_id,
            "rules_evaluated": self.rules_evaluated,
            "source_node": self.source_node,
            "strategy": self.strategy,
            "tags_applied": [dict(tag) for tag in self.tags_applied],
            "tags_present_at_eval": [dict(tag) for tag in self.tags_present_at_eval],
            "workflow_id": str(self.workflow_id),
        }


__all__ = [
    "EDGE_STATISTICS_FIELDS",
    "FORBIDDEN_KEYS",
    "QUEUE_PRESSURE_LINE_TAIL",
    "DeadlockDiagnostic",
    "EdgeStatisticsKind",
    "EdgeStatisticsRecord",
    "ErrorRecord",
    "ErrorRecordKind",
    "ExecutionContextRecord",
    "ExternalEffectKind",
    "ExternalEffectRecord",
    "LifecycleRecord",
    "MessageBoundaryKind",
    "MessageRecord",
    "MetadataRecord",
    "MetadataTier",
    "QueuePressureKind",
    "QueuePressureRecord",
    "RuleEvalRecord",
    "encode_json_line",
    "message_line_parts",
    "queue_pressure_line_head",
]
