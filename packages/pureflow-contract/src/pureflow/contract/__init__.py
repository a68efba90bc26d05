"""Node contracts, schema references, capability declarations and config schemas.

Everything here is pure data plus checks; nothing runs a node.

* :class:`NodeContract`, :class:`PortContract`, :class:`SchemaRef`, :class:`ExecutionMode`,
  :class:`Determinism`, :class:`RetryDisposition`: what a node promises;
* :class:`NodeCapabilities`, :class:`PortCapability`, :class:`EffectCapability`,
  :class:`EnforcementLevel`, :func:`enforcement_for`, :func:`allowed_effects`: what a node
  may touch and how strictly that is held;
* :func:`validate_workflow_contracts` / :func:`contract_errors` and
  :func:`validate_workflow_capabilities` / :func:`capability_errors`: checks against a
  workflow;
* :class:`ConfigSchema`, :func:`validate_config`: JSON Schema (Draft 2020-12) for node
  configuration.

Whether a rule node's rule set fits the node is a graph check
(:mod:`pureflow.workflow.rule_checks`).

Every error derives from :class:`ContractError` and has a stable ``code``.
"""

from pureflow.contract.capabilities import (
    EffectCapability,
    EnforcementLevel,
    NodeCapabilities,
    PortCapability,
    PortCapabilityDirection,
    allowed_effects,
    capability_errors,
    check_enforceable,
    enforcement_for,
    validate_workflow_capabilities,
)
from pureflow.contract.config import (
    ConfigProblem,
    ConfigSchema,
    InvalidConfig,
    InvalidConfigSchema,
    validate_config,
)
from pureflow.contract.errors import (
    CapabilityDirectionMismatch,
    CapabilityValidationError,
    ConflictingPortDirection,
    ContractCapabilityError,
    ContractError,
    ContractValidationError,
    DuplicateCapabilityDescriptor,
    DuplicateContract,
    DuplicateEffect,
    DuplicatePortCapability,
    DuplicatePortContract,
    EmptySchemaRef,
    MissingCapabilityDescriptor,
    MissingContract,
    MissingPortCapability,
    PortDirectionMismatch,
    SchemaMismatch,
    UnenforceableEffectCapability,
    UnknownCapabilityNode,
    UnknownCapabilityPort,
    UnknownWorkflowNode,
    UnknownWorkflowPort,
)
from pureflow.contract.model import (
    Determinism,
    ExecutionMode,
    NodeContract,
    PortContract,
    RetryDisposition,
    SchemaRef,
)
from pureflow.contract.validation import contract_errors, validate_workflow_contracts

__all__ = [
    "CapabilityDirectionMismatch",
    "CapabilityValidationError",
    "ConfigProblem",
    "ConfigSchema",
    "ConflictingPortDirection",
    "ContractCapabilityError",
    "ContractError",
    "ContractValidationError",
    "Determinism",
    "DuplicateCapabilityDescriptor",
    "DuplicateContract",
    "DuplicateEffect",
    "DuplicatePortCapability",
    "DuplicatePortContract",
    "EffectCapability",
    "EmptySchemaRef",
    "EnforcementLevel",
    "ExecutionMode",
    "InvalidConfig",
    "InvalidConfigSchema",
    "MissingCapabilityDescriptor",
    "MissingContract",
    "MissingPortCapability",
    "NodeCapabilities",
    "NodeContract",
    "PortCapability",
    "PortCapabilityDirection",
    "PortContract",
    "PortDirectionMismatch",
    "RetryDisposition",
    "SchemaMismatch",
    "SchemaRef",
    "UnenforceableEffectCapability",
    "UnknownCapabilityNode",
    "UnknownCapabilityPort",
    "UnknownWorkflowNode",
    "UnknownWorkflowPort",
    "allowed_effects",
    "capability_errors",
    "check_enforceable",
    "contract_errors",
    "enforcement_for",
    "validate_config",
    "validate_workflow_capabilities",
    "validate_workflow_contracts",
]
