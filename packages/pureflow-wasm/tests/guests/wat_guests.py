"""Assemble the hand-written test guests into batch-world components.

Each ``<name>.wat`` file here is a core module ``$m`` that exports ``mem``, ``realloc``,
``invoke`` and ``post-invoke`` (from the allocator); ``component_shell.wat`` holds the type
section and the lifting that every guest shares (the shape of
``shared/wasm/batch-world-empty.wat``), and ``realloc.wat`` the bump allocator spliced in at
``;; @include realloc``.

:func:`constant_output_wat` builds a guest that ignores its input and returns a fixed
value laid out in its data segment by the canonical ABI: the way to produce any malformed
or hostile output (a bad identifier, a port the node does not declare, a forged workflow
id) without writing more WAT.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import wasmtime

GUESTS_DIR = Path(__file__).resolve().parent
_HEAP_LINE = "(global $bump (mut i32) (i32.const 1024)) (global $heap i32 (i32.const 1024))"
_PAGE = 65536

# Canonical ABI sizes of the batch WIT (all 4-byte aligned).
ENDPOINT = 16
EXECUTION = 12
METADATA = 64
PACKET = 76
PORT_BATCH = 16
RESULT = 16


def module_text(name: str, *, heap_base: int = 1024) -> str:
    """The core module ``<name>.wat`` with the allocator spliced in."""
    text = (GUESTS_DIR / f"{name}.wat").read_text()
    realloc = (GUESTS_DIR / "realloc.wat").read_text()
    if heap_base != 1024:
        realloc = realloc.replace(_HEAP_LINE, _heap_line(heap_base))
    return text.replace(";; @include realloc", realloc)


def _heap_line(heap_base: int) -> str:
    return (
        f"(global $bump (mut i32) (i32.const {heap_base})) "
        f"(global $heap i32 (i32.const {heap_base}))"
    )


def component_text(core_module: str) -> str:
    """The component text around ``core_module`` (a ``(core module $m ...)`` form)."""
    shell = (GUESTS_DIR / "component_shell.wat").read_text()
    return shell.replace(";; @core-module", core_module)


def guest_wat(name: str) -> str:
    """The full component text of the guest ``<name>.wat``."""
    return component_text(module_text(name))


def guest_wasm(name: str) -> bytes:
    """The compiled component binary of the guest ``<name>.wat``."""
    return bytes(wasmtime.wat2wasm(guest_wat(name)))


class _Image:
    """A memory image under construction at ``base``: allocate, then fill in."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.buf = bytearray()

    def alloc(self, size: int, align: int = 4) -> int:
        while (self.base + len(self.buf)) % align:
            self.buf.append(0)
        addr = self.base + len(self.buf)
        self.buf.extend(bytes(size))
        return addr

    def u8(self, addr: int, value: int) -> None:
        self.buf[addr - self.base] = value

    def u32(self, addr: int, value: int) -> None:
        struct.pack_into("<I", self.buf, addr - self.base, value)

    def blob(self, addr: int, data: bytes) -> None:
        """Store a string or list<u8> (pointer, length) at ``addr``."""
        ptr = self.alloc(len(data), 1) if data else 0
        self.buf[ptr - self.base : ptr - self.base + len(data)] = data
        self.u32(addr, ptr)
        self.u32(addr + 4, len(data))

    def endpoint(self, addr: int, value: Mapping[str, Any]) -> None:
        self.blob(addr, value["node-id"].encode())
        self.blob(addr + 8, value["port-id"].encode())

    def packet(self, addr: int, value: Mapping[str, Any]) -> None:
        meta = value["metadata"]
        self.blob(addr, meta["message-id"].encode())
        self.blob(addr + 8, meta["workflow-id"].encode())
        self.blob(addr + 16, meta["execution"]["execution-id"].encode())
        self.u32(addr + 24, meta["execution"]["attempt"])
        source = meta["route"]["source"]
        if source is not None:
            self.u8(addr + 28, 1)
            self.endpoint(addr + 32, source)
        self.endpoint(addr + 48, meta["route"]["target"])
        payload = value["payload"]
        if "bytes" in payload:
            self.blob(addr + 68, bytes(payload["bytes"]))
        else:
            self.u8(addr + 64, 1)
            self.blob(addr + 68, payload["control"].encode())


def _data_string(data: bytes) -> str:
    return "".join(f"\\{b:02x}" for b in data)


def constant_output_wat(
    batches: Sequence[Mapping[str, Any]] | None = None,
    *,
    error: tuple[str, str] | None = None,
) -> str:
    """A component that returns ``ok(batches)`` (JSON form) or ``err(<tag>(<detail>))``."""
    base = 256
    image = _Image(base)
    result = image.alloc(RESULT)
    if error is not None:
        tag, detail = error
        image.u8(result, 1)
        image.u8(result + 4, {"guest-failure": 0, "unsupported-payload": 1}[tag])
        image.blob(result + 8, detail.encode())
    else:
        items = list(batches or [])
        array = image.alloc(PORT_BATCH * len(items)) if items else 0
        image.u32(result + 4, array)
        image.u32(result + 8, len(items))
        for i, batch in enumerate(items):
            rec = array + i * PORT_BATCH
            image.blob(rec, batch["port-id"].encode())
            packets = batch["packets"]
            parray = image.alloc(PACKET * len(packets)) if packets else 0
            image.u32(rec + 8, parray)
            image.u32(rec + 12, len(packets))
            for j, packet in enumerate(packets):
                image.packet(parray + j * PACKET, packet)
    end = base + len(image.buf)
    heap_base = (end + 15) // 16 * 16
    pages = heap_base // _PAGE + 1
    core = f"""(core module $m
  (memory (export "mem") {pages})
  ;; @include realloc
  (data (i32.const {base}) "{_data_string(bytes(image.buf))}")
  (func (export "invoke") (param i32 i32) (result i32)
    (i32.const {result}))
)"""
    realloc = (GUESTS_DIR / "realloc.wat").read_text()
    realloc = realloc.replace(_HEAP_LINE, _heap_line(heap_base))
    return component_text(core.replace(";; @include realloc", realloc))


def constant_output_wasm(
    batches: Sequence[Mapping[str, Any]] | None = None,
    *,
    error: tuple[str, str] | None = None,
) -> bytes:
    """The compiled binary of :func:`constant_output_wat`."""
    return bytes(wasmtime.wat2wasm(constant_output_wat(batches, error=error)))


def packet_json(
    message_id: str = "msg-1",
    *,
    data: bytes | None = b"hello",
    control: str | None = None,
    workflow_id: str = "flow",
    execution_id: str = "run-1",
    attempt: int = 1,
    source: tuple[str, str] | None = ("source", "out"),
    target: tuple[str, str] = ("wasm", "in"),
) -> dict[str, Any]:
    """One packet in the JSON form, with the uppercase test data's defaults."""
    payload: dict[str, Any] = (
        {"control": control} if control is not None else {"bytes": list(data or b"")}
    )
    return {
        "metadata": {
            "message-id": message_id,
            "workflow-id": workflow_id,
            "execution": {"execution-id": execution_id, "attempt": attempt},
            "route": {
                "source": None if source is None else {"node-id": source[0], "port-id": source[1]},
                "target": {"node-id": target[0], "port-id": target[1]},
            },
        },
        "payload": payload,
    }
