"""Plain decoded values: the YAML scalar wrapper, type descriptions, JSON-value checks.

The decoders turn text into plain Python data (dicts, lists, strings, numbers, booleans,
None). YAML is the exception: its scalars stay :class:`YamlScalar` objects holding the
source text, style, explicit tag and position, because a YAML scalar means different
things to different fields (spec-1 §3.1): a string field takes any scalar as its text,
an integer field only a plain integer, an optional field reads ``~`` as absent. The
document models coerce them per field.

:func:`to_json_value` turns any decoded value (YAML scalars resolved with the YAML 1.2
core schema) into a JSON value, rejecting what JSON cannot hold (TOML datetimes,
non-finite floats) and nesting deeper than :data:`MAX_VALUE_DEPTH`.
"""

from __future__ import annotations

import math
import re
from typing import Final

from pureflow.format.diagnostics import DECODE_NESTING, DECODE_TYPE, shown

MAX_VALUE_DEPTH: Final = 128
"""How deeply a free-form JSON value (``config``, ``rule_set``) may nest."""

YAML_STR: Final = "tag:yaml.org,2002:str"
YAML_INT: Final = "tag:yaml.org,2002:int"
YAML_FLOAT: Final = "tag:yaml.org,2002:float"
YAML_BOOL: Final = "tag:yaml.org,2002:bool"
YAML_NULL: Final = "tag:yaml.org,2002:null"
YAML_MAP: Final = "tag:yaml.org,2002:map"
YAML_SEQ: Final = "tag:yaml.org,2002:seq"
YAML_SCALAR_TAGS: Final = frozenset({YAML_STR, YAML_INT, YAML_FLOAT, YAML_BOOL, YAML_NULL, "!"})

NULL_FORMS: Final = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE_FORMS: Final = frozenset({"true", "True", "TRUE"})
_FALSE_FORMS: Final = frozenset({"false", "False", "FALSE"})
# Integers as serde_yaml reads them: no leading zeros (YAML 1.1 octal is ambiguous),
# lower-case 0x/0o/0b prefixes, an optional sign.
_INT_RE: Final = re.compile(r"[-+]?(?:0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+|0|[1-9][0-9]*)")
_FLOAT_RE: Final = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INF_RE: Final = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN_FORMS: Final = frozenset({".nan", ".NaN", ".NAN"})
_MAX_INT_DIGITS: Final = 1000


def parse_yaml_int(text: str) -> int | None:
    """The integer a plain YAML scalar spells (``4``, ``+4``, ``0x10``, ``0o10``, ``0b1``).

    ``010`` (leading zero), ``4.0`` and ``1_000`` are not integers: None.
    """
    if len(text) > _MAX_INT_DIGITS or _INT_RE.fullmatch(text) is None:
        return None
    sign = -1 if text[0] == "-" else 1
    digits = text[1:] if text[0] in "+-" else text
    if digits.startswith(("0x", "0o", "0b")):
        base = {"x": 16, "o": 8, "b": 2}[digits[1]]
        return sign * int(digits[2:], base)
    return sign * int(digits)


def _parse_yaml_float(text: str) -> float | None:
    if _INF_RE.fullmatch(text):
        return -math.inf if text.startswith("-") else math.inf
    if text in _NAN_FORMS:
        return math.nan
    if len(text) <= _MAX_INT_DIGITS and _FLOAT_RE.fullmatch(text) and any(c in text for c in ".eE"):
        return float(text)
    return None


class YamlScalar:
    """A YAML scalar as written: its text, whether it was plain, its explicit tag, where.

    ``tag`` is None for an untagged scalar (resolved by the YAML 1.2 core schema when a
    typed value is needed); an explicit standard tag (``!!str``, ``!!int``, ...) fixes the
    type. ``line`` and ``column`` are 1-based.
    """

    __slots__ = ("column", "line", "plain", "tag", "value")

    def __init__(self, value: str, plain: bool, tag: str | None, line: int, column: int) -> None:
        self.value = value
        self.plain = plain
        self.tag = tag
        self.line = line
        self.column = column

    def is_null(self) -> bool:
        """True for ``~``, ``null``, ``Null``, ``NULL``, an empty plain value, or ``!!null``."""
        if self.tag is not None:
            return self.tag == YAML_NULL
        return self.plain and self.value in NULL_FORMS

    def is_empty(self) -> bool:
        """True for an empty plain, untagged value (``inputs:`` with nothing after it)."""
        return self.plain and self.tag is None and self.value == ""

    def as_int(self) -> int | None:
        """The integer this scalar is, if it is a plain (or ``!!int``) integer."""
        if self.tag == YAML_INT or (self.tag is None and self.plain):
            return parse_yaml_int(self.value)
        return None

    def resolve(self) -> object:
        """The typed value (YAML 1.2 core schema, serde_yaml's integer forms)."""
        tag = self.tag
        if tag in (YAML_STR, "!") or (tag is None and not self.plain):
            return self.value
        if tag == YAML_NULL:
            return None
        text = self.value
        if tag is None:
            if text in NULL_FORMS:
                return None
            if text in _TRUE_FORMS:
                return True
            if text in _FALSE_FORMS:
                return False
            number = parse_yaml_int(text)
            if number is not None:
                return number
            real = _parse_yaml_float(text)
            return text if real is None else real
        if tag == YAML_BOOL:
            return text in _TRUE_FORMS
        if tag == YAML_INT:
            return parse_yaml_int(text)
        return _parse_yaml_float(text)

    def tag_mismatch(self) -> bool:
        """True when an explicit ``!!int``/``!!float``/``!!bool``/``!!null`` does not fit."""
        tag, text = self.tag, self.value
        if tag == YAML_INT:
            return parse_yaml_int(text) is None
        if tag == YAML_FLOAT:
            return _parse_yaml_float(text) is None and parse_yaml_int(text) is None
        if tag == YAML_BOOL:
            return text not in _TRUE_FORMS and text not in _FALSE_FORMS
        if tag == YAML_NULL:
            return text not in NULL_FORMS
        return False

    def __repr__(self) -> str:
        return f"YamlScalar({shown(self.value, 40)!r}, plain={self.plain}, tag={self.tag!r})"


def describe(value: object) -> str:
    """A value's type and (short) text, as serde words it: ``integer `4```, ``string "x"``."""
    if isinstance(value, YamlScalar):
        value = value.resolve()
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{'true' if value else 'false'}`"
    if isinstance(value, int):
        digits = str(value) if value.bit_length() < 256 else "<a very large integer>"
        return f"integer `{digits}`"
    if isinstance(value, float):
        return f"floating point `{value!r}`"
    if isinstance(value, str):
        return f'string "{shown(value, 64)}"'
    if isinstance(value, list | tuple):
        return "sequence"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


class JsonValueError(ValueError):
    """A decoded value is not a JSON value; ``parts`` is where, inside the value."""

    def __init__(self, code: str, message: str, parts: tuple[str | int, ...]) -> None:
        self.code = code
        self.message = message
        self.parts = parts
        super().__init__(message)


def to_json_value(value: object, max_depth: int = MAX_VALUE_DEPTH) -> object:
    """A JSON value (dict, list, str, int, float, bool, None) equal to ``value``.

    YAML scalars are resolved; anything JSON cannot hold raises :class:`JsonValueError`.
    """
    return _convert(value, (), max_depth)


def _convert(value: object, parts: tuple[str | int, ...], budget: int) -> object:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is YamlScalar:
        assert isinstance(value, YamlScalar)
        resolved = value.resolve()
        if isinstance(resolved, float) and not math.isfinite(resolved):
            raise JsonValueError(
                DECODE_TYPE,
                f"YAML value `{shown(value.value, 40)}` is not a finite number, "
                "which JSON cannot hold",
                parts,
            )
        return resolved
    if kind is float:
        assert isinstance(value, float)
        if not math.isfinite(value):
            raise JsonValueError(
                DECODE_TYPE, f"{value!r} is not a finite number, which JSON cannot hold", parts
            )
        return value
    if budget <= 0 and isinstance(value, dict | list):
        raise JsonValueError(DECODE_NESTING, "document nests too deeply", parts)
    if kind is dict:
        assert isinstance(value, dict)
        return {key: _convert(item, (*parts, key), budget - 1) for key, item in value.items()}
    if kind is list:
        assert isinstance(value, list)
        return [_convert(item, (*parts, index), budget - 1) for index, item in enumerate(value)]
    raise JsonValueError(
        DECODE_TYPE, f"invalid type: {describe(value)}, expected a JSON value", parts
    )
