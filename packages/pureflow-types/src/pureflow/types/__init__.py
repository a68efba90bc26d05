"""Validated identifier types for Pureflow workflows.

Five kinds of identifier name the things in a workflow: the workflow itself, one execution
of it, a message, a node and a port. Each is a ``str`` subclass validated on construction,
so it hashes, compares and serialises exactly like the text it holds::

    >>> from pureflow.types import NodeId
    >>> NodeId("transform")
    NodeId('transform')
    >>> NodeId("bad id")
    Traceback (most recent call last):
    ...
    pureflow.types.IdentifierError: node id must not contain whitespace
"""

from pureflow.types.identifiers import (
    MAX_IDENTIFIER_LEN,
    ExecutionId,
    Identifier,
    IdentifierError,
    IdentifierErrorKind,
    IdentifierKind,
    MessageId,
    NodeId,
    PortId,
    WorkflowId,
    validate_identifier,
)

__all__ = [
    "MAX_IDENTIFIER_LEN",
    "ExecutionId",
    "Identifier",
    "IdentifierError",
    "IdentifierErrorKind",
    "IdentifierKind",
    "MessageId",
    "NodeId",
    "PortId",
    "WorkflowId",
    "validate_identifier",
]
