"""A loaded batch-world component and its invocation under limits.

:meth:`WasmComponent.load` reads a component (a path or bytes), compiles it on the shared
engine or takes it from the compile cache, and checks that it is a batch-world node:
it exports ``pureflow:batch/batch@0.1.0`` with an ``invoke`` of exactly the WIT's type,
and imports nothing but (optionally) WASI. Every failure is a
:class:`~pureflow.wasm.errors.WasmLoadError` that names the source.

:meth:`WasmComponent.invoke` runs one call in a brand-new store and instance (no guest
state survives between calls) with the limits of :class:`~pureflow.wasm.limits.WasmLimits`:
fuel, a memory cap through ``Store.set_limits``, and epoch interruption for cancellation
and the deadline. It blocks the calling thread; call it from a worker thread (the node
adapter does). It is safe to call concurrently from several threads: each call has its
own store, and a cancellation stops only the call it was given to.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import wasmtime
from pureflow.wasm import _fastcodec
from pureflow.wasm._runtime import (
    ENGINE_FINGERPRINT,
    CancelFlag,
    EpochTicker,
    InvocationGuard,
    shared_engine,
)
from pureflow.wasm.abi import PortBatch, decode_invoke_result, encode_port_batches
from pureflow.wasm.cache import CompileCache
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
from pureflow.wasm.wasi import (
    GuestOutput,
    WasiGrant,
    build_wasi_config,
    guest_logger,
    split_imports,
)
from pureflow.wasm.wit import WIT_EXPORT, WIT_FUNCTION
from wasmtime import component as wc

__all__ = ["Invocation", "WasmComponent"]

_WASM_MAGIC: Final = b"\0asm"
_CORE_VERSION: Final = b"\x01\x00\x00\x00"
_CANCELLED: Final = "wasm guest invocation cancelled"
_OOM_MARKERS: Final = re.compile(
    r"handle_alloc_error|alloc_error_handler|\bMemoryError\b|memory allocation of \d+ bytes"
    r"|out of memory|exceeds memory limits|memory limit",
    re.IGNORECASE,
)

# The WIT types of `invoke`, rendered by `_render` for the load-time signature check.
_ENDPOINT = "record{node-id: string, port-id: string}"
_ROUTE = f"record{{source: option<{_ENDPOINT}>, target: {_ENDPOINT}}}"
_EXECUTION = "record{execution-id: string, attempt: u32}"
_METADATA = (
    f"record{{message-id: string, workflow-id: string, execution: {_EXECUTION}, route: {_ROUTE}}}"
)
_PAYLOAD = "variant{bytes(list<u8>), control(string)}"
_PACKET = f"record{{metadata: {_METADATA}, payload: {_PAYLOAD}}}"
_PORT_BATCH = f"record{{port-id: string, packets: list<{_PACKET}>}}"
_BATCH_ERROR = "variant{guest-failure(string), unsupported-payload(string)}"
INVOKE_SIGNATURE: Final = (
    f"func(inputs: list<{_PORT_BATCH}>) -> result<list<{_PORT_BATCH}>, {_BATCH_ERROR}>"
)


def _render(ty: object) -> str:
    """A WIT-like rendering of a wasmtime component value type (for comparison only)."""
    if isinstance(ty, wc.ListType):
        return f"list<{_render(ty.element)}>"
    if isinstance(ty, wc.RecordType):
        return "record{" + ", ".join(f"{n}: {_render(t)}" for n, t in ty.fields) + "}"
    if isinstance(ty, wc.VariantType):
        cases = (n if t is None else f"{n}({_render(t)})" for n, t in ty.cases)
        return "variant{" + ", ".join(cases) + "}"
    if isinstance(ty, wc.OptionType):
        return f"option<{_render(ty.payload)}>"
    if isinstance(ty, wc.ResultType):
        ok = "_" if ty.ok is None else _render(ty.ok)
        err = "_" if ty.err is None else _render(ty.err)
        return f"result<{ok}, {err}>"
    if isinstance(ty, wc.EnumType):
        return "enum{" + ", ".join(ty.names) + "}"
    return type(ty).__name__.lower()


def _render_func(ty: wc.FuncType) -> str:
    params = ", ".join(f"{n}: {_render(t)}" for n, t in ty.params)
    result = ty.result
    return f"func({params})" + ("" if result is None else f" -> {_render(result)}")


def _root_cause(err: BaseException) -> str:
    """The last ``Caused by`` line of a wasmtime error, without the backtrace."""
    text = str(err).strip()
    if "Caused by:" in text:
        tail = text.rsplit("Caused by:", 1)[1]
        lines = [line.strip() for line in tail.strip().splitlines() if line.strip()]
        lines = [re.sub(r"^\d+:\s*", "", line) for line in lines]
        return lines[-1] if lines else text
    return text.splitlines()[0] if text else type(err).__name__


@dataclass(frozen=True, slots=True)
class Invocation:
    """What one call produced: the outputs and what it cost."""

    outputs: list[PortBatch]
    fuel_consumed: int
    seconds: float


class WasmComponent:
    """A compiled batch-world component, ready to invoke. Build it with :meth:`load`.

    Attributes: ``source`` (the path or ``<bytes>``), ``name`` (used for the guest
    logger), ``digest`` (SHA-256 of the component bytes), ``from_cache`` (True when the
    compiled code came from the compile cache), ``load_seconds``, ``wasi_imports`` (the
    WASI interfaces it imports; empty means nothing is linked), ``limits`` and ``grant``.
    """

    def __init__(
        self,
        *,
        component: wc.Component,
        engine: wasmtime.Engine,
        ticker: EpochTicker,
        source: str,
        name: str,
        digest: str,
        from_cache: bool,
        load_seconds: float,
        wasi_imports: tuple[str, ...],
        limits: WasmLimits,
        grant: WasiGrant | None,
    ) -> None:
        self._component = component
        self._engine = engine
        self._ticker = ticker
        self.source = source
        self.name = name
        self.digest = digest
        self.from_cache = from_cache
        self.load_seconds = load_seconds
        self.wasi_imports = wasi_imports
        self.limits = limits
        self.grant = grant
        self.fast_codec = True
        """Use the bulk C-value codec when available (False: wasmtime-py's generic one)."""
        export = component.get_export_index(WIT_EXPORT)
        assert export is not None  # checked by load()
        invoke = component.get_export_index(WIT_FUNCTION, export)
        assert invoke is not None
        self._invoke_index = invoke
        self._linker = wc.Linker(engine)
        if wasi_imports:
            self._linker.add_wasip2()

    # ---------------------------------------------------------------------------------
    # Loading
    # ---------------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        source: str | os.PathLike[str] | bytes | bytearray,
        *,
        limits: WasmLimits | None = None,
        grant: WasiGrant | None = None,
        cache: CompileCache | str | os.PathLike[str] | bool = True,
        name: str | None = None,
    ) -> WasmComponent:
        """Load, compile (or take from the cache) and check a batch-world component.

        ``source`` is a path or the component's bytes. ``cache`` is True (the default
        cache directory), False (no cache), a directory, or a :class:`CompileCache`.
        ``name`` names the guest logger (default: the file stem, or ``component``).
        Raises :class:`WasmLoadError` naming the source for every problem.
        """
        if isinstance(source, bytes | bytearray):
            data = bytes(source)
            label = "<bytes>"
            default_name = "component"
        else:
            path = Path(source)
            label = str(path)
            default_name = path.stem or "component"
            try:
                data = path.read_bytes()
            except OSError as err:
                raise WasmLoadError(
                    f"failed to read WASM component `{label}`: {err.strerror or err}"
                ) from None
        data = _binary(data, label)
        if grant is not None:
            grant.check(label)

        engine, ticker = shared_engine()
        compile_cache = _cache(cache)
        digest = hashlib.sha256(data).hexdigest()
        started = time.perf_counter()
        component, from_cache = _compile(engine, data, digest, label, compile_cache)
        load_seconds = time.perf_counter() - started

        wasi_imports = _check_component(engine, component, label)
        return cls(
            component=component,
            engine=engine,
            ticker=ticker,
            source=label,
            name=name or default_name,
            digest=digest,
            from_cache=from_cache,
            load_seconds=load_seconds,
            wasi_imports=wasi_imports,
            limits=limits or WasmLimits(),
            grant=grant,
        )

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], **kwargs: object) -> WasmComponent:
        """:meth:`load` from a file."""
        return cls.load(path, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_bytes(cls, data: bytes | bytearray, **kwargs: object) -> WasmComponent:
        """:meth:`load` from the component's bytes."""
        return cls.load(data, **kwargs)  # type: ignore[arg-type]

    def with_limits(self, limits: WasmLimits) -> WasmComponent:
        """The same compiled component under other limits (nothing is recompiled)."""
        return self._copy(limits=limits, grant=self.grant, name=self.name)

    def with_grant(self, grant: WasiGrant | None) -> WasmComponent:
        """The same compiled component under another WASI grant."""
        if grant is not None:
            grant.check(self.source)
        return self._copy(limits=self.limits, grant=grant, name=self.name)

    def with_name(self, name: str) -> WasmComponent:
        """The same compiled component logging as ``pureflow.wasm.guest.<name>``."""
        return self._copy(limits=self.limits, grant=self.grant, name=name)

    def _copy(self, *, limits: WasmLimits, grant: WasiGrant | None, name: str) -> WasmComponent:
        return type(self)(
            component=self._component,
            engine=self._engine,
            ticker=self._ticker,
            source=self.source,
            name=name,
            digest=self.digest,
            from_cache=self.from_cache,
            load_seconds=self.load_seconds,
            wasi_imports=self.wasi_imports,
            limits=limits,
            grant=grant,
        )

    # ---------------------------------------------------------------------------------
    # Invoking
    # ---------------------------------------------------------------------------------

    def invoke(
        self,
        batches: Sequence[PortBatch],
        cancel: CancelFlag | None = None,
        *,
        limits: WasmLimits | None = None,
        logger: logging.Logger | None = None,
    ) -> list[PortBatch]:
        """Call the guest's ``invoke`` once with ``batches``; returns its port batches.

        Blocks until the guest returns or is stopped. ``cancel`` (e.g. a
        ``threading.Event``) stops the guest within about one epoch tick of being set;
        if it is set before the call, nothing runs. Raises a
        :class:`~pureflow.wasm.errors.WasmError` subclass for every failure.
        """
        return self.invoke_detailed(batches, cancel, limits=limits, logger=logger).outputs

    def invoke_detailed(
        self,
        batches: Sequence[PortBatch],
        cancel: CancelFlag | None = None,
        *,
        limits: WasmLimits | None = None,
        logger: logging.Logger | None = None,
    ) -> Invocation:
        """:meth:`invoke`, also reporting the fuel consumed and the wall-clock time."""
        limits = limits or self.limits
        if cancel is not None and cancel.is_set():
            raise WasmCancelledError(_CANCELLED)
        fast = self.fast_codec and _fastcodec.AVAILABLE
        encoded: object = _fastcodec.encode(batches) if fast else encode_port_batches(batches)
        started = time.perf_counter()
        store = wasmtime.Store(self._engine)
        guard = InvocationGuard(cancel, limits.deadline)
        output: GuestOutput | None = None
        try:
            store.set_fuel(limits.fuel)
            store.set_limits(memory_size=limits.memory_limit_bytes)
            guard.install(store)
            if self.wasi_imports:
                output = GuestOutput(logger or guest_logger(self.name))
                try:
                    store.set_wasi(build_wasi_config(self.grant, output))
                except wasmtime.WasmtimeError as err:  # e.g. a granted directory vanished
                    raise WasmLoadError(
                        f"cannot set up WASI for component `{self.source}`: {_root_cause(err)}"
                    ) from None
            # Only an invocation that can be cancelled or has a deadline needs the ticker.
            ticking = cancel is not None or limits.deadline is not None
            token = self._ticker.acquire(limits.epoch_tick) if ticking else None
            try:
                instance = self._linker.instantiate(store, self._component)
                func = instance.get_func(store, self._invoke_index)
                if func is None:  # pragma: no cover - checked at load time
                    raise WasmLoadError(f"component `{self.source}` does not export batch.invoke")
                if fast:
                    outputs = _fastcodec.call_invoke(func, store, encoded)  # type: ignore[arg-type]
                else:
                    outputs = decode_invoke_result(func(store, encoded))
            except wasmtime.WasmtimeError as err:
                raise self._classify(err, store, guard, limits, output) from None
            finally:
                if token is not None:
                    self._ticker.release(token)
            fuel_left = store.get_fuel()
        finally:
            if output is not None:
                output.flush()
            guard.uninstall()
            store.close()
        return Invocation(
            outputs=outputs,
            fuel_consumed=limits.fuel - fuel_left,
            seconds=time.perf_counter() - started,
        )

    def _classify(
        self,
        err: wasmtime.WasmtimeError,
        store: wasmtime.Store,
        guard: InvocationGuard,
        limits: WasmLimits,
        output: GuestOutput | None,
    ) -> WasmError:
        return classify_failure(err, store, guard, limits, output)

    def __repr__(self) -> str:
        return (
            f"WasmComponent(source={self.source!r}, name={self.name!r}, "
            f"from_cache={self.from_cache}, wasi={bool(self.wasi_imports)})"
        )


def classify_failure(
    err: wasmtime.WasmtimeError,
    store: wasmtime.Store,
    guard: InvocationGuard,
    limits: WasmLimits,
    output: GuestOutput | None,
) -> WasmError:
    """The :class:`WasmError` for a failed instantiation or call (any world)."""
    if guard.stopped == "cancel":
        return WasmCancelledError(_CANCELLED)
    if guard.stopped == "deadline":
        return WasmDeadlineError(f"guest exceeded its deadline of {limits.deadline:g} s")
    try:
        fuel_left = store.get_fuel()
    except wasmtime.WasmtimeError:  # pragma: no cover - fuel is always configured
        fuel_left = -1
    cause = _root_cause(err)
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


# ---------------------------------------------------------------------------------------
# Loading helpers
# ---------------------------------------------------------------------------------------


def _binary(data: bytes, label: str) -> bytes:
    """The component binary: checks the header; accepts component WAT text too."""
    if data.startswith(_WASM_MAGIC):
        if data[4:8] == _CORE_VERSION:
            raise WasmLoadError(
                f"`{label}` is a core WebAssembly module, not a component "
                "(wrap it with `wasm-tools component new`)"
            )
        return data
    head = data.lstrip()[:64]
    if head.startswith((b"(component", b";;", b"(;")):
        try:
            return bytes(wasmtime.wat2wasm(data.decode("utf-8")))
        except (UnicodeDecodeError, wasmtime.WasmtimeError) as err:
            raise WasmLoadError(
                f"failed to compile component `{label}`: {_root_cause(err)}"
            ) from None
    raise WasmLoadError(f"`{label}` is not a WebAssembly component (no `\\0asm` header)")


def _cache(cache: CompileCache | str | os.PathLike[str] | bool) -> CompileCache | None:
    if cache is True:
        return CompileCache()
    if cache is False:
        return None
    if isinstance(cache, CompileCache):
        return cache
    return CompileCache(cache)


_compile_locks: dict[str, threading.Lock] = {}
_compile_locks_guard = threading.Lock()


def _compile(
    engine: wasmtime.Engine,
    data: bytes,
    digest: str,
    label: str,
    cache: CompileCache | None,
) -> tuple[wc.Component, bool]:
    """Deserialise from the cache when possible, else compile (and store)."""
    key = CompileCache.key(digest, ENGINE_FINGERPRINT)
    with _compile_locks_guard:
        lock = _compile_locks.setdefault(key, threading.Lock())
    with lock:  # two loads of one component in one process compile it once
        if cache is not None:
            serialized = cache.load(key)
            if serialized is not None:
                try:
                    return wc.Component.deserialize(engine, serialized), True
                except wasmtime.WasmtimeError as err:
                    logging.getLogger("pureflow.wasm.cache").warning(
                        "discarding unusable compile cache entry for `%s`: %s",
                        label,
                        _root_cause(err),
                    )
                    cache.discard(key)
        try:
            component = wc.Component(engine, data)
        except wasmtime.WasmtimeError as err:
            raise WasmLoadError(
                f"failed to compile component `{label}`: {_root_cause(err)}"
            ) from None
        if cache is not None:
            cache.store(key, component.serialize())
        return component, False


def _check_component(
    engine: wasmtime.Engine, component: wc.Component, label: str
) -> tuple[str, ...]:
    """Check the export and imports; returns the WASI imports (empty: link nothing)."""
    ctype = component.type
    exports = ctype.exports(engine)
    if WIT_EXPORT not in exports:
        raise WasmLoadError(f"component `{label}` does not export {WIT_EXPORT}")
    item = exports[WIT_EXPORT].ty
    if not isinstance(item, wc.ComponentInstanceType):
        raise WasmLoadError(f"component `{label}` export {WIT_EXPORT} is not an instance")
    members = item.exports(engine)
    if WIT_FUNCTION not in members:
        raise WasmLoadError(f"component `{label}` does not export batch.invoke")
    func = members[WIT_FUNCTION].ty
    if not isinstance(func, wc.FuncType):
        raise WasmLoadError(f"component `{label}`: batch.invoke export is not a function")
    signature = _render_func(func)
    if signature != INVOKE_SIGNATURE:
        raise WasmLoadError(
            f"component `{label}`: batch.invoke has type {signature}, expected {INVOKE_SIGNATURE}"
        )
    wasi, other = split_imports(ctype.imports(engine))
    if other:
        raise WasmLoadError(
            f"component `{label}` imports {', '.join(f'`{n}`' for n in other)}, which the "
            "host does not provide (only WASI can be linked)"
        )
    return tuple(wasi)
