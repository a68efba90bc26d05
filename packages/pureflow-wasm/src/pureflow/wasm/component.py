"""Loading a component, and the batch world's component with its invocation under limits.

:func:`compile_component` is world-agnostic: it reads a component (a path or bytes),
compiles it on the shared engine or takes it from the compile cache, and checks what it
imports: nothing, or WASI interfaces that the host's locked-down WASI really provides
(linking is tried without running any guest code, so an unsatisfiable import is refused
at load, not at the first call). Every failure is a
:class:`~pureflow.wasm.errors.WasmLoadError` that names the source.

:meth:`WasmComponent.load` adds the batch world's check: the component exports
``pureflow:batch/batch@0.1.0`` with an ``invoke`` of exactly the WIT's type.

Invoking:

- :meth:`WasmComponent.invoke` / :meth:`~WasmComponent.invoke_detailed` run one call in a
  brand-new store and instance (no guest state survives between calls) and return
  checked :class:`~pureflow.wasm.abi.PortBatch` values. They block the calling thread
  and are safe to call concurrently: each call has its own store, and a cancellation
  stops only the call it was given to.
- :meth:`WasmComponent.new_instance` and :meth:`WasmComponent.invoke_rows` are the fast
  path the node adapter uses: an instance reused across calls
  (:class:`~pureflow.wasm.instance.GuestInstance`), input and output in the row form.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import wasmtime
from pureflow.types import COMPONENT_LIMIT, InputFileRefused, read_input_file
from pureflow.wasm import _fastcodec
from pureflow.wasm._runtime import (
    ENGINE_FINGERPRINT,
    CancelFlag,
    EpochTicker,
    shared_engine,
)
from pureflow.wasm.abi import (
    PortBatch,
    RowBatch,
    decode_rows,
    encode_rows,
    port_batches_from_rows,
    rows_from_port_batches,
)
from pureflow.wasm.cache import CompileCache
from pureflow.wasm.errors import WasmCancelledError, WasmLoadError
from pureflow.wasm.instance import Call, GuestInstance, root_cause
from pureflow.wasm.limits import WasmLimits
from pureflow.wasm.wasi import (
    GuestOutput,
    WasiGrant,
    build_wasi_config,
    can_wait_in_host,
    guest_logger,
    split_imports,
)
from pureflow.wasm.wit import WIT_EXPORT, WIT_FUNCTION
from wasmtime import component as wc

__all__ = [
    "CompiledComponent",
    "Invocation",
    "WasmComponent",
    "compile_component",
    "load_artifact",
    "read_component",
]

_WASM_MAGIC: Final = b"\0asm"
_CORE_VERSION: Final = b"\x01\x00\x00\x00"

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


_root_cause = root_cause  # the name the loading helpers have always used


@dataclass(frozen=True, slots=True)
class Invocation:
    """What one call produced: the outputs and what it cost."""

    outputs: list[PortBatch]
    fuel_consumed: int
    seconds: float


# ---------------------------------------------------------------------------------------
# Loading (any world)
# ---------------------------------------------------------------------------------------


def read_component(source: str | os.PathLike[str] | bytes | bytearray) -> tuple[bytes, str, str]:
    """``(binary, label, default name)`` of a component given as a path or bytes.

    A path must name a regular file within the component size limit
    (:data:`pureflow.types.COMPONENT_LIMIT`, 256 MiB unless ``PUREFLOW_MAX_COMPONENT_BYTES``
    says otherwise): a FIFO, a device or a folder is refused before a byte is read, and
    the check and the read are one open file. Component text (``(component ...)``) is
    assembled to binary. Raises :class:`WasmLoadError`.
    """
    if isinstance(source, bytes | bytearray):
        return _binary(bytes(source), "<bytes>"), "<bytes>", "component"
    path = Path(source)
    label = str(path)
    try:
        data = read_input_file(path, COMPONENT_LIMIT)
    except InputFileRefused as refused:
        raise WasmLoadError(f"failed to read WASM component `{label}`: {refused.reason}") from None
    except OSError as err:
        raise WasmLoadError(
            f"failed to read WASM component `{label}`: {err.strerror or err}"
        ) from None
    return _binary(data, label), label, path.stem or "component"


@dataclass(frozen=True, slots=True)
class CompiledComponent:
    """A compiled component whose imports the host can satisfy; not tied to a world.

    ``linker`` links the locked-down WASI when ``wasi_imports`` is not empty, else
    nothing. :meth:`instantiate` makes a :class:`~pureflow.wasm.instance.GuestInstance`.
    """

    component: wc.Component
    engine: wasmtime.Engine
    ticker: EpochTicker
    linker: wc.Linker
    source: str
    default_name: str
    digest: str
    from_cache: bool
    load_seconds: float
    wasi_imports: tuple[str, ...]
    cache: CompileCache | None
    _artifact: list[tuple[Path, str]] = field(default_factory=list, compare=False, repr=False)

    @property
    def cache_key(self) -> str:
        """The compile-cache key of this component under the shared engine."""
        return CompileCache.key(self.digest, ENGINE_FINGERPRINT)

    def instantiate(
        self,
        *,
        limits: WasmLimits,
        grant: WasiGrant | None = None,
        logger: logging.Logger | None = None,
        cancel: CancelFlag | None = None,
    ) -> GuestInstance:
        """A new instance in its own store under ``limits`` and ``grant``."""
        return GuestInstance(
            component=self.component,
            linker=self.linker,
            engine=self.engine,
            ticker=self.ticker,
            wasi=bool(self.wasi_imports),
            grant=grant,
            limits=limits,
            logger=logger or guest_logger(self.default_name),
            source=self.source,
            cancel=cancel,
        )

    def artifact(self) -> tuple[Path, str]:
        """``(directory, key)`` of a compile-cache file holding this component's compiled
        code, for another process to load with ``CompileCache(directory).load(key)``
        (a worker process does). Uses the compile cache when there is one, else a private
        temporary directory removed when this process exits."""
        if self._artifact:
            return self._artifact[0]
        key = self.cache_key
        if self.cache is not None and self.cache.path_for(key).is_file():
            found = (self.cache.directory, key)
        else:
            directory = Path(tempfile.mkdtemp(prefix="pureflow-wasm-"))
            atexit.register(shutil.rmtree, directory, ignore_errors=True)
            CompileCache(directory).store(key, self.component.serialize())
            found = (directory, key)
        self._artifact.append(found)
        return found


def _linker(engine: wasmtime.Engine, wasi: bool) -> wc.Linker:
    linker = wc.Linker(engine)
    if wasi:
        linker.add_wasip2()
    return linker


_IMPORT_NAME = re.compile(r"component imports (?:instance|function|resource|type|module) `([^`]+)`")


def _probe_links(
    engine: wasmtime.Engine, linker: wc.Linker, component: wc.Component, label: str, wasi: bool
) -> None:
    """Link ``component`` in a throwaway store with no fuel: every import is resolved and
    type-checked, and no guest instruction runs (a start function traps at once)."""
    store = wasmtime.Store(engine)
    try:
        store.set_fuel(0)
        if wasi:
            store.set_wasi(build_wasi_config(None, GuestOutput(guest_logger("probe"))))
        try:
            linker.instantiate(store, component)
        except wasmtime.Trap:
            return  # linked; the start function met the empty fuel tank
        except wasmtime.WasmtimeError as err:
            text = str(err)
            if "all fuel consumed" in text:
                return
            found = _IMPORT_NAME.search(text)
            if found is not None:
                raise WasmLoadError(
                    f"component `{label}` imports `{found.group(1)}`, which the host does not "
                    "provide (the host links WASI 0.2 only: cli, clocks, filesystem, io, "
                    "random, sockets)"
                ) from None
            raise WasmLoadError(
                f"component `{label}` cannot be linked: {root_cause(err)}"
            ) from None
    finally:
        store.close()


def compile_component(
    source: str | os.PathLike[str] | bytes | bytearray,
    *,
    cache: CompileCache | str | os.PathLike[str] | bool = True,
) -> CompiledComponent:
    """Read, compile (or take from the cache) and link-check a component of any world.

    ``cache`` is True (the default cache directory), False (no cache), a directory, or a
    :class:`CompileCache`. Raises :class:`WasmLoadError` naming the source: unreadable,
    not a component, does not compile, imports something other than WASI, or imports a
    WASI interface the host does not provide.
    """
    data, label, default_name = read_component(source)
    engine, ticker = shared_engine()
    compile_cache = _cache(cache)
    digest = hashlib.sha256(data).hexdigest()
    started = time.perf_counter()
    component, from_cache = _compile(engine, data, digest, label, compile_cache)
    load_seconds = time.perf_counter() - started
    wasi, other = split_imports(component.type.imports(engine))
    if other:
        raise WasmLoadError(
            f"component `{label}` imports {', '.join(f'`{n}`' for n in other)}, which the "
            "host does not provide (only WASI can be linked)"
        )
    linker = _linker(engine, bool(wasi))
    _probe_links(engine, linker, component, label, bool(wasi))
    return CompiledComponent(
        component=component,
        engine=engine,
        ticker=ticker,
        linker=linker,
        source=label,
        default_name=default_name,
        digest=digest,
        from_cache=from_cache,
        load_seconds=load_seconds,
        wasi_imports=tuple(wasi),
        cache=compile_cache,
    )


def load_artifact(
    directory: str | os.PathLike[str],
    key: str,
    *,
    source: str,
    digest: str,
    wasi_imports: Sequence[str],
) -> CompiledComponent:
    """The component :meth:`CompiledComponent.artifact` stored, in this process (a worker
    process uses it; the parent already checked the component). The file's checksum is
    verified before wasmtime sees it. Raises :class:`WasmLoadError`."""
    engine, ticker = shared_engine()
    cache = CompileCache(directory)
    started = time.perf_counter()
    serialized = cache.load(key)
    if serialized is None:
        raise WasmLoadError(f"compiled code of component `{source}` is missing or corrupt")
    try:
        component = wc.Component.deserialize(engine, serialized)
    except wasmtime.WasmtimeError as err:
        raise WasmLoadError(
            f"compiled code of component `{source}` cannot be loaded: {root_cause(err)}"
        ) from None
    return CompiledComponent(
        component=component,
        engine=engine,
        ticker=ticker,
        linker=_linker(engine, bool(wasi_imports)),
        source=source,
        default_name=Path(source).stem or "component",
        digest=digest,
        from_cache=True,
        load_seconds=time.perf_counter() - started,
        wasi_imports=tuple(wasi_imports),
        cache=cache,
    )


# ---------------------------------------------------------------------------------------
# The batch world
# ---------------------------------------------------------------------------------------


class WasmComponent:
    """A compiled batch-world component, ready to invoke. Build it with :meth:`load`.

    Attributes: ``source`` (the path or ``<bytes>``), ``name`` (used for the guest
    logger), ``digest`` (SHA-256 of the component bytes), ``from_cache`` (True when the
    compiled code came from the compile cache), ``load_seconds``, ``wasi_imports`` (the
    WASI interfaces it imports; empty means nothing is linked), ``limits`` and ``grant``.
    """

    def __init__(
        self,
        compiled: CompiledComponent,
        *,
        name: str,
        limits: WasmLimits,
        grant: WasiGrant | None,
    ) -> None:
        self.compiled = compiled
        self.source = compiled.source
        self.name = name
        self.digest = compiled.digest
        self.from_cache = compiled.from_cache
        self.load_seconds = compiled.load_seconds
        self.wasi_imports = compiled.wasi_imports
        self.limits = limits
        self.grant = grant
        self.fast_codec = True
        """Use the bulk C-value codec when available (False: wasmtime-py's generic one)."""
        self._component = compiled.component
        self._engine = compiled.engine
        self._ticker = compiled.ticker
        self._linker = compiled.linker
        export = compiled.component.get_export_index(WIT_EXPORT)
        assert export is not None  # checked by load()
        invoke = compiled.component.get_export_index(WIT_FUNCTION, export)
        assert invoke is not None
        self._invoke_index = invoke

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
        if grant is not None and not isinstance(source, bytes | bytearray):
            grant.check(str(source))
        elif grant is not None:
            grant.check("<bytes>")
        compiled = compile_component(source, cache=cache)
        _check_component(compiled.engine, compiled.component, compiled.source)
        return cls(
            compiled,
            name=name or compiled.default_name,
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
        copy = type(self)(self.compiled, name=name, limits=limits, grant=grant)
        copy.fast_codec = self.fast_codec
        return copy

    @property
    def can_wait_in_host(self) -> bool:
        """True when the guest can block inside a WASI host call (a sleep, a read of a
        granted FIFO), where epoch interruption cannot reach it (see
        :func:`~pureflow.wasm.wasi.can_wait_in_host`)."""
        return can_wait_in_host(self.wasi_imports, self.grant)

    # ---------------------------------------------------------------------------------
    # Invoking
    # ---------------------------------------------------------------------------------

    def new_instance(
        self,
        *,
        limits: WasmLimits | None = None,
        logger: logging.Logger | None = None,
        cancel: CancelFlag | None = None,
    ) -> GuestInstance:
        """A new instance of the guest in its own store, for :meth:`invoke_rows`."""
        return self.compiled.instantiate(
            limits=limits or self.limits,
            grant=self.grant,
            logger=logger or guest_logger(self.name),
            cancel=cancel,
        )

    def invoke_rows(
        self,
        items: Sequence[RowBatch],
        instance: GuestInstance,
        cancel: CancelFlag | None = None,
        *,
        limits: WasmLimits | None = None,
        fuel_budget: int | None = None,
    ) -> Call[list[RowBatch]]:
        """Call ``invoke`` on ``instance`` with port batches in the row form; the result
        rows are checked for shape only (identifiers are the caller's to check).

        Raises what :meth:`GuestInstance.call` raises, plus
        :class:`~pureflow.wasm.errors.WasmGuestError`, ``WasmOutputError`` and
        ``WasmInputError`` (which leave the instance usable).
        """
        func = instance.func(self._invoke_index)
        if self.fast_codec and _fastcodec.AVAILABLE:
            encoded = _fastcodec.encode(items)

            def run(store: wasmtime.Store) -> list[RowBatch]:
                return _fastcodec.call_invoke(func, store, encoded)

        else:
            values = encode_rows(items)

            def run(store: wasmtime.Store) -> list[RowBatch]:
                return decode_rows(func(store, values))

        return instance.call(run, cancel=cancel, limits=limits, fuel_budget=fuel_budget)

    def invoke(
        self,
        batches: Sequence[PortBatch],
        cancel: CancelFlag | None = None,
        *,
        limits: WasmLimits | None = None,
        logger: logging.Logger | None = None,
    ) -> list[PortBatch]:
        """Call the guest's ``invoke`` once with ``batches``; returns its port batches.

        Runs in a fresh store and instance. Blocks until the guest returns or is stopped.
        ``cancel`` (e.g. a ``threading.Event``) stops the guest within about one epoch tick
        of being set; if it is set before the call, nothing runs. Raises a
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
        """:meth:`invoke`, also reporting the fuel consumed and the wall-clock time
        (instantiation included)."""
        limits = limits or self.limits
        if cancel is not None and cancel.is_set():
            raise WasmCancelledError("wasm guest invocation cancelled")
        items = rows_from_port_batches(batches)
        started = time.perf_counter()
        with self.new_instance(limits=limits, logger=logger, cancel=cancel) as instance:
            done = self.invoke_rows(items, instance, cancel, limits=limits)
            fuel = instance.instantiate_fuel + done.fuel_consumed
        return Invocation(
            outputs=port_batches_from_rows(done.value),
            fuel_consumed=fuel,
            seconds=time.perf_counter() - started,
        )

    def __repr__(self) -> str:
        return (
            f"WasmComponent(source={self.source!r}, name={self.name!r}, "
            f"from_cache={self.from_cache}, wasi={bool(self.wasi_imports)})"
        )


# ---------------------------------------------------------------------------------------
# Loading helpers
# ---------------------------------------------------------------------------------------


def _binary(data: bytes, label: str) -> bytes:
    """The component binary: checks the header; accepts component WAT text too."""
    if not data:
        raise WasmLoadError(f"`{label}` is empty, not a WebAssembly component")
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


# The original name of `compile_component`'s compile step, kept for other hosts.
compile_cached = _compile


def _check_component(engine: wasmtime.Engine, component: wc.Component, label: str) -> None:
    """Check the batch world's export: ``pureflow:batch/batch@0.1.0`` with an ``invoke``
    of exactly the WIT's type."""
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
