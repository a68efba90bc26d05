"""A guest in a worker process that cancellation kills: for guests that can wait in a host call.

Epoch interruption stops a guest that is executing WebAssembly; it cannot reach a guest
blocked inside a WASI host call (a sleep on a monotonic-clock pollable, a read of a
granted FIFO or device): wasmtime's WASI implements those by blocking the calling
thread, and wasmtime has no API that interrupts them. A process can always be killed, so
:class:`GuestProcess` runs such a guest in a child process (``python -m
pureflow.wasm._worker``) that keeps its instance between calls:

- **cancellation** (the caller's cancel scope, or ``cancel`` set) kills the child with
  ``SIGKILL`` at once, wherever the guest is, and the call raises
  :class:`~pureflow.wasm.errors.WasmCancelledError`; the next call starts a new child;
- **a deadline** is enforced twice: inside the child by the epoch (precise, for a guest
  in WebAssembly) and by the parent, which kills the child one grace period
  (:data:`DEADLINE_GRACE` plus two epoch ticks) after it (for a guest in a host call);
- **the child never outlives the parent**: a thread in the child reads the request pipe
  and calls ``os._exit`` when it closes, even while the main thread is blocked in a host
  call, so a parent that dies (even by ``kill -9``) takes its workers with it; a worker
  stays in the parent's process group.

The component's compiled code reaches the child as a compile-cache file
(:meth:`~pureflow.wasm.component.CompiledComponent.artifact`), so the child does not
compile again. Requests and replies are length-prefixed pickles of plain tuples (rows
in, rows out, with the guest's log lines, which the parent re-emits on the node's guest
logger). A call costs two pipe transfers more than in-process: a few hundred
microseconds, small next to the milliseconds a componentize-py or componentize-js guest
spends per call.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import struct
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import astuple
from typing import Any, Final

import anyio
import anyio.abc
from anyio.streams.buffered import BufferedByteReceiveStream
from pureflow.wasm import errors as wasm_errors
from pureflow.wasm.abi import RowBatch
from pureflow.wasm.component import WasmComponent
from pureflow.wasm.errors import (
    WasmDeadlineError,
    WasmError,
    WasmGuestError,
    WasmTrapError,
)
from pureflow.wasm.instance import Call
from pureflow.wasm.limits import WasmLimits

__all__ = ["DEADLINE_GRACE", "GuestProcess", "WorkerCrashed"]

DEADLINE_GRACE: Final = 0.05
"""Seconds past a call's deadline (plus two epoch ticks) before the parent kills the child."""
_HEADER: Final = struct.Struct(">I")
_CANCELLED: Final = "wasm guest invocation cancelled"


class WorkerCrashed(WasmTrapError):
    """The worker process ended without answering (``guest invoke failed: worker process
    exited with code N``): a crash of the host process, not of the guest."""


def _frame(message: object) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


class GuestProcess:
    """One guest in one worker process; calls go one at a time (see the module docstring).

    ``instance`` is ``"reuse"`` (keep the instance between calls, replace it after a
    failure) or ``"per-batch"`` (a fresh instance per call). ``logger`` receives the
    guest's stdout and stderr lines. Close it with :meth:`aclose` (``async with`` does).
    """

    def __init__(self, component: WasmComponent, *, instance: str, logger: logging.Logger) -> None:
        self.component = component
        self.instance_policy = instance
        self.logger = logger
        self.starts = 0
        """How many worker processes were started (a kill makes the next call start one)."""
        self.instances = 0
        """How many guest instances the workers made."""
        self._process: anyio.abc.Process | None = None
        self._reader: BufferedByteReceiveStream | None = None

    @property
    def pid(self) -> int | None:
        """The running worker's process id, or None."""
        return None if self._process is None else self._process.pid

    async def _start(self) -> None:
        compiled = self.component.compiled
        directory, key = compiled.artifact()
        grant = self.component.grant
        spec = {
            "directory": str(directory),
            "key": key,
            "source": compiled.source,
            "digest": compiled.digest,
            "wasi_imports": compiled.wasi_imports,
            "name": self.component.name,
            "limits": astuple(self.component.limits),
            "grant": None
            if grant is None
            else (
                [str(p) for p in grant.read_dirs],
                [str(p) for p in grant.write_dirs],
                list(grant.env_vars),
            ),
            "instance": self.instance_policy,
        }
        process = await anyio.open_process(
            [sys.executable, "-m", "pureflow.wasm._worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._process = process
        assert process.stdout is not None
        self._reader = BufferedByteReceiveStream(process.stdout)
        self.starts += 1
        try:
            await self._send(("load", spec))
            reply = await self._receive()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._kill()
            raise
        if reply[0] != "ready":
            with anyio.CancelScope(shield=True):
                await self._kill()
            raise _error_from(reply)

    async def _send(self, message: object) -> None:
        assert self._process is not None
        assert self._process.stdin is not None
        try:
            await self._process.stdin.send(_frame(message))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            raise await self._crashed() from None

    async def _receive(self) -> tuple[Any, ...]:
        assert self._reader is not None
        try:
            (size,) = _HEADER.unpack(await self._reader.receive_exactly(_HEADER.size))
            reply: tuple[Any, ...] = pickle.loads(await self._reader.receive_exactly(size))
        except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError):
            raise await self._crashed() from None
        return reply

    async def _crashed(self) -> WasmError:
        process = self._process
        code: int | None = None
        detail = ""
        if process is not None:
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                code = await process.wait()
                if process.stderr is not None:
                    chunks = []
                    try:
                        while True:
                            chunks.append(await process.stderr.receive())
                    except (anyio.EndOfStream, anyio.ClosedResourceError):
                        pass
                    lines = b"".join(chunks).decode("utf-8", "replace").strip().splitlines()
                    detail = f": {lines[-1]}" if lines else ""
            await self._kill()
        return WorkerCrashed(f"guest invoke failed: worker process exited with code {code}{detail}")

    async def call(
        self, items: Sequence[RowBatch], *, limits: WasmLimits | None = None
    ) -> tuple[Call[list[RowBatch]], int]:
        """One call: ``(the call, instances made for it)``. Raises the guest's
        :class:`~pureflow.wasm.errors.WasmError`; a cancellation of the caller's cancel
        scope kills the worker (and propagates)."""
        limits = limits or self.component.limits
        if self._process is None:
            await self._start()
        grace = None if limits.deadline is None else limits.deadline + 2 * limits.epoch_tick
        reply: tuple[Any, ...] | None = None
        try:
            with anyio.move_on_after(None if grace is None else grace + DEADLINE_GRACE):
                await self._send(("call", list(items), astuple(limits)))
                reply = await self._receive()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._kill()
            raise
        if reply is None:  # past the deadline, and the worker did not answer: kill it
            with anyio.CancelScope(shield=True):
                await self._kill()
            raise WasmDeadlineError(f"guest exceeded its deadline of {limits.deadline:g} s")
        self._emit(reply[-1])
        if reply[0] == "ok":
            _tag, rows, fuel, seconds, made, _logs = reply
            self.instances += made
            return Call(rows, fuel, seconds), made
        self.instances += reply[-2]
        raise _error_from(reply)

    def _emit(self, records: Sequence[tuple[int, str, str]]) -> None:
        for level, stream, line in records:
            self.logger.log(level, "%s", line, extra={"guest_stream": stream})

    async def _kill(self) -> None:
        process, self._process, self._reader = self._process, None, None
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # it may have just ended
                process.kill()
        with anyio.move_on_after(5):
            await process.wait()
        await process.aclose()

    async def aclose(self) -> None:
        """Stop the worker: close its request pipe (it exits), kill it if it lingers."""
        process = self._process
        if process is None:
            return
        with anyio.CancelScope(shield=True):
            if process.stdin is not None:
                with contextlib.suppress(anyio.BrokenResourceError, OSError):
                    await process.stdin.aclose()
            with anyio.move_on_after(1):
                await process.wait()
            await self._kill()

    async def __aenter__(self) -> GuestProcess:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _error_from(reply: tuple[Any, ...]) -> WasmError:
    """Rebuild the child's error: ``("err", class name, message, extras, instances, logs)``."""
    _tag, name, message, extras = reply[:4]
    cls = getattr(wasm_errors, name, None)
    if cls is WasmGuestError:
        return WasmGuestError(message, tag=extras.get("tag", ""), detail=extras.get("detail", ""))
    if cls is WasmTrapError:
        return WasmTrapError(message, guest_stderr=extras.get("guest_stderr", ""))
    if isinstance(cls, type) and issubclass(cls, WasmError):
        return cls(message)
    return WasmTrapError(f"guest invoke failed: {name}: {message}")
