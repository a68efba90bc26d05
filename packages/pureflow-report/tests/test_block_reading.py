"""The file reader's block path (a cache of resolved lines, counted a block at a time)
adds up to what adding one record at a time makes; the file is guarded; a last line cut
short is skipped and noted."""

from __future__ import annotations

import datetime
import io
import json
import os
import random
import sys
from dataclasses import astuple
from pathlib import Path
from typing import Any

import pytest
from pureflow.report import MetadataReadError, RunData, read_metadata, read_stream, render_html
from pureflow.report import jsonl as jsonl_module
from pureflow.report.records import add_record


def dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def context(node: str, execution: str = "run-1") -> dict[str, Any]:
    return {
        "cancellation": {"state": "active"},
        "execution": {"attempt": 1, "execution_id": execution},
        "node_id": node,
        "workflow_id": "flow",
    }


def lifecycle(node: str, kind: str) -> str:
    return dumps({"context": context(node), "kind": kind, "record_type": "lifecycle"})


def message(number: int, kind: str, source: str, target: str) -> str:
    route = {
        "source": {"node_id": source, "port_id": "out"},
        "target": {"node_id": target, "port_id": "in"},
    }
    body = {
        "execution": {"attempt": 1, "execution_id": "run-1"},
        "message_id": f"{source}-out-{number}",
        "route": route,
        "workflow_id": "flow",
    }
    return dumps({"kind": kind, "message": body, "record_type": "message"})


def pressure(node: str, direction: str, kind: str, queued: int | None, capacity: int = 4) -> str:
    return dumps(
        {
            "capacity": capacity,
            "connected_edge_count": 1,
            "context": context(node),
            "direction": direction,
            "kind": kind,
            "port_id": "in" if direction == "input" else "out",
            "queued_count": queued,
            "record_type": "queue_pressure",
        }
    )


def error(node: str) -> str:
    return dumps(
        {
            "error": {"code": "CDT-EXEC-001", "message": f"{node} failed"},
            "kind": "node_failed",
            "node_id": node,
            "record_type": "error",
            "workflow_id": "flow",
        }
    )


def stamped(line: str, sequence: int) -> str:
    """``line`` as ``pureflow run --timestamps`` writes it."""
    value = json.loads(line)
    value["sequence"] = sequence
    value["timestamp"] = f"2026-12-03T07:00:{sequence % 60:02d}.{sequence:06d}+00:00"
    return dumps(value)


def metadata_lines(seed: int, *, stamps: bool = False) -> list[str]:
    """A run's lines with every kind of line the reader treats apart: dense depth samples
    on one port and sparse ones on another, a capacity that changes, blank, unreadable
    and malformed lines, an unknown record type, errors and (``stamps``) a stretch of
    stamped lines, after which the rest of its block is read line by line."""
    rng = random.Random(seed)
    lines = [lifecycle(node, "node_started") for node in ("a", "b", "c")]
    depth = 0
    for number in range(6000):
        lines.append(pressure("a", "output", "reserve_attempted", None))
        lines.append(message(number, "enqueued", "a", "b"))
        depth = max(0, min(4, depth + rng.choice((-1, 1, 1))))
        lines.append(pressure("b", "input", "receive_ready", depth))
        lines.append(message(number, "dequeued", "a", "b"))
        if number % 97 == 0:
            lines.append(pressure("c", "input", "receive_attempted", rng.randint(0, 3)))
            lines.append(message(number, "dropped", "b", "b"))
        if number % 500 == 0:
            lines.append(pressure("a", "output", "reserve_full", None, capacity=4 + number))
        if number % 1500 == 7:
            lines += ["", "not json", "[1]", '{"record_type":"message"}', "   "]
            lines.append(dumps({"record_type": "rule_evaluation", "rule": number}))
            lines.append(error("c"))
    if stamps:
        lines[9000:9040] = [stamped(line, n) for n, line in enumerate(lines[9000:9040], 1)]
    # The port's capacity as its last record states it, not its last distinct line's.
    lines.append(pressure("a", "output", "reserve_full", None, capacity=9))
    lines.append(pressure("a", "output", "reserve_attempted", None))
    lines += [lifecycle("a", "node_completed"), lifecycle("b", "node_failed")]
    return lines


def one_record_at_a_time(lines: list[str]) -> RunData:
    """What the report means by a file: every non-blank line a record number, each JSON
    object through :func:`add_record` (with its timestamp's time)."""
    run = RunData()
    position = 0
    for line in lines:
        if not line.strip():
            continue
        position += 1
        try:
            value = json.loads(line)
        except ValueError:
            run.unreadable += 1
            continue
        if not isinstance(value, dict):
            run.unreadable += 1
            continue
        time = None
        if "timestamp" in value:
            value.pop("sequence")
            time = datetime.datetime.fromisoformat(value.pop("timestamp")).timestamp()
        add_record(run, value, position, time)
    return run


def everything(run: RunData) -> object:
    return (
        run.workflow_ids,
        run.execution_ids,
        [astuple(node) for node in run.nodes.values()],
        [astuple(edge) for edge in run.edges.values()],
        [
            (
                key,
                port.edge_count,
                port.capacity,
                port.waits_full,
                port.waits_empty,
                port.depth.width,
                port.depth.peak,
                port.depth.samples,
                [astuple(bucket) for bucket in port.depth.points],
            )
            for key, port in run.ports.items()
        ],
        [astuple(err) for err in run.errors],
        run.error_count,
        sorted(run.record_types.items()),
        run.records,
        run.unreadable,
        run.dropped_without_edge,
        run.first_time,
        run.last_time,
    )


@pytest.mark.parametrize("block_size", [64, 4096, 1 << 20])
@pytest.mark.parametrize("cache_size", [8, 65_536])
@pytest.mark.parametrize("stamps", [False, True])
def test_the_block_reader_adds_up_like_one_record_at_a_time(
    monkeypatch: pytest.MonkeyPatch, block_size: int, cache_size: int, stamps: bool
) -> None:
    monkeypatch.setattr(jsonl_module, "BLOCK_SIZE", block_size)
    monkeypatch.setattr(jsonl_module, "CACHE_SIZE", cache_size)
    lines = metadata_lines(seed=block_size + cache_size, stamps=stamps)
    run = read_stream(io.BytesIO(("\n".join(lines) + "\n").encode()))
    expected = one_record_at_a_time(lines)
    assert everything(run) == everything(expected)
    port = run.ports[("b", "in", "input")]
    assert port.depth.samples == 6000
    assert port.depth.width > 1  # the samples outnumbered the buckets: stretches were added
    assert run.ports[("a", "out", "output")].capacity == 4
    assert run.timed == stamps
    assert run.unreadable == 4 * 3  # per round: not json, [1], a message without fields
    assert not run.truncated_line


def test_a_last_line_cut_short_is_skipped_and_noted(tmp_path: Path) -> None:
    lines = metadata_lines(seed=1)[:25]  # before the first unreadable line
    whole = "\n".join(lines) + "\n"
    path = tmp_path / "run.metadata.jsonl"
    path.write_text(whole + lines[5][: len(lines[5]) // 2])  # killed while writing
    run = read_metadata(path)
    assert run.truncated_line
    assert run.unreadable == 0
    assert everything(run) == everything(read_metadata_text(whole, tmp_path))
    assert "The last line was cut short" in render_html(run)
    only = tmp_path / "only.jsonl"
    only.write_text('{"record_type":"lif')
    with pytest.raises(MetadataReadError, match=r"`.*only\.jsonl` .*its only line is cut short"):
        read_metadata(only)


def test_a_line_too_long_to_hold_is_skipped_and_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl_module, "BLOCK_SIZE", 256)
    monkeypatch.setattr(jsonl_module, "MAX_LINE", 1000)
    long = dumps({"context": context("b"), "kind": "node_started", "pad": "x" * 5000})
    long = long[:-1] + ',"record_type":"lifecycle"}'  # valid, but not held to be parsed
    text = "\n".join([lifecycle("a", "node_started"), long, lifecycle("a", "node_completed"), ""])
    run = read_stream(io.BytesIO(text.encode()))
    assert (run.records, run.unreadable) == (2, 1)
    assert "b" not in run.nodes
    assert (run.nodes["a"].started_at, run.nodes["a"].ended_at) == (1, 3)


def read_metadata_text(text: str, folder: Path) -> RunData:
    path = folder / "whole.jsonl"
    path.write_text(text)
    run = read_metadata(path)
    assert not run.truncated_line
    return run


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev are POSIX")
def test_a_fifo_a_device_and_a_folder_are_refused_in_one_line(tmp_path: Path) -> None:
    fifo = tmp_path / "run.metadata.jsonl"
    os.mkfifo(fifo)  # no writer: reading it would block forever
    refused = r"^failed to read `.*`: not a regular file but a named pipe"
    with pytest.raises(MetadataReadError, match=refused):
        read_metadata(fifo)
    with pytest.raises(MetadataReadError, match=r"not a regular file but a character device"):
        read_metadata("/dev/zero")
    with pytest.raises(MetadataReadError, match=r"^failed to read `.*`: Is a directory$"):
        read_metadata(tmp_path)
