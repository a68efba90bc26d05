"""Schema references, contracts, capability descriptors and enforcement levels."""

from __future__ import annotations

import pytest
from pureflow.contract import (
    ConflictingPortDirection,
    ContractError,
    Determinism,
    DuplicateEffect,
    DuplicatePortCapability,
    DuplicatePortContract,
    EffectCapability,
    EmptySchemaRef,
    EnforcementLevel,
    ExecutionMode,
    NodeCapabilities,
    NodeContract,
    PortCapability,
    PortCapabilityDirection,
    PortContract,
    RetryDisposition,
    SchemaRef,
    allowed_effects,
    enforcement_for,
)
from pureflow.types import NodeId, PortId
from pureflow.workflow import NodeDefinition, PortDirection

IN, OUT = PortDirection.INPUT, PortDirection.OUTPUT


@pytest.mark.parametrize("text", ["schema://packet/v1", " padded ", "a b", "é"])
def test_schema_refs_round_trip_verbatim(text: str) -> None:
    ref = SchemaRef(text)
    assert ref == text
    assert ref.as_str() == text
    assert str(ref) == text
    assert SchemaRef(ref) is ref


@pytest.mark.parametrize("text", ["", "   ", "\t\u2028"])
def test_blank_schema_refs_are_rejected(text: str) -> None:
    with pytest.raises(EmptySchemaRef) as info:
        SchemaRef(text)
    assert str(info.value) == "schema reference cannot be empty"
    assert info.value.code == "contract.empty_schema_ref"
    assert isinstance(info.value, ContractError)


def test_schema_refs_are_case_sensitive_and_ordered() -> None:
    assert SchemaRef("A") != SchemaRef("a")
    assert sorted([SchemaRef("b"), SchemaRef("a")]) == ["a", "b"]


def test_labels() -> None:
    assert [m.label for m in ExecutionMode] == ["native", "wasm", "process"]
    assert [d.label for d in Determinism] == ["deterministic", "non_deterministic", "unknown"]
    assert [r.label for r in RetryDisposition] == ["never", "safe", "unknown"]
    assert [e.label for e in EnforcementLevel] == ["advisory", "strict"]
    assert [d.label for d in PortCapabilityDirection] == ["receive", "emit"]
    assert [e.label for e in EffectCapability] == [
        "filesystem_read",
        "filesystem_write",
        "network_outbound",
        "external_effect",
        "process_spawn",
        "environment_read",
        "environment_write",
        "clock",
    ]
    assert sorted([EffectCapability.CLOCK, EffectCapability.FILESYSTEM_READ]) == [
        EffectCapability.FILESYSTEM_READ,
        EffectCapability.CLOCK,
    ]


def test_duplicate_contract_port_whatever_the_direction() -> None:
    with pytest.raises(DuplicatePortContract) as info:
        NodeContract.new("worker", [PortContract.of("in", IN), PortContract.of("in", OUT)])
    assert (info.value.node_id, info.value.port_id) == ("worker", "in")
    assert str(info.value) == "node `worker` declares duplicate contract port `in`"


def test_contract_defaults_and_lookup() -> None:
    contract = NodeContract.new("n", [PortContract.of("in", IN, "schema://x")])
    assert contract.execution_mode is ExecutionMode.NATIVE
    assert contract.determinism is Determinism.UNKNOWN
    assert contract.retry is RetryDisposition.UNKNOWN
    assert contract.port("in") == PortContract(PortId("in"), IN, SchemaRef("schema://x"))
    assert contract.port("out") is None


def test_passive_contract_and_capabilities_for_a_node() -> None:
    node = NodeDefinition.of("t", ["a", "b"], ["c"])
    contract = NodeContract.passive_for(node)
    assert [(p.port_id, p.direction, p.schema) for p in contract.ports] == [
        ("a", IN, None),
        ("b", IN, None),
        ("c", OUT, None),
    ]
    caps = NodeCapabilities.passive_for(node)
    assert caps.ports == (
        PortCapability.receive("a"),
        PortCapability.receive("b"),
        PortCapability.emit("c"),
    )
    assert caps.effects == ()


def test_capability_construction_order_and_messages() -> None:
    with pytest.raises(DuplicateEffect) as effect:
        NodeCapabilities.new(
            "n",
            [PortCapability.receive("p"), PortCapability.receive("p")],
            [EffectCapability.CLOCK, EffectCapability.CLOCK],
        )
    # Fix: the stable label, not Rust's Debug name `Clock`.
    assert str(effect.value) == "node `n` declares duplicate effect capability `clock`"
    assert effect.value.code == "capability.duplicate_effect"
    with pytest.raises(DuplicatePortCapability) as port:
        NodeCapabilities.new(
            "n",
            [PortCapability.emit("z"), PortCapability.receive("p"), PortCapability.receive("p")],
        )
    assert str(port.value) == "node `n` declares duplicate receive capability for port `p`"
    with pytest.raises(ConflictingPortDirection) as conflict:
        NodeCapabilities.new(
            "n",
            [
                PortCapability.receive("z"),
                PortCapability.emit("z"),
                PortCapability.emit("b"),
                PortCapability.receive("b"),
            ],
        )
    assert conflict.value.port_id == "b"  # the smallest conflicting port
    assert str(conflict.value) == "node `n` declares port `b` for both receive and emit"


def test_capability_queries() -> None:
    caps = NodeCapabilities.native_passive("n", [PortCapability.receive("in")])
    assert caps.node_id == NodeId("n")
    assert caps.allows_port("in", PortCapabilityDirection.RECEIVE)
    assert not caps.allows_port("in", PortCapabilityDirection.EMIT)
    assert not caps.allows_effect(EffectCapability.CLOCK)
    assert caps.claim_for("in") is PortCapabilityDirection.RECEIVE
    assert caps.claim_for("out") is None


def test_enforcement_levels_and_allowlists() -> None:
    assert enforcement_for(ExecutionMode.NATIVE) is EnforcementLevel.ADVISORY
    assert enforcement_for(ExecutionMode.WASM) is EnforcementLevel.STRICT
    assert enforcement_for(ExecutionMode.PROCESS) is EnforcementLevel.STRICT
    assert allowed_effects(ExecutionMode.NATIVE) == frozenset(EffectCapability)
    assert allowed_effects(ExecutionMode.WASM) == {
        EffectCapability.FILESYSTEM_READ,
        EffectCapability.FILESYSTEM_WRITE,
        EffectCapability.ENVIRONMENT_READ,
    }
    assert allowed_effects(ExecutionMode.PROCESS) == frozenset()
