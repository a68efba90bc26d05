"""Scalar values that rule conditions compare against and ``Tag`` actions attach.

A :class:`ScalarValue` is one of five kinds: string, integer (signed 64-bit), float (a
finite IEEE double), boolean or null. Two scalars are equal only when they have the same
kind and equal values, so ``Integer(1) != Float(1.0)`` and ``Boolean(True) != Integer(1)``.

``str(scalar)`` is the original's Display form, which appears in ``explain`` output and in
evaluation traces: strings in double quotes without escaping (``"x"``), integers in decimal,
floats in the shortest round-trip form *without an exponent and without a trailing* ``.0``
(``1.0`` -> ``1``, ``0.5`` -> ``0.5``, ``1e21`` -> ``1000000000000000000000``), booleans as
``true``/``false`` and null as ``null``.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

I64_MIN: Final = -(2**63)
I64_MAX: Final = 2**63 - 1


class ScalarKind(enum.Enum):
    """The kind of a scalar; the value is the JSON variant tag (``{"Integer": 1}``)."""

    STRING = "String"
    INTEGER = "Integer"
    FLOAT = "Float"
    BOOLEAN = "Boolean"
    NULL = "Null"


ScalarPython = str | int | float | bool | None
"""The Python value a scalar holds."""


def format_float(value: float) -> str:
    """Format a float like Rust's ``{}`` for ``f64``: shortest round-trip digits, no exponent.

    ``1.0`` -> ``1``, ``-0.0`` -> ``-0``, ``1e-7`` -> ``0.0000001``, ``1e21`` ->
    ``1000000000000000000000``. Non-finite values print as ``NaN``, ``inf`` and ``-inf``.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


@dataclass(frozen=True, slots=True)
class ScalarValue:
    """A typed scalar. Build one with :meth:`string`, :meth:`integer`, :meth:`floating`,
    :meth:`boolean`, :meth:`null` or :meth:`of`.

    Construction checks that ``value`` has exactly the Python type of ``kind`` (a ``bool``
    is not an integer), that integers fit in a signed 64-bit range and that floats are
    finite; a violation raises ``TypeError`` or ``ValueError``.
    """

    kind: ScalarKind
    value: ScalarPython

    def __post_init__(self) -> None:
        kind, value = self.kind, self.value
        if kind is ScalarKind.STRING:
            if not isinstance(value, str):
                raise TypeError(f"String scalar needs a str, got {type(value).__name__}")
            if type(value) is not str:
                object.__setattr__(self, "value", str.__str__(value))
        elif kind is ScalarKind.INTEGER:
            if type(value) is not int:
                raise TypeError(f"Integer scalar needs an int, got {type(value).__name__}")
            if not I64_MIN <= value <= I64_MAX:
                raise ValueError(f"Integer scalar {value} does not fit in 64 signed bits")
        elif kind is ScalarKind.FLOAT:
            if type(value) is int:
                value = float(value)
                object.__setattr__(self, "value", value)
            if type(value) is not float:
                raise TypeError(f"Float scalar needs a float, got {type(value).__name__}")
            if not math.isfinite(value):
                raise ValueError(f"Float scalar must be finite, got {value}")
        elif kind is ScalarKind.BOOLEAN:
            if type(value) is not bool:
                raise TypeError(f"Boolean scalar needs a bool, got {type(value).__name__}")
        elif value is not None:
            raise TypeError(f"Null scalar holds no value, got {type(value).__name__}")

    @classmethod
    def string(cls, value: str) -> ScalarValue:
        return cls(ScalarKind.STRING, value)

    @classmethod
    def integer(cls, value: int) -> ScalarValue:
        return cls(ScalarKind.INTEGER, value)

    @classmethod
    def floating(cls, value: float) -> ScalarValue:
        return cls(ScalarKind.FLOAT, value)

    @classmethod
    def boolean(cls, value: bool) -> ScalarValue:
        return cls(ScalarKind.BOOLEAN, value)

    @classmethod
    def null(cls) -> ScalarValue:
        return cls(ScalarKind.NULL, None)

    @classmethod
    def of(cls, value: ScalarPython) -> ScalarValue:
        """The scalar for a plain Python value, choosing the kind from its exact type."""
        if value is None:
            return cls.null()
        if type(value) is bool:
            return cls.boolean(value)
        if type(value) is int:
            return cls.integer(value)
        if type(value) is float:
            return cls.floating(value)
        if isinstance(value, str):
            return cls.string(value)
        raise TypeError(f"no scalar kind for {type(value).__name__}")

    def __str__(self) -> str:
        kind, value = self.kind, self.value
        if kind is ScalarKind.STRING:
            return f'"{value}"'
        if kind is ScalarKind.FLOAT:
            assert isinstance(value, float)
            return format_float(value)
        if kind is ScalarKind.BOOLEAN:
            return "true" if value else "false"
        if kind is ScalarKind.NULL:
            return "null"
        return str(value)

    def __repr__(self) -> str:
        if self.kind is ScalarKind.NULL:
            return "ScalarValue.null()"
        return f"ScalarValue.{_CONSTRUCTORS[self.kind]}({self.value!r})"


_CONSTRUCTORS: Final = {
    ScalarKind.STRING: "string",
    ScalarKind.INTEGER: "integer",
    ScalarKind.FLOAT: "floating",
    ScalarKind.BOOLEAN: "boolean",
}
