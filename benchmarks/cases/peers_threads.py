"""Peer: plain threads joined by ``queue.Queue(maxsize=capacity)``, one thread per node.

The standard library's answer to the same shapes, written the way the asyncio baseline is:
``None`` ends the stream, relays pass items on unchanged, the sink runs on the main thread.

* ``linear-3``: source thread -> relay thread -> sink (main thread), two queues;
* ``fan-out-in-1-2-1``: the source puts every packet on both branch queues; each branch
  thread relays into one queue shared by the sink, which stops after two sentinels.
"""

from __future__ import annotations

import queue
import threading
import time

from cases.common import FAN_BRANCHES, CaseResult, Tally, make_payload, sample_every

Queue = queue.Queue[object]


def _source(n_packets: int, payload: bytes, outs: list[Queue], every: int) -> None:
    clock = time.perf_counter_ns
    puts = [q.put for q in outs]
    for i in range(n_packets):
        item = (clock(), payload) if i % every == 0 else payload
        for put in puts:
            put(item)
    for put in puts:
        put(None)


def _relay(inbox: Queue, outbox: Queue) -> None:
    get, put = inbox.get, outbox.put
    while True:
        item = get()
        put(item)
        if item is None:
            return


def _sink(inbox: Queue, upstreams: int, tally: Tally) -> None:
    get, ends = inbox.get, 0
    while True:
        item = get()
        if item is None:
            ends += 1
            if ends == upstreams:
                return
        else:
            tally(item)


def _run(threads: list[threading.Thread], sink_inbox: Queue, upstreams: int) -> tuple[Tally, float]:
    tally = Tally()
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    _sink(sink_inbox, upstreams, tally)
    for thread in threads:
        thread.join()
    return tally, time.perf_counter() - start


def linear3(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Source thread -> relay thread -> sink on the main thread."""
    payload, every = make_payload(payload_size), sample_every(n_packets)
    first: Queue = queue.Queue(capacity)
    second: Queue = queue.Queue(capacity)
    threads = [
        threading.Thread(target=_source, args=(n_packets, payload, [first], every)),
        threading.Thread(target=_relay, args=(first, second)),
    ]
    tally, seconds = _run(threads, second, 1)
    assert tally.count == n_packets
    return CaseResult(n_packets, seconds, tally.latencies)


def fan_out_in(n_packets: int, payload_size: int, capacity: int) -> CaseResult:
    """Source thread -> 2 branch threads -> one shared queue -> sink on the main thread."""
    payload, every = make_payload(payload_size), sample_every(n_packets)
    branches: list[Queue] = [queue.Queue(capacity) for _ in range(FAN_BRANCHES)]
    merged: Queue = queue.Queue(capacity)
    threads = [threading.Thread(target=_source, args=(n_packets, payload, branches, every))]
    threads += [threading.Thread(target=_relay, args=(q, merged)) for q in branches]
    tally, seconds = _run(threads, merged, FAN_BRANCHES)
    assert tally.count == FAN_BRANCHES * n_packets
    return CaseResult(n_packets, seconds, tally.latencies)
