"""What can be wrong with contracts and capability declarations.

Every error has a stable machine-readable ``code`` and keeps the original's wording in
``str(err)``, with two deliberate changes: effects are named by their stable labels
(``clock``, ``filesystem_read``), not Rust's Debug names (``Clock``), and the original's
overloaded ``UnknownWorkflowNode`` is split into :class:`MissingContract` (a workflow node
has no contract) and :class:`UnknownWorkflowNode` (a contract names a node that is not in
the workflow). :class:`DuplicateContract`, :class:`DuplicateCapabilityDescriptor` and
:class:`MissingPortCapability` are new: the original silently let the last duplicate win
and never required a capability claim for every port.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pureflow.types import NodeId, PortId
from pureflow.workflow import PortDirection

if TYPE_CHECKING:
    from pureflow.contract.capabilities import EffectCapability, PortCapabilityDirection
    from pureflow.contract.model import ExecutionMode


class ContractError(ValueError):
    """Root of every error in ``pureflow.contract``; ``code`` is stable."""

    code = "contract.error"

    @property
    def message(self) -> str:
        return str(self.args[0])


# --- capability declarations -------------------------------------------------------------


class CapabilityValidationError(ContractError):
    """A capability declaration is inconsistent in itself or with the workflow."""

    code = "capability.invalid"


class DuplicateEffect(CapabilityValidationError):
    code = "capability.duplicate_effect"

    def __init__(self, node_id: NodeId, effect: EffectCapability) -> None:
        self.node_id = node_id
        self.effect = effect
        super().__init__(f"node `{node_id}` declares duplicate effect capability `{effect.label}`")


class DuplicatePortCapability(CapabilityValidationError):
    code = "capability.duplicate_port"

    def __init__(
        self, node_id: NodeId, port_id: PortId, direction: PortCapabilityDirection
    ) -> None:
        self.node_id = node_id
        self.port_id = port_id
        self.direction = direction
        super().__init__(
            f"node `{node_id}` declares duplicate {direction.label} capability for port `{port_id}`"
        )


class ConflictingPortDirection(CapabilityValidationError):
    code = "capability.conflicting_port_direction"

    def __init__(self, node_id: NodeId, port_id: PortId) -> None:
        self.node_id = node_id
        self.port_id = port_id
        super().__init__(f"node `{node_id}` declares port `{port_id}` for both receive and emit")


class DuplicateCapabilityDescriptor(CapabilityValidationError):
    """Two capability descriptors name the same node (the original kept the last one)."""

    code = "capability.duplicate_descriptor"

    def __init__(self, node_id: NodeId) -> None:
        self.node_id = node_id
        super().__init__(f"more than one capability descriptor supplied for node `{node_id}`")


class UnknownCapabilityNode(CapabilityValidationError):
    code = "capability.unknown_node"

    def __init__(self, node_id: NodeId) -> None:
        self.node_id = node_id
        super().__init__(f"capability descriptor references unknown workflow node `{node_id}`")


class UnknownCapabilityPort(CapabilityValidationError):
    code = "capability.unknown_port"

    def __init__(self, node_id: NodeId, port_id: PortId) -> None:
        self.node_id = node_id
        self.port_id = port_id
        super().__init__(
            f"node `{node_id}` capability references unknown workflow port `{port_id}`"
        )


class CapabilityDirectionMismatch(CapabilityValidationError):
    code = "capability.direction_mismatch"

    def __init__(
        self,
        node_id: NodeId,
        port_id: PortId,
        claimed: PortCapabilityDirection,
        declared: PortCapabilityDirection,
    ) -> None:
        self.node_id = node_id
        self.port_id = port_id
        self.claimed = claimed
        self.declared = declared
        super().__init__(
            f"node `{node_id}` capability claims port `{port_id}` may {claimed.label} but "
            f"workflow declares {declared.label}"
        )


class UnenforceableEffectCapability(CapabilityValidationError):
    """A node whose boundary is strict declares an effect that boundary cannot enforce."""

    code = "capability.unenforceable_effect"

    def __init__(
        self,
        node_id: NodeId,
        effect: EffectCapability,
        execution_mode: ExecutionMode | None = None,
    ) -> None:
        self.node_id = node_id
        self.effect = effect
        self.execution_mode = execution_mode
        super().__init__(
            f"node `{node_id}` declares effect capability `{effect.label}` that is not "
            "enforceable by its execution boundary"
        )


# --- contracts ---------------------------------------------------------------------------


class ContractValidationError(ContractError):
    """A contract is malformed or does not fit the workflow."""

    code = "contract.invalid"


class EmptySchemaRef(ContractValidationError):
    code = "contract.empty_schema_ref"

    def __init__(self) -> None:
        super().__init__("schema reference cannot be empty")


class DuplicatePortContract(ContractValidationError):
    code = "contract.duplicate_port"

    def __init__(self, node_id: NodeId, port_id: PortId) -> None:
        self.node_id = node_id
        self.port_id = port_id
        super().__init__(f"node `{node_id}` declares duplicate contract port `{port_id}`")


class DuplicateContract(ContractValidationError):
    """Two contracts name the same node (the original kept the last one)."""

    code = "contract.duplicate_contract"

    def __init__(self, node_id: NodeId) -> None:
        self.node_id = node_id
        super().__init__(f"more than one contract supplied for node `{node_id}`")


class MissingContract(ContractValidationError):
    """A workflow node has no contract (the original called this ``UnknownWorkflowNode``)."""

    code = "contract.missing_contract"

    def __init__(self, node_id: NodeId) -> None:
        self.node_id = node_id
        super().__init__(f"no contract supplied for workflow node `{node_id}`")


class UnknownWorkflowNode(ContractValidationError):
    """A contract names a node that is not in the workflow."""

    code = "contract.unknown_node"

    def __init__(self, node_id: NodeId) -> None:
        self.node_id = node_id
        super().__init__(f"contract references unknown workflow node `{node_id}`")


class UnknownWorkflowPort(ContractValidationError):
    """A workflow port has no contract port, or a contract port is not on the node.

    ``direction`` is the workflow's direction in the first case, the contract's in the
    second.
    """

    code = "contract.unknown_port"

    def __init__(self, node_id: NodeId, port_id: PortId, direction: PortDirection) -> None:
        self.node_id = node_id
        self.port_id = port_id
        self.direction = direction
        super().__init__(
            f"node `{node_id}` contract references unknown {direction.label} workflow port "
            f"`{port_id}`"
        )


class PortDirectionMismatch(ContractValidationError):
    code = "contract.port_direction_mismatch"

    def __init__(
        self,
        node_id: NodeId,
        port_id: PortId,
        workflow: PortDirection,
        contract: PortDirection,
    ) -> None:
        self.node_id = node_id
        self.port_id = port_id
        self.workflow = workflow
        self.contract = contract
        super().__init__(
            f"node `{node_id}` contract port `{port_id}` is {contract.label} but workflow "
            f"declares {workflow.label}"
        )


class MissingCapabilityDescriptor(ContractValidationError):
    code = "contract.missing_capability_descriptor"

    def __init__(self, node_id: NodeId) -> None:
        self.node_id = node_id
        super().__init__(f"no capability descriptor supplied for workflow node `{node_id}`")


class MissingPortCapability(ContractValidationError):
    """A workflow port has no receive/emit claim in its node's capability descriptor.

    The original did not require complete claims (and its introspection misreported the
    gap as a missing descriptor).
    """

    code = "contract.missing_port_capability"

    def __init__(self, node_id: NodeId, port_id: PortId, direction: PortDirection) -> None:
        self.node_id = node_id
        self.port_id = port_id
        self.direction = direction
        super().__init__(
            f"node `{node_id}` capability descriptor has no claim for {direction.label} port "
            f"`{port_id}`"
        )


class SchemaMismatch(ContractValidationError):
    code = "contract.schema_mismatch"

    def __init__(
        self,
        edge_index: int,
        source_node_id: NodeId,
        source_port_id: PortId,
        target_node_id: NodeId,
        target_port_id: PortId,
    ) -> None:
        self.edge_index = edge_index
        self.source_node_id = source_node_id
        self.source_port_id = source_port_id
        self.target_node_id = target_node_id
        self.target_port_id = target_port_id
        super().__init__(
            f"edge {edge_index} from `{source_node_id}:{source_port_id}` to "
            f"`{target_node_id}:{target_port_id}` has incompatible schemas"
        )


class ContractCapabilityError(ContractValidationError):
    """A capability problem found while validating contracts (the original's
    ``Capability`` variant); ``error`` is the underlying capability error."""

    code = "contract.capability"

    def __init__(self, error: CapabilityValidationError) -> None:
        self.error = error
        super().__init__(f"capability validation failed: {error}")
