"""Checking contracts and capability descriptors against a workflow, together.

:func:`contract_errors` lists every problem; :func:`validate_workflow_contracts` raises
the first. The checks, in order:

1. the capability descriptors against the workflow
   (:func:`~pureflow.contract.capabilities.capability_errors`), each problem wrapped in
   :class:`ContractCapabilityError`;
2. a node with more than one contract: :class:`DuplicateContract` (the first contract
   counts from then on);
3. for each workflow node, in declaration order:

   a. no contract: :class:`MissingContract`;
   b. no capability descriptor: :class:`MissingCapabilityDescriptor`;
   c. ports, walked sorted by port id: a workflow port without a contract port gives
      :class:`UnknownWorkflowPort` (workflow direction); a contract port with the other
      direction gives :class:`PortDirectionMismatch`; then a contract port that is not
      on the node gives :class:`UnknownWorkflowPort` (contract direction); then a
      workflow port without a capability claim gives :class:`MissingPortCapability`;
   d. a declared effect the execution boundary cannot enforce (first in declared
      order): :class:`ContractCapabilityError` wrapping
      :class:`UnenforceableEffectCapability`;

4. a contract for a node that is not in the workflow: :class:`UnknownWorkflowNode`;
5. each edge in order whose two ends both have a schema and the schemas differ:
   :class:`SchemaMismatch`. A missing schema on either end is compatible with anything.

Fixes relative to the original: a missing contract is :class:`MissingContract`, not
``UnknownWorkflowNode``; duplicate contracts and descriptors are errors rather than "last
one wins"; every port must be claimed; and the strict boundaries allow the effects they can
really enforce (see :func:`~pureflow.contract.capabilities.allowed_effects`).
"""

from __future__ import annotations

from collections.abc import Iterable

from pureflow.contract.capabilities import (
    NodeCapabilities,
    capability_errors,
    check_enforceable,
)
from pureflow.contract.errors import (
    ContractCapabilityError,
    ContractValidationError,
    DuplicateContract,
    MissingCapabilityDescriptor,
    MissingContract,
    MissingPortCapability,
    PortDirectionMismatch,
    SchemaMismatch,
    UnenforceableEffectCapability,
    UnknownWorkflowNode,
    UnknownWorkflowPort,
)
from pureflow.contract.model import NodeContract, SchemaRef
from pureflow.types import NodeId
from pureflow.workflow import PortDirection, WorkflowDefinition


def contract_errors(
    workflow: WorkflowDefinition,
    contracts: Iterable[NodeContract],
    capabilities: Iterable[NodeCapabilities],
) -> list[ContractValidationError]:
    """Every problem with ``contracts`` and ``capabilities`` for ``workflow``, in the
    order of the module docstring; an empty list means they fit."""
    contracts = tuple(contracts)
    capabilities = tuple(capabilities)
    errors: list[ContractValidationError] = [
        ContractCapabilityError(error) for error in capability_errors(workflow, capabilities)
    ]

    by_node: dict[NodeId, NodeContract] = {}
    for supplied in contracts:
        if supplied.node_id in by_node:
            errors.append(DuplicateContract(supplied.node_id))
        else:
            by_node[supplied.node_id] = supplied
    caps_by_node: dict[NodeId, NodeCapabilities] = {}
    for supplied_caps in capabilities:
        caps_by_node.setdefault(supplied_caps.node_id, supplied_caps)

    for node in workflow.nodes:
        contract = by_node.get(node.id)
        if contract is None:
            errors.append(MissingContract(node.id))
            continue
        descriptor = caps_by_node.get(node.id)
        if descriptor is None:
            errors.append(MissingCapabilityDescriptor(node.id))
            continue
        workflow_ports = dict.fromkeys(node.input_ports, PortDirection.INPUT)
        workflow_ports.update(dict.fromkeys(node.output_ports, PortDirection.OUTPUT))
        contract_ports = {p.port_id: p.direction for p in contract.ports}
        for port_id in sorted(workflow_ports):
            direction = workflow_ports[port_id]
            declared = contract_ports.get(port_id)
            if declared is None:
                errors.append(UnknownWorkflowPort(node.id, port_id, direction))
            elif declared is not direction:
                errors.append(PortDirectionMismatch(node.id, port_id, direction, declared))
        errors.extend(
            UnknownWorkflowPort(node.id, port_id, contract_ports[port_id])
            for port_id in sorted(contract_ports)
            if port_id not in workflow_ports
        )
        errors.extend(
            MissingPortCapability(node.id, port_id, workflow_ports[port_id])
            for port_id in sorted(workflow_ports)
            if descriptor.claim_for(port_id) is None
        )
        try:
            check_enforceable(descriptor, contract.execution_mode)
        except UnenforceableEffectCapability as error:
            errors.append(ContractCapabilityError(error))

    node_ids = {node.id for node in workflow.nodes}
    errors.extend(
        UnknownWorkflowNode(contract.node_id)
        for contract in by_node.values()
        if contract.node_id not in node_ids
    )

    for index, edge in enumerate(workflow.edges):
        source = _schema(by_node, edge.source.node_id, edge.source.port_id)
        target = _schema(by_node, edge.target.node_id, edge.target.port_id)
        if source is not None and target is not None and source != target:
            errors.append(
                SchemaMismatch(
                    index,
                    edge.source.node_id,
                    edge.source.port_id,
                    edge.target.node_id,
                    edge.target.port_id,
                )
            )
    return errors


def _schema(by_node: dict[NodeId, NodeContract], node_id: NodeId, port_id: str) -> SchemaRef | None:
    contract = by_node.get(node_id)
    port = None if contract is None else contract.port(port_id)
    return None if port is None else port.schema


def validate_workflow_contracts(
    workflow: WorkflowDefinition,
    contracts: Iterable[NodeContract],
    capabilities: Iterable[NodeCapabilities],
) -> None:
    """Raise the first problem :func:`contract_errors` finds; return ``None`` if none."""
    errors = contract_errors(workflow, contracts, capabilities)
    if errors:
        raise errors[0]
