"""What a decoder returns: the plain value, a locator, and the problems it found."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from pureflow.format.diagnostics import Diagnostic
from pureflow.format.locations import Locator


class _Nothing:
    """The value of a document that could not be decoded at all."""

    def __repr__(self) -> str:
        return "NOTHING"


NOTHING: Final = _Nothing()


@dataclass(slots=True)
class Decoded:
    """A decoder's result.

    ``value`` is the plain data (:data:`NOTHING` when the text could not be read at all);
    ``problems`` are decode diagnostics the decoder itself found (syntax, duplicate keys,
    bad escapes, tags); ``locator`` maps pointers to positions, when the format allows.
    """

    value: object
    locator: Locator | None = None
    problems: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.value is not NOTHING
