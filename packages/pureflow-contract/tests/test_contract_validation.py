"""Checking contracts and capability descriptors against a workflow."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pureflow.contract import (
    CapabilityDirectionMismatch,
    ContractCapabilityError,
    ContractError,
    DuplicateCapabilityDescriptor,
    DuplicateContract,
    EffectCapability,
    ExecutionMode,
    MissingCapabilityDescriptor,
    MissingContract,
    MissingPortCapability,
    NodeCapabilities,
    NodeContract,
    PortCapability,
    PortContract,
    PortDirectionMismatch,
    SchemaMismatch,
    UnenforceableEffectCapability,
    UnknownCapabilityNode,
    UnknownCapabilityPort,
    UnknownWorkflowNode,
    UnknownWorkflowPort,
    capability_errors,
    check_enforceable,
    contract_errors,
    validate_workflow_capabilities,
    validate_workflow_contracts,
)
from pureflow.workflow import EdgeDefinition, NodeDefinition, PortDirection, WorkflowDefinition

IN, OUT = PortDirection.INPUT, PortDirection.OUTPUT


def pipeline() -> WorkflowDefinition:
    return WorkflowDefinition.from_parts(
        "flow",
        [NodeDefinition.of("source", [], ["out"]), NodeDefinition.of("sink", ["in"], [])],
        [EdgeDefinition.between(("source", "out"), ("sink", "in"))],
    )


def contracts(
    source_schema: str | None = "schema://packet",
    sink_schema: str | None = "schema://packet",
    mode: ExecutionMode = ExecutionMode.NATIVE,
) -> list[NodeContract]:
    return [
        NodeContract.new("source", [PortContract.of("out", OUT, source_schema)], mode),
        NodeContract.new("sink", [PortContract.of("in", IN, sink_schema)]),
    ]


def passive(workflow: WorkflowDefinition) -> list[NodeCapabilities]:
    return [NodeCapabilities.passive_for(node) for node in workflow.nodes]


def with_effects(effects: Iterable[EffectCapability]) -> list[NodeCapabilities]:
    return [
        NodeCapabilities.new("source", [PortCapability.emit("out")], effects),
        NodeCapabilities.new("sink", [PortCapability.receive("in")]),
    ]


def first_error(
    workflow: WorkflowDefinition,
    node_contracts: list[NodeContract],
    caps: list[NodeCapabilities],
) -> ContractError:
    with pytest.raises(ContractError) as info:
        validate_workflow_contracts(workflow, node_contracts, caps)
    return info.value


def test_matching_contracts_validate() -> None:
    workflow = pipeline()
    validate_workflow_contracts(workflow, contracts(), passive(workflow))
    assert contract_errors(workflow, contracts(), passive(workflow)) == []


@pytest.mark.parametrize(("a", "b"), [(None, "schema://x"), ("schema://x", None), (None, None)])
def test_a_missing_schema_is_compatible(a: str | None, b: str | None) -> None:
    workflow = pipeline()
    validate_workflow_contracts(workflow, contracts(a, b), passive(workflow))


def test_schema_mismatch() -> None:
    workflow = pipeline()
    error = first_error(workflow, contracts("packet-a", "packet-b"), passive(workflow))
    assert isinstance(error, SchemaMismatch)
    assert str(error) == "edge 0 from `source:out` to `sink:in` has incompatible schemas"
    assert error.code == "contract.schema_mismatch"


def test_missing_capability_descriptor() -> None:
    error = first_error(pipeline(), contracts(), [])
    assert isinstance(error, MissingCapabilityDescriptor)
    assert error.node_id == "source"
    assert str(error) == "no capability descriptor supplied for workflow node `source`"


def test_fix_missing_contract_has_its_own_error() -> None:
    workflow = pipeline()
    error = first_error(workflow, contracts()[1:], passive(workflow))
    assert isinstance(error, MissingContract)
    assert str(error) == "no contract supplied for workflow node `source`"
    assert error.code == "contract.missing_contract"


def test_contract_for_an_unknown_node() -> None:
    workflow = pipeline()
    ghost = NodeContract.new("ghost", [])
    error = first_error(workflow, [*contracts(), ghost], passive(workflow))
    assert isinstance(error, UnknownWorkflowNode)
    assert str(error) == "contract references unknown workflow node `ghost`"


def test_fix_duplicate_contracts_are_an_error() -> None:
    workflow = pipeline()
    error = first_error(workflow, [*contracts(), contracts()[0]], passive(workflow))
    assert isinstance(error, DuplicateContract)
    assert error.node_id == "source"
    assert error.code == "contract.duplicate_contract"


def test_fix_duplicate_descriptors_are_an_error() -> None:
    workflow = pipeline()
    caps = [*passive(workflow), passive(workflow)[1]]
    error = first_error(workflow, contracts(), caps)
    assert isinstance(error, ContractCapabilityError)
    assert isinstance(error.error, DuplicateCapabilityDescriptor)
    assert str(error) == (
        "capability validation failed: more than one capability descriptor supplied for node `sink`"
    )
    with pytest.raises(DuplicateCapabilityDescriptor):
        validate_workflow_capabilities(workflow, caps)


def test_native_effects_are_advisory() -> None:
    workflow = pipeline()
    validate_workflow_contracts(workflow, contracts(), with_effects(EffectCapability))


def test_wasm_with_passive_capabilities_is_ok() -> None:
    workflow = pipeline()
    validate_workflow_contracts(workflow, contracts(mode=ExecutionMode.WASM), passive(workflow))


@pytest.mark.parametrize("mode", [ExecutionMode.WASM, ExecutionMode.PROCESS])
def test_strict_boundaries_reject_the_clock(mode: ExecutionMode) -> None:
    error = first_error(pipeline(), contracts(mode=mode), with_effects([EffectCapability.CLOCK]))
    assert isinstance(error, ContractCapabilityError)
    inner = error.error
    assert isinstance(inner, UnenforceableEffectCapability)
    assert (inner.node_id, inner.effect, inner.execution_mode) == (
        "source",
        EffectCapability.CLOCK,
        mode,
    )
    assert str(error) == (
        "capability validation failed: node `source` declares effect capability `clock` "
        "that is not enforceable by its execution boundary"
    )
    assert inner.code == "capability.unenforceable_effect"


def test_fix_wasm_enforces_filesystem_and_environment_read() -> None:
    workflow = pipeline()
    allowed = [
        EffectCapability.FILESYSTEM_READ,
        EffectCapability.FILESYSTEM_WRITE,
        EffectCapability.ENVIRONMENT_READ,
    ]
    validate_workflow_contracts(workflow, contracts(mode=ExecutionMode.WASM), with_effects(allowed))
    error = first_error(
        workflow,
        contracts(mode=ExecutionMode.WASM),
        with_effects([*allowed, EffectCapability.NETWORK_OUTBOUND, EffectCapability.CLOCK]),
    )
    assert isinstance(error, ContractCapabilityError)
    assert isinstance(error.error, UnenforceableEffectCapability)
    assert error.error.effect is EffectCapability.NETWORK_OUTBOUND  # first in declared order


def test_process_mode_enforces_nothing() -> None:
    caps = NodeCapabilities.new("n", [], [EffectCapability.FILESYSTEM_READ])
    with pytest.raises(UnenforceableEffectCapability):
        check_enforceable(caps, ExecutionMode.PROCESS)
    check_enforceable(caps, ExecutionMode.WASM)
    check_enforceable(caps, ExecutionMode.NATIVE)


def test_port_checks_walk_sorted_ports() -> None:
    workflow = WorkflowDefinition.from_parts("flow", [NodeDefinition.of("n", ["b", "a"], ["c"])])
    node_contract = NodeContract.new(
        "n", [PortContract.of("b", OUT), PortContract.of("c", OUT), PortContract.of("x", IN)]
    )
    errors = contract_errors(workflow, [node_contract], passive(workflow))
    assert [type(e) for e in errors] == [
        UnknownWorkflowPort,
        PortDirectionMismatch,
        UnknownWorkflowPort,
    ]
    assert str(errors[0]) == "node `n` contract references unknown input workflow port `a`"
    assert str(errors[1]) == "node `n` contract port `b` is output but workflow declares input"
    assert str(errors[2]) == "node `n` contract references unknown input workflow port `x`"


def test_fix_every_port_needs_a_capability_claim() -> None:
    workflow = pipeline()
    caps = [NodeCapabilities.new("source", []), NodeCapabilities.passive_for(workflow.nodes[1])]
    error = first_error(workflow, contracts(), caps)
    assert isinstance(error, MissingPortCapability)
    assert str(error) == "node `source` capability descriptor has no claim for output port `out`"


def test_capability_descriptor_errors() -> None:
    workflow = pipeline()
    ghost = NodeCapabilities.new("ghost", [])
    unknown_port = NodeCapabilities.new("sink", [PortCapability.receive("nope")])
    wrong_way = NodeCapabilities.new("source", [PortCapability.receive("out")])
    errors = capability_errors(workflow, [ghost, unknown_port, wrong_way])
    assert [type(e) for e in errors] == [
        UnknownCapabilityNode,
        UnknownCapabilityPort,
        CapabilityDirectionMismatch,
    ]
    assert [str(e) for e in errors] == [
        "capability descriptor references unknown workflow node `ghost`",
        "node `sink` capability references unknown workflow port `nope`",
        "node `source` capability claims port `out` may receive but workflow declares emit",
    ]
    error = first_error(workflow, contracts(), [ghost])
    assert isinstance(error, ContractCapabilityError)
    assert isinstance(error.error, UnknownCapabilityNode)


@st.composite
def dags(draw: st.DrawFn) -> WorkflowDefinition:
    size = draw(st.integers(min_value=1, max_value=8))
    names = [f"n{i}" for i in range(size)]
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)).filter(
                lambda p: p[0] < p[1]
            ),
            max_size=12,
        )
    )
    inputs: dict[str, list[str]] = {n: [] for n in names}
    outputs: dict[str, list[str]] = {n: [] for n in names}
    edges = []
    for index, (a, b) in enumerate(pairs):
        outputs[names[a]].append(f"o{index}")
        inputs[names[b]].append(f"i{index}")
        edges.append(EdgeDefinition.between((names[a], f"o{index}"), (names[b], f"i{index}")))
    nodes = [NodeDefinition.of(n, inputs[n], outputs[n]) for n in names]
    return WorkflowDefinition.from_parts("generated", nodes, edges)


@settings(max_examples=50)
@given(dags())
def test_generated_workflows_with_matching_contracts_validate(workflow: WorkflowDefinition) -> None:
    node_contracts = [
        NodeContract.new(
            node.id,
            [PortContract.of(p, IN, "schema://generated-packet") for p in node.input_ports]
            + [PortContract.of(p, OUT, "schema://generated-packet") for p in node.output_ports],
        )
        for node in workflow.nodes
    ]
    assert contract_errors(workflow, node_contracts, passive(workflow)) == []
