"""A fast path for calling ``invoke``: the C API values built and read in bulk.

wasmtime-py converts component values one by one through ctypes: every record field, and
every *byte* of a ``list<u8>``, is a Python-level object and several foreign calls. That
costs about 0.4 ms per packet with a 16-byte payload and 1.7 ms with a 1 KiB payload.

``wasmtime_component_func_call`` only *borrows* its arguments (the Rust side clones them
into its own values), so this module lays the whole argument tree out in one Python-owned
buffer, with the C structures (``wasmtime_component_val_t``, record entries, byte vectors)
written by ``struct.pack_into`` and every ``list<u8>`` filled with two strided slice
assignments. The result, which wasmtime allocates, is read back with a few ``string_at``
calls per packet (a ``list<u8>`` in one call) and freed with one
``wasmtime_component_val_delete``.

The layouts are checked against wasmtime-py's own ctypes declarations at import time;
if anything differs (another wasmtime version, a 32-bit platform), :data:`AVAILABLE` is
False and the host uses wasmtime-py's generic conversion instead. The component's
``invoke`` type is checked exactly at load time, so the shapes read here are the WIT's;
each value's kind is still checked before it is read.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Sequence
from typing import Any, Final

import wasmtime
from pureflow.wasm.abi import (
    GuestBytes,
    GuestControl,
    GuestPacket,
    PortBatch,
    make_guest_packet,
    make_port_batches,
)
from pureflow.wasm.errors import WasmGuestError, WasmInputError, WasmOutputError
from wasmtime import _ffi as ffi

__all__ = ["AVAILABLE", "call_invoke", "decode", "encode"]

_VAL = ffi.wasmtime_component_val_t
_ENTRY = ffi.wasmtime_component_valrecord_entry_t

K_U8: Final = ffi.WASMTIME_COMPONENT_U8.value
K_U32: Final = ffi.WASMTIME_COMPONENT_U32.value
K_STRING: Final = ffi.WASMTIME_COMPONENT_STRING.value
K_LIST: Final = ffi.WASMTIME_COMPONENT_LIST.value
K_RECORD: Final = ffi.WASMTIME_COMPONENT_RECORD.value
K_VARIANT: Final = ffi.WASMTIME_COMPONENT_VARIANT.value
K_OPTION: Final = ffi.WASMTIME_COMPONENT_OPTION.value
K_RESULT: Final = ffi.WASMTIME_COMPONENT_RESULT.value

VAL: Final = 32
ENTRY: Final = 48
OF: Final = 8  # offset of the union in a val

# A val: kind, then the union (two words and a spare word are enough for our kinds).
_VAL_2W = struct.Struct("<B7xQQ8x")  # string / list / record: (size, pointer)
# A record entry: name (size, pointer), then a val.
_ENTRY_2W = struct.Struct("<QQB7xQQ8x")  # string / record / list field
_ENTRY_U32 = struct.Struct("<QQB7xI20x")
_ENTRY_PTR = struct.Struct("<QQB7xQ16x")  # option field: pointer or NULL
_ENTRY_VARIANT = struct.Struct("<QQB7xQQQ")  # discriminant (size, pointer), val pointer

_READ_VAL = struct.Struct("<B7xQQQ")  # kind, then three words of the union


def _offset(structure: type, field: str) -> int:
    offset: int = getattr(structure, field).offset
    return offset


def _layout_ok() -> bool:
    try:
        return (
            ctypes.sizeof(ctypes.c_void_p) == 8
            and ctypes.sizeof(_VAL) == VAL
            and _offset(_VAL, "kind") == 0
            and _offset(_VAL, "of") == OF
            and ctypes.sizeof(_ENTRY) == ENTRY
            and _offset(_ENTRY, "name") == 0
            and _offset(_ENTRY, "val") == 16
            and ctypes.sizeof(ffi.wasm_byte_vec_t) == 16
            and _offset(ffi.wasm_byte_vec_t, "size") == 0
            and _offset(ffi.wasm_byte_vec_t, "data") == 8
            and _offset(ffi.wasmtime_component_vallist_t, "data") == 8
            and _offset(ffi.wasmtime_component_valrecord_t, "data") == 8
            and _offset(ffi.wasmtime_component_valvariant_t, "val") == 16
            and _offset(ffi.wasmtime_component_valresult_t, "val") == 8
            and _VAL_2W.size == VAL
            and _ENTRY_2W.size == ENTRY
            and _ENTRY_U32.size == ENTRY
            and _ENTRY_PTR.size == ENTRY
            and _ENTRY_VARIANT.size == ENTRY
            and struct.pack("=H", 1) == b"\x01\x00"
            and hasattr(ffi, "wasmtime_component_func_call")
            and hasattr(ffi, "wasmtime_component_val_delete")
        )
    except AttributeError:  # pragma: no cover - another wasmtime-py layout
        return False


AVAILABLE: Final = _layout_ok()
"""True when the fast path matches this wasmtime-py's C structures."""

_NAMES: Final = (
    "port-id",
    "packets",
    "metadata",
    "payload",
    "message-id",
    "workflow-id",
    "execution",
    "route",
    "execution-id",
    "attempt",
    "source",
    "target",
    "node-id",
    "bytes",
    "control",
)
_NAME_BLOB: Final = b"".join(n.encode() for n in _NAMES)
_NAME_OFFSETS: Final = {n: (sum(len(m) for m in _NAMES[:i]), len(n)) for i, n in enumerate(_NAMES)}
# Fixed bytes per packet: packet entries (2), metadata entries (4), execution entries (2),
# route entries (2), target entries (2), payload val, source val, source entries (2).
_PACKET_FIXED: Final = (
    2 * ENTRY + 4 * ENTRY + 2 * ENTRY + 2 * ENTRY + 2 * ENTRY + VAL + VAL + 2 * ENTRY
)


def _align8(n: int) -> int:
    return (n + 7) & ~7


class _Encoded:
    """The argument buffer: keep it alive until the call has returned."""

    __slots__ = ("array", "buffer", "root")

    def __init__(self, buffer: bytearray, array: Any, root: int) -> None:
        self.buffer = buffer
        self.array = array
        self.root = root


def encode(batches: Sequence[PortBatch]) -> _Encoded:
    """Lay ``list<port-batch>`` out as C values in one buffer; ``root`` is the val's address."""
    # Pass 1: sizes, and the UTF-8 of every string.
    texts: list[list[bytes]] = []
    payloads: list[bytes] = []
    kinds: list[bool] = []  # True: bytes payload
    total = _align8(len(_NAME_BLOB)) + VAL + len(batches) * (VAL + 2 * ENTRY)
    strings = 0
    port_names = [str(b.port_id).encode() for b in batches]
    strings += sum(len(p) for p in port_names)
    for batch in batches:
        total += len(batch.packets) * VAL
        for packet in batch.packets:
            meta = packet.metadata
            route = meta.route
            source = route.source
            parts = [
                str(meta.message_id).encode(),
                str(meta.workflow_id).encode(),
                str(meta.execution.execution_id).encode(),
                str(route.target.node_id).encode(),
                str(route.target.port_id).encode(),
            ]
            if source is not None:
                parts.append(str(source.node_id).encode())
                parts.append(str(source.port_id).encode())
            texts.append(parts)
            payload = packet.payload
            if type(payload) is GuestBytes:
                data = payload.data
                kinds.append(True)
                total += len(data) * VAL
            elif type(payload) is GuestControl:
                data = payload.text.encode()
                kinds.append(False)
                strings += len(data)
            else:
                raise WasmInputError("payload is not supported by WIT ABI 0.1.0")
            payloads.append(data)
            strings += sum(len(p) for p in parts)
            total += _PACKET_FIXED
    total += strings + 8

    buf = bytearray(total)
    array = (ctypes.c_ubyte * total).from_buffer(buf)
    base = ctypes.addressof(array)
    buf[0 : len(_NAME_BLOB)] = _NAME_BLOB
    names = {n: (size, base + off) for n, (off, size) in _NAME_OFFSETS.items()}
    pos = _align8(len(_NAME_BLOB))
    # Strings go at the end of the buffer, growing from `spos`.
    spos = total - strings - 8

    def put_string(data: bytes) -> tuple[int, int]:
        nonlocal spos
        n = len(data)
        buf[spos : spos + n] = data
        addr = base + spos
        spos += n
        return n, addr

    entry_2w = _ENTRY_2W.pack_into
    entry_u32 = _ENTRY_U32.pack_into
    entry_ptr = _ENTRY_PTR.pack_into
    entry_variant = _ENTRY_VARIANT.pack_into
    val_2w = _VAL_2W.pack_into

    root = pos
    pos += VAL
    batch_vals = pos
    pos += len(batches) * VAL
    val_2w(buf, root, K_LIST, len(batches), base + batch_vals)

    n_port, n_packets = names["port-id"], names["packets"]
    n_metadata, n_payload = names["metadata"], names["payload"]
    n_message, n_workflow = names["message-id"], names["workflow-id"]
    n_execution, n_route = names["execution"], names["route"]
    n_execution_id, n_attempt = names["execution-id"], names["attempt"]
    n_source, n_target = names["source"], names["target"]
    n_node = names["node-id"]
    n_bytes, n_control = names["bytes"], names["control"]

    index = 0
    for b, batch in enumerate(batches):
        entries = pos
        pos += 2 * ENTRY
        val_2w(buf, batch_vals + b * VAL, K_RECORD, 2, base + entries)
        size, addr = put_string(port_names[b])
        entry_2w(buf, entries, *n_port, K_STRING, size, addr)
        packet_vals = pos
        pos += len(batch.packets) * VAL
        entry_2w(buf, entries + ENTRY, *n_packets, K_LIST, len(batch.packets), base + packet_vals)
        for p, packet in enumerate(batch.packets):
            parts = texts[index]
            data = payloads[index]
            is_bytes = kinds[index]
            index += 1
            pk = pos  # packet entries
            me = pk + 2 * ENTRY  # metadata entries
            ex = me + 4 * ENTRY  # execution entries
            ro = ex + 2 * ENTRY  # route entries
            ta = ro + 2 * ENTRY  # target entries
            pv = ta + 2 * ENTRY  # payload val
            sv = pv + VAL  # source val
            se = sv + VAL  # source entries
            pos = se + 2 * ENTRY
            val_2w(buf, packet_vals + p * VAL, K_RECORD, 2, base + pk)
            entry_2w(buf, pk, *n_metadata, K_RECORD, 4, base + me)
            if is_bytes:
                entry_variant(buf, pk + ENTRY, *n_payload, K_VARIANT, *n_bytes, base + pv)
                n = len(data)
                elems = pos
                pos += n * VAL
                val_2w(buf, pv, K_LIST, n, base + elems)
                if n:
                    end = elems + n * VAL
                    buf[elems:end:VAL] = bytes((K_U8,)) * n
                    buf[elems + OF : end : VAL] = data
            else:
                entry_variant(buf, pk + ENTRY, *n_payload, K_VARIANT, *n_control, base + pv)
                size, addr = put_string(data)
                val_2w(buf, pv, K_STRING, size, addr)
            size, addr = put_string(parts[0])
            entry_2w(buf, me, *n_message, K_STRING, size, addr)
            size, addr = put_string(parts[1])
            entry_2w(buf, me + ENTRY, *n_workflow, K_STRING, size, addr)
            entry_2w(buf, me + 2 * ENTRY, *n_execution, K_RECORD, 2, base + ex)
            entry_2w(buf, me + 3 * ENTRY, *n_route, K_RECORD, 2, base + ro)
            size, addr = put_string(parts[2])
            entry_2w(buf, ex, *n_execution_id, K_STRING, size, addr)
            entry_u32(buf, ex + ENTRY, *n_attempt, K_U32, packet.metadata.execution.attempt)
            if len(parts) == 7:
                entry_ptr(buf, ro, *n_source, K_OPTION, base + sv)
                val_2w(buf, sv, K_RECORD, 2, base + se)
                size, addr = put_string(parts[5])
                entry_2w(buf, se, *n_node, K_STRING, size, addr)
                size, addr = put_string(parts[6])
                entry_2w(buf, se + ENTRY, *n_port, K_STRING, size, addr)
            else:
                entry_ptr(buf, ro, *n_source, K_OPTION, 0)
            entry_2w(buf, ro + ENTRY, *n_target, K_RECORD, 2, base + ta)
            size, addr = put_string(parts[3])
            entry_2w(buf, ta, *n_node, K_STRING, size, addr)
            size, addr = put_string(parts[4])
            entry_2w(buf, ta + ENTRY, *n_port, K_STRING, size, addr)
    if pos > total - strings - 8:  # pragma: no cover - a sizing bug, never user input
        raise AssertionError("fast codec buffer overflow")
    return _Encoded(buf, array, base + root)


# --------------------------------------------------------------------------------------
# Reading the result
# --------------------------------------------------------------------------------------

_string_at = ctypes.string_at


def _val(addr: int) -> tuple[int, int, int, int]:
    kind, a, b, c = _READ_VAL.unpack(_string_at(addr, VAL))
    return kind, a, b, c


def _entries(addr: int, count: int) -> list[tuple[int, int, int, int]]:
    """(kind, word0, word1, word2) of each entry's val, for ``count`` record entries."""
    raw = _string_at(addr, count * ENTRY)
    return [_READ_VAL.unpack_from(raw, i * ENTRY + 16) for i in range(count)]


def _text(entry: tuple[int, int, int, int], what: str) -> str:
    kind, size, ptr, _ = entry
    if kind != K_STRING:
        raise WasmOutputError(f"guest returned non-string {what}")
    try:
        return _string_at(ptr, size).decode("utf-8") if size else ""
    except UnicodeDecodeError:  # pragma: no cover - wasmtime validates strings
        raise WasmOutputError(f"guest returned non-string {what}") from None


def _record(
    entry: tuple[int, int, int, int], count: int, what: str
) -> list[tuple[int, int, int, int]]:
    kind, size, ptr, _ = entry
    if kind != K_RECORD or size != count:
        raise WasmOutputError(f"guest returned non-record {what}")
    return _entries(ptr, count)


def _endpoint(entry: tuple[int, int, int, int]) -> tuple[str, str]:
    fields = _record(entry, 2, "message endpoint")
    return (
        _text(fields[0], "message endpoint field node-id"),
        _text(fields[1], "message endpoint field port-id"),
    )


def _packet(val: tuple[int, int, int, int]) -> GuestPacket:
    packet = _record(val, 2, "packet")
    meta = _record(packet[0], 4, "message metadata")
    execution = _record(meta[2], 2, "execution metadata")
    attempt_kind, attempt, _, _ = execution[1]
    if attempt_kind != K_U32:
        raise WasmOutputError("guest returned non-u32 execution metadata field attempt")
    route = _record(meta[3], 2, "message route")
    source_kind, source_ptr, _, _ = route[0]
    if source_kind != K_OPTION:
        raise WasmOutputError("guest returned non-option route source")
    source = _endpoint(_val(source_ptr)) if source_ptr else None
    target = _endpoint(route[1])

    payload_kind, tag_size, tag_ptr, payload_ptr = packet[1]
    if payload_kind != K_VARIANT or not payload_ptr:
        raise WasmOutputError("guest returned non-variant payload")
    tag = _string_at(tag_ptr, tag_size)
    kind, size, ptr, _ = _val(payload_ptr)
    data: bytes | str
    if tag == b"bytes":
        if kind != K_LIST:
            raise WasmOutputError("guest returned non-list bytes payload")
        if size:
            raw = _string_at(ptr, size * VAL)
            if raw[0::VAL] != bytes((K_U8,)) * size:
                raise WasmOutputError("guest returned non-u8 byte payload element")
            data = raw[OF::VAL]
        else:
            data = b""
    elif tag == b"control":
        data = _text((kind, size, ptr, 0), "control payload")
    else:
        raise WasmOutputError(
            f"guest returned unsupported payload variant: {tag.decode('utf-8', 'replace')}"
        )
    return make_guest_packet(
        _text(meta[0], "message metadata field message-id"),
        _text(meta[1], "message metadata field workflow-id"),
        _text(execution[0], "execution metadata field execution-id"),
        attempt & 0xFFFFFFFF,
        source,
        target,
        data,
    )


def decode(result_addr: int) -> list[PortBatch]:
    """Read the ``result<list<port-batch>, batch-error>`` val at ``result_addr``."""
    kind, is_ok, val_ptr, _ = _val(result_addr)
    if kind != K_RESULT:
        raise WasmOutputError("guest returned non-result from batch.invoke")
    is_ok &= 0xFF
    if not val_ptr:
        if is_ok:
            raise WasmOutputError("guest returned empty ok result from batch.invoke")
        raise WasmOutputError("guest returned empty error from batch.invoke")
    inner = _val(val_ptr)
    if not is_ok:
        err_kind, tag_size, tag_ptr, detail_ptr = inner
        if err_kind != K_VARIANT:
            raise WasmGuestError("guest returned malformed batch error")
        tag = _string_at(tag_ptr, tag_size).decode("utf-8", "replace")
        if not detail_ptr:
            raise WasmGuestError(f"guest returned {tag} without detail", tag=tag)
        detail_val = _val(detail_ptr)
        if detail_val[0] != K_STRING:
            raise WasmGuestError(f"guest returned malformed {tag} error", tag=tag)
        detail = _text(detail_val, "batch error")
        raise WasmGuestError(f"guest returned {tag}: {detail}", tag=tag, detail=detail)
    list_kind, count, data_ptr, _ = inner
    if list_kind != K_LIST:
        raise WasmOutputError("guest returned non-list batch output")
    items: list[tuple[str, list[GuestPacket]]] = []
    raw = _string_at(data_ptr, count * VAL) if count else b""
    for i in range(count):
        batch = _READ_VAL.unpack_from(raw, i * VAL)
        fields = _record(batch, 2, "port batch")
        port = _text(fields[0], "port batch field port-id")
        list_kind, n, packets_ptr, _ = fields[1]
        if list_kind != K_LIST:
            raise WasmOutputError("guest returned non-list port batch field packets")
        praw = _string_at(packets_ptr, n * VAL) if n else b""
        items.append((port, [_packet(_READ_VAL.unpack_from(praw, j * VAL)) for j in range(n)]))
    return make_port_batches(items)


def call_invoke(
    func: wasmtime.component.Func, store: wasmtime.Store, encoded: _Encoded
) -> list[PortBatch]:
    """Call ``invoke`` with the :func:`encode`-d arguments and decode its result.

    wasmtime errors propagate as ``WasmtimeError``; ``err(batch-error)`` raises
    :class:`WasmGuestError` and a malformed value :class:`WasmOutputError`, like the
    generic path.
    """
    result = _VAL()
    args = ctypes.cast(ctypes.c_void_p(encoded.root), ctypes.POINTER(_VAL))
    error = ffi.wasmtime_component_func_call(
        ctypes.byref(func._func), store._context(), args, 1, ctypes.byref(result), 1
    )
    del encoded  # the call has cloned the arguments
    if error:
        raise wasmtime.WasmtimeError._from_ptr(error)
    try:
        return decode(ctypes.addressof(result))
    finally:
        ffi.wasmtime_component_val_delete(ctypes.byref(result))
