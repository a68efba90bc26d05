"""The parts of a workflow graph: ports, endpoints, capacities, nodes and edges."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pureflow.types import NodeId, PortId
from pureflow.workflow.errors import DuplicatePort

if TYPE_CHECKING:
    from pureflow.rules import RuleSet


class PortDirection(enum.Enum):
    """Whether a port receives (input) or emits (output) packets."""

    INPUT = "input"
    OUTPUT = "output"

    @property
    def label(self) -> str:
        return self.value


class EdgeEndpointRole(enum.Enum):
    """Which end of an edge a diagnostic refers to."""

    SOURCE = "source"
    TARGET = "target"

    @property
    def label(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class EdgeEndpoint:
    """One end of an edge: a port on a node. Building one checks nothing."""

    node_id: NodeId
    port_id: PortId

    def __str__(self) -> str:
        return f"{self.node_id}.{self.port_id}"


@dataclass(frozen=True, slots=True)
class EdgeCapacity:
    """How many packets an edge holds: the engine default, or an explicit count >= 1."""

    value: int | None = None
    DEFAULT: ClassVar[EdgeCapacity]

    def __post_init__(self) -> None:
        if self.value is not None and (
            isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 1
        ):
            raise ValueError(f"edge capacity must be an integer >= 1, got {self.value!r}")

    @classmethod
    def explicit(cls, value: int) -> EdgeCapacity:
        return cls(value)

    @property
    def is_default(self) -> bool:
        return self.value is None

    def resolve(self, default: int) -> int:
        """The capacity to use: the explicit value, else ``default``."""
        return default if self.value is None else self.value

    def __str__(self) -> str:
        return "default" if self.value is None else str(self.value)


EdgeCapacity.DEFAULT = EdgeCapacity()


@dataclass(frozen=True, slots=True)
class EdgeDefinition:
    """A directed edge from an output port to an input port. Building one checks nothing."""

    source: EdgeEndpoint
    target: EdgeEndpoint
    capacity: EdgeCapacity = EdgeCapacity.DEFAULT

    @classmethod
    def between(
        cls,
        source: tuple[str, str],
        target: tuple[str, str],
        capacity: int | None = None,
    ) -> EdgeDefinition:
        """Shorthand: ``EdgeDefinition.between(("a", "out"), ("b", "in"), 4)``."""
        return cls(
            EdgeEndpoint(NodeId(source[0]), PortId(source[1])),
            EdgeEndpoint(NodeId(target[0]), PortId(target[1])),
            EdgeCapacity(capacity),
        )

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} capacity={self.capacity}"


@dataclass(frozen=True, slots=True)
class NodeDefinition:
    """A node: its id, its declared input and output ports in order, and what runs it.

    ``component`` and ``config`` come from the document extensions (DESIGN §3): the graph
    carries them but never interprets them. ``rule_set`` makes the node a rule node (the
    document's ``rule_set`` or ``rule_set_ref``): the graph checks that it fits the node
    (:mod:`pureflow.workflow.rule_checks`). ``replicas`` (default 1) asks the engine to
    run that many copies of the node side by side, each packet going to one of them:
    the one the hash of the value at the JSON pointer ``partition_key`` picks (same key,
    same copy, order kept per key), else round-robin. Building a node rejects a port id
    used twice, including once as an input and once as an output, ``replicas`` below 1,
    and replicas of a node without inputs (every copy would produce the same packets).
    """

    id: NodeId
    input_ports: tuple[PortId, ...] = ()
    output_ports: tuple[PortId, ...] = ()
    component: str | None = None
    config: Mapping[str, Any] | None = field(default=None, compare=True, hash=False)
    rule_set: RuleSet | None = None
    replicas: int = 1
    partition_key: str | None = None

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise ValueError(f"node `{self.id}`: replicas must be at least 1, got {self.replicas}")
        if self.replicas > 1 and not self.input_ports:
            raise ValueError(f"node `{self.id}`: a node without inputs cannot have replicas")
        object.__setattr__(self, "input_ports", tuple(self.input_ports))
        object.__setattr__(self, "output_ports", tuple(self.output_ports))
        duplicate = first_duplicate_port(self.input_ports + self.output_ports)
        if duplicate is not None:
            raise DuplicatePort(self.id, duplicate)

    @classmethod
    def of(
        cls,
        node_id: str,
        inputs: Iterable[str] = (),
        outputs: Iterable[str] = (),
        *,
        component: str | None = None,
        config: Mapping[str, Any] | None = None,
        rule_set: RuleSet | None = None,
        replicas: int = 1,
        partition_key: str | None = None,
    ) -> NodeDefinition:
        """Shorthand that validates plain strings: ``NodeDefinition.of("a", [], ["out"])``."""
        return cls(
            NodeId(node_id),
            tuple(PortId(p) for p in inputs),
            tuple(PortId(p) for p in outputs),
            component,
            config,
            rule_set,
            replicas,
            partition_key,
        )

    def replication(self) -> str | None:
        """How the node is replicated, in words (``"3 replicas by key /user"``,
        ``"2 replicas, round-robin"``), or None for a single node."""
        if self.replicas <= 1:
            return None
        if self.partition_key is None:
            return f"{self.replicas} replicas, round-robin"
        return f"{self.replicas} replicas by key {self.partition_key or '(the whole value)'}"

    def direction_of(self, port_id: str) -> PortDirection | None:
        """The direction of a declared port, or None if the node has no such port."""
        if port_id in self.input_ports:
            return PortDirection.INPUT
        if port_id in self.output_ports:
            return PortDirection.OUTPUT
        return None


def first_duplicate_port(ports: Iterable[PortId]) -> PortId | None:
    """The first port id seen a second time, scanning in order."""
    seen: set[str] = set()
    for port in ports:
        if port in seen:
            return port
        seen.add(port)
    return None
