"""Where metadata records go.

A sink is anything with ``record(record) -> None`` (:class:`MetadataSink`); it raises
:class:`~pureflow.core.errors.MetadataError` when it cannot keep a record. ``record()``
is called inline on the hot path, so every sink here keeps it cheap.

Two optional attributes let producers skip building records nobody keeps:
``enabled`` (False: the sink discards everything) and ``data_enabled`` (False: the sink
discards data-tier records, i.e. every message and queue-pressure record). A sink may
also give ports a recorder of its own (``port_recorder(info)``, see
:mod:`pureflow.core.metadata.recorders`): the JSONL sink writes finished lines, the tiered
and composite sinks delegate to what they wrap. Ports ask once, when the sink is
attached.

* :class:`NullMetadataSink`: discards everything (``enabled = False``);
* :class:`InMemoryMetadataSink`: a list with query helpers, for tests and tools;
* :class:`~pureflow.core.metadata.jsonl.JsonlMetadataSink` (in its own module): streams
  canonical JSONL to a path or a binary stream through a bounded buffer, durably;
* :class:`TieredMetadataSink`: forwards control records, and data records according to
  a :class:`TieredMetadataPolicy` (all, control-only (the default), a 1-in-N sample, or
  periodic per-edge statistics instead of per-packet records);
* :class:`CompositeMetadataSink`: forwards each record to several sinks.

Sequence numbers and wall-clock timestamps are off by default (identical runs give
identical files). ``sequence_numbers=True`` adds ``"sequence"`` (1, 2, ... in the order
the sink received the records); ``timestamps=True`` adds ``"timestamp"`` (RFC 3339 UTC
with microseconds, taken when the sink receives the record).
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pureflow.core.metadata.recorders import (
    PortInfo,
    PortRecorder,
    RecordRecorder,
    port_recorder,
)
from pureflow.core.metadata.records import MetadataRecord, MetadataTier, encode_json_line


@runtime_checkable
class MetadataSink(Protocol):
    """Receives records; raises ``MetadataError`` on failure. Must be cheap."""

    def record(self, record: MetadataRecord) -> None: ...


def sink_records_data(sink: object | None) -> bool:
    """Whether data-tier records (message, queue pressure) sent to ``sink`` are kept."""
    if sink is None:
        return False
    return bool(getattr(sink, "enabled", True)) and bool(getattr(sink, "data_enabled", True))


def sink_enabled(sink: object | None) -> bool:
    """Whether ``sink`` keeps any record at all."""
    return sink is not None and bool(getattr(sink, "enabled", True))


def _timestamp() -> str:
    now = datetime.datetime.now(datetime.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Stamper:
    """Adds the optional ``sequence`` and ``timestamp`` fields."""

    __slots__ = ("_next", "active", "sequence_numbers", "timestamps")

    def __init__(self, sequence_numbers: bool, timestamps: bool) -> None:
        self.sequence_numbers = sequence_numbers
        self.timestamps = timestamps
        self.active = sequence_numbers or timestamps
        self._next = 1

    def stamp(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.sequence_numbers:
            extra["sequence"] = self._next
            self._next += 1
        if self.timestamps:
            extra["timestamp"] = _timestamp()
        return extra


class NullMetadataSink:
    """Discards every record. ``enabled`` is False, so ports build no records at all."""

    enabled = False
    data_enabled = False

    def record(self, record: MetadataRecord) -> None:  # noqa: ARG002 - discards everything
        return None

    def port_recorder(self, info: PortInfo) -> PortRecorder | None:  # noqa: ARG002
        return None

    def __repr__(self) -> str:
        return "NullMetadataSink()"


NoopMetadataSink = NullMetadataSink


class InMemoryMetadataSink:
    """Keeps every record in a list, with query helpers.

    ``records`` is the list itself. With stamping switched on, ``stamps`` holds the
    ``sequence``/``timestamp`` fields of each record (same index) and
    :meth:`json_values`/:meth:`json_lines` include them.
    """

    def __init__(self, *, sequence_numbers: bool = False, timestamps: bool = False) -> None:
        self.records: list[MetadataRecord] = []
        self.stamps: list[dict[str, Any]] = []
        self._stamper = Stamper(sequence_numbers, timestamps)

    def record(self, record: MetadataRecord) -> None:
        self.records.append(record)
        if self._stamper.active:
            self.stamps.append(self._stamper.stamp())

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[MetadataRecord]:
        return iter(list(self.records))

    def clear(self) -> None:
        self.records.clear()
        self.stamps.clear()

    def of_type(self, record_type: str) -> list[MetadataRecord]:
        """Records whose ``record_type`` is ``record_type``, in order."""
        return [rec for rec in self.records if rec.record_type == record_type]

    def of_kind(self, kind: str, record_type: str | None = None) -> list[MetadataRecord]:
        """Records of one ``kind`` (optionally of one ``record_type`` too), in order."""
        return [
            rec
            for rec in self.records
            if rec.kind == kind and (record_type is None or rec.record_type == record_type)
        ]

    def for_node(self, node_id: str) -> list[MetadataRecord]:
        """Records about one node (see :attr:`MetadataRecord.node_id`), in order."""
        return [rec for rec in self.records if rec.node_id == node_id]

    def kinds(self, record_type: str | None = None) -> list[str]:
        """The ``kind`` labels, in order, optionally of one ``record_type``."""
        return [
            str(rec.kind)
            for rec in self.records
            if record_type is None or rec.record_type == record_type
        ]

    def json_values(self) -> list[dict[str, Any]]:
        values = [rec.to_json_value() for rec in self.records]
        for value, stamp in zip(values, self.stamps, strict=False):
            value.update(stamp)
        return values

    def json_lines(self) -> list[str]:
        if not self.stamps:
            return [rec.to_json_line() for rec in self.records]
        return [encode_json_line(value) for value in self.json_values()]

    def __repr__(self) -> str:
        return f"InMemoryMetadataSink({len(self.records)} records)"


@dataclass(frozen=True, slots=True)
class TieredMetadataPolicy:
    """Which records a :class:`TieredMetadataSink` forwards.

    Control records always pass. Data records pass when ``data_sample_rate`` is set and
    the record's ordinal (0, 1, 2, ... counted over every data record the sink sees) is a
    multiple of it: rate 1 keeps all, rate 2 keeps the 1st, 3rd, 5th ... High-cost data
    records pass only with ``high_cost_data``.

    ``statistics_seconds`` asks the run for an ``edge_statistics`` record per edge every
    that many seconds, and once at the end (depth, packets moved, waits): the large-run
    tier (:meth:`statistics`) keeps those and the control records, and no record per
    packet.
    """

    data_sample_rate: int | None = None
    high_cost_data: bool = False
    statistics_seconds: float | None = None

    def __post_init__(self) -> None:
        rate = self.data_sample_rate
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int) or rate < 1):
            raise ValueError(f"data sample rate must be an integer >= 1, got {rate!r}")
        every = self.statistics_seconds
        if every is not None and not every > 0:
            raise ValueError(f"statistics interval must be > 0 seconds, got {every!r}")

    @classmethod
    def control_only(cls) -> TieredMetadataPolicy:
        """Control records only (the default)."""
        return cls()

    @classmethod
    def record_data(cls) -> TieredMetadataPolicy:
        """Control and every data record (high-cost data still off)."""
        return cls(1)

    @classmethod
    def all(cls) -> TieredMetadataPolicy:
        """Everything, high-cost data included."""
        return cls(1, True)

    @classmethod
    def sample_data_every(cls, n: int) -> TieredMetadataPolicy:
        """Control records, and one data record in ``n`` (the 1st, the (n+1)th, ...)."""
        return cls(n)

    @classmethod
    def statistics(cls, seconds: float = 1.0) -> TieredMetadataPolicy:
        """Control records, and per-edge statistics every ``seconds`` instead of records
        per packet: the tier for large runs."""
        return cls(statistics_seconds=seconds)

    def with_high_cost_data(self) -> TieredMetadataPolicy:
        return TieredMetadataPolicy(self.data_sample_rate, True, self.statistics_seconds)


class TieredMetadataSink:
    """Applies a :class:`TieredMetadataPolicy` (default: control only) in front of
    another sink. ``record`` uses the record's own tier; dropped records are not an
    error. Ports get no recorder when the policy keeps no data record, the inner sink's
    own recorder when it keeps all of them (so a JSONL file keeps its fast path), and a
    sampling one otherwise. ``statistics_seconds`` is the policy's (read by the run)."""

    def __init__(self, inner: Any, policy: TieredMetadataPolicy | None = None) -> None:
        self.inner = inner
        self.policy = TieredMetadataPolicy.control_only() if policy is None else policy
        self._data_ordinals = itertools.count()  # next() is atomic: thread-safe ordinals
        self.enabled = sink_enabled(inner)
        self.data_enabled = self.policy.data_sample_rate is not None and sink_records_data(inner)
        self.statistics_seconds = self.policy.statistics_seconds

    def port_recorder(self, info: PortInfo) -> PortRecorder | None:
        if not self.data_enabled:
            return None
        if self.policy.data_sample_rate == 1:
            return port_recorder(self.inner, info)
        return RecordRecorder(self, info)  # records pass through record(): sampled

    @classmethod
    def with_policy(cls, inner: Any, policy: TieredMetadataPolicy) -> TieredMetadataSink:
        return cls(inner, policy)

    def record(self, record: MetadataRecord) -> None:
        self.record_with_tier(record.tier, record)

    def record_with_tier(self, tier: MetadataTier, record: MetadataRecord) -> None:
        if tier is MetadataTier.CONTROL:
            self.inner.record(record)
        elif tier is MetadataTier.DATA:
            ordinal = next(self._data_ordinals)
            rate = self.policy.data_sample_rate
            if rate is not None and ordinal % rate == 0:
                self.inner.record(record)
        elif self.policy.high_cost_data:
            self.inner.record(record)

    def __repr__(self) -> str:
        return f"TieredMetadataSink({self.inner!r}, {self.policy!r})"


class CompositeMetadataSink:
    """Forwards each record to every sink, in order. Every sink sees the record even when
    an earlier one fails; the first failure is raised afterwards."""

    def __init__(self, sinks: Iterable[Any]) -> None:
        self.sinks: tuple[Any, ...] = tuple(sinks)
        self.enabled = any(sink_enabled(sink) for sink in self.sinks)
        self.data_enabled = any(sink_records_data(sink) for sink in self.sinks)
        periods = [getattr(sink, "statistics_seconds", None) for sink in self.sinks]
        self.statistics_seconds = min((p for p in periods if p is not None), default=None)

    def port_recorder(self, info: PortInfo) -> PortRecorder | None:
        """The one data-keeping sink's own recorder, else records to every sink."""
        keeping = [sink for sink in self.sinks if sink_records_data(sink)]
        if not keeping:
            return None
        if len(keeping) == 1:
            return port_recorder(keeping[0], info)
        return RecordRecorder(self, info)

    def record(self, record: MetadataRecord) -> None:
        failure: BaseException | None = None
        for sink in self.sinks:
            try:
                sink.record(record)
            except Exception as error:
                if failure is None:
                    failure = error
        if failure is not None:
            raise failure

    def __repr__(self) -> str:
        return f"CompositeMetadataSink({list(self.sinks)!r})"
