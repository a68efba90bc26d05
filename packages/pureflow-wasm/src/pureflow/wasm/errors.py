"""The errors of the WebAssembly host, one type per failure with a stable code.

Every error is a :class:`WasmError` with a ``code`` class attribute (``WASM-<AREA>-001``)
and the original's wording in ``str(err)``. The codes are an interface: metadata error
records and the node adapter carry them, so tools can tell a guest that said no
(``WASM-GUEST-001``) from one that crashed (``WASM-TRAP-001``), ran out of fuel, memory or
time, was cancelled, or returned something the host will not forward.

=====================  =================================================================
code                   raised when
=====================  =================================================================
``WASM-LOAD-001``      the file is missing, not a component, does not compile, lacks the
                       ``pureflow:batch/batch@0.1.0`` export or ``invoke``, has the wrong
                       ``invoke`` type, or imports something other than WASI
``WASM-INPUT-001``     an input packet cannot be expressed in the WIT (a payload that is
                       neither bytes nor control JSON)
``WASM-GUEST-001``     the guest returned ``err(batch-error)``
``WASM-TRAP-001``      the guest trapped (``unreachable``, out-of-bounds access, a
                       panic) or instantiation failed
``WASM-FUEL-001``      the guest used up its fuel for this invocation
``WASM-MEMORY-001``    the guest hit the store's memory limit
``WASM-CANCEL-001``    the invocation was cancelled (before or during the call)
``WASM-DEADLINE-001``  the invocation ran past its wall-clock deadline
``WASM-OUTPUT-001``    the guest's output is malformed or breaks the host boundary rules
=====================  =================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

__all__ = [
    "WasmCancelledError",
    "WasmDeadlineError",
    "WasmError",
    "WasmFuelError",
    "WasmGuestError",
    "WasmInputError",
    "WasmLoadError",
    "WasmMemoryError",
    "WasmOutputError",
    "WasmTrapError",
]


class WasmError(Exception):
    """Base of every WebAssembly host error; ``code`` is stable, ``message`` is the wording."""

    code: ClassVar[str] = "WASM-000"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    @property
    def coded_message(self) -> str:
        """``"<code>: <message>"``, the form the node adapter puts into core errors."""
        return f"{self.code}: {self.message}"

    def __reduce__(self) -> tuple[Callable[..., WasmError], tuple[object, ...]]:
        return (type(self), (self.message,))


class WasmLoadError(WasmError):
    """The component could not be read, compiled or accepted as a batch-world node."""

    code = "WASM-LOAD-001"


class WasmInputError(WasmError):
    """An input packet has no representation in the batch WIT."""

    code = "WASM-INPUT-001"


class WasmGuestError(WasmError):
    """The guest returned ``err(batch-error)``: ``guest returned <tag>: <detail>``.

    ``tag`` is ``guest-failure`` or ``unsupported-payload``; ``detail`` is the guest's text.
    """

    code = "WASM-GUEST-001"

    def __init__(self, message: str, *, tag: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.tag = tag
        self.detail = detail

    def __reduce__(self) -> tuple[Callable[..., WasmError], tuple[object, ...]]:
        return (_rebuild_guest, (self.message, self.tag, self.detail))


def _rebuild_guest(message: str, tag: str, detail: str) -> WasmGuestError:
    return WasmGuestError(message, tag=tag, detail=detail)


class WasmTrapError(WasmError):
    """The guest trapped, or instantiation failed: ``guest invoke failed: <wasmtime error>``.

    ``guest_stderr`` holds the last lines the guest wrote to stderr, if it has WASI.
    """

    code = "WASM-TRAP-001"

    def __init__(self, message: str, *, guest_stderr: str = "") -> None:
        super().__init__(message)
        self.guest_stderr = guest_stderr

    def __reduce__(self) -> tuple[Callable[..., WasmError], tuple[object, ...]]:
        return (_rebuild_trap, (self.message, self.guest_stderr))


def _rebuild_trap(message: str, guest_stderr: str) -> WasmTrapError:
    return WasmTrapError(message, guest_stderr=guest_stderr)


class WasmFuelError(WasmError):
    """``guest exceeded Wasmtime fuel limit of <fuel> units``."""

    code = "WASM-FUEL-001"


class WasmMemoryError(WasmError):
    """``guest exceeded the memory limit of <n> bytes``: a refused ``memory.grow`` ended it."""

    code = "WASM-MEMORY-001"


class WasmCancelledError(WasmError):
    """``wasm guest invocation cancelled``: before the call, or interrupted during it."""

    code = "WASM-CANCEL-001"


class WasmDeadlineError(WasmError):
    """``guest exceeded its deadline of <s> s``: interrupted at the invocation deadline."""

    code = "WASM-DEADLINE-001"


class WasmOutputError(WasmError):
    """The guest's output is malformed or may not cross into the graph (spec 4 §1.3, §1.7)."""

    code = "WASM-OUTPUT-001"
