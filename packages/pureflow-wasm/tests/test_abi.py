"""The WIT mirror: constants, the shipped WIT, conversions and the decoder's messages."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from pureflow.wasm import (
    WIT_PACKAGE,
    WIT_WORLD,
    GuestBytes,
    GuestControl,
    GuestEndpoint,
    GuestExecution,
    GuestMessageMetadata,
    GuestPacket,
    GuestRoute,
    PortBatch,
    WasmGuestError,
    WasmInputError,
    WasmOutputError,
    decode_invoke_result,
    encode_port_batches,
    port_batches_from_json,
    port_batches_to_json,
    wit_path,
)
from pureflow.wasm.abi import canonical_json, decode_port_batches
from pureflow.wasm.errors import WasmError, WasmTrapError
from pureflow.wasm.wit import WIT_EXPORT, wit_dir, wit_text
from wasmtime.component import Record, Variant

TESTDATA = Path(__file__).resolve().parent / "testdata"


def meta(message_id: str = "msg-1") -> GuestMessageMetadata:
    return GuestMessageMetadata(
        message_id,  # type: ignore[arg-type]
        "flow",  # type: ignore[arg-type]
        GuestExecution("run-1"),  # type: ignore[arg-type]
        GuestRoute(GuestEndpoint("source", "out"), GuestEndpoint("wasm", "in")),  # type: ignore[arg-type]
    )


def rec(**fields: object) -> Record:
    record = Record()
    for name, value in fields.items():
        setattr(record, name.replace("_", "-"), value)
    return record


def wire_packet(**overrides: object) -> Record:
    endpoint = rec(node_id="source", port_id="out")
    fields: dict[str, object] = {
        "message_id": "msg-1",
        "workflow_id": "flow",
        "execution": rec(execution_id="run-1", attempt=1),
        "route": rec(source=endpoint, target=rec(node_id="wasm", port_id="in")),
    }
    payload = overrides.pop("payload", b"x")
    fields.update(overrides)
    return rec(metadata=rec(**fields), payload=payload)


def test_constants_and_shipped_wit() -> None:
    assert WIT_PACKAGE == "pureflow:batch@0.1.0"
    assert WIT_WORLD == "pureflow-node"
    assert WIT_EXPORT == "pureflow:batch/batch@0.1.0"
    assert wit_path().parent == wit_dir()
    text = wit_text()
    assert "package pureflow:batch@0.1.0;" in text
    assert "world pureflow-node { export batch; }" in text
    assert (
        "invoke: func(inputs: list<port-batch>) -> result<list<port-batch>, batch-error>;" in text
    )
    assert "import" not in text.rsplit("world", 1)[1]


def test_testdata_round_trips_through_json() -> None:
    raw = json.loads((TESTDATA / "inputs.json").read_text())
    batches = port_batches_from_json(raw)
    assert [b.port_id for b in batches] == ["in"]
    assert [p.metadata.message_id for p in batches[0].packets] == ["msg-1", "msg-2"]
    assert batches[0].packets[0].payload == GuestBytes(b"hello from wasm")
    assert port_batches_to_json(batches) == raw


def test_dataclasses_validate_identifiers_and_attempt() -> None:
    with pytest.raises(ValueError, match="must not contain whitespace"):
        GuestEndpoint("bad node", "out")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="attempt"):
        GuestExecution("run-1", 0)  # type: ignore[arg-type]
    batch = PortBatch("in", [GuestPacket(meta(), GuestBytes(b"x"))])  # type: ignore[arg-type]
    assert isinstance(batch.packets, tuple)


def test_control_payload_is_compact_sorted_json() -> None:
    assert canonical_json({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'
    control = GuestControl.from_value({"op": "flush", "at": 3})
    assert control.text == '{"at":3,"op":"flush"}'
    assert control.value() == {"op": "flush", "at": 3}


def test_encode_uses_kebab_case_records_and_untagged_payloads() -> None:
    batches = [
        PortBatch("in", [GuestPacket(meta(), GuestBytes(b"hi"))]),  # type: ignore[arg-type]
        PortBatch("control", [GuestPacket(meta("m2"), GuestControl('{"op":"flush"}'))]),  # type: ignore[arg-type]
    ]
    (first, second) = encode_port_batches(batches)
    assert first.__dict__["port-id"] == "in"
    packet = first.__dict__["packets"][0]
    assert packet.payload == b"hi"
    md = packet.metadata.__dict__
    assert md["message-id"] == "msg-1"
    assert md["execution"].__dict__ == {"execution-id": "run-1", "attempt": 1}
    assert md["route"].__dict__["source"].__dict__ == {"node-id": "source", "port-id": "out"}
    assert second.__dict__["packets"][0].payload == '{"op":"flush"}'


def test_encode_rejects_a_payload_the_wit_cannot_carry() -> None:
    bad = GuestPacket(meta(), object())  # type: ignore[arg-type]
    with pytest.raises(
        WasmInputError, match=r"payload is not supported by WIT ABI 0\.1\.0"
    ) as info:
        encode_port_batches([PortBatch("in", [bad])])  # type: ignore[arg-type]
    assert info.value.code == "WASM-INPUT-001"


def test_decode_ok_result_and_codec_round_trip() -> None:
    value = [rec(port_id="out", packets=[wire_packet(), wire_packet(payload='{"op":"flush"}')])]
    (batch,) = decode_invoke_result(value)
    assert batch.port_id == "out"
    assert batch.packets[0].payload == GuestBytes(b"x")
    assert batch.packets[1].payload == GuestControl('{"op":"flush"}')
    assert batch.packets[0].metadata == meta()


@pytest.mark.parametrize(
    ("error", "message", "tag"),
    [
        (Variant("guest-failure", "boom"), "guest returned guest-failure: boom", "guest-failure"),
        (
            Variant("unsupported-payload", "only bytes"),
            "guest returned unsupported-payload: only bytes",
            "unsupported-payload",
        ),
        (
            Variant("guest-failure", None),
            "guest returned guest-failure without detail",
            "guest-failure",
        ),
        (
            Variant("guest-failure", 7),
            "guest returned malformed guest-failure error",
            "guest-failure",
        ),
        ("boom", "guest returned malformed batch error", ""),
    ],
)
def test_decode_batch_error(error: object, message: str, tag: str) -> None:
    with pytest.raises(WasmGuestError) as info:
        decode_invoke_result(Variant("err", error))
    assert str(info.value) == message
    assert info.value.code == "WASM-GUEST-001"
    assert info.value.tag == tag


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "guest returned empty ok result from batch.invoke"),
        (Variant("ok", None), "guest returned empty ok result from batch.invoke"),
        (Variant("err", None), "guest returned empty error from batch.invoke"),
        (Variant("maybe", 1), "guest returned non-result from batch.invoke"),
        ("nope", "guest returned non-list batch output"),
        ([1], "guest returned non-record port batch"),
        ([rec(packets=[])], "guest omitted port batch field port-id"),
        ([rec(port_id=5, packets=[])], "guest returned non-string port batch field port-id"),
        ([rec(port_id="out", packets=[1])], "guest returned non-record packet"),
        ([rec(port_id="out", packets=[rec(payload=b"")])], "guest omitted packet field metadata"),
        (
            [rec(port_id="out", packets=[wire_packet(execution=rec(execution_id="r", attempt=0))])],
            "guest returned zero execution attempt",
        ),
        (
            [
                rec(
                    port_id="out",
                    packets=[wire_packet(execution=rec(execution_id="r", attempt=-1))],
                )
            ],
            "guest returned non-u32 execution metadata field attempt",
        ),
        (
            [rec(port_id="out", packets=[wire_packet(execution="x")])],
            "guest returned non-record execution metadata",
        ),
        (
            [
                rec(
                    port_id="out",
                    packets=[wire_packet(route=rec(source=Variant("some", 1), target=None))],
                )
            ],
            "guest returned non-option route source",
        ),
        (
            [rec(port_id="out", packets=[wire_packet(payload=Variant("arrow", b""))])],
            "guest returned unsupported payload variant: arrow",
        ),
        (
            [rec(port_id="out", packets=[wire_packet(payload=Variant("control", 3))])],
            "guest returned non-string control payload",
        ),
        (
            [rec(port_id="out", packets=[wire_packet(payload=[300])])],
            "guest returned non-u8 byte payload element",
        ),
        (
            [rec(port_id="out", packets=[wire_packet(payload=3.5)])],
            "guest returned non-variant payload",
        ),
        (
            [rec(port_id="out", packets=[wire_packet(message_id="bad id")])],
            "identifier validation failed: message id must not contain whitespace",
        ),
        (
            [rec(port_id="bad port", packets=[])],
            "identifier validation failed: port id must not contain whitespace",
        ),
        (
            [rec(port_id="out", packets=[]), rec(port_id="out", packets=[])],
            "guest returned duplicate port batch `out`",
        ),
    ],
)
def test_decode_rejects_malformed_output(value: object, message: str) -> None:
    with pytest.raises(WasmOutputError) as info:
        decode_invoke_result(value)
    assert str(info.value) == message
    assert info.value.code == "WASM-OUTPUT-001"


def test_decode_rejects_control_text_that_is_not_json() -> None:
    with pytest.raises(WasmOutputError, match=r"^guest returned invalid control payload: "):
        decode_invoke_result([rec(port_id="out", packets=[wire_packet(payload="not-json")])])


def test_decode_drops_ports_without_packets() -> None:
    assert decode_port_batches([rec(port_id="out", packets=[])]) == []


def test_error_codes_are_distinct_and_errors_pickle() -> None:
    from pureflow.wasm import errors

    classes = [getattr(errors, name) for name in errors.__all__ if name != "WasmError"]
    codes = [cls.code for cls in classes]
    assert len(set(codes)) == len(codes)
    assert all(issubclass(cls, WasmError) for cls in classes)
    guest = WasmGuestError("guest returned guest-failure: boom", tag="guest-failure", detail="boom")
    again = pickle.loads(pickle.dumps(guest))
    assert (again.message, again.tag, again.detail) == (guest.message, "guest-failure", "boom")
    trap = pickle.loads(pickle.dumps(WasmTrapError("t", guest_stderr="tb")))
    assert trap.guest_stderr == "tb"
    assert guest.coded_message == "WASM-GUEST-001: guest returned guest-failure: boom"
