"""The in-language limit: every shape written directly on ``asyncio.Queue``.

One task per node, one ``asyncio.Queue(maxsize=capacity)`` per edge (the registry passes
64), ``None`` as the end-of-stream sentinel, nothing else: no envelopes, no metadata, no
error handling. Every Pureflow and peer row reports its throughput as a ratio to the
per-item row of the same shape and payload measured in the same round.

Shapes (node counts include source and sink):

* ``linear-3``: source -> relay -> sink (2 queues);
* ``linear-10``: source -> 8 relays -> sink (9 queues);
* ``fan-out-in-1-2-1``: the source puts every packet on both branch queues, each branch
  relays into one queue shared by the sink (two producers, one consumer), so the sink
  receives every packet twice and stops after two end-of-stream sentinels;
* ``wide-fan-out-1-16``: the source puts every packet on 16 queues, one sink task each.

The batch variants move lists of up to 64 payloads through the same queues, one list per
``put``: what a batch API (``send_many``/``recv_many``) can reach at best in this language.

The ``natural`` variants (linear-3, linear-10, fan-out-in) do the work of the natural
Pureflow and Bytewax rows: every relay or branch makes a new value per packet, the payload
upper-cased (``common.upper``: latency stamps pass unchanged), and puts that; the batch
variant puts a new list of upper-cased values (``list(map(bytes.upper, batch))``), its
sampled batches stamped with a byte value (``common.stamp_bytes``). The per-item natural
row is the reference of every natural row of its shape and payload.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Coroutine
from typing import Any

from cases.common import (
    BATCH_SIZE,
    FAN_BRANCHES,
    WIDE_BRANCHES,
    CaseResult,
    batch_sizes,
    make_payload,
    sample_every,
    sample_every_batch,
    stamp_age,
    stamp_bytes,
)

Queue = asyncio.Queue[object]


# -- per-item nodes ---------------------------------------------------------------------


async def _source(n_packets: int, payload: bytes, outs: list[Queue], every: int) -> None:
    """Put ``n_packets`` packets on every queue of ``outs`` (a copy each), then ``None``."""
    clock = time.perf_counter_ns
    if len(outs) == 1:
        put = outs[0].put
        for i in range(n_packets):
            await put((clock(), payload) if i % every == 0 else payload)
        await put(None)
        return
    puts = [q.put for q in outs]
    for i in range(n_packets):
        item = (clock(), payload) if i % every == 0 else payload
        for put in puts:
            await put(item)
    for put in puts:
        await put(None)


async def _relay(inbox: Queue, outbox: Queue) -> None:
    """Pass every item on unchanged, the end-of-stream sentinel included."""
    get, put = inbox.get, outbox.put
    while True:
        item = await get()
        await put(item)
        if item is None:
            return


async def _sink(inbox: Queue, upstreams: int, latencies: list[int]) -> int:
    """Count packets until ``upstreams`` sentinels arrived; record stamped latencies."""
    get, clock = inbox.get, time.perf_counter_ns
    count = ends = 0
    while True:
        item = await get()
        if item is None:
            ends += 1
            if ends == upstreams:
                return count
        else:
            if item.__class__ is tuple:
                latencies.append(clock() - item[0])
            count += 1


async def _upper_relay(inbox: Queue, outbox: Queue) -> None:
    """Put a new value per item, the payload upper-cased (``common.upper``, inlined);
    stamps and the end-of-stream sentinel pass unchanged."""
    get, put = inbox.get, outbox.put
    while True:
        item = await get()
        if item is None:
            await put(None)
            return
        await put(item if item.__class__ is tuple else item.upper())  # type: ignore[attr-defined]


# -- batch nodes (lists of up to BATCH_SIZE payloads per put) -----------------------------


async def _batch_source(n_packets: int, payload: bytes, outs: list[Queue], every: int) -> None:
    """Put lists of payloads on every queue; the first item of a sampled batch is stamped."""
    clock = time.perf_counter_ns
    every_batch = max(1, every // BATCH_SIZE)
    puts = [q.put for q in outs]
    for index, size in enumerate(batch_sizes(n_packets)):
        batch: list[object] = [payload] * size
        if index % every_batch == 0:
            batch[0] = (clock(), payload)
        for put in puts:
            await put(batch)
    for put in puts:
        await put(None)


async def _stamped_batch_source(
    n_packets: int, payload: bytes, outs: list[Queue], _every: int
) -> None:
    """Put lists of payloads on every queue; the first value of a sampled batch is a
    byte stamp (``common.stamp_bytes``), so every value is ``bytes``."""
    every_batch = sample_every_batch(n_packets)
    puts = [q.put for q in outs]
    for index, size in enumerate(batch_sizes(n_packets)):
        batch: list[bytes] = [payload] * size
        if index % every_batch == 0:
            batch[0] = stamp_bytes()
        for put in puts:
            await put(batch)
    for put in puts:
        await put(None)


async def _upper_batch_relay(inbox: Queue, outbox: Queue) -> None:
    """Put a new list per list, every value upper-cased; the sentinel passes unchanged."""
    get, put, upper = inbox.get, outbox.put, bytes.upper
    while True:
        batch = await get()
        if batch is None:
            await put(None)
            return
        await put(list(map(upper, batch)))  # type: ignore[call-overload]


async def _stamped_batch_sink(inbox: Queue, upstreams: int, latencies: list[int]) -> int:
    """Count packets in the batches until ``upstreams`` sentinels arrived; a batch whose
    first value is a byte stamp gives a latency sample."""
    get = inbox.get
    count = ends = 0
    while True:
        batch = await get()
        if batch is None:
            ends += 1
            if ends == upstreams:
                return count
        else:
            assert isinstance(batch, list)
            age = stamp_age(batch[0])
            if age is not None:
                latencies.append(age)
            count += len(batch)


async def _batch_sink(inbox: Queue, upstreams: int, latencies: list[int]) -> int:
    """Count packets in the batches until ``upstreams`` sentinels arrived."""
    get, clock = inbox.get, time.perf_counter_ns
    count = ends = 0
    while True:
        batch = await get()
        if batch is None:
            ends += 1
            if ends == upstreams:
                return count
        else:
            assert isinstance(batch, list)
            first = batch[0]
            if first.__class__ is tuple:
                latencies.append(clock() - first[0])
            count += len(batch)


# -- shapes -----------------------------------------------------------------------------

Source = Callable[[int, bytes, list[Queue], int], Coroutine[Any, Any, None]]
Relay = Callable[[Queue, Queue], Coroutine[Any, Any, None]]
Sink = Callable[[Queue, int, list[int]], Coroutine[Any, Any, int]]


def _nodes(batched: bool, natural: bool = False) -> tuple[Source, Relay, Sink]:
    """The source, relay and sink of a row: per item or batched, identity or natural."""
    if natural:
        if batched:
            return _stamped_batch_source, _upper_batch_relay, _stamped_batch_sink
        return _source, _upper_relay, _sink
    if batched:
        return _batch_source, _relay, _batch_sink
    return _source, _relay, _sink


async def _linear(  # noqa: PLR0917 - the case's three arguments plus the shape and work
    n_packets: int,
    payload_size: int,
    capacity: int,
    nodes: int,
    batched: bool,
    natural: bool = False,
) -> CaseResult:
    payload, every = make_payload(payload_size), sample_every(n_packets)
    latencies: list[int] = []
    queues: list[Queue] = [asyncio.Queue(capacity) for _ in range(nodes - 1)]
    source, relay, sink = _nodes(batched, natural)
    start = time.perf_counter()
    tasks = [asyncio.create_task(source(n_packets, payload, queues[:1], every))]
    tasks += [asyncio.create_task(relay(a, b)) for a, b in itertools.pairwise(queues)]
    received = await sink(queues[-1], 1, latencies)
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - start
    assert received == n_packets, (received, n_packets)
    return CaseResult(n_packets, seconds, latencies)


async def _fan_out_in(
    n_packets: int, payload_size: int, capacity: int, batched: bool, natural: bool = False
) -> CaseResult:
    payload, every = make_payload(payload_size), sample_every(n_packets)
    latencies: list[int] = []
    branches: list[Queue] = [asyncio.Queue(capacity) for _ in range(FAN_BRANCHES)]
    merged: Queue = asyncio.Queue(capacity)
    source, relay, sink = _nodes(batched, natural)
    start = time.perf_counter()
    tasks = [asyncio.create_task(source(n_packets, payload, branches, every))]
    tasks += [asyncio.create_task(relay(q, merged)) for q in branches]
    received = await sink(merged, FAN_BRANCHES, latencies)
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - start
    assert received == FAN_BRANCHES * n_packets, (received, n_packets)
    return CaseResult(n_packets, seconds, latencies)


async def _wide_fan_out(
    n_packets: int, payload_size: int, capacity: int, batched: bool
) -> CaseResult:
    payload, every = make_payload(payload_size), sample_every(n_packets)
    latencies: list[int] = []
    leaves: list[Queue] = [asyncio.Queue(capacity) for _ in range(WIDE_BRANCHES)]
    source, _, sink = _nodes(batched)
    start = time.perf_counter()
    producer = asyncio.create_task(source(n_packets, payload, leaves, every))
    counts = await asyncio.gather(*(sink(q, 1, latencies) for q in leaves))
    await producer
    seconds = time.perf_counter() - start
    assert counts == [n_packets] * WIDE_BRANCHES, counts
    return CaseResult(n_packets, seconds, latencies)


# -- the registered cases -----------------------------------------------------------------


def linear3_item(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Source -> relay -> sink, one packet per put."""
    return asyncio.run(_linear(n_packets, payload_size, capacity, 3, batched=False))


def linear10_item(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Source -> 8 relays -> sink, one packet per put."""
    return asyncio.run(_linear(n_packets, payload_size, capacity, 10, batched=False))


def fan_out_in_item(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Source -> 2 branches -> one shared sink queue, one packet per put."""
    return asyncio.run(_fan_out_in(n_packets, payload_size, capacity, batched=False))


def wide_fan_out_item(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Source -> 16 sinks, one packet per put."""
    return asyncio.run(_wide_fan_out(n_packets, payload_size, capacity, batched=False))


def linear3_batch(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Source -> relay -> sink, one list of up to 64 packets per put."""
    return asyncio.run(_linear(n_packets, payload_size, capacity, 3, batched=True))


def linear10_batch(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Source -> 8 relays -> sink, one list of up to 64 packets per put."""
    return asyncio.run(_linear(n_packets, payload_size, capacity, 10, batched=True))


def fan_out_in_batch(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Source -> 2 branches -> one shared sink queue, one list of up to 64 per put."""
    return asyncio.run(_fan_out_in(n_packets, payload_size, capacity, batched=True))


def wide_fan_out_batch(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Source -> 16 sinks, one list of up to 64 packets per put."""
    return asyncio.run(_wide_fan_out(n_packets, payload_size, capacity, batched=True))


def linear3_natural_item(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Source -> upper-casing relay -> sink, one packet per put (the natural reference)."""
    return asyncio.run(_linear(n_packets, payload_size, capacity, 3, False, natural=True))


def linear10_natural_item(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Source -> 8 upper-casing relays -> sink, one packet per put."""
    return asyncio.run(_linear(n_packets, payload_size, capacity, 10, False, natural=True))


def fan_out_in_natural_item(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Source -> 2 upper-casing branches -> one shared sink queue, one packet per put."""
    return asyncio.run(_fan_out_in(n_packets, payload_size, capacity, False, natural=True))


def linear3_natural_batch(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Source -> upper-casing relay -> sink, one list of up to 64 packets per put."""
    return asyncio.run(_linear(n_packets, payload_size, capacity, 3, True, natural=True))


def linear10_natural_batch(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Source -> 8 upper-casing relays -> sink, one list of up to 64 packets per put."""
    return asyncio.run(_linear(n_packets, payload_size, capacity, 10, True, natural=True))


def fan_out_in_natural_batch(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Source -> 2 upper-casing branches -> one shared sink queue, lists of up to 64."""
    return asyncio.run(_fan_out_in(n_packets, payload_size, capacity, True, natural=True))
