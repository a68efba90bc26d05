"""Pure projections of a workflow with its contracts and capabilities.

:func:`introspect_workflow` first runs
:func:`~pureflow.contract.validate_workflow_contracts` (any error propagates unchanged),
then projects nodes (declaration order), their ports (inputs in declared order, then
outputs), their rule sets (rule nodes only) and edges (declaration order). Each projection
has ``to_json()`` with exactly the keys of the ``pureflow inspect`` output;
:func:`introspection_to_json_text` renders it the way the CLI prints it.
:func:`passive_contracts` builds the contracts ``inspect`` assumes when none are supplied.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pureflow.contract import (
    Determinism,
    EffectCapability,
    EnforcementLevel,
    ExecutionMode,
    MissingPortCapability,
    NodeCapabilities,
    NodeContract,
    PortCapabilityDirection,
    RetryDisposition,
    SchemaRef,
    UnknownWorkflowPort,
    enforcement_for,
    validate_workflow_contracts,
)
from pureflow.rules import RuleSet, rule_set_to_json
from pureflow.types import NodeId, PortId, WorkflowId
from pureflow.workflow import EdgeCapacity, EdgeEndpoint, PortDirection, WorkflowDefinition


def _text(value: str | None) -> str | None:
    return None if value is None else str.__str__(value)


def _endpoint_json(endpoint: EdgeEndpoint) -> dict[str, Any]:
    return {"node_id": _text(endpoint.node_id), "port_id": _text(endpoint.port_id)}


def capacity_json(capacity: EdgeCapacity) -> dict[str, Any]:
    """``{"kind": "default"}`` or ``{"kind": "explicit", "value": n}``."""
    if capacity.value is None:
        return {"kind": "default"}
    return {"kind": "explicit", "value": capacity.value}


@dataclass(frozen=True, slots=True)
class PortIntrospection:
    """One port: direction from the workflow, schema from the contract, claim from the
    capability descriptor."""

    port_id: PortId
    direction: PortDirection
    schema: SchemaRef | None
    capability: PortCapabilityDirection

    def to_json(self) -> dict[str, Any]:
        return {
            "port_id": _text(self.port_id),
            "direction": self.direction.label,
            "schema": _text(self.schema),
            "capability": self.capability.label,
        }


@dataclass(frozen=True, slots=True)
class NodeIntrospection:
    """One node: its ports, its contract's mode, determinism and retry, the enforcement its
    mode implies, its declared effects (descriptor order) and, for a rule node, its rule
    set. ``to_json()`` has a ``rule_set`` key (the rule set in its document shape, rules in
    evaluation order) only for rule nodes, and an ``effects_known`` key (``false``) only
    for nodes whose effects are unknown (``effects`` then lists only what is known), and
    ``replicas`` and ``partition`` (``{"key": ...}`` or null for round-robin) only for a
    replicated node, so other nodes keep the original's shape."""

    node_id: NodeId
    ports: tuple[PortIntrospection, ...]
    execution_mode: ExecutionMode
    enforcement: EnforcementLevel
    determinism: Determinism
    retry: RetryDisposition
    effects: tuple[EffectCapability, ...]
    rule_set: RuleSet | None = None
    effects_known: bool = True
    replicas: int = 1
    partition_key: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "node_id": _text(self.node_id),
            "ports": [port.to_json() for port in self.ports],
            "execution_mode": self.execution_mode.label,
            "enforcement": self.enforcement.label,
            "determinism": self.determinism.label,
            "retry": self.retry.label,
            "effects": [effect.label for effect in self.effects],
        }
        if not self.effects_known:
            data["effects_known"] = False
        if self.rule_set is not None:
            data["rule_set"] = rule_set_to_json(self.rule_set)
        if self.replicas > 1:
            data["replicas"] = self.replicas
            data["partition"] = None if self.partition_key is None else {"key": self.partition_key}
        return data


@dataclass(frozen=True, slots=True)
class EdgeIntrospection:
    """One edge with its capacity policy and the schema at each end (or ``None``)."""

    source: EdgeEndpoint
    target: EdgeEndpoint
    capacity: EdgeCapacity
    source_schema: SchemaRef | None
    target_schema: SchemaRef | None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": _endpoint_json(self.source),
            "target": _endpoint_json(self.target),
            "capacity": capacity_json(self.capacity),
            "source_schema": _text(self.source_schema),
            "target_schema": _text(self.target_schema),
        }


@dataclass(frozen=True, slots=True)
class WorkflowIntrospection:
    """A workflow's nodes and edges, projected with contracts and capabilities."""

    workflow_id: WorkflowId
    nodes: tuple[NodeIntrospection, ...]
    edges: tuple[EdgeIntrospection, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "workflow_id": _text(self.workflow_id),
            "nodes": [node.to_json() for node in self.nodes],
            "edges": [edge.to_json() for edge in self.edges],
        }


def introspect_workflow(
    workflow: WorkflowDefinition,
    contracts: Iterable[NodeContract],
    capabilities: Iterable[NodeCapabilities],
) -> WorkflowIntrospection:
    """Validate contracts and capabilities against ``workflow``, then project them.

    Raises whatever :func:`~pureflow.contract.validate_workflow_contracts` raises first
    (``SchemaMismatch``, ``MissingContract``, ``PortDirectionMismatch``...).
    """
    contracts = tuple(contracts)
    capabilities = tuple(capabilities)
    validate_workflow_contracts(workflow, contracts, capabilities)
    contract_of = {contract.node_id: contract for contract in contracts}
    caps_of = {descriptor.node_id: descriptor for descriptor in capabilities}

    nodes = []
    for node in workflow.nodes:
        contract = contract_of[node.id]
        descriptor = caps_of[node.id]
        ports = []
        declared = [(p, PortDirection.INPUT) for p in node.input_ports]
        declared += [(p, PortDirection.OUTPUT) for p in node.output_ports]
        for port_id, direction in declared:
            port_contract = contract.port(port_id)
            claim = descriptor.claim_for(port_id)
            # Validation guarantees both; these guards only keep the types honest.
            if port_contract is None:
                raise UnknownWorkflowPort(node.id, port_id, direction)
            if claim is None:
                raise MissingPortCapability(node.id, port_id, direction)
            ports.append(PortIntrospection(port_id, direction, port_contract.schema, claim))
        nodes.append(
            NodeIntrospection(
                node.id,
                tuple(ports),
                contract.execution_mode,
                enforcement_for(contract.execution_mode),
                contract.determinism,
                contract.retry,
                descriptor.effects,
                node.rule_set,
                descriptor.effects_known,
                node.replicas,
                node.partition_key,
            )
        )

    def schema_at(endpoint: EdgeEndpoint) -> SchemaRef | None:
        port = contract_of[endpoint.node_id].port(endpoint.port_id)
        return None if port is None else port.schema

    edges = tuple(
        EdgeIntrospection(
            edge.source, edge.target, edge.capacity, schema_at(edge.source), schema_at(edge.target)
        )
        for edge in workflow.edges
    )
    return WorkflowIntrospection(workflow.id, tuple(nodes), edges)


def passive_contracts(
    workflow: WorkflowDefinition,
) -> tuple[list[NodeContract], list[NodeCapabilities]]:
    """What ``pureflow inspect`` assumes for each node when nothing is supplied: a native
    contract with every declared port (inputs, then outputs) and no schema, determinism and
    retry ``unknown``; a capability descriptor claiming inputs ``receive`` and outputs
    ``emit``, with no effects."""
    contracts = [NodeContract.passive_for(node) for node in workflow.nodes]
    capabilities = [NodeCapabilities.passive_for(node) for node in workflow.nodes]
    return contracts, capabilities


def introspection_to_json_text(introspection: WorkflowIntrospection) -> str:
    """The ``inspect`` text: 2-space indent, keys sorted at every level, UTF-8 unescaped,
    and a final newline."""
    return json.dumps(introspection.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
