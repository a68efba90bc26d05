"""Capability declarations: which ports a node uses and which side effects it has.

Pure data, so that tools can read and check declarations without a runtime. A
:class:`NodeCapabilities` descriptor claims each port for :attr:`~PortCapabilityDirection.
RECEIVE` (input) or :attr:`~PortCapabilityDirection.EMIT` (output) and lists the
:class:`EffectCapability` values the node may exercise.

Effects are *known* (the list is all the node may do) unless ``effects_known`` is False:
the node calls code whose effects nobody declared (a callable named in its config, as the
standard ``map``, ``filter`` and ``split`` do; a component whose declaration could not be
read without importing it). Then ``effects`` lists only what is known, and tools must
assume the node may have any effect.

Enforcement depends on the execution boundary (:func:`enforcement_for`): native Python
nodes are ``advisory`` (declared, not sandboxed; any effect is allowed), WebAssembly and
process nodes are ``strict``: a node may only declare effects its boundary can enforce
(:func:`allowed_effects`). The WASM host can grant exactly ``filesystem_read``,
``filesystem_write`` and ``environment_read`` through its locked-down WASI (preopened
directories, passed-through variables); process mode has no sandbox yet and allows none.
(The original's allowlist was an always-false stub, so strict nodes could declare nothing.)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from pureflow.contract.errors import (
    CapabilityDirectionMismatch,
    CapabilityValidationError,
    ConflictingPortDirection,
    DuplicateCapabilityDescriptor,
    DuplicateEffect,
    DuplicatePortCapability,
    UnenforceableEffectCapability,
    UnknownCapabilityNode,
    UnknownCapabilityPort,
)
from pureflow.contract.model import ExecutionMode
from pureflow.types import NodeId, PortId
from pureflow.workflow import NodeDefinition, PortDirection, WorkflowDefinition


class PortCapabilityDirection(enum.Enum):
    """What a node may do on a port: ``receive`` (an input) or ``emit`` (an output)."""

    RECEIVE = "receive"
    EMIT = "emit"

    @property
    def label(self) -> str:
        return self.value

    @classmethod
    def for_port(cls, direction: PortDirection) -> PortCapabilityDirection:
        """``RECEIVE`` for an input port, ``EMIT`` for an output port."""
        return cls.RECEIVE if direction is PortDirection.INPUT else cls.EMIT


class EffectCapability(enum.Enum):
    """A side effect a node may have. The value is the stable label; members sort in
    declaration order."""

    FILESYSTEM_READ = "filesystem_read"
    FILESYSTEM_WRITE = "filesystem_write"
    NETWORK_OUTBOUND = "network_outbound"
    EXTERNAL_EFFECT = "external_effect"
    PROCESS_SPAWN = "process_spawn"
    ENVIRONMENT_READ = "environment_read"
    ENVIRONMENT_WRITE = "environment_write"
    CLOCK = "clock"

    @property
    def label(self) -> str:
        return self.value

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, EffectCapability):
            return NotImplemented
        return _EFFECT_ORDER[self] < _EFFECT_ORDER[other]


_EFFECT_ORDER: Final = {effect: index for index, effect in enumerate(EffectCapability)}


class EnforcementLevel(enum.Enum):
    """How a node's declarations are held: ``advisory`` (trusted) or ``strict`` (sandboxed)."""

    ADVISORY = "advisory"
    STRICT = "strict"

    @property
    def label(self) -> str:
        return self.value


def enforcement_for(mode: ExecutionMode) -> EnforcementLevel:
    """``advisory`` for native nodes, ``strict`` for WebAssembly and process nodes."""
    return EnforcementLevel.ADVISORY if mode is ExecutionMode.NATIVE else EnforcementLevel.STRICT


_ALLOWED_EFFECTS: Final[Mapping[ExecutionMode, frozenset[EffectCapability]]] = {
    ExecutionMode.NATIVE: frozenset(EffectCapability),
    ExecutionMode.WASM: frozenset(
        {
            EffectCapability.FILESYSTEM_READ,
            EffectCapability.FILESYSTEM_WRITE,
            EffectCapability.ENVIRONMENT_READ,
        }
    ),
    ExecutionMode.PROCESS: frozenset(),
}


def allowed_effects(mode: ExecutionMode) -> frozenset[EffectCapability]:
    """The effects a node in ``mode`` may declare.

    Native: every effect (advisory). WebAssembly: the ones its host enforces through WASI
    grants (``filesystem_read``, ``filesystem_write``, ``environment_read``). Process:
    none.
    """
    return _ALLOWED_EFFECTS[mode]


@dataclass(frozen=True, slots=True)
class PortCapability:
    """A claim that a node receives on, or emits from, one port."""

    port_id: PortId
    direction: PortCapabilityDirection

    @classmethod
    def receive(cls, port_id: str) -> PortCapability:
        return cls(PortId(port_id), PortCapabilityDirection.RECEIVE)

    @classmethod
    def emit(cls, port_id: str) -> PortCapability:
        return cls(PortId(port_id), PortCapabilityDirection.EMIT)


@dataclass(frozen=True, slots=True)
class NodeCapabilities:
    """One node's capability descriptor: port claims and effects, in declared order.

    ``effects_known`` is False when the node may have effects beyond ``effects`` that
    nobody declared (it runs code named in its config, or its declaration was not read):
    "unknown", not "none".

    Construction checks, in this order (the first failure is raised):

    1. an effect listed twice: :class:`DuplicateEffect` (the first repeat);
    2. a ``(port, direction)`` claim listed twice: :class:`DuplicatePortCapability`;
    3. a port claimed for both receive and emit: :class:`ConflictingPortDirection` (the
       smallest such port id).
    """

    node_id: NodeId
    ports: tuple[PortCapability, ...] = ()
    effects: tuple[EffectCapability, ...] = ()
    effects_known: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "node_id", NodeId(self.node_id))
        ports = tuple(self.ports)
        effects = tuple(self.effects)
        object.__setattr__(self, "ports", ports)
        object.__setattr__(self, "effects", effects)
        seen_effects: set[EffectCapability] = set()
        for effect in effects:
            if effect in seen_effects:
                raise DuplicateEffect(self.node_id, effect)
            seen_effects.add(effect)
        seen_claims: set[PortCapability] = set()
        for claim in ports:
            if claim in seen_claims:
                raise DuplicatePortCapability(self.node_id, claim.port_id, claim.direction)
            seen_claims.add(claim)
        receive = {c.port_id for c in ports if c.direction is PortCapabilityDirection.RECEIVE}
        emit = {c.port_id for c in ports if c.direction is PortCapabilityDirection.EMIT}
        conflicts = receive & emit
        if conflicts:
            raise ConflictingPortDirection(self.node_id, min(conflicts))

    @classmethod
    def new(
        cls,
        node_id: str,
        ports: Iterable[PortCapability] = (),
        effects: Iterable[EffectCapability] = (),
        *,
        effects_known: bool = True,
    ) -> NodeCapabilities:
        """Build and validate a descriptor (same checks as the class)."""
        return cls(NodeId(node_id), tuple(ports), tuple(effects), effects_known)

    @classmethod
    def native_passive(cls, node_id: str, ports: Iterable[PortCapability]) -> NodeCapabilities:
        """A descriptor with the given port claims and no effects."""
        return cls.new(node_id, ports)

    @classmethod
    def passive_for(cls, node: NodeDefinition) -> NodeCapabilities:
        """No effects; inputs claimed ``receive`` and outputs ``emit``, in declared order."""
        claims = [PortCapability(p, PortCapabilityDirection.RECEIVE) for p in node.input_ports]
        claims += [PortCapability(p, PortCapabilityDirection.EMIT) for p in node.output_ports]
        return cls(node.id, tuple(claims))

    def allows_effect(self, effect: EffectCapability) -> bool:
        return effect in self.effects

    def allows_port(self, port_id: str, direction: PortCapabilityDirection) -> bool:
        return PortCapability(PortId(port_id), direction) in self.ports

    def claim_for(self, port_id: str) -> PortCapabilityDirection | None:
        """The direction claimed for ``port_id``, or ``None`` when it is not claimed."""
        for claim in self.ports:
            if claim.port_id == port_id:
                return claim.direction
        return None


def check_enforceable(capabilities: NodeCapabilities, mode: ExecutionMode) -> None:
    """Raise :class:`UnenforceableEffectCapability` for the first declared effect (in
    declared order) that a node in ``mode`` may not declare (see :func:`allowed_effects`)."""
    allowed = allowed_effects(mode)
    for effect in capabilities.effects:
        if effect not in allowed:
            raise UnenforceableEffectCapability(capabilities.node_id, effect, mode)


def capability_errors(
    workflow: WorkflowDefinition, capabilities: Iterable[NodeCapabilities]
) -> list[CapabilityValidationError]:
    """Every problem of the descriptors against the workflow, in check order.

    For each descriptor in list order: a node already described gives
    :class:`DuplicateCapabilityDescriptor`; a node not in the workflow gives
    :class:`UnknownCapabilityNode`; then each claim in order must name a port of the node
    (:class:`UnknownCapabilityPort`) with its direction (an input is ``receive``, an
    output ``emit``; otherwise :class:`CapabilityDirectionMismatch`). Claims need not
    cover every port here; :func:`~pureflow.contract.validate_workflow_contracts` requires
    that.
    """
    errors: list[CapabilityValidationError] = []
    nodes = workflow.graph.node_map
    described: set[NodeId] = set()
    for descriptor in capabilities:
        if descriptor.node_id in described:
            errors.append(DuplicateCapabilityDescriptor(descriptor.node_id))
            continue
        described.add(descriptor.node_id)
        node = nodes.get(descriptor.node_id)
        if node is None:
            errors.append(UnknownCapabilityNode(descriptor.node_id))
            continue
        for claim in descriptor.ports:
            direction = node.direction_of(claim.port_id)
            if direction is None:
                errors.append(UnknownCapabilityPort(node.id, claim.port_id))
                continue
            declared = PortCapabilityDirection.for_port(direction)
            if claim.direction is not declared:
                errors.append(
                    CapabilityDirectionMismatch(node.id, claim.port_id, claim.direction, declared)
                )
    return errors


def validate_workflow_capabilities(
    workflow: WorkflowDefinition, capabilities: Iterable[NodeCapabilities]
) -> None:
    """Raise the first problem :func:`capability_errors` finds, if any."""
    errors = capability_errors(workflow, capabilities)
    if errors:
        raise errors[0]
