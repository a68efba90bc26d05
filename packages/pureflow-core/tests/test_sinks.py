"""Metadata sinks: null, in-memory, JSONL, tiered, composite (spec-2 §10, §15 22-23)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from pureflow.core import (
    CompositeMetadataSink,
    ExecutionMetadata,
    InMemoryMetadataSink,
    JsonlMetadataSink,
    LifecycleEventKind,
    LifecycleRecord,
    MessageBoundaryKind,
    MessageEndpoint,
    MessageRecord,
    MessageRoute,
    MetadataError,
    MetadataRecord,
    MetadataTier,
    NodeContext,
    NullMetadataSink,
    Packet,
    PacketPayload,
    TieredMetadataPolicy,
    TieredMetadataSink,
    sink_records_data,
)

CTX = NodeContext("flow", "node", ExecutionMetadata.first_attempt("run-1"))
CONTROL = LifecycleRecord(LifecycleEventKind.NODE_STARTED, CTX)


def data_record(message_id: str = "m") -> MessageRecord:
    route = MessageRoute(None, MessageEndpoint("node", "in"))
    packet = Packet.create(message_id, "flow", CTX.execution, route, PacketPayload.bytes(b""))
    return MessageRecord.from_packet(MessageBoundaryKind.DEQUEUED, packet)


class FailingStream(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        raise OSError("disk full")


def test_null_and_in_memory() -> None:
    null = NullMetadataSink()
    null.record(CONTROL)
    assert not sink_records_data(null)
    assert not sink_records_data(None)
    memory = InMemoryMetadataSink()
    assert sink_records_data(memory)
    memory.record(CONTROL)
    memory.record(data_record())
    assert len(memory) == 2
    assert memory.kinds() == ["node_started", "dequeued"]
    assert memory.of_type("message") == [data_record()]
    assert memory.of_kind("node_started", "lifecycle") == [CONTROL]
    assert memory.for_node("node") == [CONTROL, data_record()]
    assert list(memory) == memory.records
    memory.clear()
    assert len(memory) == 0


def test_jsonl_writes_identical_lines(tmp_path: Path) -> None:
    path = tmp_path / "metadata.jsonl"
    with JsonlMetadataSink(path) as sink:
        sink.record(CONTROL)
        sink.record(CONTROL)
        assert sink.record_count == 2
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines == [CONTROL.to_json_line()] * 2
    assert sink.closed
    sink.close()  # idempotent
    with pytest.raises(MetadataError):
        sink.record(CONTROL)


def test_jsonl_failing_writer() -> None:
    sink = JsonlMetadataSink(FailingStream(), flush_records=1)  # type: ignore[arg-type]
    with pytest.raises(MetadataError) as caught:
        sink.record(data_record())
    assert caught.value.code.as_str() == "CDT-META-001"
    assert str(caught.value).endswith("failed to write metadata to `<FailingStream>`: disk full")
    assert sink.failure is caught.value
    buffered = JsonlMetadataSink(FailingStream(), flush_interval=None)  # type: ignore[arg-type]
    buffered.record(data_record())
    with pytest.raises(MetadataError, match="failed to write metadata"):
        buffered.flush()


def test_a_failed_sink_refuses_every_later_record_and_counts_them_lost() -> None:
    sink = JsonlMetadataSink(FailingStream(), flush_records=2, flush_interval=None)  # type: ignore[arg-type]
    sink.record(data_record("a"))
    with pytest.raises(MetadataError) as first:
        sink.record(data_record("b"))
    with pytest.raises(MetadataError) as again:
        sink.record(CONTROL)
    assert again.value is first.value
    assert (sink.written_count, sink.lost_count, sink.record_count) == (0, 3, 3)
    sink.close()  # the failure was raised already: close does not raise it twice
    assert sink.closed


def test_a_write_that_fails_part_way_is_cut_back_to_the_last_complete_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from pureflow.core.metadata import jsonl

    path = tmp_path / "m.jsonl"
    sink = JsonlMetadataSink(path, flush_records=1, flush_interval=None)
    sink.record(data_record("kept"))
    real_write = os.write
    calls = 0

    def half_then_full(fd: int, data: bytes) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(jsonl.os, "write", half_then_full)
    with pytest.raises(MetadataError, match=r"No space left on device \(os error 28\)"):
        sink.record(data_record("half"))
    monkeypatch.undo()
    sink.close()
    assert path.read_text(encoding="utf-8") == data_record("kept").to_json_line()
    assert (sink.written_count, sink.lost_count) == (1, 1)


def test_a_device_that_is_full_fails_the_sink_without_a_traceback_of_its_own() -> None:
    dev_full = Path("/dev/full")
    if not dev_full.exists():
        pytest.skip("no /dev/full on this system")
    sink = JsonlMetadataSink(dev_full, flush_interval=None)
    with pytest.raises(MetadataError, match="failed to write metadata to `/dev/full`: No space"):
        sink.record(CONTROL)
    sink.close()


def test_control_records_are_written_at_once_data_records_wait(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    with JsonlMetadataSink(path, flush_interval=None) as sink:
        sink.record(data_record())
        assert path.read_bytes() == b""
        sink.record(CONTROL)  # writes itself and what waited before it
        assert path.read_text(encoding="utf-8") == (
            data_record().to_json_line() + CONTROL.to_json_line()
        )


def test_the_timer_writes_lines_that_wait(tmp_path: Path) -> None:
    import threading

    path = tmp_path / "m.jsonl"
    ticked = threading.Event()
    sink = JsonlMetadataSink(path, flush_interval=0.01)
    real_tick = sink._tick

    def tick() -> bool:
        alive = real_tick()
        if path.stat().st_size:
            ticked.set()
        return alive

    sink._tick = tick  # type: ignore[method-assign]
    sink.record(data_record())
    assert ticked.wait(timeout=30)
    assert path.read_text(encoding="utf-8") == data_record().to_json_line()
    sink.close()


def test_flush_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="flush_interval"):
        JsonlMetadataSink(io.BytesIO(), flush_interval=0)


def test_jsonl_create_failure(tmp_path: Path) -> None:
    with pytest.raises(
        MetadataError, match=r"failed to create metadata JSONL file `.*m\.jsonl`: No such"
    ):
        JsonlMetadataSink.create(tmp_path / "missing" / "dir" / "m.jsonl")


def test_jsonl_unencodable_record() -> None:
    sink = JsonlMetadataSink(io.BytesIO())
    bad = LifecycleRecord(
        LifecycleEventKind.NODE_CANCELLED, CTX.with_cancellation("lone \ud800 surrogate")
    )
    with pytest.raises(MetadataError, match="failed to encode metadata JSONL record"):
        sink.record(bad)


def test_jsonl_flushes_on_close_after_an_exception(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"

    def crash_while_recording() -> None:
        with JsonlMetadataSink(path, flush_interval=None) as sink:
            sink.record(data_record())
            assert path.read_bytes() == b""  # still buffered
            raise RuntimeError("node crashed")

    with pytest.raises(RuntimeError, match="node crashed"):
        crash_while_recording()
    assert path.read_text(encoding="utf-8") == data_record().to_json_line()


def test_jsonl_buffer_is_bounded() -> None:
    stream = io.BytesIO()
    sink = JsonlMetadataSink(stream, flush_records=3, flush_bytes=10_000, flush_interval=None)
    sink.record(data_record())
    sink.record(data_record())
    assert stream.getvalue() == b""
    sink.record(data_record())
    assert stream.getvalue().count(b"\n") == 3  # flushed at the record bound
    by_bytes = io.BytesIO()
    line = data_record().to_json_line()
    small = JsonlMetadataSink(by_bytes, flush_records=1000, flush_bytes=len(line))
    small.record(data_record())
    assert by_bytes.getvalue().count(b"\n") == 1  # flushed at the byte bound
    for _ in range(1000):
        small.record(data_record())
        assert len(small._buffer) <= 1
    small.close()
    assert not by_bytes.closed  # a stream passed in stays open
    with pytest.raises(ValueError, match=">= 1"):
        JsonlMetadataSink(io.BytesIO(), flush_records=0)


def test_jsonl_sequence_numbers_and_timestamps() -> None:
    stream = io.BytesIO()
    with JsonlMetadataSink(stream, sequence_numbers=True, timestamps=True) as sink:
        sink.record(CONTROL)
        sink.record(data_record())
        sink.flush()
    values = [json.loads(line) for line in stream.getvalue().decode().splitlines()]
    assert [value["sequence"] for value in values] == [1, 2]
    for value in values:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", value["timestamp"])
    memory = InMemoryMetadataSink(sequence_numbers=True)
    memory.record(CONTROL)
    assert json.loads(memory.json_lines()[0])["sequence"] == 1
    assert "sequence" not in InMemoryMetadataSink().json_values()  # off by default


def test_tiered_policies() -> None:
    inner = InMemoryMetadataSink()
    default = TieredMetadataSink(inner)
    assert default.policy == TieredMetadataPolicy.control_only()
    assert not default.data_enabled
    default.record(CONTROL)
    default.record(data_record())  # dropped, not an error
    default.record_with_tier(MetadataTier.HIGH_COST_DATA, CONTROL)
    assert inner.kinds() == ["node_started"]

    inner = InMemoryMetadataSink()
    sampled = TieredMetadataSink(inner, TieredMetadataPolicy.sample_data_every(2))
    assert sampled.data_enabled
    for name in ("first", "second", "third"):
        sampled.record(data_record(name))
    assert [rec.message_id for rec in inner.records] == ["first", "third"]  # type: ignore[attr-defined]

    inner = InMemoryMetadataSink()
    high = TieredMetadataSink.with_policy(
        inner, TieredMetadataPolicy.control_only().with_high_cost_data()
    )
    high.record_with_tier(MetadataTier.HIGH_COST_DATA, CONTROL)
    assert len(inner) == 1

    inner = InMemoryMetadataSink()
    everything = TieredMetadataSink(inner, TieredMetadataPolicy.all())
    everything.record(data_record())
    everything.record_with_tier(MetadataTier.HIGH_COST_DATA, CONTROL)
    assert len(inner) == 2
    assert TieredMetadataPolicy.record_data().data_sample_rate == 1
    assert not TieredMetadataSink(NullMetadataSink(), TieredMetadataPolicy.all()).data_enabled
    with pytest.raises(ValueError, match="sample rate"):
        TieredMetadataPolicy.sample_data_every(0)


def test_composite_fans_out_and_reports_the_first_failure() -> None:
    first, second = InMemoryMetadataSink(), InMemoryMetadataSink()
    tiered = TieredMetadataSink(InMemoryMetadataSink())
    composite = CompositeMetadataSink([first, tiered, second])
    assert composite.data_enabled
    assert composite.enabled
    composite.record(data_record())
    assert len(first) == len(second) == 1
    assert not CompositeMetadataSink([NullMetadataSink(), tiered]).data_enabled

    class Broken:
        def record(self, record: MetadataRecord) -> None:
            raise MetadataError("broken")

    after = InMemoryMetadataSink()
    with pytest.raises(MetadataError, match="broken"):
        CompositeMetadataSink([Broken(), after]).record(CONTROL)
    assert len(after) == 1
