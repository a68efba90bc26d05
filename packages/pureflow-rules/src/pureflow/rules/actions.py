"""Rule actions: what a rule node does with a packet once a rule decides.

``Route(port)`` forwards the packet on an output port, ``Drop`` consumes it,
``DeadLetter(reason)`` sends it to the fixed output port :data:`DEAD_LETTER_PORT`,
``Tag(key, value)`` attaches a tag and lets evaluation continue, and ``Halt(message)``
fails the node. Every action but ``Tag`` is terminal. ``str(action)`` is the original's
Display form: ``Route(p)``, ``Drop``, ``DeadLetter(r)``, ``Tag(k=<scalar>)``, ``Halt(m)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pureflow.rules.scalar import ScalarValue
from pureflow.types import PortId

DEAD_LETTER_PORT: Final = "dead_letter"
"""The output port that ``DeadLetter`` packets go to."""


@dataclass(frozen=True, slots=True)
class RuleAction:
    """Base of the action variants; the class name is the variant's JSON tag."""

    @property
    def variant(self) -> str:
        return type(self).__name__

    @property
    def is_terminal(self) -> bool:
        """True for every action except ``Tag``: evaluation stops at a terminal action."""
        return True


@dataclass(frozen=True, slots=True)
class Route(RuleAction):
    """Forward the packet on output port ``port_id``."""

    port_id: PortId

    def __init__(self, port_id: str) -> None:
        object.__setattr__(self, "port_id", PortId(port_id))

    def __str__(self) -> str:
        return f"Route({self.port_id})"


@dataclass(frozen=True, slots=True)
class Drop(RuleAction):
    """Consume the packet."""

    def __str__(self) -> str:
        return "Drop"


@dataclass(frozen=True, slots=True)
class DeadLetter(RuleAction):
    """Send the packet to :data:`DEAD_LETTER_PORT`, giving ``reason``."""

    reason: str

    def __str__(self) -> str:
        return f"DeadLetter({self.reason})"


@dataclass(frozen=True, slots=True)
class Tag(RuleAction):
    """Attach tag ``key`` = ``value``; not terminal."""

    key: str
    value: ScalarValue

    @property
    def is_terminal(self) -> bool:
        return False

    def __str__(self) -> str:
        return f"Tag({self.key}={self.value})"


@dataclass(frozen=True, slots=True)
class Halt(RuleAction):
    """Fail the hosting node with ``message``."""

    message: str

    def __str__(self) -> str:
        return f"Halt({self.message})"
