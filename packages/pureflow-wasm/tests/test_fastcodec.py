"""The bulk C-value codec agrees with wasmtime-py's generic conversion, value for value."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pureflow.wasm import (
    GuestBytes,
    GuestControl,
    GuestEndpoint,
    GuestExecution,
    GuestMessageMetadata,
    GuestPacket,
    GuestRoute,
    PortBatch,
    WasmComponent,
    _fastcodec,
)
from pureflow.wasm.abi import rows_from_port_batches

pytestmark = pytest.mark.skipif(not _fastcodec.AVAILABLE, reason="fast codec not available")

ident = st.text(
    alphabet=st.characters(
        min_codepoint=0x21,
        max_codepoint=0x2FFF,
        blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"),
    ),
    min_size=1,
    max_size=12,
)
endpoint = st.builds(GuestEndpoint, ident, ident)
packets = st.builds(
    GuestPacket,
    st.builds(
        GuestMessageMetadata,
        ident,
        ident,
        st.builds(GuestExecution, ident, st.integers(1, 2**32 - 1)),
        st.builds(GuestRoute, st.none() | endpoint, endpoint),
    ),
    st.builds(GuestBytes, st.binary(max_size=64)),
)
batches = st.lists(
    st.builds(PortBatch, ident, st.lists(packets, max_size=4).map(tuple)),
    max_size=3,
    unique_by=lambda b: b.port_id,
)


def reference(inputs: list[PortBatch]) -> list[PortBatch]:
    out = [
        GuestPacket(p.metadata, GuestBytes(p.payload.data.upper()))  # type: ignore[union-attr]
        for b in inputs
        for p in b.packets
    ]
    return [PortBatch("out", tuple(out))] if out else []  # type: ignore[arg-type]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(inputs=batches)
def test_fast_and_generic_codecs_agree_on_the_uppercase_guest(
    uppercase: WasmComponent, inputs: list[PortBatch]
) -> None:
    fast = uppercase.with_limits(uppercase.limits)
    generic = uppercase.with_limits(uppercase.limits)
    generic.fast_codec = False
    expected = reference(inputs)
    assert fast.invoke(inputs) == expected
    assert generic.invoke(inputs) == expected


def test_control_payloads_cross_the_fast_path(guests: object) -> None:
    """Control text (with non-ASCII) encodes and decodes through the fast path."""
    wasm = guests.constant_output_wasm(  # type: ignore[attr-defined]
        [{"port-id": "out", "packets": [guests.packet_json(control='{"name":"Zoë ✓"}')]}]  # type: ignore[attr-defined]
    )
    component = WasmComponent.load(wasm, cache=False)
    (batch,) = component.invoke(
        [
            PortBatch(
                "in",
                [
                    GuestPacket(  # type: ignore[arg-type]
                        GuestMessageMetadata(
                            "m",
                            "flow",
                            GuestExecution("r"),
                            GuestRoute(None, GuestEndpoint("n", "in")),
                        ),  # type: ignore[arg-type]
                        GuestControl('{"ünï":"cödé"}'),
                    )
                ],
            )
        ]
    )
    assert batch.packets[0].payload == GuestControl('{"name":"Zoë ✓"}')


def test_encoded_buffer_layout() -> None:
    rows = rows_from_port_batches(
        [
            PortBatch(
                "in",  # type: ignore[arg-type]
                [
                    GuestPacket(
                        GuestMessageMetadata(
                            "m",
                            "flow",
                            GuestExecution("r"),  # type: ignore[arg-type]
                            GuestRoute(None, GuestEndpoint("n", "in")),  # type: ignore[arg-type]
                        ),
                        GuestBytes(b"abc"),
                    )
                ],
            )
        ]
    )
    encoded = _fastcodec.encode(rows)
    kind, count, _, _ = _fastcodec._READ_VAL.unpack_from(_fastcodec._MEM, encoded.root)
    assert (kind, count) == (_fastcodec.K_LIST, 1)
