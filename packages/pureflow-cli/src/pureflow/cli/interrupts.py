"""SIGINT and SIGTERM, at any moment of a command.

:func:`install` (called once by the console entry point) replaces the default handlers
for the life of the process, so a signal never surfaces as a ``KeyboardInterrupt`` (which
node code may raise itself, and which click would print as ``Aborted!``):

* outside a run, the handler raises :class:`Interrupted` at once, and the entry point
  exits with ``128 + signum`` (130 for SIGINT, 143 for SIGTERM) after whatever
  ``finally`` blocks close (a metadata file opened before the run ends on a complete
  line);
* during a run, the run *routes* signals (:meth:`Interrupts.routed`): the first cancels
  the run cooperatively, a second aborts it; the handler returns, and the command exits
  with ``128 + signum`` once the summary is printed;
* while a command finishes writing (:meth:`Interrupts.deferred`), a signal is only noted.

``signum`` keeps the first signal received, whichever way it was handled, so the exit
code says the run was interrupted.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Final

SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)

Route = Callable[[int, FrameType | None], None]
"""What a run does with a signal: ``route(signum, frame)`` in the main thread, between
two bytecodes of whatever ran (``frame``); it returns or raises into that frame."""


class Interrupted(BaseException):
    """A signal arrived outside a run. A ``BaseException``, so no ``except Exception``
    on the way (node code, click, the binder) swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class Interrupts:
    """The process's SIGINT/SIGTERM state (see the module docstring)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.installed = False
        self._route: Route | None = None
        self._deferred = 0

    def install(self) -> None:
        """Handle SIGINT and SIGTERM here from now on (main thread only; elsewhere, and
        when called again, it does nothing)."""
        if self.installed or threading.current_thread() is not threading.main_thread():
            return
        for signum in SIGNALS:
            signal.signal(signum, self._handle)
        self.installed = True

    @property
    def exit_code(self) -> int | None:
        """``128 + signum`` of the first signal received, or ``None``."""
        return None if self.signum is None else 128 + self.signum

    @property
    def signal_name(self) -> str | None:
        return None if self.signum is None else signal.Signals(self.signum).name

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
        route = self._route
        if route is not None:
            route(signum, frame)
        elif not self._deferred:
            raise Interrupted(signum)

    @contextmanager
    def routed(self, route: Route) -> Iterator[None]:
        """Hand signals to ``route`` inside the block (a run). A signal that arrived
        just before is handed over on entry."""
        previous = self._route
        self._route = route
        try:
            if self.signum is not None and previous is None:
                route(self.signum, None)
            yield
        finally:
            self._route = previous

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Only note signals inside the block (writing the end of the metadata, the
        summary); the caller reads :attr:`exit_code` afterwards."""
        self._deferred += 1
        try:
            yield
        finally:
            self._deferred -= 1


INTERRUPTS: Final = Interrupts()
"""The one instance the entry point installs and the commands consult."""
