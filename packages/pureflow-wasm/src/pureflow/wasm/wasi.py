"""The WASI policy: nothing by default, a locked-down WASI when a guest needs it, and grants.

- A component that imports nothing gets nothing linked (the original's structural
  guarantee: it cannot reach anything outside its sandbox).
- A component that imports only ``wasi:*`` interfaces (every componentize-py guest does,
  to start its Python runtime) gets wasmtime's WASI 0.2 with: no preopened directories,
  no environment variables, no arguments, no network (sockets and name lookup denied),
  an empty stdin, and stdout/stderr captured line by line into the Python logger
  ``pureflow.wasm.guest.<node>`` (stdout at INFO, stderr at WARNING). Clocks and random
  numbers are available: the Python runtime needs them to start.
- A :class:`WasiGrant` widens exactly that: each ``read_dirs`` entry is preopened
  read-only and each ``write_dirs`` entry read-write, both at the same absolute path
  inside the guest as on the host; each ``env_vars`` name is passed with its value at
  invocation time, if it is set.
- A component that imports anything else, or a WASI interface wasmtime's WASI 0.2 does
  not provide (``wasi:http``, for one), cannot be loaded (``WASM-LOAD-001``).

**Host calls that wait.** Epoch interruption stops a guest that is running WebAssembly;
it cannot reach into a host call. wasmtime's WASI implements a sleep (a monotonic-clock
pollable waited on with ``wasi:io/poll``) and a read of a granted file (a FIFO, a device)
by blocking the calling thread, and no API of wasmtime interrupts them. So the host
classifies guests with :func:`can_wait_in_host`: a guest that imports ``wasi:io/poll``
together with something that can stay pending (a monotonic clock, sockets), or that is
granted folders, can wait in a host call, and the node adapter runs it in a worker process
that cancellation kills (:mod:`pureflow.wasm.worker`). Every other guest (import-free, or
with WASI but only streams that are always ready: the empty stdin, the captured
stdout/stderr) is always running WebAssembly or a host call that returns at once, and
runs in-process.
"""

from __future__ import annotations

import collections
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import wasmtime
from pureflow.wasm.errors import WasmLoadError

__all__ = [
    "GUEST_LOGGER_PREFIX",
    "GuestOutput",
    "WasiGrant",
    "build_wasi_config",
    "can_wait_in_host",
    "guest_logger",
    "split_imports",
]

GUEST_LOGGER_PREFIX: Final = "pureflow.wasm.guest"
_STDERR_TAIL_LINES: Final = 40
_MAX_LINE: Final = 8192


def guest_logger(name: str) -> logging.Logger:
    """The logger a guest's stdout/stderr goes to: ``pureflow.wasm.guest.<name>``."""
    return logging.getLogger(f"{GUEST_LOGGER_PREFIX}.{name}")


def _paths(values: Iterable[str | os.PathLike[str]]) -> tuple[Path, ...]:
    return tuple(Path(v) for v in values)


@dataclass(frozen=True, init=False)
class WasiGrant:
    """What a WASI guest may reach beyond the locked-down default.

    ``read_dirs`` are preopened read-only, ``write_dirs`` read-write (both at their
    absolute host path), ``env_vars`` are the names of environment variables passed
    through with their current values. The empty grant is the default policy.
    """

    read_dirs: tuple[Path, ...]
    write_dirs: tuple[Path, ...]
    env_vars: tuple[str, ...]

    def __init__(
        self,
        read_dirs: Iterable[str | os.PathLike[str]] = (),
        write_dirs: Iterable[str | os.PathLike[str]] = (),
        env_vars: Iterable[str] = (),
    ) -> None:
        object.__setattr__(self, "read_dirs", _paths(read_dirs))
        object.__setattr__(self, "write_dirs", _paths(write_dirs))
        names = tuple(env_vars)
        for name in names:
            if not isinstance(name, str) or not name or "=" in name or "\0" in name:
                raise ValueError(f"invalid environment variable name {name!r}")
        object.__setattr__(self, "env_vars", names)

    @property
    def is_empty(self) -> bool:
        """True when the grant adds nothing to the default policy."""
        return not (self.read_dirs or self.write_dirs or self.env_vars)

    def check(self, source: str) -> None:
        """Raise :class:`WasmLoadError` if a granted directory does not exist."""
        for path in (*self.read_dirs, *self.write_dirs):
            if not path.is_dir():
                raise WasmLoadError(
                    f"WASI grant for component `{source}` names `{path}`, which is not a directory"
                )

    def environment(self, environ: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
        """The ``(name, value)`` pairs to pass: granted names that are set."""
        env = os.environ if environ is None else environ
        return [(name, env[name]) for name in self.env_vars if name in env]


def split_imports(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split a component's import names into ``(wasi, other)``."""
    wasi: list[str] = []
    other: list[str] = []
    for name in names:
        (wasi if name.startswith("wasi:") else other).append(name)
    return wasi, other


# Interfaces whose pollables can stay pending (without a granted file): a guest that also
# imports wasi:io/poll can block in a host call on them.
_PENDING_SOURCES: Final = ("wasi:clocks/monotonic-clock", "wasi:sockets/")


def can_wait_in_host(wasi_imports: Iterable[str], grant: WasiGrant | None) -> bool:
    """True when a guest can block inside a WASI host call (see the module docstring):
    it imports ``wasi:io/poll`` and a monotonic clock or sockets, or it is granted folders.
    """
    names = tuple(wasi_imports)
    granted = grant is not None and bool(grant.read_dirs or grant.write_dirs)
    if granted and any(name.startswith("wasi:filesystem/") for name in names):
        return True
    polls = any(name.startswith("wasi:io/poll") for name in names)
    return polls and any(name.startswith(_PENDING_SOURCES) for name in names)


class GuestOutput:
    """Forwards one invocation's stdout/stderr bytes to a logger, one record per line.

    Keeps the last lines of stderr in :attr:`stderr_tail` for error reports.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._partial: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
        self._tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)

    def _emit(self, stream: str, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip("\r")
        if stream == "stderr":
            self._tail.append(line)
            self.logger.warning("%s", line, extra={"guest_stream": stream})
        else:
            self.logger.info("%s", line, extra={"guest_stream": stream})

    def write(self, stream: str, data: bytes) -> None:
        """Take a chunk the guest wrote; emit every complete line."""
        buf = self._partial[stream]
        buf.extend(data)
        while True:
            newline = buf.find(b"\n")
            if newline < 0:
                if len(buf) > _MAX_LINE:
                    self._emit(stream, bytes(buf))
                    buf.clear()
                return
            self._emit(stream, bytes(buf[:newline]))
            del buf[: newline + 1]

    def flush(self) -> None:
        """Emit what is left of an unterminated last line."""
        for stream, buf in self._partial.items():
            if buf:
                self._emit(stream, bytes(buf))
                buf.clear()

    @property
    def stderr_tail(self) -> str:
        """The last lines the guest wrote to stderr."""
        return "\n".join(self._tail)


def build_wasi_config(grant: WasiGrant | None, output: GuestOutput) -> wasmtime.WasiConfig:
    """A fresh ``WasiConfig`` for one invocation under ``grant`` (None: the default policy).

    Arguments are empty, stdin is empty, the network is not inherited; stdout/stderr go
    to ``output``.
    """
    config = wasmtime.WasiConfig()
    config.argv = []

    def on_stdout(data: bytes) -> None:
        output.write("stdout", data)

    def on_stderr(data: bytes) -> None:
        output.write("stderr", data)

    config.stdout_custom = on_stdout
    config.stderr_custom = on_stderr
    if grant is not None:
        env = grant.environment()
        if env:
            config.env = env
        for path in grant.read_dirs:
            absolute = str(path.resolve())
            config.preopen_dir(absolute, absolute, fs_mutable=False)
        for path in grant.write_dirs:
            absolute = str(path.resolve())
            config.preopen_dir(absolute, absolute, fs_mutable=True)
    return config
