"""The original's uppercase guest (spec 4 §5.1), written in Python for componentize-py.

Every packet of every input port, in order, goes to port ``out`` with its metadata
unchanged and its bytes ASCII-uppercased; a control payload fails the whole call with
``unsupported-payload``. Build: ``python -m pureflow.wasm.build uppercase_guest.py -o
uppercase.wasm``.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.batch import (
    BatchError_UnsupportedPayload,
    Packet,
    Payload_Bytes,
    PortBatch,
)


class Batch(exports.Batch):
    def invoke(self, inputs: list[PortBatch]) -> list[PortBatch]:
        packets = []
        for batch in inputs:
            for packet in batch.packets:
                if not isinstance(packet.payload, Payload_Bytes):
                    raise Err(
                        BatchError_UnsupportedPayload("uppercase guest accepts only bytes payloads")
                    )
                packets.append(Packet(packet.metadata, Payload_Bytes(packet.payload.value.upper())))
        return [PortBatch("out", packets)]
