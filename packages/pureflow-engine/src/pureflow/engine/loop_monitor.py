"""Naming the node that blocks the event loop.

Every node of a run shares one event loop. A node whose ``async`` code calls something
blocking (``time.sleep``, a synchronous HTTP client, a long computation) freezes all the
others, and the run's own watchers (the watchdog, the deadlock detector, Ctrl-C) with
them. The :class:`LoopMonitor` sees it from outside the loop:

* a heartbeat task on the loop stamps the time every quarter of ``threshold``;
* a daemon thread checks the stamp; when the loop has not turned for ``threshold``
  seconds, it looks at the loop thread's stack (``sys._current_frames``), finds the node
  whose code is running (the innermost node runner frame) and the line of the node's own
  code, and logs a warning (logger ``pureflow.engine.loop``) naming both;
* when the loop turns again, the run is told (``on_block``, on the loop) how long the
  block lasted, and records it;
* with a ``limit`` (the run's watchdog) a node that holds the loop longer is interrupted
  where it is: the monitor sends the loop thread ``SIGUSR2``, whose handler (installed for
  the run, only in the main thread and only if the program has none of its own) raises
  :class:`EventLoopBlockedError` into the node's code, which fails that node.

:func:`blocked_node_at` lets a signal handler (the CLI's Ctrl-C) ask whether the frame it
interrupted is node code holding the loop, so it can stop that node at once instead of
waiting for the loop to turn.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Final

import anyio
from pureflow.core import ExecutionError
from pureflow.runtime import node_runner
from pureflow.runtime.failure import code_location, is_user_code

_log = logging.getLogger("pureflow.engine.loop")

DEFAULT_THRESHOLD: Final = 1.0
"""Seconds without a turn of the loop before the run names the node holding it."""

HINT: Final = 'declare blocking code with `run_in="thread"`, or await an async API'

_RUN_NODE_CODE = node_runner._run_node.__code__
_INTERRUPT: Final = getattr(signal, "SIGUSR2", None)


class EventLoopBlockedError(ExecutionError):
    """Raised into node code that held the event loop past the run's watchdog."""


@dataclass(frozen=True, slots=True)
class LoopBlock:
    """The event loop did not turn for ``seconds``; ``node_id`` is the node whose code
    held it (``None`` when it was not node code) and ``location`` that code's
    ``file:line, in function`` (``None`` when unknown)."""

    node_id: str | None
    location: str | None
    seconds: float

    @property
    def message(self) -> str:
        who = f"node `{self.node_id}`" if self.node_id is not None else "code outside any node"
        where = f" (at {self.location})" if self.location else ""
        return f"{who} blocked the event loop for {self.seconds:.1f} s{where}; {HINT}"


def node_of(frame: FrameType | None) -> tuple[str, str | None] | None:
    """``(node id, location of the node's own code)`` when ``frame`` runs inside a node
    (under the node runner), else ``None``. The location (``file:line, in function``) is
    the innermost frame of the user's code, as node errors name it."""
    innermost_user: FrameType | None = None
    while frame is not None:
        if frame.f_code is _RUN_NODE_CODE:
            ctx = frame.f_locals.get("ctx")
            node_id = getattr(ctx, "node_id", None)
            if node_id is None:
                return None
            if innermost_user is None:
                return str(node_id), None
            code = innermost_user.f_code
            where = code_location(code.co_filename, innermost_user.f_lineno, code.co_name)
            return str(node_id), where
        if innermost_user is None and is_user_code(frame):
            innermost_user = frame
        frame = frame.f_back
    return None


class LoopMonitor:
    """Watches one run's event loop (see the module docstring). Use :meth:`watch` as a
    task of the run; it ends the thread when it is cancelled."""

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        *,
        limit: float | None = None,
        on_block: Callable[[LoopBlock], object] | None = None,
    ) -> None:
        if threshold <= 0:
            raise ValueError("threshold must be > 0")
        self.threshold = threshold
        self.limit = limit
        self.on_block = on_block
        self._beat = time.monotonic()
        self._loop_thread: int | None = None
        self._current: LoopBlock | None = None  # the block going on now, once named
        self._interrupted = False

    # --- on the loop -------------------------------------------------------------------

    async def watch(self) -> None:
        """Beat until cancelled, with the watching thread beside it."""
        interval = self.threshold / 4
        self._loop_thread = threading.get_ident()
        self._beat = time.monotonic()
        stop = threading.Event()
        thread = threading.Thread(
            target=self._watch_from_outside, args=(stop, interval), daemon=True,
            name="pureflow-loop-monitor",
        )  # fmt: skip
        _ACTIVE[self._loop_thread] = self
        with _interrupt_handler(self.limit is not None):
            thread.start()
            try:
                while True:
                    await anyio.sleep(interval)
                    now = time.monotonic()
                    gap, self._beat = now - self._beat, now
                    if self._current is not None:
                        self._ended(gap - interval)
            finally:
                stop.set()
                _ACTIVE.pop(self._loop_thread, None)
                if self._current is not None:  # the run ended right after a block
                    self._ended(time.monotonic() - self._beat)

    def _ended(self, seconds: float) -> None:
        """The loop turned after a block the watching thread named."""
        named = self._current
        self._current = None
        self._interrupted = False
        if named is not None and self.on_block is not None:
            self.on_block(LoopBlock(named.node_id, named.location, max(seconds, named.seconds)))

    # --- outside the loop --------------------------------------------------------------

    def blocked_for(self) -> float:
        """Seconds since the loop last turned."""
        return time.monotonic() - self._beat

    def _watch_from_outside(self, stop: threading.Event, interval: float) -> None:
        while not stop.wait(interval):
            held = self.blocked_for()
            if held < self.threshold:
                continue
            if self._current is None:
                self._current = self._name(held)
                _log.warning("%s (so far)", self._current.message)
            if self.limit is not None and held >= self.limit and not self._interrupted:
                self._interrupt()

    def _name(self, held: float) -> LoopBlock:
        frame = sys._current_frames().get(self._loop_thread or 0)
        found = node_of(frame)
        if found is None:
            return LoopBlock(None, None, held)
        return LoopBlock(found[0], found[1], held)

    def _interrupt(self) -> None:
        """Deliver the interrupt signal to the loop thread (if the handler is ours)."""
        loop_thread = self._loop_thread
        if _INTERRUPT is None or loop_thread is None:
            return
        if loop_thread != threading.main_thread().ident:
            return
        if signal.getsignal(_INTERRUPT) is not _on_interrupt:
            return
        self._interrupted = True
        signal.pthread_kill(loop_thread, _INTERRUPT)


_ACTIVE: dict[int, LoopMonitor] = {}
"""The monitor of the run whose loop runs in each thread (by thread id)."""


def blocked_node_at(frame: FrameType | None) -> LoopBlock | None:
    """For a signal handler: the block going on when the loop of this thread has not
    turned for its monitor's threshold and ``frame`` is node code, else ``None``."""
    monitor = _ACTIVE.get(threading.get_ident())
    if monitor is None:
        return None
    held = monitor.blocked_for()
    if held < monitor.threshold:
        return None
    found = node_of(frame)
    if found is None:
        return None
    return LoopBlock(found[0], found[1], held)


def _on_interrupt(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
    block = blocked_node_at(frame)
    if block is None:
        return  # the loop turned in the meantime: nothing to interrupt
    monitor = _ACTIVE.get(threading.get_ident())
    limit = monitor.limit if monitor is not None else None
    raise EventLoopBlockedError(
        f"node `{block.node_id}` blocked the event loop for {block.seconds:.1f} s"
        + (f" (at {block.location})" if block.location else "")
        + (f", past the watchdog's {limit:g} s" if limit is not None else "")
        + f"; {HINT}"
    )


@contextmanager
def _interrupt_handler(wanted: bool) -> Iterator[None]:
    """Install :func:`_on_interrupt` for the run when ``wanted``, in the main thread, and
    only if nothing else handles the signal; restore what was there after."""
    if (
        not wanted
        or _INTERRUPT is None
        or threading.current_thread() is not threading.main_thread()
        or signal.getsignal(_INTERRUPT) is not signal.SIG_DFL
    ):
        yield
        return
    previous = signal.signal(_INTERRUPT, _on_interrupt)
    try:
        yield
    finally:
        signal.signal(_INTERRUPT, previous)
