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
"""

from __future__ import annotations

import asyncio
import itertools
import time

from cases.common import (
    BATCH_SIZE,
    FAN_BRANCHES,
    WIDE_BRANCHES,
    CaseResult,
    batch_sizes,
    make_payload,
    sample_every,
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


async def _linear(
    n_packets: int, payload_size: int, capacity: int, nodes: int, batched: bool
) -> CaseResult:
    payload, every = make_payload(payload_size), sample_every(n_packets)
    latencies: list[int] = []
    queues: list[Queue] = [asyncio.Queue(capacity) for _ in range(nodes - 1)]
    source, sink = (_batch_source, _batch_sink) if batched else (_source, _sink)
    start = time.perf_counter()
    tasks = [asyncio.create_task(source(n_packets, payload, queues[:1], every))]
    tasks += [asyncio.create_task(_relay(a, b)) for a, b in itertools.pairwise(queues)]
    received = await sink(queues[-1], 1, latencies)
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - start
    assert received == n_packets, (received, n_packets)
    return CaseResult(n_packets, seconds, latencies)


async def _fan_out_in(
    n_packets: int, payload_size: int, capacity: int, batched: bool
) -> CaseResult:
    payload, every = make_payload(payload_size), sample_every(n_packets)
    latencies: list[int] = []
    branches: list[Queue] = [asyncio.Queue(capacity) for _ in range(FAN_BRANCHES)]
    merged: Queue = asyncio.Queue(capacity)
    source, sink = (_batch_source, _batch_sink) if batched else (_source, _sink)
    start = time.perf_counter()
    tasks = [asyncio.create_task(source(n_packets, payload, branches, every))]
    tasks += [asyncio.create_task(_relay(q, merged)) for q in branches]
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
    source, sink = (_batch_source, _batch_sink) if batched else (_source, _sink)
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
