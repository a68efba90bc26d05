"""One instance of a compiled component, reused across calls under per-call limits.

Instantiating is the largest fixed cost of a call (25 µs for a small hand-written guest;
about 1 to 2 ms for a componentize-py or componentize-js guest with its first call, whose
runtime snapshot is copied in as it is touched), so the host keeps an instance and calls
it again. :class:`GuestInstance` owns a store and the instance in it:

- **per call**, the store's fuel is set to the limit, the epoch deadline is moved one tick
  ahead and the :class:`~pureflow.wasm._runtime.InvocationGuard` is armed with the call's
  cancel flag and deadline (a call that needs neither skips the epoch entirely); the fuel
  the call used is read back;
- **after a failure at the WebAssembly level** (a trap, fuel, the memory limit, a
  cancellation, the deadline, the budget) the instance is closed and :attr:`broken`:
  wasmtime will not enter a trapped instance again, and the host never reuses state a
  failure may have left half-written. The caller makes a new one. A guest that *returns*
  an error (``err(batch-error)``) or malformed output stays usable.

The memory limit belongs to the store: memory a guest grew stays allocated (and counted)
while the instance lives, so a guest that never frees what it allocates reaches its
limit after enough calls. Guests built with wit-bindgen, componentize-py or
componentize-js free their allocations; a hand-written bump allocator resets in its
``post-return`` function (the test guests do).

It is world-agnostic: :meth:`call` runs any function of the instance. The batch world's
:class:`~pureflow.wasm.component.WasmComponent` uses it; so can a host of another world.
Not thread-safe: one call at a time.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

import wasmtime
from pureflow.wasm._runtime import CancelFlag, EpochTicker, InvocationGuard
from pureflow.wasm.errors import (
    WasmCancelledError,
    WasmDeadlineError,
    WasmError,
    WasmFuelError,
    WasmLoadError,
    WasmMemoryError,
    WasmTrapError,
)
from pureflow.wasm.limits import WasmLimits
from pureflow.wasm.wasi import GuestOutput, WasiGrant, build_wasi_config
from wasmtime import component as wc

__all__ = ["BudgetExceeded", "Call", "GuestInstance", "root_cause"]

T = TypeVar("T")

_CANCELLED: Final = "wasm guest invocation cancelled"
_OOM_MARKERS: Final = re.compile(
    r"handle_alloc_error|alloc_error_handler|\bMemoryError\b|memory allocation of \d+ bytes"
    r"|out of memory|exceeds memory limits|memory limit",
    re.IGNORECASE,
)


def root_cause(err: BaseException) -> str:
    """The last ``Caused by`` line of a wasmtime error, without the backtrace."""
    text = str(err).strip()
    if "Caused by:" in text:
        tail = text.rsplit("Caused by:", 1)[1]
        lines = [line.strip() for line in tail.strip().splitlines() if line.strip()]
        lines = [re.sub(r"^\d+:\s*", "", line) for line in lines]
        return lines[-1] if lines else text
    return text.splitlines()[0] if text else type(err).__name__


class BudgetExceeded(Exception):
    """The call ran past the time budget its caller set; the instance is broken and the
    call had no effect the caller can see (it may run the call again elsewhere)."""


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """What one call produced: the function's value and what the call cost."""

    value: T
    fuel_consumed: int
    seconds: float


class GuestInstance:
    """A component instantiated in its own store (see the module docstring).

    Instantiation runs under ``limits`` (fuel, memory, deadline) and ``cancel``; it raises
    :class:`~pureflow.wasm.errors.WasmTrapError` or
    :class:`~pureflow.wasm.errors.WasmMemoryError` (or another ``WasmError``) and leaves
    nothing behind.
    """

    def __init__(
        self,
        *,
        component: wc.Component,
        linker: wc.Linker,
        engine: wasmtime.Engine,
        ticker: EpochTicker,
        wasi: bool,
        grant: WasiGrant | None,
        limits: WasmLimits,
        logger: logging.Logger,
        source: str,
        cancel: CancelFlag | None = None,
    ) -> None:
        self.source = source
        self.limits = limits
        self.calls = 0
        """Calls made on this instance (failed ones included)."""
        self.fuel_consumed = 0
        """Fuel used by all calls on this instance."""
        self.broken = False
        """True once a failure closed the instance; it must not be called again."""
        self._ticker = ticker
        self._closed = False
        self._funcs: dict[int, tuple[wc.ExportIndex, wc.Func]] = {}
        self._memory_limit = limits.memory_limit_bytes
        store = wasmtime.Store(engine)
        self._store = store
        self._guard = InvocationGuard(cancel, limits.deadline)
        self._output: GuestOutput | None = None
        try:
            store.set_fuel(limits.fuel)
            store.set_limits(memory_size=limits.memory_limit_bytes)
            self._guard.install(store)
            if wasi:
                self._output = GuestOutput(logger)
                try:
                    store.set_wasi(build_wasi_config(grant, self._output))
                except wasmtime.WasmtimeError as err:  # e.g. a granted directory vanished
                    raise WasmLoadError(
                        f"cannot set up WASI for component `{source}`: {root_cause(err)}"
                    ) from None
            ticking = cancel is not None or limits.deadline is not None
            token = ticker.acquire(limits.epoch_tick) if ticking else None
            try:
                self.instance = linker.instantiate(store, component)
            except wasmtime.WasmtimeError as err:
                raise self._classify(err, limits) from None
            finally:
                if token is not None:
                    ticker.release(token)
        except BaseException:
            self._close()
            raise
        self.instantiate_fuel = limits.fuel - store.get_fuel()
        self._guard.arm(None, None)  # calls that need the epoch arm it again
        """Fuel the instance's start functions used."""

    @property
    def store(self) -> wasmtime.Store:
        """The instance's store (for looking up exports)."""
        return self._store

    def func(self, index: wc.ExportIndex) -> wc.Func:
        """The exported function at ``index`` (looked up once per instance)."""
        if self.broken:
            raise RuntimeError(f"instance of `{self.source}` is closed")
        found = self._funcs.get(id(index))
        if found is None:
            func = self.instance.get_func(self._store, index)
            if func is None:
                raise WasmLoadError(f"component `{self.source}` has no function at that export")
            self._funcs[id(index)] = (index, func)
            return func
        return found[1]

    def call(
        self,
        function: Callable[[wasmtime.Store], T],
        *,
        cancel: CancelFlag | None = None,
        limits: WasmLimits | None = None,
        fuel_budget: int | None = None,
    ) -> Call[T]:
        """Run ``function(store)`` (which calls into the instance) as one call under
        ``limits`` (default: the instance's), stopped within about one epoch tick when
        ``cancel`` is set or the deadline passes.

        ``fuel_budget`` caps this call's fuel below the limit, for a caller that must not
        be held up longer (the node adapter's inline calls): a call that uses it up raises
        :class:`BudgetExceeded` instead of ``WasmFuelError``, and the caller may run it
        again elsewhere with the whole limit. Fuel counts WebAssembly instructions, and a
        guest that can only make host calls that return at once spends its time in them,
        so the budget bounds the call's time without a timer.

        Raises the :class:`~pureflow.wasm.errors.WasmError` for a failure at the
        WebAssembly level (and closes the instance), :class:`BudgetExceeded` (closed too),
        and whatever ``function`` raises otherwise (the instance stays usable).
        """
        if self.broken:
            raise RuntimeError(f"instance of `{self.source}` is closed")
        if limits is None:
            limits = self.limits
        if cancel is not None and cancel.is_set():
            raise WasmCancelledError(_CANCELLED)
        store = self._store
        started = time.perf_counter()
        self.calls += 1
        fuel = limits.fuel
        budgeted = fuel_budget is not None and fuel_budget < fuel
        if budgeted:
            fuel = fuel_budget  # type: ignore[assignment]  # checked just above
        store.set_fuel(fuel)
        if limits.memory_limit_bytes != self._memory_limit:
            store.set_limits(memory_size=limits.memory_limit_bytes)
            self._memory_limit = limits.memory_limit_bytes
        ticking = cancel is not None or limits.deadline is not None
        token: int | None = None
        if ticking:
            self._guard.arm(cancel, limits.deadline)
            store.set_epoch_deadline(1)
            token = self._ticker.acquire(limits.epoch_tick)
        try:
            value = function(store)
        except wasmtime.WasmtimeError as err:
            left = self._fuel_left()
            self.fuel_consumed += fuel - left
            if budgeted and left == 0 and self._guard.stopped is None:
                self._close()
                raise BudgetExceeded(f"call to `{self.source}` used its fuel budget") from None
            error = self._classify(err, limits)
            self._close()
            raise error from None
        except BaseException:
            self.fuel_consumed += fuel - self._fuel_left()
            raise
        finally:
            if token is not None:
                self._ticker.release(token)
            if self._output is not None:
                self._output.flush()
        used = fuel - store.get_fuel()
        self.fuel_consumed += used
        return Call(value, used, time.perf_counter() - started)

    def _fuel_left(self) -> int:
        try:
            return self._store.get_fuel()
        except wasmtime.WasmtimeError:  # pragma: no cover - a closed store
            return 0

    @property
    def stderr_tail(self) -> str:
        """The last lines the guest wrote to stderr (WASI guests)."""
        return self._output.stderr_tail if self._output is not None else ""

    def _classify(self, err: wasmtime.WasmtimeError, limits: WasmLimits) -> WasmError:
        return classify_failure(err, self._store, self._guard, limits, self._output)

    def close(self) -> None:
        """Drop the instance and its store (idempotent)."""
        self._close()

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.broken = True
        self._guard.uninstall()
        if self._output is not None:
            self._output.flush()
        self._store.close()

    def __enter__(self) -> GuestInstance:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "broken" if self.broken else "ready"
        return f"GuestInstance({self.source!r}, calls={self.calls}, {state})"


def classify_failure(
    err: wasmtime.WasmtimeError,
    store: wasmtime.Store,
    guard: InvocationGuard,
    limits: WasmLimits,
    output: GuestOutput | None,
) -> WasmError:
    """The :class:`WasmError` for a failed instantiation or call of a guest of any world:
    cancelled, past its deadline, out of fuel, out of memory, exited, or trapped."""
    if guard.stopped == "cancel":
        return WasmCancelledError(_CANCELLED)
    if guard.stopped == "deadline":
        return WasmDeadlineError(f"guest exceeded its deadline of {limits.deadline:g} s")
    try:
        fuel_left = store.get_fuel()
    except wasmtime.WasmtimeError:  # pragma: no cover - fuel is always configured
        fuel_left = -1
    cause = root_cause(err)
    if fuel_left == 0 or "all fuel consumed" in cause:
        return WasmFuelError(f"guest exceeded Wasmtime fuel limit of {limits.fuel} units")
    stderr = output.stderr_tail if output is not None else ""
    if _OOM_MARKERS.search(str(err)) or _OOM_MARKERS.search(stderr):
        return WasmMemoryError(
            f"guest exceeded the memory limit of {limits.memory_limit_bytes} bytes: {cause}"
        )
    if isinstance(err, wasmtime.ExitTrap):
        return WasmTrapError(
            f"guest invoke failed: guest exited with code {err.code}", guest_stderr=stderr
        )
    return WasmTrapError(f"guest invoke failed: {cause}", guest_stderr=stderr)
