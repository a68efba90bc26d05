"""Peer: Bytewax (a Rust dataflow runtime driving Python callbacks), one worker.

The dataflow runs in this process with ``bytewax.testing.run_main`` (one worker, no
cluster). Bytewax moves items between operators in batches its runtime forms; the source
batch size is the knob a user has, so the per-item rows use ``TestingSource(batch_size=1)``
and the batch rows ``batch_size=64``. Operators are connected by the runtime, not by
user-sized queues: capacity does not apply.

* ``linear-3``: ``op.input`` -> ``op.map(identity)`` -> ``op.output`` to a sink whose
  ``write_batch`` tallies each item;
* ``fan-out-in-1-2-1``: the input stream is used by two ``op.map`` steps (Bytewax
  broadcasts a stream to every operator that reads it), joined by ``op.merge`` into the
  same sink.

The ``natural`` rows map the natural rows' work instead of ``identity``: per item
``op.map(upper)`` (``common.upper``: the payload upper-cased, latency stamps passed);
batched (source batches of 64) ``op.map(bytes.upper)``, the first value of every sampled
batch a byte stamp (``common.stamp_bytes``), read by the sink from the first item of each
batch it is handed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from cases.common import (
    BATCH_SIZE,
    FAN_BRANCHES,
    CaseResult,
    Tally,
    batch_sizes,
    identity,
    make_payload,
    sample_every,
    sample_every_batch,
    stamp_age,
    stamp_bytes,
    stamped_items,
    upper,
)


def _byte_stamped_items(n_packets: int, payload: bytes) -> Iterator[bytes]:
    """Batches of 64 payloads, the first of every sampled batch a byte stamp."""
    every_batch = sample_every_batch(n_packets)
    for index, size in enumerate(batch_sizes(n_packets)):
        yield stamp_bytes() if index % every_batch == 0 else payload
        for _ in range(size - 1):
            yield payload


class _FirstItemTally(Tally):
    """Counts every item; a latency sample from the first item of each batch only."""

    __slots__ = ()

    def many(self, items: Any) -> None:
        age = stamp_age(items[0]) if items else None
        if age is not None:
            self.latencies.append(age)
        self.count += len(items)


def _run(
    n_packets: int,
    payload_size: int,
    branches: int,
    batch_size: int,
    natural: bool = False,
) -> CaseResult:
    import bytewax.operators as op
    from bytewax.dataflow import Dataflow
    from bytewax.outputs import DynamicSink, StatelessSinkPartition
    from bytewax.testing import TestingSource, run_main

    payload, every = make_payload(payload_size), sample_every(n_packets)
    byte_stamps = natural and batch_size > 1
    tally = _FirstItemTally() if byte_stamps else Tally()
    work: Callable[[Any], Any] = identity
    if natural:
        work = bytes.upper if byte_stamps else upper

    class _Partition(StatelessSinkPartition[Any]):
        def write_batch(self, items: list[Any]) -> None:
            tally.many(items)

    class _Sink(DynamicSink[Any]):
        def build(
            self,
            step_id: str,  # noqa: ARG002 (the signature Bytewax calls)
            worker_index: int,  # noqa: ARG002
            worker_count: int,  # noqa: ARG002
        ) -> _Partition:
            return _Partition()

    start = time.perf_counter()
    flow = Dataflow("bench")
    items: Iterator[object] = (
        _byte_stamped_items(n_packets, payload)
        if byte_stamps
        else stamped_items(n_packets, payload, every)
    )
    source = op.input("source", flow, TestingSource(items, batch_size=batch_size))
    legs = [op.map(f"branch{i}", source, work) for i in range(branches)]
    merged = legs[0] if branches == 1 else op.merge("merge", *legs)
    op.output("sink", merged, _Sink())
    run_main(flow)
    seconds = time.perf_counter() - start
    assert tally.count == branches * n_packets
    return CaseResult(n_packets, seconds, tally.latencies)


def linear3(n_packets: int, payload_size: int, _capacity: int) -> CaseResult:
    """input (batch size 1) -> map -> output."""
    return _run(n_packets, payload_size, 1, 1)


def fan_out_in(n_packets: int, payload_size: int, _capacity: int) -> CaseResult:
    """input (batch size 1) -> two maps -> merge -> output."""
    return _run(n_packets, payload_size, FAN_BRANCHES, 1)


def linear3_batch(n_packets: int, payload_size: int, _capacity: int) -> CaseResult:
    """input (batch size 64) -> map -> output."""
    return _run(n_packets, payload_size, 1, BATCH_SIZE)


def fan_out_in_batch(n_packets: int, payload_size: int, _capacity: int) -> CaseResult:
    """input (batch size 64) -> two maps -> merge -> output."""
    return _run(n_packets, payload_size, FAN_BRANCHES, BATCH_SIZE)


def linear3_natural(n_packets: int, payload_size: int, _capacity: int) -> CaseResult:
    """input (batch size 1) -> map(upper) -> output."""
    return _run(n_packets, payload_size, 1, 1, natural=True)


def fan_out_in_natural(n_packets: int, payload_size: int, _capacity: int) -> CaseResult:
    """input (batch size 1) -> two map(upper) -> merge -> output."""
    return _run(n_packets, payload_size, FAN_BRANCHES, 1, natural=True)


def linear3_natural_batch(n_packets: int, payload_size: int, _capacity: int) -> CaseResult:
    """input (batch size 64) -> map(bytes.upper) -> output."""
    return _run(n_packets, payload_size, 1, BATCH_SIZE, natural=True)


def fan_out_in_natural_batch(n_packets: int, payload_size: int, _capacity: int) -> CaseResult:
    """input (batch size 64) -> two map(bytes.upper) -> merge -> output."""
    return _run(n_packets, payload_size, FAN_BRANCHES, BATCH_SIZE, natural=True)
