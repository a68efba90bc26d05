"""A fast path for calling ``invoke``: the C API values built and read in bulk.

wasmtime-py converts component values one by one through ctypes: every record field, and
every *byte* of a ``list<u8>``, is a Python-level object and several foreign calls (about
0.4 ms per packet with a 16-byte payload). ``wasmtime_component_func_call`` only
*borrows* its arguments (the Rust side copies them into its own values), so this module
builds the whole argument tree in one Python-owned buffer and reads the result tree in
place.

**Encoding is column-wise.** Every packet's C structures (the record entries of packet,
metadata, execution, route and endpoints, the payload and source values) take a block of
:data:`BLOCK` bytes at a fixed stride. A template block holding everything that never
changes (field names, kinds, record sizes) is repeated over the whole batch in one
operation, then each varying word (a string's size or address, an internal pointer, the
attempt) is written for *all* packets at once with one strided slice assignment of an
``array('Q')``. Strings that repeat (workflow, execution, node and port ids) are stored
once and shared; the bytes of every ``list<u8>`` payload of the batch land with two
strided assignments. The Python work per packet is a handful of list-comprehension steps.

**Decoding reads in place.** The result tree (allocated by wasmtime) is read through one
read-only ``memoryview`` over the process's address space, with ``struct.unpack_from``
reading a whole record (all its entries) per call and strings sliced out directly: no
intermediate ``bytes`` per field, no ctypes objects. Only addresses wasmtime handed back
are read, and every value's kind is checked before its payload is used, so a malformed
guest value is a :class:`~pureflow.wasm.errors.WasmOutputError`, never a bad read. The
result is freed with one ``wasmtime_component_val_delete``.

The layouts are checked against wasmtime-py's own ctypes declarations at import time;
if anything differs (another wasmtime version, a 32-bit platform), :data:`AVAILABLE` is
False and the host uses wasmtime-py's generic conversion instead (:mod:`pureflow.wasm.abi`).
Both work on the same row form (:data:`~pureflow.wasm.abi.PacketRow`).
"""

from __future__ import annotations

import ctypes
import itertools
import struct
from array import array
from collections.abc import Sequence
from typing import Any, Final

import wasmtime
from pureflow.wasm.abi import PacketRow, RowBatch
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
_U0: Final = 16 + OF  # the first union word of a record entry's val
_U1: Final = _U0 + 8
_U2: Final = _U1 + 8

_READ_VAL = struct.Struct("<B7xQQQ")  # kind, then three words of the union
_PACK_VAL = struct.Struct("<B7xQQQ")
_PACK_ENTRY = struct.Struct("<QQB7xQQQ")  # name (size, pointer), then a val
_READ_REC2 = struct.Struct("<" + "16xB7xQQQ" * 2)  # the vals of a 2-entry record
_READ_REC4 = struct.Struct("<" + "16xB7xQQQ" * 4)


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
            and _PACK_VAL.size == VAL
            and _PACK_ENTRY.size == ENTRY
            and struct.pack("=H", 1) == b"\x01\x00"
            and array("Q").itemsize == 8
            and hasattr(ffi, "wasmtime_component_func_call")
            and hasattr(ffi, "wasmtime_component_val_delete")
        )
    except AttributeError:  # pragma: no cover - another wasmtime-py layout
        return False


def _address_space() -> memoryview | None:
    """A read-only byte view of the whole address space (reads only what wasmtime returned)."""
    try:
        whole = (ctypes.c_ubyte * (2**63 - 1)).from_address(0)
        return memoryview(whole).cast("B").toreadonly()
    except (OverflowError, ValueError, TypeError, MemoryError):  # pragma: no cover
        return None


_MEM: Final = _address_space()

AVAILABLE: Final = _layout_ok() and _MEM is not None
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

# One packet's block: byte offsets of its parts (record entries are ENTRY bytes each).
_PK: Final = 0  # packet: metadata, payload
_ME: Final = _PK + 2 * ENTRY  # message metadata: message-id, workflow-id, execution, route
_EX: Final = _ME + 4 * ENTRY  # execution: execution-id, attempt
_RO: Final = _EX + 2 * ENTRY  # route: source, target
_TA: Final = _RO + 2 * ENTRY  # target endpoint: node-id, port-id
_PV: Final = _TA + 2 * ENTRY  # the payload's val (the variant points at it)
_SV: Final = _PV + VAL  # the source option's val
_SE: Final = _SV + VAL  # source endpoint: node-id, port-id
BLOCK: Final = _SE + 2 * ENTRY
"""Bytes of C structures per packet (besides its value in the list and payload bytes)."""
_WORDS: Final = BLOCK // 8


def _align8(n: int) -> int:
    return (n + 7) & ~7


class _Encoded:
    """The argument buffer: keep it alive until the call has returned."""

    __slots__ = ("array", "buffer", "root")

    def __init__(self, buffer: bytearray, array_: Any, root: int) -> None:
        self.buffer = buffer
        self.array = array_
        self.root = root


def _names() -> tuple[Any, dict[str, tuple[int, int]]]:
    """The field and case names in one buffer that lives as long as the process, so every
    encoded argument can point at them and the packet template is a constant."""
    holder = ctypes.create_string_buffer(_NAME_BLOB, len(_NAME_BLOB))
    base = ctypes.addressof(holder)
    return holder, {name: (size, base + off) for name, (off, size) in _NAME_OFFSETS.items()}


_NAMES_HOLDER, _NAME_ADDRS = _names()


def _template() -> bytes:
    """The constant part of a packet block: names, kinds, record sizes."""
    block = bytearray(BLOCK)

    def entry(at: int, name: str, kind: int, u0: int = 0) -> None:
        size, addr = _NAME_ADDRS[name]
        _PACK_ENTRY.pack_into(block, at, size, addr, kind, u0, 0, 0)

    entry(_PK, "metadata", K_RECORD, 4)
    entry(_PK + ENTRY, "payload", K_VARIANT)
    entry(_ME, "message-id", K_STRING)
    entry(_ME + ENTRY, "workflow-id", K_STRING)
    entry(_ME + 2 * ENTRY, "execution", K_RECORD, 2)
    entry(_ME + 3 * ENTRY, "route", K_RECORD, 2)
    entry(_EX, "execution-id", K_STRING)
    entry(_EX + ENTRY, "attempt", K_U32)
    entry(_RO, "source", K_OPTION)
    entry(_RO + ENTRY, "target", K_RECORD, 2)
    entry(_TA, "node-id", K_STRING)
    entry(_TA + ENTRY, "port-id", K_STRING)
    _PACK_VAL.pack_into(block, _SV, K_RECORD, 2, 0, 0)
    entry(_SE, "node-id", K_STRING)
    entry(_SE + ENTRY, "port-id", K_STRING)
    return bytes(block)


_TEMPLATE: Final = _template()
_PACKET_VAL: Final = _PACK_VAL.pack(K_RECORD, 2, 0, 0)
_BYTES_CASE: Final = _NAME_ADDRS["bytes"]
_CONTROL_CASE: Final = _NAME_ADDRS["control"]
_PORT_NAME: Final = _NAME_ADDRS["port-id"]
_PACKETS_NAME: Final = _NAME_ADDRS["packets"]
_N_METADATA: Final = _NAME_ADDRS["metadata"]
_N_PAYLOAD: Final = _NAME_ADDRS["payload"]
_N_MESSAGE_ID: Final = _NAME_ADDRS["message-id"]
_N_WORKFLOW_ID: Final = _NAME_ADDRS["workflow-id"]
_N_EXECUTION: Final = _NAME_ADDRS["execution"]
_N_ROUTE: Final = _NAME_ADDRS["route"]
_N_EXECUTION_ID: Final = _NAME_ADDRS["execution-id"]
_N_ATTEMPT: Final = _NAME_ADDRS["attempt"]
_N_SOURCE: Final = _NAME_ADDRS["source"]
_N_TARGET: Final = _NAME_ADDRS["target"]
_N_NODE_ID: Final = _NAME_ADDRS["node-id"]
_N_PORT_ID: Final = _NAME_ADDRS["port-id"]
# The varying words of a block, as offsets (the u0/u1/u2 words of entries and vals).
_W_METADATA: Final = _PK + _U1
_W_CASE_SIZE: Final = _PK + ENTRY + _U0
_W_CASE_NAME: Final = _PK + ENTRY + _U1
_W_PAYLOAD: Final = _PK + ENTRY + _U2
_W_MID: Final = _ME + _U0
_W_WORKFLOW: Final = _ME + ENTRY + _U0
_W_EXECUTION: Final = _ME + 2 * ENTRY + _U1
_W_ROUTE: Final = _ME + 3 * ENTRY + _U1
_W_EXECUTION_ID: Final = _EX + _U0
_W_ATTEMPT: Final = _EX + ENTRY + _U0
_W_SOURCE: Final = _RO + _U0
_W_TARGET: Final = _RO + ENTRY + _U1
_W_TARGET_NODE: Final = _TA + _U0
_W_TARGET_PORT: Final = _TA + ENTRY + _U0
_W_PAYLOAD_SIZE: Final = _PV + OF
_W_SOURCE_ENDPOINT: Final = _SV + OF + 8
_W_SOURCE_NODE: Final = _SE + _U0
_W_SOURCE_PORT: Final = _SE + ENTRY + _U0
_MAX_ATTEMPT: Final = 2**32 - 1


_SMALL_BATCH: Final = 8
"""Up to this many packets, each block is written with one ``pack_into`` (fewer steps
than the columns, which pay off from a few packets on)."""
_BLOCK_STRUCT: Final = struct.Struct(
    "<"
    "QQB7xQQ8x"  # packet.metadata: record(4) -> metadata entries
    "QQB7xQQQ"  # packet.payload: variant (case name) -> payload val
    "QQB7xQQ8x"  # metadata.message-id
    "QQB7xQQ8x"  # metadata.workflow-id
    "QQB7xQQ8x"  # metadata.execution: record(2) -> execution entries
    "QQB7xQQ8x"  # metadata.route: record(2) -> route entries
    "QQB7xQQ8x"  # execution.execution-id
    "QQB7xQ16x"  # execution.attempt
    "QQB7xQ16x"  # route.source: option -> source val, or NULL
    "QQB7xQQ8x"  # route.target: record(2) -> target entries
    "QQB7xQQ8x"  # target.node-id
    "QQB7xQQ8x"  # target.port-id
    "B7xQQ8x"  # the payload val: list<u8> or string
    "B7xQQ8x"  # the source val: record(2) -> source entries
    "QQB7xQQ8x"  # source.node-id
    "QQB7xQQ8x"  # source.port-id
)


def _encode_small(batches: Sequence[RowBatch], rows: list[PacketRow]) -> _Encoded:
    """The small-batch path of :func:`encode`: each block with one ``pack_into``."""
    n = len(rows)
    strings = bytearray()
    shared: dict[str, tuple[int, int]] = {}  # text -> (size, offset in the strings area)

    def text(value: str) -> tuple[int, int]:
        found = shared.get(value)
        if found is None:
            data = value.encode()
            found = shared[value] = (len(data), len(strings))
            strings.extend(data)
        return found

    ports = [text(port) for port, _rows in batches]
    element_count = 0
    fields = []
    for message_id, workflow_id, execution_id, attempt, source, target, payload in rows:
        if not 1 <= attempt <= _MAX_ATTEMPT:
            raise WasmInputError("attempt must be between 1 and 2**32 - 1")
        mid = len(message_id.encode()), len(strings)
        strings.extend(message_id.encode())
        if type(payload) is bytes:
            element_count += len(payload)
            data: tuple[int, int] | None = None
        elif type(payload) is str:
            data = len(payload.encode()), len(strings)
            strings.extend(payload.encode())
        else:
            raise WasmInputError("payload is not supported by WIT ABI 0.1.0")
        fields.append(
            (
                mid,
                text(workflow_id),
                text(execution_id),
                None if source is None else (text(source[0]), text(source[1])),
                text(target[0]),
                text(target[1]),
                data,
            )
        )
    area = _Area(batches, ports, n, element_count, bytes(strings))
    buf, base, s_base = area.buf, area.base, area.s_base
    packet_vals, blocks, elements = area.packet_vals, area.blocks, area.elements
    pack = _BLOCK_STRUCT.pack_into
    element_at = elements
    for i, (row, (mid, wf, xid, src, t_node, t_port, data)) in enumerate(
        zip(rows, fields, strict=True)
    ):
        at = blocks + i * BLOCK
        a = base + at
        _PACK_VAL.pack_into(buf, packet_vals + i * VAL, K_RECORD, 2, a, 0)
        payload = row[6]
        if data is None:
            size = len(payload)
            case = _BYTES_CASE
            payload_val = (K_LIST, size, base + element_at if size else 0)
            if size:
                end = element_at + size * VAL
                buf[element_at:end:VAL] = bytes((K_U8,)) * size
                buf[element_at + OF : end : VAL] = payload  # type: ignore[assignment]
                element_at = end
        else:
            case = _CONTROL_CASE
            payload_val = (K_STRING, data[0], s_base + data[1])
        if src is None:
            source_at = 0
            (sn_size, sn_off), (sp_size, sp_off) = (0, 0), (0, 0)
        else:
            source_at = a + _SV
            (sn_size, sn_off), (sp_size, sp_off) = src
        pack(
            buf, at,
            *_N_METADATA, K_RECORD, 4, a + _ME,
            *_N_PAYLOAD, K_VARIANT, case[0], case[1], a + _PV,
            *_N_MESSAGE_ID, K_STRING, mid[0], s_base + mid[1],
            *_N_WORKFLOW_ID, K_STRING, wf[0], s_base + wf[1],
            *_N_EXECUTION, K_RECORD, 2, a + _EX,
            *_N_ROUTE, K_RECORD, 2, a + _RO,
            *_N_EXECUTION_ID, K_STRING, xid[0], s_base + xid[1],
            *_N_ATTEMPT, K_U32, row[3],
            *_N_SOURCE, K_OPTION, source_at,
            *_N_TARGET, K_RECORD, 2, a + _TA,
            *_N_NODE_ID, K_STRING, t_node[0], s_base + t_node[1],
            *_N_PORT_ID, K_STRING, t_port[0], s_base + t_port[1],
            *payload_val,
            K_RECORD, 2, a + _SE,
            *_N_NODE_ID, K_STRING, sn_size, s_base + sn_off,
            *_N_PORT_ID, K_STRING, sp_size, s_base + sp_off,
        )  # fmt: skip
    return area.encoded()


class _Area:
    """The argument buffer of one call, laid out in regions: root val, port-batch vals and
    entries, packet vals, packet blocks, payload element vals, strings. Built with the
    strings copied in and the port batches written; both encoders fill the rest."""

    __slots__ = ("base", "blocks", "buf", "elements", "holder", "packet_vals", "s_base")

    def __init__(
        self,
        batches: Sequence[RowBatch],
        ports: list[tuple[int, int]],
        n: int,
        element_count: int,
        strings: bytes,
    ) -> None:
        nb = len(batches)
        batch_vals = VAL
        batch_entries = batch_vals + nb * VAL
        self.packet_vals = batch_entries + nb * 2 * ENTRY
        self.blocks = self.packet_vals + n * VAL
        self.elements = self.blocks + n * BLOCK
        strings_at = self.elements + element_count * VAL
        self.buf = buf = bytearray(_align8(strings_at + len(strings)) + 8)
        self.holder = ctypes.c_char.from_buffer(buf)  # pins the buffer; its address is the start
        self.base = base = ctypes.addressof(self.holder)
        buf[strings_at : strings_at + len(strings)] = strings
        self.s_base = base + strings_at
        _write_batches(
            buf, base, batches, ports, self.s_base, batch_vals, batch_entries, self.packet_vals
        )

    def encoded(self) -> _Encoded:
        return _Encoded(self.buf, self.holder, self.base)


def _write_batches(  # noqa: PLR0917 - the encoder's layout, passed once
    buf: bytearray,
    base: int,
    batches: Sequence[RowBatch],
    ports: Sequence[tuple[int, int]],
    s_base: int,
    batch_vals: int,
    batch_entries: int,
    packet_vals: int,
) -> None:
    """The root ``list<port-batch>`` val (at offset 0) and each port batch's record."""
    _PACK_VAL.pack_into(buf, 0, K_LIST, len(batches), base + batch_vals, 0)
    first = 0
    for b, (_port, batch_rows) in enumerate(batches):
        entries = batch_entries + b * 2 * ENTRY
        count = len(batch_rows)
        size, off = ports[b]
        _PACK_VAL.pack_into(buf, batch_vals + b * VAL, K_RECORD, 2, base + entries, 0)
        _PACK_ENTRY.pack_into(buf, entries, *_PORT_NAME, K_STRING, size, s_base + off, 0)
        at = base + packet_vals + first * VAL if count else 0
        _PACK_ENTRY.pack_into(buf, entries + ENTRY, *_PACKETS_NAME, K_LIST, count, at, 0)
        first += count


def _write_columns(  # noqa: PLR0917 - the encoder's state, passed once
    buf: bytearray,
    words: memoryview,
    base: int,
    packet_vals: int,
    blocks: int,
    elements: int,
    rows: Sequence[PacketRow],
    columns: tuple[list[str], ...],
    shared: dict[str, tuple[int, int]],
    s_base: int,
    message_ids: list[bytes],
    mid_offsets: list[int],
    attempts: list[int],
    has_source: list[bool],
    is_bytes: list[bool],
    byte_payloads: list[bytes],
    texts: list[bytes],
    text_offsets: list[int],
) -> None:
    """The packet vals and blocks column by column (the large-batch path): the template
    everywhere, then each varying word for all packets with one strided assignment."""
    n = len(rows)
    buf[blocks:elements] = _TEMPLATE * n
    first_block = base + blocks

    def put(at: int, stride: int, values: Sequence[int] | range) -> None:
        start = at // 8
        words[start : start + n * stride : stride] = array("Q", values)

    def field(offset: int, values: Sequence[int] | range) -> None:
        put(blocks + offset, _WORDS, values)

    def pointers(offset: int) -> range:
        return range(first_block + offset, first_block + offset + n * BLOCK, BLOCK)

    def strings_of(offset: int, texts_: Sequence[str]) -> None:
        found = [shared[t] for t in texts_]
        field(offset, [size for size, _off in found])
        field(offset + 8, [s_base + off for _size, off in found])

    put(packet_vals + OF + 8, VAL // 8, pointers(0))
    field(_W_METADATA, pointers(_ME))
    field(_W_PAYLOAD, pointers(_PV))
    field(_W_EXECUTION, pointers(_EX))
    field(_W_ROUTE, pointers(_RO))
    field(_W_TARGET, pointers(_TA))
    field(_W_SOURCE_ENDPOINT, pointers(_SE))
    field(_W_MID, list(map(len, message_ids)))
    field(_W_MID + 8, [s_base + off for off in mid_offsets[:-1]])
    strings_of(_W_WORKFLOW, columns[1])
    strings_of(_W_EXECUTION_ID, columns[2])
    field(_W_ATTEMPT, attempts)
    strings_of(_W_TARGET_NODE, columns[3])
    strings_of(_W_TARGET_PORT, columns[4])
    if all(has_source):
        field(_W_SOURCE, pointers(_SV))
        strings_of(_W_SOURCE_NODE, columns[5])
        strings_of(_W_SOURCE_PORT, columns[6])
    elif any(has_source):
        field(_W_SOURCE, [a if s else 0 for a, s in zip(pointers(_SV), has_source, strict=True)])
        strings_of(_W_SOURCE_NODE, columns[5])
        strings_of(_W_SOURCE_PORT, columns[6])

    # Payloads: the variant's case name, then the val (list<u8> or string).
    if all(is_bytes):
        field(_W_CASE_SIZE, [_BYTES_CASE[0]] * n)
        field(_W_CASE_NAME, [_BYTES_CASE[1]] * n)
        buf[blocks + _PV : elements : BLOCK] = bytes((K_LIST,)) * n
        sizes = list(map(len, byte_payloads))
        starts = itertools.accumulate([z * VAL for z in sizes], initial=base + elements)
        field(_W_PAYLOAD_SIZE, sizes)
        field(_W_PAYLOAD_SIZE + 8, [a if z else 0 for a, z in zip(starts, sizes, strict=False)])
    else:
        field(_W_CASE_SIZE, [_BYTES_CASE[0] if b else _CONTROL_CASE[0] for b in is_bytes])
        field(_W_CASE_NAME, [_BYTES_CASE[1] if b else _CONTROL_CASE[1] for b in is_bytes])
        buf[blocks + _PV : elements : BLOCK] = bytes(K_LIST if b else K_STRING for b in is_bytes)
        sizes = []
        addrs = []
        element_at = base + elements
        byte_sizes = iter(map(len, byte_payloads))
        text_sizes = iter(map(len, texts))
        text_at = iter(text_offsets)
        for b in is_bytes:
            if b:
                size = next(byte_sizes)
                sizes.append(size)
                addrs.append(element_at if size else 0)
                element_at += size * VAL
            else:
                sizes.append(next(text_sizes))
                addrs.append(s_base + next(text_at))
        field(_W_PAYLOAD_SIZE, sizes)
        field(_W_PAYLOAD_SIZE + 8, addrs)


def encode(batches: Sequence[RowBatch]) -> _Encoded:
    """Lay ``list<port-batch>`` out as C values in one buffer; ``root`` is the val's address.

    Up to :data:`_SMALL_BATCH` packets, each packet's block is written with one
    ``pack_into``; above, column by column. Raises :class:`WasmInputError` for a payload
    that is neither bytes nor str, or an attempt outside ``1..2**32-1``.
    """
    rows: list[PacketRow] = [row for _port, batch_rows in batches for row in batch_rows]
    if len(rows) <= _SMALL_BATCH:
        return _encode_small(batches, rows)
    return _encode_columns(batches, rows)


def _encode_columns(batches: Sequence[RowBatch], rows: list[PacketRow]) -> _Encoded:
    """The large-batch path of :func:`encode`."""
    n = len(rows)
    payloads = [row[6] for row in rows]
    is_bytes = [type(p) is bytes for p in payloads]
    if not all(is_bytes) and not all(type(p) is bytes or type(p) is str for p in payloads):
        raise WasmInputError("payload is not supported by WIT ABI 0.1.0")
    attempts = [row[3] for row in rows]
    if not (min(attempts) >= 1 and max(attempts) <= _MAX_ATTEMPT):
        raise WasmInputError("attempt must be between 1 and 2**32 - 1")

    # Strings: every distinct id once (they repeat), each message id and control text.
    sources = [row[4] for row in rows]
    has_source = [s is not None for s in sources]
    columns = (
        [port for port, _rows in batches],
        [row[1] for row in rows],  # workflow ids
        [row[2] for row in rows],  # execution ids
        [row[5][0] for row in rows],  # target nodes
        [row[5][1] for row in rows],  # target ports
        [s[0] if s is not None else "" for s in sources],
        [s[1] if s is not None else "" for s in sources],
    )
    shared: dict[str, tuple[int, int]] = {}  # text -> (size, offset in the strings area)
    parts: list[bytes] = []
    spos = 0
    for column_texts in columns:
        for text in set(column_texts).difference(shared):
            data = text.encode()
            shared[text] = (len(data), spos)
            parts.append(data)
            spos += len(data)
    message_ids = [row[0].encode() for row in rows]
    mid_offsets = list(itertools.accumulate(map(len, message_ids), initial=spos))
    parts += message_ids
    texts = [p.encode() for p in payloads if isinstance(p, str)]
    text_offsets = list(itertools.accumulate(map(len, texts), initial=mid_offsets[-1]))
    parts += texts
    strings = b"".join(parts)
    byte_payloads = [p for p in payloads if isinstance(p, bytes)]
    element_count = sum(map(len, byte_payloads))

    ports = [shared[port] for port in columns[0]]
    area = _Area(batches, ports, n, element_count, strings)
    buf, base, s_base = area.buf, area.base, area.s_base
    packet_vals, blocks, elements = area.packet_vals, area.blocks, area.elements
    buf[packet_vals:blocks] = _PACKET_VAL * n
    words = memoryview(buf).cast("Q")
    _write_columns(
        buf, words, base, packet_vals, blocks, elements, rows, columns, shared, s_base,
        message_ids, mid_offsets, attempts, has_source, is_bytes, byte_payloads,
        texts, text_offsets,
    )  # fmt: skip
    if element_count:
        end = elements + element_count * VAL
        buf[elements:end:VAL] = bytes((K_U8,)) * element_count
        buf[elements + OF : end : VAL] = b"".join(byte_payloads)
    return area.encoded()


# --------------------------------------------------------------------------------------
# Reading the result
# --------------------------------------------------------------------------------------


def _text(mem: memoryview, kind: int, size: int, ptr: int, what: str) -> str:
    if kind != K_STRING:
        raise WasmOutputError(f"guest returned non-string {what}")
    try:
        return str(mem[ptr : ptr + size], "utf-8") if size else ""
    except UnicodeDecodeError:  # pragma: no cover - wasmtime validates strings
        raise WasmOutputError(f"guest returned non-string {what}") from None


def _endpoint(mem: memoryview, kind: int, size: int, ptr: int) -> tuple[str, str]:
    if kind != K_RECORD or size != 2:
        raise WasmOutputError("guest returned non-record message endpoint")
    k0, s0, p0, _, k1, s1, p1, _ = _READ_REC2.unpack_from(mem, ptr)
    return (
        _text(mem, k0, s0, p0, "message endpoint field node-id"),
        _text(mem, k1, s1, p1, "message endpoint field port-id"),
    )


def _row_checked(mem: memoryview, kind: int, size: int, ptr: int) -> PacketRow:
    """:func:`_row` one check at a time: the error path, and its specification."""
    if kind != K_RECORD or size != 2:
        raise WasmOutputError("guest returned non-record packet")
    mk, ms, mp, _, pk, tag_size, tag_ptr, payload_ptr = _READ_REC2.unpack_from(mem, ptr)
    if mk != K_RECORD or ms != 4:
        raise WasmOutputError("guest returned non-record message metadata")
    (k0, s0, p0, _, k1, s1, p1, _, ek, es, ep, _, rk, rs, rp, _) = _READ_REC4.unpack_from(mem, mp)
    message_id = _text(mem, k0, s0, p0, "message metadata field message-id")
    workflow_id = _text(mem, k1, s1, p1, "message metadata field workflow-id")
    if ek != K_RECORD or es != 2:
        raise WasmOutputError("guest returned non-record execution metadata")
    xk, xs, xp, _, ak, attempt, _, _ = _READ_REC2.unpack_from(mem, ep)
    execution_id = _text(mem, xk, xs, xp, "execution metadata field execution-id")
    if ak != K_U32:
        raise WasmOutputError("guest returned non-u32 execution metadata field attempt")
    if rk != K_RECORD or rs != 2:
        raise WasmOutputError("guest returned non-record message route")
    sk, source_ptr, _, _, tk, ts, tp, _ = _READ_REC2.unpack_from(mem, rp)
    if sk != K_OPTION:
        raise WasmOutputError("guest returned non-option route source")
    source = _endpoint(mem, *_READ_VAL.unpack_from(mem, source_ptr)[:3]) if source_ptr else None
    target = _endpoint(mem, tk, ts, tp)
    if pk != K_VARIANT or not payload_ptr:
        raise WasmOutputError("guest returned non-variant payload")
    vk, vs, vp, _ = _READ_VAL.unpack_from(mem, payload_ptr)
    tag = bytes(mem[tag_ptr : tag_ptr + tag_size])
    data: bytes | str
    if tag == b"bytes":
        if vk != K_LIST:
            raise WasmOutputError("guest returned non-list bytes payload")
        raw = mem[vp : vp + vs * VAL]
        if raw[0::VAL] != bytes((K_U8,)) * vs:
            raise WasmOutputError("guest returned non-u8 byte payload element")
        data = raw[OF::VAL].tobytes()
    elif tag == b"control":
        data = _text(mem, vk, vs, vp, "control payload")
    else:
        raise WasmOutputError(
            f"guest returned unsupported payload variant: {str(tag, 'utf-8', 'replace')}"
        )
    return (message_id, workflow_id, execution_id, attempt & 0xFFFFFFFF, source, target, data)


_U8_KINDS: dict[int, bytes] = {}
_REC_OK: Final = (K_RECORD, 4, K_STRING, K_STRING, K_RECORD, 2, K_RECORD, 2)


def _row(mem: memoryview, kind: int, size: int, ptr: int) -> PacketRow:
    """One packet val as a row. The common, well-formed case is read with a few
    whole-record unpacks and one kind comparison per record; anything unexpected goes
    through :func:`_row_checked`, which names the problem."""
    if kind == K_RECORD and size == 2:
        mk, ms, mp, _, pk, tag_size, tag_ptr, payload_ptr = _READ_REC2.unpack_from(mem, ptr)
        if mk == K_RECORD and ms == 4 and pk == K_VARIANT and payload_ptr:
            (k0, s0, p0, _, k1, s1, p1, _, ek, es, ep, _, rk, rs, rp, _) = _READ_REC4.unpack_from(
                mem, mp
            )
            if (mk, ms, k0, k1, ek, es, rk, rs) == _REC_OK:
                xk, xs, xp, _, ak, attempt, _, _ = _READ_REC2.unpack_from(mem, ep)
                sk, source_ptr, _, _, tk, ts, tp, _ = _READ_REC2.unpack_from(mem, rp)
                if xk == K_STRING and ak == K_U32 and sk == K_OPTION and tk == K_RECORD and ts == 2:
                    nk, ns, np, _, qk, qs, qp, _ = _READ_REC2.unpack_from(mem, tp)
                    vk, vs, vp, _ = _READ_VAL.unpack_from(mem, payload_ptr)
                    source: tuple[str, str] | None = None
                    ok = nk == K_STRING and qk == K_STRING
                    if source_ptr and ok:
                        ok = False
                        ek_, es_, ep_, _ = _READ_VAL.unpack_from(mem, source_ptr)
                        if ek_ == K_RECORD and es_ == 2:
                            ak_, as_, ap_, _, bk_, bs_, bp_, _ = _READ_REC2.unpack_from(mem, ep_)
                            if ak_ == K_STRING and bk_ == K_STRING:
                                ok = True
                                source = (
                                    str(mem[ap_ : ap_ + as_], "utf-8"),
                                    str(mem[bp_ : bp_ + bs_], "utf-8"),
                                )
                    if ok:
                        data: bytes | str | None = None
                        if (
                            vk == K_LIST
                            and tag_size == 5
                            and bytes(mem[tag_ptr : tag_ptr + 5]) == b"bytes"
                        ):
                            raw = mem[vp : vp + vs * VAL]
                            kinds = _U8_KINDS.get(vs)
                            if kinds is None:
                                kinds = bytes((K_U8,)) * vs
                                if vs <= 4096:
                                    _U8_KINDS[vs] = kinds
                            if raw[0::VAL] == kinds:
                                data = raw[OF::VAL].tobytes()
                        elif (
                            vk == K_STRING
                            and tag_size == 7
                            and bytes(mem[tag_ptr : tag_ptr + 7]) == b"control"
                        ):
                            data = str(mem[vp : vp + vs], "utf-8")
                        if data is not None:
                            return (
                                str(mem[p0 : p0 + s0], "utf-8"),
                                str(mem[p1 : p1 + s1], "utf-8"),
                                str(mem[xp : xp + xs], "utf-8"),
                                attempt & 0xFFFFFFFF,
                                source,
                                (str(mem[np : np + ns], "utf-8"), str(mem[qp : qp + qs], "utf-8")),
                                data,
                            )
    return _row_checked(mem, kind, size, ptr)


def decode(result_addr: int) -> list[RowBatch]:
    """Read the ``result<list<port-batch>, batch-error>`` val at ``result_addr`` as rows
    (checked for shape; identifiers are the caller's to check)."""
    mem = _MEM
    assert mem is not None  # AVAILABLE
    kind, is_ok, val_ptr, _ = _READ_VAL.unpack_from(mem, result_addr)
    if kind != K_RESULT:
        raise WasmOutputError("guest returned non-result from batch.invoke")
    is_ok &= 0xFF
    if not val_ptr:
        if is_ok:
            raise WasmOutputError("guest returned empty ok result from batch.invoke")
        raise WasmOutputError("guest returned empty error from batch.invoke")
    inner = _READ_VAL.unpack_from(mem, val_ptr)
    if not is_ok:
        err_kind, tag_size, tag_ptr, detail_ptr = inner
        if err_kind != K_VARIANT:
            raise WasmGuestError("guest returned malformed batch error")
        tag = str(mem[tag_ptr : tag_ptr + tag_size], "utf-8", "replace")
        if not detail_ptr:
            raise WasmGuestError(f"guest returned {tag} without detail", tag=tag)
        dk, ds, dp, _ = _READ_VAL.unpack_from(mem, detail_ptr)
        if dk != K_STRING:
            raise WasmGuestError(f"guest returned malformed {tag} error", tag=tag)
        detail = _text(mem, dk, ds, dp, "batch error")
        raise WasmGuestError(f"guest returned {tag}: {detail}", tag=tag, detail=detail)
    list_kind, count, data_ptr, _ = inner
    if list_kind != K_LIST:
        raise WasmOutputError("guest returned non-list batch output")
    items: list[RowBatch] = []
    unpack_val = _READ_VAL.unpack_from
    for i in range(count):
        bk, bs, bp, _ = unpack_val(mem, data_ptr + i * VAL)
        if bk != K_RECORD or bs != 2:
            raise WasmOutputError("guest returned non-record port batch")
        k0, s0, p0, _, lk, ln, lp, _ = _READ_REC2.unpack_from(mem, bp)
        port = _text(mem, k0, s0, p0, "port batch field port-id")
        if lk != K_LIST:
            raise WasmOutputError("guest returned non-list port batch field packets")
        vals = _READ_VAL.iter_unpack(mem[lp : lp + ln * VAL]) if ln else ()
        items.append((port, [_row(mem, k, s, p) for k, s, p, _ in vals]))
    return items


def call_invoke(
    func: wasmtime.component.Func, store: wasmtime.Store, encoded: _Encoded
) -> list[RowBatch]:
    """Call ``invoke`` with the :func:`encode`-d arguments and decode its result as rows.

    wasmtime errors propagate as ``WasmtimeError``; ``err(batch-error)`` raises
    :class:`WasmGuestError` and a malformed value :class:`WasmOutputError`, like the
    generic path.
    """
    result = _VAL()
    args = ctypes.cast(ctypes.c_void_p(encoded.root), ctypes.POINTER(_VAL))
    error = ffi.wasmtime_component_func_call(
        ctypes.byref(func._func), store._context(), args, 1, ctypes.byref(result), 1
    )
    del encoded  # the call has copied the arguments
    if error:
        raise wasmtime.WasmtimeError._from_ptr(error)
    try:
        return decode(ctypes.addressof(result))
    finally:
        ffi.wasmtime_component_val_delete(ctypes.byref(result))
