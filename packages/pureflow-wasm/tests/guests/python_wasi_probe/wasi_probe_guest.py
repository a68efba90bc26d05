"""A Python guest that tries to reach outside its sandbox, to test the WASI policy.

Each input packet is a control payload naming one operation; each answer goes to port
``out`` as a control payload ``{"ok": <value>}``. A failing operation fails the call
with ``guest-failure: <ExceptionType>: <message>``.

- ``{"op": "read", "path": P}``: the text of file P;
- ``{"op": "write", "path": P, "text": T}``: writes T to P;
- ``{"op": "env", "name": N}``: ``os.environ.get(N)`` (null when not visible);
- ``{"op": "listdir", "path": P}``: the sorted names in directory P;
- ``{"op": "print", "text": T}``: prints T to stdout and ``err: T`` to stderr;
- ``{"op": "allocate", "mib": M}``: holds M MiB of bytes (to test the memory limit);
- ``{"op": "spin"}``: loops forever (to test deadlines and cancellation);
- ``{"op": "sleep", "seconds": S}``: ``time.sleep(S)``, which waits inside a WASI host call
  (a monotonic-clock pollable): epoch interruption cannot reach it;
- ``{"op": "crash", "error": E}``: raises E (``RuntimeError`` or ``MemoryError``) out of
  ``invoke`` instead of returning an error, as a buggy guest would.
"""

import json
import os
import sys
import time

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.batch import (
    BatchError_GuestFailure,
    Packet,
    Payload_Control,
    PortBatch,
)

_hold = []


def _run(op):
    kind = op["op"]
    if kind == "read":
        with open(op["path"], encoding="utf-8") as handle:
            return handle.read()
    if kind == "write":
        with open(op["path"], "w", encoding="utf-8") as handle:
            handle.write(op["text"])
        return len(op["text"])
    if kind == "env":
        return os.environ.get(op["name"])
    if kind == "listdir":
        return sorted(os.listdir(op["path"]))
    if kind == "print":
        print(op["text"])
        print("err: " + op["text"], file=sys.stderr)
        return None
    if kind == "sleep":
        time.sleep(op["seconds"])
        return op["seconds"]
    if kind == "spin":
        while True:
            pass
    if kind == "allocate":
        _hold.append(bytearray(op["mib"] * 1024 * 1024))
        return op["mib"]
    raise ValueError("unknown op " + kind)


class Batch(exports.Batch):
    def invoke(self, inputs: list[PortBatch]) -> list[PortBatch]:
        answers = []
        for batch in inputs:
            for packet in batch.packets:
                op = json.loads(packet.payload.value)
                if op["op"] == "crash":
                    if op["error"] == "MemoryError":
                        _hold.append(bytearray(1024 * 1024 * 1024))
                    raise RuntimeError("guest crashed on purpose")
                try:
                    value = _run(op)
                except Exception as err:
                    raise Err(BatchError_GuestFailure(f"{type(err).__name__}: {err}")) from None
                answers.append(Packet(packet.metadata, Payload_Control(json.dumps({"ok": value}))))
        return [PortBatch("out", answers)]
