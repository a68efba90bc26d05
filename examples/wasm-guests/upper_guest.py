"""A WebAssembly guest in Python: upper-case every packet, bytes or text.

Build: pureflow wasm build upper_guest.py -o build/upper-py.wasm (componentize-py).
"""

import json

from wit_world import exports
from wit_world.exports.batch import Packet, Payload_Bytes, Payload_Control, PortBatch


class Batch(exports.Batch):
    def invoke(self, inputs: list[PortBatch]) -> list[PortBatch]:
        out = []
        for batch in inputs:
            for packet in batch.packets:
                payload = packet.payload
                if isinstance(payload, Payload_Bytes):
                    payload = Payload_Bytes(payload.value.upper())
                elif isinstance(payload, Payload_Control):
                    value = json.loads(payload.value)
                    if isinstance(value, str):
                        value = value.upper()
                    payload = Payload_Control(json.dumps(value))
                out.append(Packet(packet.metadata, payload))
        return [PortBatch("out", out)]
