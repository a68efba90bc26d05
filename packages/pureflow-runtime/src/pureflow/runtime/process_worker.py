"""The worker-process side of :class:`~pureflow.runtime.offload.ProcessMapExecutor`.

A worker must never outlive the run that started it, and must leave signals to it:

* on Linux the kernel kills the worker when its parent dies (``PR_SET_PDEATHSIG``), even
  by ``kill -9``, even in the middle of a long call; elsewhere a daemon thread checks the
  parent every :data:`PARENT_CHECK_SECONDS` and ends the worker when it is gone;
* Ctrl-C in a terminal reaches the whole process group: the worker ignores SIGINT, so the
  run (its parent) decides: it cancels the node, gives the call a grace period, then
  kills the worker.

:func:`apply_all` arms this on the first call in each worker (the worker is anyio's, so
there is no start-up hook of our own) and applies the function.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, Final

PARENT_CHECK_SECONDS: Final = 0.5
_PR_SET_PDEATHSIG: Final = 1

_armed_for: int | None = None


def apply_all(function: Callable[[Any], Any], values: list[Any], parent: int) -> list[Any]:
    """Apply ``function`` to each value, in the worker (module-level, for pickling);
    ``parent`` is the run's process id."""
    if _armed_for != parent:
        tie_to_parent(parent)
    return [function(value) for value in values]


def tie_to_parent(parent: int) -> None:
    """End this process when ``parent`` ends, and leave SIGINT to the parent."""
    global _armed_for  # noqa: PLW0603 - once per worker process
    _armed_for = parent
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not _kill_me_with_my_parent():
        threading.Thread(
            target=_watch_parent, args=(parent,), name="pureflow-parent-watch", daemon=True
        ).start()
    if os.getppid() != parent:  # the parent died before we were tied to it
        os._exit(1)


def _kill_me_with_my_parent() -> bool:
    """``prctl(PR_SET_PDEATHSIG, SIGKILL)`` on Linux; False where it is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
        return False


def _watch_parent(parent: int) -> None:  # pragma: no cover - the non-Linux path
    while True:
        threading.Event().wait(PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            os._exit(1)
