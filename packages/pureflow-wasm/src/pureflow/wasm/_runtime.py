"""The shared wasmtime engine, its epoch ticker and the per-store interrupt hook.

One :class:`wasmtime.Engine` per process serves every component: the component model,
fuel and epoch interruption are on, so compiled components from the on-disk cache fit
any run. Sharing the engine shares the epoch, which in the original meant that
cancelling one call interrupted every concurrent call. Here each store installs an
epoch-deadline *callback* instead of a bare deadline: when the epoch ticks, each running
guest asks its own :class:`InvocationGuard` whether it was cancelled or is past its
deadline, and only that guest traps; the others continue to the next tick.

The ticker is one daemon thread per engine that increments the epoch every
``epoch_tick`` seconds while at least one invocation is running; it lingers for
:data:`TICKER_LINGER` seconds after the last one ends (so back-to-back invocations do not
start a thread each), then exits.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import itertools
import platform
import threading
import time
from typing import Final, Literal, Protocol

import wasmtime
from wasmtime import _ffi as ffi

__all__ = [
    "ENGINE_FINGERPRINT",
    "CancelFlag",
    "EpochTicker",
    "InvocationGuard",
    "shared_engine",
    "wasmtime_version",
]

StopReason = Literal["cancel", "deadline"]


class CancelFlag(Protocol):
    """What ``invoke`` accepts as a cancellation signal: ``threading.Event`` fits."""

    def is_set(self) -> bool: ...


def wasmtime_version() -> str:
    """The installed wasmtime-py version (part of every compile-cache key)."""
    try:
        return importlib.metadata.version("wasmtime")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - vendored installs
        return "unknown"


TICKER_LINGER: Final = 1.0
"""Seconds the idle ticker thread waits for another invocation before it exits."""
_ENGINE_FLAGS: Final = "component-model,consume-fuel,epoch-interruption"
ENGINE_FINGERPRINT: Final = (
    f"wasmtime={wasmtime_version()};{_ENGINE_FLAGS};{platform.system()}-{platform.machine()}"
)
"""Identifies code compiled by :func:`shared_engine`; compiled artefacts are only
interchangeable between engines with the same fingerprint."""

_engine_lock = threading.Lock()
_shared: list[tuple[wasmtime.Engine, EpochTicker]] = []  # at most one entry


def _new_engine() -> wasmtime.Engine:
    config = wasmtime.Config()
    config.wasm_component_model = True
    config.consume_fuel = True
    config.epoch_interruption = True
    return wasmtime.Engine(config)


def shared_engine() -> tuple[wasmtime.Engine, EpochTicker]:
    """The process-wide engine and its ticker, created on first use."""
    with _engine_lock:
        if not _shared:
            engine = _new_engine()
            _shared.append((engine, EpochTicker(engine)))
        return _shared[0]


class EpochTicker:
    """Increments an engine's epoch on a daemon thread while invocations are running.

    :meth:`acquire` registers a running invocation with its tick interval; :meth:`release`
    unregisters it. The thread ticks at the smallest registered interval while anything is
    registered, and exits after :data:`TICKER_LINGER` seconds with nothing registered, so
    an idle process has no ticking thread.
    """

    def __init__(self, engine: wasmtime.Engine) -> None:
        self._engine = engine
        self._cond = threading.Condition()
        self._intervals: dict[int, float] = {}
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None
        self.ticks = 0

    def acquire(self, interval: float) -> int:
        """Register a running invocation; returns the token for :meth:`release`.

        Cheap when the thread already runs at this interval or faster (a lock, no wake-up):
        invocations on a hot path register and unregister on every call.
        """
        with self._cond:
            token = next(self._ids)
            current = min(self._intervals.values(), default=None)
            self._intervals[token] = interval
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="pureflow-wasm-epoch", daemon=True
                )
                self._thread.start()
            elif current is None or interval < current:
                self._cond.notify_all()
            return token

    def release(self, token: int) -> None:
        """Unregister the invocation ``token`` (the thread notices at its next tick)."""
        with self._cond:
            self._intervals.pop(token, None)

    def tick(self) -> None:
        """Increment the epoch now (wakes every running guest's interrupt check)."""
        self._engine.increment_epoch()

    def _run(self) -> None:
        with self._cond:
            while True:
                if not self._intervals:
                    self._cond.wait(TICKER_LINGER)
                    if not self._intervals:
                        break
                    continue
                self._cond.wait(min(self._intervals.values()))
                if self._intervals:
                    self._engine.increment_epoch()
                    self.ticks += 1
            self._thread = None


# --------------------------------------------------------------------------------------
# The per-store epoch-deadline callback
# --------------------------------------------------------------------------------------

_CALLBACK_TYPE = ctypes.CFUNCTYPE(
    ctypes.c_size_t,
    ctypes.POINTER(ffi.wasmtime_context_t),
    ctypes.c_void_p,
    ctypes.POINTER(ctypes.c_uint64),
    ctypes.POINTER(ffi.wasmtime_update_deadline_kind_t),
)
_FINALIZER_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_UPDATE_DEADLINE_CONTINUE: Final = 0

_guards: dict[int, InvocationGuard] = {}
_guard_ids = itertools.count(1)


class InvocationGuard:
    """The interrupt state of a store's invocations, consulted at every epoch tick.

    One guard serves a store for its whole life; :meth:`arm` sets it up for each call.
    ``stopped`` records why the guest was stopped (``"cancel"`` or ``"deadline"``), so the
    host classifies the failure from what it did, not from the error text.
    """

    def __init__(self, cancel: CancelFlag | None = None, deadline: float | None = None) -> None:
        self.cancel: CancelFlag | None = None
        self.deadline_at: float | None = None
        self.stopped: StopReason | None = None
        self.stopped_at: float | None = None
        self._id = next(_guard_ids)
        self.arm(cancel, deadline)

    def arm(self, cancel: CancelFlag | None, deadline: float | None) -> None:
        """Prepare for one call: its cancel flag and deadline (seconds from now)."""
        self.cancel = cancel
        self.deadline_at = None if deadline is None else time.monotonic() + deadline
        self.stopped = None
        self.stopped_at = None

    def should_stop(self) -> StopReason | None:
        """Why the guest must stop now, or ``None`` to let it run to the next tick."""
        if self.cancel is not None and self.cancel.is_set():
            return "cancel"
        if self.deadline_at is not None and time.monotonic() >= self.deadline_at:
            return "deadline"
        return None

    def install(self, store: wasmtime.Store) -> None:
        """Hook this guard into ``store``: deadline 1 tick ahead, checked on every tick."""
        _guards[self._id] = self
        store.set_epoch_deadline(1)
        ffi.wasmtime_store_epoch_deadline_callback(
            store.ptr(), _epoch_callback, ctypes.c_void_p(self._id), _epoch_finalizer
        )

    def uninstall(self) -> None:
        """Forget this guard (the store's finalizer does it too)."""
        _guards.pop(self._id, None)


@_CALLBACK_TYPE
def _epoch_callback(  # type: ignore[no-untyped-def]
    _context, data, delta, kind
):  # pragma: no cover - exercised through wasmtime, not directly
    try:
        guard = _guards.get(data or 0)
        reason = guard.should_stop() if guard is not None else None
        if reason is not None and guard is not None:
            guard.stopped = reason
            guard.stopped_at = time.monotonic()
            error = wasmtime.WasmtimeError(f"pureflow: guest interrupted ({reason})")
            return ctypes.cast(error._consume(), ctypes.c_void_p).value or 0
    except Exception:
        pass
    delta[0] = 1
    kind[0] = _UPDATE_DEADLINE_CONTINUE
    return 0


@_FINALIZER_TYPE
def _epoch_finalizer(data):  # type: ignore[no-untyped-def]  # pragma: no cover
    _guards.pop(data or 0, None)
