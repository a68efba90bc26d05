"""The five identifier kinds and the rules every identifier obeys.

The rules are the original's, checked in this order (the first failure wins):

1. more than ``MAX_IDENTIFIER_LEN`` (256) UTF-8 bytes: ``TOO_LONG``;
2. empty once Unicode ``White_Space`` is trimmed from both ends: ``EMPTY``;
3. any ``White_Space`` character anywhere: ``WHITESPACE``;
4. any general-category ``Cc`` control character: ``CONTROL``.

``White_Space`` is the exact Unicode property set, not ``str.isspace`` (which also treats
U+001C..U+001F as whitespace; those are control characters here).
"""

from __future__ import annotations

import enum
from typing import ClassVar, Final

MAX_IDENTIFIER_LEN: Final = 256
"""The largest identifier, in UTF-8 bytes."""

# Unicode White_Space, exactly (PropList.txt); str.isspace() differs on U+001C..U+001F.
WHITE_SPACE: Final[frozenset[str]] = frozenset(
    [chr(c) for c in range(0x09, 0x0E)]
    + ["\u0020", "\u0085", "\u00a0", "\u1680"]
    + [chr(c) for c in range(0x2000, 0x200B)]
    + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
)
# General category Cc.
CONTROL: Final[frozenset[str]] = frozenset(
    [chr(c) for c in range(0x20)] + [chr(c) for c in range(0x7F, 0xA0)]
)


class IdentifierKind(enum.Enum):
    """Which kind of identifier a value is; its ``label`` appears in messages."""

    WORKFLOW = "workflow id"
    EXECUTION = "execution id"
    MESSAGE = "message id"
    NODE = "node id"
    PORT = "port id"

    @property
    def label(self) -> str:
        return self.value


class IdentifierErrorKind(enum.Enum):
    """Which rule an invalid identifier broke."""

    EMPTY = "empty"
    WHITESPACE = "whitespace"
    CONTROL = "control"
    TOO_LONG = "too_long"


class IdentifierError(ValueError):
    """An identifier broke one of the rules; ``str(err)`` is the original's message."""

    def __init__(self, kind: IdentifierKind, error: IdentifierErrorKind) -> None:
        self.kind = kind
        self.error = error
        super().__init__(self.message)

    @property
    def message(self) -> str:
        label = self.kind.label
        if self.error is IdentifierErrorKind.EMPTY:
            return f"{label} must not be empty"
        if self.error is IdentifierErrorKind.WHITESPACE:
            return f"{label} must not contain whitespace"
        if self.error is IdentifierErrorKind.CONTROL:
            return f"{label} must not contain control characters"
        return f"{label} must not exceed {MAX_IDENTIFIER_LEN} bytes"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IdentifierError):
            return NotImplemented
        return (self.kind, self.error) == (other.kind, other.error)

    def __hash__(self) -> int:
        return hash((self.kind, self.error))

    def __reduce__(
        self,
    ) -> tuple[type[IdentifierError], tuple[IdentifierKind, IdentifierErrorKind]]:
        return (IdentifierError, (self.kind, self.error))


def _trimmed_is_empty(value: str) -> bool:
    return all(ch in WHITE_SPACE for ch in value)


def validate_identifier(value: str, kind: IdentifierKind) -> None:
    """Raise :class:`IdentifierError` if ``value`` is not a valid ``kind`` identifier.

    Lone surrogates cannot be encoded as UTF-8 and are reported as control characters;
    document decoders reject them earlier with a clearer message.
    """
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise IdentifierError(kind, IdentifierErrorKind.CONTROL) from None
    if size > MAX_IDENTIFIER_LEN:
        raise IdentifierError(kind, IdentifierErrorKind.TOO_LONG)
    # Fast path: non-empty printable ASCII without a space is always valid.
    if value and value.isascii() and value.isprintable() and " " not in value:
        return
    if _trimmed_is_empty(value):
        raise IdentifierError(kind, IdentifierErrorKind.EMPTY)
    if any(ch in WHITE_SPACE for ch in value):
        raise IdentifierError(kind, IdentifierErrorKind.WHITESPACE)
    if any(ch in CONTROL for ch in value):
        raise IdentifierError(kind, IdentifierErrorKind.CONTROL)


class Identifier(str):
    """Base of the validated identifier types: a ``str`` that checked itself on creation.

    Equality, ordering and hashing are those of the plain text, so ``NodeId("a") == "a"``.
    Subclasses set ``KIND``.
    """

    __slots__ = ()
    KIND: ClassVar[IdentifierKind]

    def __new__(cls, value: str) -> Identifier:
        if type(value) is cls:
            return value
        if not isinstance(value, str):
            raise TypeError(f"{cls.KIND.label} must be a string, not {type(value).__name__}")
        validate_identifier(value, cls.KIND)
        return super().__new__(cls, value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str.__repr__(self)})"

    def as_str(self) -> str:
        """The raw text, as a plain ``str``."""
        return str.__str__(self)


class WorkflowId(Identifier):
    """Names a workflow."""

    __slots__ = ()
    KIND = IdentifierKind.WORKFLOW

    def __new__(cls, value: str) -> WorkflowId:
        return super().__new__(cls, value)  # type: ignore[return-value]


class ExecutionId(Identifier):
    """Names one execution (run) of a workflow."""

    __slots__ = ()
    KIND = IdentifierKind.EXECUTION

    def __new__(cls, value: str) -> ExecutionId:
        return super().__new__(cls, value)  # type: ignore[return-value]


class MessageId(Identifier):
    """Names one message (packet) moving through a workflow."""

    __slots__ = ()
    KIND = IdentifierKind.MESSAGE

    def __new__(cls, value: str) -> MessageId:
        return super().__new__(cls, value)  # type: ignore[return-value]


class NodeId(Identifier):
    """Names a node of a workflow."""

    __slots__ = ()
    KIND = IdentifierKind.NODE

    def __new__(cls, value: str) -> NodeId:
        return super().__new__(cls, value)  # type: ignore[return-value]


class PortId(Identifier):
    """Names a port of a node."""

    __slots__ = ()
    KIND = IdentifierKind.PORT

    def __new__(cls, value: str) -> PortId:
        return super().__new__(cls, value)  # type: ignore[return-value]
