"""Validated identifier types for Pureflow workflows, and the bounded reading of the files
a user names (:mod:`pureflow.types.files`).

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

from pureflow.types.files import (
    COMPONENT_LIMIT,
    DOCUMENT_LIMIT,
    InputFileRefused,
    ReadLimit,
    check_input_file,
    open_input_file,
    read_input_file,
    read_input_stream,
)
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
    "COMPONENT_LIMIT",
    "DOCUMENT_LIMIT",
    "MAX_IDENTIFIER_LEN",
    "ExecutionId",
    "Identifier",
    "IdentifierError",
    "IdentifierErrorKind",
    "IdentifierKind",
    "InputFileRefused",
    "MessageId",
    "NodeId",
    "PortId",
    "ReadLimit",
    "WorkflowId",
    "check_input_file",
    "open_input_file",
    "read_input_file",
    "read_input_stream",
    "validate_identifier",
]
