"""A metadata sink for tests: keeps every record, with query and assertion helpers.

:class:`RecordingMetadataSink` is core's :class:`~pureflow.core.InMemoryMetadataSink`
(every record, data tier included, in arrival order) plus queries shaped for
assertions::

    sink.assert_lifecycle("sink", ["node_scheduled", "node_started", "node_completed"])
    assert sink.count("message", "dropped") == 0
    assert [str(r.port_id) for r in sink.queue_pressure(node="sink")] == [...]

Filters take plain strings (``"lifecycle"``, ``"node_failed"``) or the core enums.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pureflow.core import (
    ErrorRecord,
    InMemoryMetadataSink,
    LifecycleRecord,
    MessageRecord,
    MetadataRecord,
    QueuePressureRecord,
)


def _label(value: object) -> str:
    """The JSON label of a kind or record type given as a str or a str enum."""
    return str(getattr(value, "value", value))


class RecordingMetadataSink(InMemoryMetadataSink):
    """Keeps every record in memory and answers questions about them.

    Records are kept in the order the sink received them (``records``); every query
    below returns a fresh list in that order. Records from several runs accumulate until
    :meth:`clear`.
    """

    def select(
        self,
        record_type: str | None = None,
        kind: str | None = None,
        *,
        node: str | None = None,
    ) -> list[MetadataRecord]:
        """Records matching every filter given (``None`` matches anything)."""
        rtype = None if record_type is None else _label(record_type)
        label = None if kind is None else _label(kind)
        return [
            record
            for record in self.records
            if (rtype is None or record.record_type == rtype)
            and (label is None or _label(record.kind) == label)
            and (node is None or record.node_id == node)
        ]

    def lifecycle(self, node: str | None = None) -> list[LifecycleRecord]:
        """Lifecycle records, optionally of one node."""
        return [r for r in self.select("lifecycle", node=node) if isinstance(r, LifecycleRecord)]

    def kinds(self, record_type: str | None = None, node: str | None = None) -> list[str]:
        """The ``kind`` labels of the records of ``record_type`` (all records for
        ``None``), optionally about one node."""
        return [_label(record.kind) for record in self.select(record_type, node=node)]

    def messages(self, kind: str | None = None, *, node: str | None = None) -> list[MessageRecord]:
        """Message records (``enqueued``, ``dequeued``, ``dropped``), optionally of one
        kind and about one node (the route's target; the source for ``dropped``)."""
        return [r for r in self.select("message", kind, node=node) if isinstance(r, MessageRecord)]

    def message_ids(self, kind: str = "dequeued", *, node: str | None = None) -> list[str]:
        """The message ids of :meth:`messages`, in order."""
        return [str(record.message_id) for record in self.messages(kind, node=node)]

    def queue_pressure(
        self,
        node: str | None = None,
        port: str | None = None,
        *,
        kind: str | None = None,
    ) -> list[QueuePressureRecord]:
        """Queue-pressure records, optionally of one node, one port and one kind."""
        return [
            r
            for r in self.select("queue_pressure", kind, node=node)
            if isinstance(r, QueuePressureRecord) and (port is None or r.port_id == port)
        ]

    def errors(self, kind: str | None = None, *, node: str | None = None) -> list[ErrorRecord]:
        """Error records (``node_failed``, ``workflow_failed``), optionally filtered."""
        return [r for r in self.select("error", kind, node=node) if isinstance(r, ErrorRecord)]

    def error_messages(self, kind: str | None = None) -> list[str]:
        """``str()`` of the error of each :meth:`errors` record, in order."""
        return [str(record.error) for record in self.errors(kind)]

    def count(self, record_type: str | None = None, kind: str | None = None) -> int:
        """How many records match (all of them without filters)."""
        return len(self.select(record_type, kind))

    def node_ids(self) -> list[str]:
        """Every node the records mention, in order of first mention."""
        seen: dict[str, None] = {}
        for record in self.records:
            if record.node_id is not None:
                seen.setdefault(str(record.node_id), None)
        return list(seen)

    # --- assertions -------------------------------------------------------------------

    def assert_lifecycle(self, node: str, expected: Sequence[str]) -> None:
        """Assert node ``node``'s lifecycle kinds are exactly ``expected``, in order.

        Raises ``AssertionError`` showing both sequences (and the nodes that do have
        lifecycle records, when ``node`` has none).
        """
        want = [_label(kind) for kind in expected]
        got = self.kinds("lifecycle", node)
        if got == want:
            return
        message = f"lifecycle of node `{node}`: expected {want}, got {got}"
        if not got:
            known = sorted({str(r.node_id) for r in self.lifecycle()})
            message += f" (nodes with lifecycle records: {known})"
        raise AssertionError(message)

    def assert_no_errors(self) -> None:
        """Assert that no error record was written; the message lists those that were."""
        errors = self.errors()
        if errors:
            lines = "\n".join(f"  {_label(r.kind)} node={r.node_id}: {r.error}" for r in errors)
            raise AssertionError(f"expected no error records, got {len(errors)}:\n{lines}")

    def summary_counts(self) -> dict[str, int]:
        """Record counts by ``record_type/kind``, sorted (handy in failure messages)."""
        counts: dict[str, int] = {}
        for record in self.records:
            key = f"{record.record_type}/{_label(record.kind)}"
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))

    def jsonl(self) -> str:
        """Every record as one JSONL text (what a JSONL sink would have written)."""
        return "".join(self.json_lines())

    def json_values_of(self, record_type: str) -> list[dict[str, Any]]:
        """The JSON objects of one record type, in order."""
        return [record.to_json_value() for record in self.select(record_type)]

    def __repr__(self) -> str:
        return f"RecordingMetadataSink({len(self.records)} records)"
