"""Run metadata: typed records, their canonical JSON, and the sinks that receive them.

* :mod:`pureflow.core.metadata.records`: the record types (execution context,
  lifecycle, message, queue pressure, error, external effect, rule evaluation) with the
  exact JSON of the original and a tier each (control or data);
* :mod:`pureflow.core.metadata.sinks`: where records go (null, in-memory, JSONL file,
  tiered, composite).
"""

from pureflow.core.metadata.records import (
    FORBIDDEN_KEYS,
    DeadlockDiagnostic,
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
    encode_json_line,
)
from pureflow.core.metadata.sinks import (
    CompositeMetadataSink,
    InMemoryMetadataSink,
    JsonlMetadataSink,
    MetadataSink,
    NullMetadataSink,
    TieredMetadataPolicy,
    TieredMetadataSink,
    sink_records_data,
)

__all__ = [
    "FORBIDDEN_KEYS",
    "CompositeMetadataSink",
    "DeadlockDiagnostic",
    "ErrorRecord",
    "ErrorRecordKind",
    "ExecutionContextRecord",
    "ExternalEffectKind",
    "ExternalEffectRecord",
    "InMemoryMetadataSink",
    "JsonlMetadataSink",
    "LifecycleRecord",
    "MessageBoundaryKind",
    "MessageRecord",
    "MetadataRecord",
    "MetadataSink",
    "MetadataTier",
    "NullMetadataSink",
    "QueuePressureKind",
    "QueuePressureRecord",
    "RuleEvalRecord",
    "TieredMetadataPolicy",
    "TieredMetadataSink",
    "encode_json_line",
    "sink_records_data",
]
