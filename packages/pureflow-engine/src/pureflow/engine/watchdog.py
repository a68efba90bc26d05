"""The no-progress watchdog: notices a run where nothing moves and says who is stuck.

Progress means a packet was queued onto or taken off any edge, or a node finished. (The
original counted only finished nodes, so a healthy streaming graph looked deadlocked.)
When nothing progresses for ``timeout`` seconds the watchdog reports a
:class:`~pureflow.engine.summary.DeadlockReport` naming every unfinished node, the ports it
is blocked on, and each edge's depth.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import anyio


def format_duration(seconds: float) -> str:
    """Rust's ``Debug`` for ``Duration``: ``1ms``, ``1.5s``, ``250µs``, ``0ns``."""
    nanos = round(seconds * 1e9)
    for unit, size in (("s", 1_000_000_000), ("ms", 1_000_000), ("µs", 1_000)):
        if nanos >= size:
            value = nanos / size
            text = f"{value:.9f}".rstrip("0").rstrip(".")
            return f"{text}{unit}"
    return f"{nanos}ns"


async def watch_progress(
    stall_seconds: float,
    progress: Callable[[], int],
    on_stall: Callable[[], None],
) -> None:
    """Call ``on_stall()`` once when ``progress()`` stays unchanged for ``stall_seconds``.

    Polls a few times per timeout (at most every 0.25 s, at least every 1 ms). Returns after
    firing; runs until cancelled otherwise.
    """
    interval = min(max(stall_seconds / 4, 0.001), 0.25)
    last = progress()
    last_change = anyio.current_time()
    while True:
        await anyio.sleep(interval)
        now_progress = progress()
        now = anyio.current_time()
        if now_progress != last:
            last, last_change = now_progress, now
        elif now - last_change >= stall_seconds or math.isclose(stall_seconds, 0.0):
            on_stall()
            return
