"""Pureflow core: packets, bounded edges, ports, errors and metadata records.

The node-facing half of Pureflow, with no engine in it:

* :mod:`~pureflow.core.errors`: :class:`PureflowError` and its subclasses (stable codes
  ``CDT-...``), the port errors :class:`PortSendError` / :class:`PortRecvError`;
* :mod:`~pureflow.core.context`: execution attempts, cancellation
  (:class:`CancellationHandle` writes, :class:`CancellationToken` reads and wakes
  waiters) and the per-node :class:`NodeContext`;
* :mod:`~pureflow.core.packets`: :class:`PacketPayload` (bytes, control JSON,
  structured object) inside a :class:`Packet` envelope with a :class:`MessageRoute`;
* :mod:`~pureflow.core.batch`: :class:`Batch`, many packets that travel as one;
* :mod:`~pureflow.core.edges`: the :class:`Edge` protocol and :class:`BoundedChannel`,
  the in-process bounded edge;
* :mod:`~pureflow.core.ports`: :class:`PortsIn` / :class:`PortsOut` and the bound
  :class:`InputPort` / :class:`OutputPort` objects a node receives and sends through;
* :mod:`~pureflow.core.scheduling`: the run's :class:`YieldBudget` (fairness);
* :mod:`~pureflow.core.liveness`: the live and blocked nodes of a run (deadlocks);
* :mod:`~pureflow.core.metadata`: typed records with canonical JSON and their sinks;
* :mod:`~pureflow.core.lifecycle`: lifecycle events and hooks;
* :mod:`~pureflow.core.executor`: the :class:`NodeExecutor` and :class:`BatchExecutor`
  protocols;
* :mod:`~pureflow.core.wiring`: :func:`wire_edges`, a workflow's edges as ports;
* :mod:`~pureflow.core.component`: :func:`component` and :class:`Component` (node code
  with its declared ports, config schema and effects, bound by a document's
  ``component``), :class:`NodeConfig`, :func:`import_object`;
* :mod:`~pureflow.core.rule_node`: :class:`RuleNode`, what a node with a ``rule_set``
  runs: the rules (:mod:`pureflow.rules`) route, tag, drop or dead-letter each packet.

A node is an ``async`` function of its context and ports::

    @node_executor
    async def upper(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        out = outputs["out"]
        async for packet in inputs.iter("in"):
            text = (packet.payload.as_bytes() or b"").upper()
            await out.send(packet.with_value(text))

Everything runs on anyio (asyncio or trio); no public signature exposes anyio types.
Pureflow logs under the ``pureflow`` logger and, as a library, prints nothing unless the
application configures logging (a ``NullHandler`` sits on that logger).
"""

import logging as _logging

from pureflow.core.batch import Batch
from pureflow.core.component import (
    Component,
    ComponentConfigError,
    ComponentFactory,
    ComponentLoadError,
    ComponentSpec,
    ImportReferenceError,
    NodeConfig,
    RunIn,
    as_component,
    component,
    component_of,
    import_object,
    node_capabilities_for,
    node_contract_for,
)
from pureflow.core.context import (
    CancellationHandle,
    CancellationRequest,
    CancellationState,
    CancellationToken,
    ExecutionAttempt,
    ExecutionMetadata,
    NodeContext,
)
from pureflow.core.edges import BoundedChannel, Edge, EdgeItem
from pureflow.core.errors import (
    CancellationError,
    ErrorCode,
    ErrorVisibility,
    ExecutionError,
    LifecycleError,
    MetadataError,
    PortError,
    PortRecvError,
    PortRecvErrorKind,
    PortSendError,
    PortSendErrorKind,
    PureflowError,
    RetryDisposition,
    ValidationError,
    ValidationErrorKind,
    as_pureflow_error,
)
from pureflow.core.executor import (
    BatchExecutor,
    BatchInputs,
    BatchOutputs,
    FunctionNodeExecutor,
    NodeExecutor,
    NodeFunction,
    PacketBatch,
    node_executor,
)
from pureflow.core.lifecycle import (
    LifecycleEvent,
    LifecycleEventKind,
    LifecycleHook,
    NoopLifecycleHook,
)
from pureflow.core.liveness import LivenessMonitor, NodeFlow
from pureflow.core.metadata import (
    EDGE_STATISTICS_FIELDS,
    FORBIDDEN_KEYS,
    CompositeMetadataSink,
    DeadlockDiagnostic,
    EdgeStatisticsKind,
    EdgeStatisticsRecord,
    ErrorRecord,
    ErrorRecordKind,
    ExecutionContextRecord,
    ExternalEffectKind,
    ExternalEffectRecord,
    InMemoryMetadataSink,
    JsonlMetadataSink,
    LifecycleRecord,
    MessageBoundaryKind,
    MessageRecord,
    MetadataRecord,
    MetadataSink,
    MetadataTier,
    NullMetadataSink,
    PortInfo,
    PortRecorder,
    QueuePressureKind,
    QueuePressureRecord,
    RuleEvalRecord,
    TieredMetadataPolicy,
    TieredMetadataSink,
    WarningRecord,
    WarningRecordKind,
    encode_json_line,
    sink_records_data,
)
from pureflow.core.packets import (
    JsonValue,
    MessageEndpoint,
    MessageEnvelope,
    MessageMetadata,
    MessageRoute,
    Packet,
    PacketPayload,
    PacketTags,
    PayloadKind,
    PortPacket,
    TagValue,
    payload_of,
)
from pureflow.core.ports import (
    InputPort,
    InputPortHandle,
    OutputPacketValidator,
    OutputPort,
    OutputPortHandle,
    PortsIn,
    PortsOut,
    SendPermit,
    bounded_edge_channel,
)
from pureflow.core.rule_node import RuleEvaluator, RuleNode
from pureflow.core.scheduling import CHECKPOINT_INTERVAL, YieldBudget
from pureflow.core.wiring import (
    DEFAULT_EDGE_CAPACITY,
    NodePorts,
    WiredEdge,
    Wiring,
    wire_edges,
)

__all__ = [
    "CHECKPOINT_INTERVAL",
    "DEFAULT_EDGE_CAPACITY",
    "EDGE_STATISTICS_FIELDS",
    "FORBIDDEN_KEYS",
    "Batch",
    "BatchExecutor",
    "BatchInputs",
    "BatchOutputs",
    "BoundedChannel",
    "CancellationError",
    "CancellationHandle",
    "CancellationRequest",
    "CancellationState",
    "CancellationToken",
    "Component",
    "ComponentConfigError",
    "ComponentFactory",
    "ComponentLoadError",
    "ComponentSpec",
    "CompositeMetadataSink",
    "DeadlockDiagnostic",
    "Edge",
    "EdgeItem",
    "EdgeStatisticsKind",
    "EdgeStatisticsRecord",
    "ErrorCode",
    "ErrorRecord",
    "ErrorRecordKind",
    "ErrorVisibility",
    "ExecutionAttempt",
    "ExecutionContextRecord",
    "ExecutionError",
    "ExecutionMetadata",
    "ExternalEffectKind",
    "ExternalEffectRecord",
    "FunctionNodeExecutor",
    "ImportReferenceError",
    "InMemoryMetadataSink",
    "InputPort",
    "InputPortHandle",
    "JsonValue",
    "JsonlMetadataSink",
    "LifecycleError",
    "LifecycleEvent",
    "LifecycleEventKind",
    "LifecycleHook",
    "LifecycleRecord",
    "LivenessMonitor",
    "MessageBoundaryKind",
    "MessageEndpoint",
    "MessageEnvelope",
    "MessageMetadata",
    "MessageRecord",
    "MessageRoute",
    "MetadataError",
    "MetadataRecord",
    "MetadataSink",
    "MetadataTier",
    "NodeConfig",
    "NodeContext",
    "NodeExecutor",
    "NodeFlow",
    "NodeFunction",
    "NodePorts",
    "NoopLifecycleHook",
    "NullMetadataSink",
    "OutputPacketValidator",
    "OutputPort",
    "OutputPortHandle",
    "Packet",
    "PacketBatch",
    "PacketPayload",
    "PacketTags",
    "PayloadKind",
    "PortError",
    "PortInfo",
    "PortPacket",
    "PortRecorder",
    "PortRecvError",
    "PortRecvErrorKind",
    "PortSendError",
    "PortSendErrorKind",
    "PortsIn",
    "PortsOut",
    "PureflowError",
    "QueuePressureKind",
    "QueuePressureRecord",
    "RetryDisposition",
    "RuleEvalRecord",
    "RuleEvaluator",
    "RuleNode",
    "RunIn",
    "SendPermit",
    "TagValue",
    "TieredMetadataPolicy",
    "TieredMetadataSink",
    "ValidationError",
    "ValidationErrorKind",
    "WarningRecord",
    "WarningRecordKind",
    "WiredEdge",
    "Wiring",
    "YieldBudget",
    "as_component",
    "as_pureflow_error",
    "bounded_edge_channel",
    "component",
    "component_of",
    "encode_json_line",
    "import_object",
    "node_capabilities_for",
    "node_contract_for",
    "node_executor",
    "payload_of",
    "sink_records_data",
    "wire_edges",
]

_logging.getLogger("pureflow").addHandler(_logging.NullHandler())
