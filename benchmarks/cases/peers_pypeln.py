"""Peer: pypeln's ``pypeln.task`` module (asyncio tasks joined by bounded queues).

Each ``pl.task`` stage runs its workers as asyncio tasks and hands items on through an
``asyncio.Queue(maxsize)``; ``workers=1`` gives one task per node, ``maxsize=capacity``
the bounded edge. The pipeline is consumed with ``async for`` inside ``asyncio.run``.

* ``linear-3``: an async generator (pypeln wraps it in a ``from_iterable`` stage) ->
  ``pl.task.map(identity, workers=1, maxsize=c)`` -> the ``async for`` loop as the sink;
* ``fan-out-in-1-2-1``: one ``pl.task.from_iterable`` stage used by two ``pl.task.map``
  stages (pypeln gives a stage with several consumers one output queue each, so every
  packet reaches both branches), joined by ``pl.task.concat`` into the ``async for`` sink.

Consuming a ``pl.task`` stage with a plain (synchronous) ``for`` loop hung with pypeln 0.4.9
on Python 3.11 here (its thread-fed source queue never finished), so the async form is used.
"""

from __future__ import annotations

import asyncio
import time

from cases.common import (
    CaseResult,
    Tally,
    astamped_items,
    identity,
    make_payload,
    sample_every,
)


async def _linear3(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    import pypeln as pl

    payload, every = make_payload(payload_size), sample_every(n_packets)
    tally = Tally()
    start = time.perf_counter()
    source = astamped_items(n_packets, payload, every)
    async for item in pl.task.map(identity, source, workers=1, maxsize=capacity):
        tally(item)
    seconds = time.perf_counter() - start
    assert tally.count == n_packets
    return CaseResult(n_packets, seconds, tally.latencies)


async def _fan_out_in(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    import pypeln as pl

    payload, every = make_payload(payload_size), sample_every(n_packets)
    tally = Tally()
    start = time.perf_counter()
    source = pl.task.from_iterable(astamped_items(n_packets, payload, every), maxsize=capacity)
    left = pl.task.map(identity, source, workers=1, maxsize=capacity)
    right = pl.task.map(identity, source, workers=1, maxsize=capacity)
    async for item in pl.task.concat([left, right], maxsize=capacity):
        tally(item)
    seconds = time.perf_counter() - start
    assert tally.count == 2 * n_packets
    return CaseResult(n_packets, seconds, tally.latencies)


def linear3(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Async generator -> ``pl.task.map`` -> ``async for`` sink."""
    return asyncio.run(_linear3(n_packets, payload_size, capacity))


def fan_out_in(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """``from_iterable`` -> two ``pl.task.map`` branches -> ``pl.task.concat`` -> sink."""
    return asyncio.run(_fan_out_in(n_packets, payload_size, capacity))
