"""The parts of the Ray backend that need no Ray: the batch codec and placement."""

from __future__ import annotations

import itertools
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pureflow.core import (
    ExecutionMetadata,
    MessageEndpoint,
    MessageRoute,
    Packet,
    PacketPayload,
    PayloadKind,
)
from pureflow.core.batch import Batch
from pureflow.core.packets import PacketTags
from pureflow.engine import Flow
from pureflow.ray import PayloadNotSendable, decode_batch, encode_batch, plan_hosts
from pureflow.ray.placement import assign_machines

ROUTE = MessageRoute(MessageEndpoint("a", "out"), MessageEndpoint("b", "in"))
EXECUTION = ExecutionMetadata.first_attempt("run-7")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=5,
)
values = st.lists(st.binary(max_size=8), max_size=20) | st.lists(json_values, max_size=20)


def same(left: Batch, right: Batch) -> None:
    assert list(left) == list(right)
    assert left.message_ids() == right.message_ids()
    assert [p.route for p in left] == [p.route for p in right]


@given(values, st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=5))
def test_a_numbered_batch_round_trips(column: list[object], first: int, cut: int) -> None:
    kind = PayloadKind.BYTES if all(isinstance(v, bytes) for v in column) else PayloadKind.CONTROL
    batch = Batch.numbered("a-out-", first, "wf", EXECUTION, ROUTE, kind, column)
    view = batch[min(cut, len(batch)) :]  # a view with an offset (an edge split it)
    same(decode_batch(encode_batch(view, "a.out -> b.in")), view)


def test_kept_packets_round_trip_with_tags_and_mixed_kinds() -> None:
    packets = [
        Packet.create("m-1", "wf", EXECUTION, ROUTE, PacketPayload.bytes(b"x")),
        Packet.create("m-2", "wf", EXECUTION, ROUTE, PacketPayload.control({"k": [1]})),
        Packet.create("m-3", "wf", EXECUTION, ROUTE, PacketPayload.structured((1, "a"))).with_tags(
            PacketTags({"lane": "fast"}, hops=2)
        ),
    ]
    batch = Batch.of_packets(packets)
    decoded = decode_batch(encode_batch(batch, "a.out -> b.in"))
    same(decoded, batch)
    assert decoded[2].tags == {"lane": "fast"}
    assert decoded[2].hops == 2


def test_a_mixed_column_round_trips() -> None:
    payloads = [PacketPayload.bytes(b"x"), PacketPayload.control(3)]
    batch = Batch.numbered("a-out-", 5, "wf", EXECUTION, ROUTE, None, payloads)
    same(decode_batch(encode_batch(batch, "e")), batch)


def test_an_unpicklable_value_names_the_edge_and_the_packet() -> None:
    column = [b"fine", threading.Lock()]
    batch = Batch.numbered("a-out-", 0, "wf", EXECUTION, ROUTE, PayloadKind.STRUCTURED, column)
    with pytest.raises(PayloadNotSendable) as raised:
        encode_batch(batch, "a.out -> b.in")
    message = str(raised.value)
    assert message.startswith("edge `a.out -> b.in`: packet `a-out-1` carries a lock")
    assert "\n" not in message


def chain(length: int) -> Flow:
    flow = Flow("chain")
    names = [f"n{i}" for i in range(length)]
    for name in names:
        flow.add(name, component="builtin:identity")
    for left, right in itertools.pairwise(names):
        flow.connect(f"{left}.out", f"{right}.in")
    return flow


def test_a_chain_is_cut_into_contiguous_runs() -> None:
    workflow = chain(7).build()
    assert plan_hosts(workflow, 3) == [["n0", "n1", "n2"], ["n3", "n4"], ["n5", "n6"]]
    assert plan_hosts(workflow, None) == [[f"n{i}"] for i in range(7)]
    assert plan_hosts(workflow, 1) == [[f"n{i}" for i in range(7)]]


def test_nodes_apart_get_their_own_host() -> None:
    workflow = chain(5).build()
    assert plan_hosts(workflow, 1, alone={"n2"}) == [["n0", "n1", "n3", "n4"], ["n2"]]
    assert plan_hosts(workflow, 2, alone={"n0"}) == [["n0"], ["n1", "n2"], ["n3", "n4"]]


def test_hosts_go_round_robin_over_machines() -> None:
    assert assign_machines(5, ["m1", "m2"]) == ["m1", "m2", "m1", "m2", "m1"]
    assert assign_machines(2, []) == [None, None]
