"""The worker process of :class:`~pureflow.wasm.worker.GuestProcess` (``python -m
pureflow.wasm._worker``): loads one component, keeps an instance, answers calls.

Requests arrive on stdin and replies leave on stdout as length-prefixed pickles. A reader
thread owns stdin: when the parent closes it (or dies), the process exits at once with
``os._exit``, even if the main thread is blocked in a host call. The guest's stdout and
stderr lines are collected and sent back with each reply.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import struct
import sys
import threading
from typing import Any, BinaryIO, Final

from pureflow.wasm.component import WasmComponent, load_artifact
from pureflow.wasm.errors import WasmError, WasmGuestError, WasmTrapError
from pureflow.wasm.instance import GuestInstance
from pureflow.wasm.limits import WasmLimits
from pureflow.wasm.wasi import GUEST_LOGGER_PREFIX, WasiGrant

_HEADER: Final = struct.Struct(">I")


def _read_frames(stream: BinaryIO, inbox: queue.SimpleQueue[object]) -> None:
    try:
        while True:
            header = stream.read(_HEADER.size)
            if len(header) < _HEADER.size:
                break
            (size,) = _HEADER.unpack(header)
            data = stream.read(size)
            if len(data) < size:
                break
            inbox.put(pickle.loads(data))
    finally:
        os._exit(0)  # the parent is gone or done: leave even if a guest is blocked


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[int, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        stream = getattr(record, "guest_stream", "stdout")
        self.records.append((record.levelno, stream, record.getMessage()))

    def take(self) -> list[tuple[int, str, str]]:
        taken, self.records = self.records, []
        return taken


def main() -> None:  # pragma: no cover - runs in the worker process (tested through it)
    # Replies go to a private copy of stdout; fd 1 then points at stderr, so nothing a
    # library prints can corrupt the protocol.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
    threading.Thread(
        target=_read_frames, args=(sys.stdin.buffer, inbox), name="pureflow-wasm-pipe", daemon=True
    ).start()

    def reply(message: object) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(_HEADER.pack(len(data)) + data)
        out.flush()

    collector = _Collector()
    guest_root = logging.getLogger(GUEST_LOGGER_PREFIX)
    guest_root.addHandler(collector)
    guest_root.setLevel(logging.DEBUG)
    guest_root.propagate = False

    def error(err: BaseException, made: int) -> tuple[Any, ...]:
        extras: dict[str, str] = {}
        if isinstance(err, WasmGuestError):
            extras = {"tag": err.tag, "detail": err.detail}
        elif isinstance(err, WasmTrapError):
            extras = {"guest_stderr": err.guest_stderr}
        message = err.message if isinstance(err, WasmError) else str(err)
        return ("err", type(err).__name__, message, extras, made, collector.take())

    component: WasmComponent | None = None
    instance: GuestInstance | None = None
    policy = "reuse"
    while True:
        request: Any = inbox.get()
        if request[0] == "load":
            spec = request[1]
            try:
                compiled = load_artifact(
                    spec["directory"],
                    spec["key"],
                    source=spec["source"],
                    digest=spec["digest"],
                    wasi_imports=spec["wasi_imports"],
                )
                grant = None if spec["grant"] is None else WasiGrant(*spec["grant"])
                component = WasmComponent(
                    compiled, name=spec["name"], limits=WasmLimits(*spec["limits"]), grant=grant
                )
                policy = spec["instance"]
            except Exception as err:
                reply(error(err, 0))
                continue
            reply(("ready",))
        elif request[0] == "call" and component is not None:
            _tag, items, limits_fields = request
            limits = WasmLimits(*limits_fields)
            made = 0
            try:
                if instance is None or instance.broken or policy == "per-batch":
                    if instance is not None:
                        instance.close()
                    instance = component.new_instance(limits=limits)
                    made = 1
                done = component.invoke_rows(items, instance, limits=limits)
                if made:
                    done = type(done)(
                        done.value, done.fuel_consumed + instance.instantiate_fuel, done.seconds
                    )
            except Exception as err:
                reply(error(err, made))
                continue
            reply(("ok", done.value, done.fuel_consumed, done.seconds, made, collector.take()))


if __name__ == "__main__":  # pragma: no cover
    main()
