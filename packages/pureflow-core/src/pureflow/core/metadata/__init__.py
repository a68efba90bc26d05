"""Run metadata: typed records, their canonical JSON, the sinks that receive them, and the
recorders through which ports write them.

* :mod:`pureflow.core.metadata.records`: the record types (execution context,
  lifecycle, message, queue pressure, error, external effect, rule evaluation, edge
  statistics) with the exact JSON of the original and a tier each (control or data);
* :mod:`pureflow.core.metadata.sinks`: where records go (null, in-memory, tiered,
  composite);
* :mod:`pureflow.core.metadata.jsonl`: the JSON Lines file sink, and what it promises
  about what is on disk;
* :mod:`pureflow.core.metadata.recorders`: what a sink gives each port to record its
  operations with (record objects, or finished JSONL lines).
"""

from pureflow.core.metadata.jsonl import DEFAULT_FLUSH_INTERVAL, JsonlMetadataSink
from pureflow.core.metadata.recorders import (
    JsonlRecorder,
    PortInfo,
    PortRecorder,
    RecordRecorder,
    port_recorder,
)
from pureflow.core.metadata.records import (
    EDGE_STATISTICS_FIELDS,
    FORBIDDEN_KEYS,
    DeadlockDiagnostic,
    EdgeStatisticsKind,
    EdgeStatisticsRecord,
    ErrorRecord,
    ErrorRecordKind,
    ExecutionContextRecord,
    ExternalEffectKind,
    ExternalEffectRecord,
    LifecycleRecord,
    MessageBoundaryKind,
    MessageRecord,
    MetadataRecord,
    MetadataTier,
    QueuePressureKind,
    QueuePressureRecord,
    RuleEvalRecord,
    WarningRecord,
    WarningRecordKind,
    encode_json_line,
)
from pureflow.core.metadata.sinks import (
    CompositeMetadataSink,
    InMemoryMetadataSink,
    MetadataSink,
    NullMetadataSink,
    TieredMetadataPolicy,
    TieredMetadataSink,
    sink_records_data,
)

__all__ = [
    "DEFAULT_FLUSH_INTERVAL",
    "EDGE_STATISTICS_FIELDS",
    "FORBIDDEN_KEYS",
    "CompositeMetadataSink",
    "DeadlockDiagnostic",
    "EdgeStatisticsKind",
    "EdgeStatisticsRecord",
    "ErrorRecord",
    "ErrorRecordKind",
    "ExecutionContextRecord",
    "ExternalEffectKind",
    "ExternalEffectRecord",
    "InMemoryMetadataSink",
    "JsonlMetadataSink",
    "JsonlRecorder",
    "LifecycleRecord",
    "MessageBoundaryKind",
    "MessageRecord",
    "MetadataRecord",
    "MetadataSink",
    "MetadataTier",
    "NullMetadataSink",
    "PortInfo",
    "PortRecorder",
    "QueuePressureKind",
    "QueuePressureRecord",
    "RecordRecorder",
    "RuleEvalRecord",
    "TieredMetadataPolicy",
    "TieredMetadataSink",
    "WarningRecord",
    "WarningRecordKind",
    "encode_json_line",
    "port_recorder",
    "sink_records_data",
]
