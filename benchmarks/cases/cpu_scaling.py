"""CPU-bound branches in worker processes: the machine's limit for Pureflow's process nodes.

Shape: a source broadcasts every packet to ``branches`` CPU-bound branches; each branch
hands its packets one at a time to its own single-worker ``ProcessPoolExecutor`` (awaiting
``loop.run_in_executor``), so a branch is one worker process, as a node declared
``process`` would be; a sink counts the results. The CPU work per packet is
:func:`burn` (a fixed loop of integer arithmetic, about 3.5 ms on the machine of the README).

``throughput`` is packets processed by the branches per second (a broadcast to two branches
does twice the work), so on a machine with two free cores two branches should approach
twice the throughput of one. ``run.py`` reports ``scaling = throughput(2) / throughput(1)``
from the same round; Pureflow's target for two process nodes is >= 1.6.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ProcessPoolExecutor

from cases.common import CaseResult

#: Iterations of :func:`burn` per packet.
WORK = 50_000


def burn(seed: int) -> int:
    """CPU-bound work that no optimiser removes: a small linear congruential walk."""
    x = seed
    for _ in range(WORK):
        x = (x * 1_103_515_245 + 12_345) & 0x7FFFFFFF
    return x


async def _branches(n_packets: int, branches: int) -> CaseResult:
    loop = asyncio.get_running_loop()
    pools = [ProcessPoolExecutor(max_workers=1) for _ in range(branches)]
    try:
        # Start every worker process before the clock starts.
        await asyncio.gather(*(loop.run_in_executor(pool, burn, 0) for pool in pools))
        inboxes: list[asyncio.Queue[int | None]] = [asyncio.Queue(64) for _ in pools]
        results: asyncio.Queue[int | None] = asyncio.Queue(64)

        async def source() -> None:
            for i in range(n_packets):
                for inbox in inboxes:
                    await inbox.put(i)
            for inbox in inboxes:
                await inbox.put(None)

        async def branch(inbox: asyncio.Queue[int | None], pool: ProcessPoolExecutor) -> None:
            while (item := await inbox.get()) is not None:
                await results.put(await loop.run_in_executor(pool, burn, item))
            await results.put(None)

        start = time.perf_counter()
        tasks = [asyncio.create_task(source())]
        tasks += [asyncio.create_task(branch(q, p)) for q, p in zip(inboxes, pools, strict=True)]
        processed = ends = 0
        while ends < branches:
            if await results.get() is None:
                ends += 1
            else:
                processed += 1
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - start
    finally:
        for pool in pools:
            pool.shutdown()
    assert processed == branches * n_packets
    return CaseResult(processed, seconds)


def one_branch(n_packets: int, _payload_size: int, _capacity: int) -> CaseResult:
    """Source -> one CPU-bound branch in a worker process -> sink."""
    return asyncio.run(_branches(n_packets, 1))


def two_branches(n_packets: int, _payload_size: int, _capacity: int) -> CaseResult:
    """Source -> two CPU-bound branches, each in its own worker process -> sink."""
    return asyncio.run(_branches(n_packets, 2))
