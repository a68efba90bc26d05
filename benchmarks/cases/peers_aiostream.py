"""Peer: aiostream (composable operators on async iterators).

aiostream pipelines are chains of async generators pulled by the consumer: there are no
queues between stages and so no capacity; a stage runs when the next one asks for an item.

* ``linear-3``: ``stream.iterate(source) | pipe.map(identity)`` consumed by ``async for``
  as the sink (``pipe.map`` with a plain function is a synchronous map: no task per item);
* ``fan-out-in-1-2-1``: aiostream has no broadcast operator (an iterator can be consumed
  only once), so the idiom is one source per branch: ``stream.merge`` of two
  ``stream.iterate(source) | pipe.map(identity)`` branches, each with its own copy of the
  source generator. ``stream.merge`` runs each branch as a task and hands items over as
  they come.
"""

from __future__ import annotations

import asyncio
import time

from cases.common import (
    FAN_BRANCHES,
    CaseResult,
    Tally,
    astamped_items,
    identity,
    make_payload,
    sample_every,
)


async def _run(n_packets: int, payload_size: int, branches: int) -> CaseResult:
    from aiostream import pipe, stream

    payload, every = make_payload(payload_size), sample_every(n_packets)
    tally = Tally()
    start = time.perf_counter()
    legs = [
        stream.iterate(astamped_items(n_packets, payload, every)) | pipe.map(identity)
        for _ in range(branches)
    ]
    flow = legs[0] if branches == 1 else stream.merge(*legs)
    async with flow.stream() as items:
        async for item in items:
            tally(item)
    seconds = time.perf_counter() - start
    assert tally.count == branches * n_packets
    return CaseResult(n_packets, seconds, tally.latencies)


def linear3(n_packets: int, payload_size: int, _capacity: int) -> CaseResult:
    """``stream.iterate(source) | pipe.map(identity)`` -> ``async for`` sink."""
    return asyncio.run(_run(n_packets, payload_size, 1))


def fan_out_in(n_packets: int, payload_size: int, _capacity: int) -> CaseResult:
    """``stream.merge`` of two ``iterate | map`` branches -> ``async for`` sink."""
    return asyncio.run(_run(n_packets, payload_size, FAN_BRANCHES))
