"""Field paths: where a payload condition looks inside a JSON payload."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from pureflow.rules.errors import EmptyFieldPath
from pureflow.types.identifiers import WHITE_SPACE


class Absent(enum.Enum):
    """The type of :data:`ABSENT`: a path that does not resolve (distinct from JSON null)."""

    ABSENT = "absent"


ABSENT: Final = Absent.ABSENT


def is_blank(text: str) -> bool:
    """True when ``text`` is empty once Unicode ``White_Space`` is trimmed from both ends."""
    return all(ch in WHITE_SPACE for ch in text)


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A dotted path such as ``account.type``: one object-key lookup per ``.``-segment.

    Construction raises :class:`EmptyFieldPath` when the text is empty or only whitespace.
    There is no array indexing and no escaping: ``a..b`` looks up the keys ``a``, ``""``
    and ``b``.
    """

    text: str
    segments: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError(f"field path must be a str, got {type(self.text).__name__}")
        if is_blank(self.text):
            raise EmptyFieldPath
        object.__setattr__(self, "segments", tuple(self.text.split(".")))

    def as_str(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def resolve(self, payload: object) -> object:
        """The value at this path, or :data:`ABSENT`.

        Each step must land on a ``Mapping`` holding the segment as a key; anything else
        (a list, a scalar, ``None``, bytes) makes the path absent. A JSON ``null`` at the
        end resolves to ``None``, which is *present*.
        """
        current = payload
        for segment in self.segments:
            if not isinstance(current, Mapping) or segment not in current:
                return ABSENT
            current = current[segment]
        return current
