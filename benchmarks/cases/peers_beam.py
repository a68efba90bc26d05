"""Peer: Apache Beam's Python SDK on its direct runner (in this process).

Beam is a batch/stream programming model whose runners *fuse* consecutive element-wise
steps into one stage: the direct runner (the FnApiRunner with an in-process worker) pushes
each element through every fused ``DoFn`` by plain calls, bundle by bundle, with no queue
between them. So there is no per-edge capacity, and the shapes map as follows:

* ``linear-3``: ``Create([0]) | FlatMap(source)`` (the source generates the packets inside
  the pipeline, so they are not pickled into it) -> ``Map(identity)`` -> ``ParDo(sink)``;
* ``fan-out-in-1-2-1``: the source collection is read by two ``Map(identity)`` steps
  (Beam gives each consumer every element) and ``Flatten`` joins them into the sink.

The timed span includes building and running the pipeline (``with Pipeline(...)``), which
is what using Beam for these shapes costs. The sink tallies into a module global, which
works because the direct runner executes the ``DoFn`` in this process.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from cases.common import (
    FAN_BRANCHES,
    CaseResult,
    Tally,
    identity,
    make_payload,
    sample_every,
    stamped_items,
)

_TALLY = Tally()
_SOURCE: dict[str, Any] = {}


def _generate(_: object) -> Iterator[object]:
    return stamped_items(_SOURCE["n"], _SOURCE["payload"], _SOURCE["every"])


def _sink(item: object) -> None:
    _TALLY(item)


def _run(n_packets: int, payload_size: int, branches: int) -> CaseResult:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    _SOURCE.update(n=n_packets, payload=make_payload(payload_size), every=sample_every(n_packets))
    _TALLY.count, _TALLY.latencies = 0, []
    start = time.perf_counter()
    options = PipelineOptions(flags=[], runner="DirectRunner")
    with beam.Pipeline(options=options) as pipeline:
        source = pipeline | "create" >> beam.Create([0]) | "source" >> beam.FlatMap(_generate)
        legs = [source | f"branch{i}" >> beam.Map(identity) for i in range(branches)]
        merged = legs[0] if branches == 1 else tuple(legs) | "merge" >> beam.Flatten()
        merged | "sink" >> beam.Map(_sink)
    seconds = time.perf_counter() - start
    assert _TALLY.count == branches * n_packets, (_TALLY.count, n_packets)
    return CaseResult(n_packets, seconds, _TALLY.latencies)


def linear3(n_packets: int, payload_size: int, _capacity: int) -> CaseResult:
    """Create -> FlatMap(source) -> Map(identity) -> Map(sink), fused by the runner."""
    return _run(n_packets, payload_size, 1)


def fan_out_in(n_packets: int, payload_size: int, _capacity: int) -> CaseResult:
    """FlatMap(source) read by two Map(identity) steps -> Flatten -> Map(sink)."""
    return _run(n_packets, payload_size, FAN_BRANCHES)
