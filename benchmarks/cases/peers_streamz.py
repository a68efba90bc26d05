"""Peer: streamz, in its two idioms.

streamz is push-based: ``source.emit(x)`` calls each downstream node's ``update`` in turn.

* synchronous (the default, rows ``streamz``): no queues and no tasks; a packet travels
  the whole graph inside the source's ``emit`` call, like a fused chain of function
  calls. ``linear-3`` is ``source.map(identity).sink(tally)``; ``fan-out-in-1-2-1`` is
  two ``source.map(identity)`` branches joined by ``union`` into one ``sink``.
* asynchronous with ``buffer`` (rows ``streamz+buffer``): ``Stream(asynchronous=True)``
  on the running asyncio loop, with ``.buffer(capacity)`` in front of every stage after the
  source. A buffer is a bounded queue plus a coroutine that drains it, which is what
  Pureflow's bounded edges and per-node tasks are; the source awaits ``emit`` and so feels
  backpressure. ``linear-3`` is ``source.buffer(c).map(identity).buffer(c).sink(tally)``;
  the fan-out puts ``buffer(c).map(identity)`` on each branch and one ``buffer(c)``
  between the ``union`` and the sink.
"""

from __future__ import annotations

import asyncio
import time
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


def _sync(n_packets: int, payload_size: int, branches: int) -> CaseResult:
    from streamz import Stream

    payload, every = make_payload(payload_size), sample_every(n_packets)
    tally = Tally()
    start = time.perf_counter()
    source = Stream()
    if branches == 1:
        source.map(identity).sink(tally)
    else:
        legs = [source.map(identity) for _ in range(branches)]
        legs[0].union(*legs[1:]).sink(tally)
    emit = source.emit
    for item in stamped_items(n_packets, payload, every):
        emit(item)
    seconds = time.perf_counter() - start
    assert tally.count == branches * n_packets
    return CaseResult(n_packets, seconds, tally.latencies)


async def _buffered(n_packets: int, payload_size: int, capacity: int, branches: int) -> CaseResult:
    from streamz import Stream

    payload, every = make_payload(payload_size), sample_every(n_packets)
    expected = branches * n_packets
    tally = Tally()
    done = asyncio.Event()

    def sink(item: object) -> None:
        tally(item)
        if tally.count == expected:
            done.set()

    start = time.perf_counter()
    source: Any = Stream(asynchronous=True)
    if branches == 1:
        source.buffer(capacity).map(identity).buffer(capacity).sink(sink)
    else:
        legs = [source.buffer(capacity).map(identity) for _ in range(branches)]
        legs[0].union(*legs[1:]).buffer(capacity).sink(sink)
    emit = source.emit
    for item in stamped_items(n_packets, payload, every):
        await emit(item)
    await done.wait()
    seconds = time.perf_counter() - start
    return CaseResult(n_packets, seconds, tally.latencies)


def linear3(n_packets: int, payload_size: int, _capacity: int) -> CaseResult:
    """Synchronous ``source.map(identity).sink(tally)`` (no buffers, so no capacity)."""
    return _sync(n_packets, payload_size, 1)


def fan_out_in(n_packets: int, payload_size: int, _capacity: int) -> CaseResult:
    """Synchronous fan-out to two ``map`` branches, ``union``, one sink."""
    return _sync(n_packets, payload_size, FAN_BRANCHES)


def linear3_buffered(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Asynchronous ``source.buffer(c).map(identity).buffer(c).sink(tally)``."""
    return asyncio.run(_buffered(n_packets, payload_size, capacity, 1))


def fan_out_in_buffered(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Asynchronous fan-out: ``buffer(c).map`` per branch, ``union``, ``buffer(c)``, sink."""
    return asyncio.run(_buffered(n_packets, payload_size, capacity, FAN_BRANCHES))
