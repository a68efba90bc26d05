"""Node contracts: what each port carries and how a node runs.

A :class:`NodeContract` names a node's ports (each a :class:`PortContract` with a direction
and an optional :class:`SchemaRef`), its :class:`ExecutionMode`, its :class:`Determinism`
and its :class:`RetryDisposition`. Contracts are supplied beside the workflow document
(in code or by tooling); :func:`pureflow.contract.validate_workflow_contracts` checks them
against the graph.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from pureflow.contract.errors import DuplicatePortContract, EmptySchemaRef
from pureflow.types import NodeId, PortId
from pureflow.types.identifiers import WHITE_SPACE
from pureflow.workflow import NodeDefinition, PortDirection


class SchemaRef(str):
    """An opaque schema reference such as ``schema://orders/v1``.

    Construction raises :class:`EmptySchemaRef` when the text is empty once Unicode
    ``White_Space`` is trimmed; otherwise the text is kept verbatim (surrounding and
    interior whitespace included; no length cap, no format check). Two references are
    compatible when their texts are equal, case-sensitively. Equality, ordering and hashing
    are those of the text.
    """

    __slots__ = ()

    def __new__(cls, value: str) -> SchemaRef:
        if type(value) is cls:
            return value
        if not isinstance(value, str):
            raise TypeError(f"schema reference must be a string, not {type(value).__name__}")
        if all(ch in WHITE_SPACE for ch in value):
            raise EmptySchemaRef
        return super().__new__(cls, value)

    def as_str(self) -> str:
        """The raw text, as a plain ``str``."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"SchemaRef({str.__repr__(self)})"


class _Labelled(enum.Enum):
    @property
    def label(self) -> str:
        """The stable lowercase label used in JSON and messages."""
        return str(self.value)


class ExecutionMode(_Labelled):
    """What runs a node: in-process Python (``native``), a sandboxed WebAssembly component
    (``wasm``) or a separate process (``process``)."""

    NATIVE = "native"
    WASM = "wasm"
    PROCESS = "process"


class Determinism(_Labelled):
    """Whether a node gives the same outputs for the same inputs."""

    DETERMINISTIC = "deterministic"
    NON_DETERMINISTIC = "non_deterministic"
    UNKNOWN = "unknown"


class RetryDisposition(_Labelled):
    """Whether re-running a node after a failure is safe."""

    NEVER = "never"
    SAFE = "safe"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PortContract:
    """One port of a contract: its id, direction and optional schema. Checks nothing."""

    port_id: PortId
    direction: PortDirection
    schema: SchemaRef | None = None

    @classmethod
    def of(cls, port_id: str, direction: PortDirection, schema: str | None = None) -> PortContract:
        """Shorthand that validates plain strings."""
        return cls(PortId(port_id), direction, None if schema is None else SchemaRef(schema))


@dataclass(frozen=True, slots=True)
class NodeContract:
    """One node's contract.

    Construction raises :class:`DuplicatePortContract` for the first port id listed twice,
    whatever the directions.
    """

    node_id: NodeId
    ports: tuple[PortContract, ...]
    execution_mode: ExecutionMode = ExecutionMode.NATIVE
    determinism: Determinism = Determinism.UNKNOWN
    retry: RetryDisposition = RetryDisposition.UNKNOWN

    def __post_init__(self) -> None:
        object.__setattr__(self, "node_id", NodeId(self.node_id))
        ports = tuple(self.ports)
        object.__setattr__(self, "ports", ports)
        seen: set[str] = set()
        for port in ports:
            if port.port_id in seen:
                raise DuplicatePortContract(self.node_id, port.port_id)
            seen.add(port.port_id)

    @classmethod
    def new(
        cls,
        node_id: str,
        ports: Iterable[PortContract],
        execution_mode: ExecutionMode = ExecutionMode.NATIVE,
        determinism: Determinism = Determinism.UNKNOWN,
        retry: RetryDisposition = RetryDisposition.UNKNOWN,
    ) -> NodeContract:
        """Build and validate a contract (same checks as the class)."""
        return cls(NodeId(node_id), tuple(ports), execution_mode, determinism, retry)

    @classmethod
    def passive_for(cls, node: NodeDefinition) -> NodeContract:
        """The contract ``pureflow inspect`` assumes: every declared port (inputs, then
        outputs) without a schema, native, determinism and retry unknown."""
        ports = [PortContract(p, PortDirection.INPUT) for p in node.input_ports]
        ports += [PortContract(p, PortDirection.OUTPUT) for p in node.output_ports]
        return cls(node.id, tuple(ports))

    def port(self, port_id: str) -> PortContract | None:
        """The contract port with this id, or ``None``."""
        for port in self.ports:
            if port.port_id == port_id:
                return port
        return None
