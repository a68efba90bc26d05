"""JSON text to plain data, as strictly as serde_json reads it.

On top of :func:`json.loads`: duplicate keys, ``NaN``/``Infinity``, numbers that
overflow (``1e400``, thousands of digits) and lone UTF-16 surrogate escapes
(``"\\ud800"``) are errors; ``-0`` reads as a float (so it is not an integer);
nesting too deep for the parser is an error, never a ``RecursionError``. Every problem is
reported with its pointer, line and column.
"""

from __future__ import annotations

import json
import math
import re
from typing import Final

from pureflow.format.decoded import NOTHING, Decoded
from pureflow.format.diagnostics import (
    DECODE_DUPLICATE_KEY,
    DECODE_NESTING,
    DECODE_SYNTAX,
    Diagnostic,
    pointer,
    shown,
)
from pureflow.format.locations import JsonLocator, Parts

_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_MAX_NUMBER_DIGITS: Final = 1000


class _Invalid:
    """Stands where the parser met a value JSON does not allow; replaced by None later."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class _Hooks:
    """``json.loads`` hooks that record problems instead of failing without a position."""

    def __init__(self) -> None:
        self.flagged = False
        self.duplicates: dict[int, tuple[dict[str, object], list[str]]] = {}

    def pairs(self, pairs: list[tuple[str, object]]) -> dict[str, object]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            repeated = []
            for key, _ in pairs:
                if key in seen:
                    repeated.append(key)
                seen.add(key)
            self.duplicates[id(result)] = (result, repeated)
            self.flagged = True
        return result

    def constant(self, name: str) -> object:
        self.flagged = True
        return _Invalid(f"`{name}` is not a valid JSON number")

    def number(self, text: str) -> object:
        if len(text) > _MAX_NUMBER_DIGITS:
            self.flagged = True
            return _Invalid("number out of range")
        value = float(text)
        if not math.isfinite(value):
            self.flagged = True
            return _Invalid("number out of range")
        return value

    def integer(self, text: str) -> object:
        if text == "-0":
            return -0.0  # serde_json reads -0 as a float
        if len(text) > _MAX_NUMBER_DIGITS:
            self.flagged = True
            return _Invalid("number out of range")
        return int(text)


def decode_json(text: str) -> Decoded:
    """Decode JSON text; the result holds the value or the problems that stop it."""
    hooks = _Hooks()
    try:
        value = json.loads(
            text,
            object_pairs_hook=hooks.pairs,
            parse_constant=hooks.constant,
            parse_float=hooks.number,
            parse_int=hooks.integer,
        )
    except json.JSONDecodeError as err:
        problem = Diagnostic(DECODE_SYNTAX, err.msg, "", err.lineno, err.colno)
        return Decoded(NOTHING, None, [problem])
    except RecursionError:
        return Decoded(NOTHING, None, [Diagnostic(DECODE_NESTING, "document nests too deeply")])
    locator = JsonLocator(text)
    decoded = Decoded(value, locator)
    if hooks.flagged or _SURROGATE_ESCAPE.search(text):
        decoded.value = _scan(value, hooks, decoded, locator)
    return decoded


def _scan(root: object, hooks: _Hooks, decoded: Decoded, locator: JsonLocator) -> object:
    """Find the recorded problems (iteratively: any depth), replacing bad values by None
    and dropping entries under bad keys: a lone surrogate must not reach code that encodes
    the text (the document model's validation would raise ``UnicodeEncodeError``)."""
    found: list[tuple[Parts, str, str]] = []

    def bad_string(text: str, parts: Parts) -> bool:
        if _SURROGATE.search(text):
            found.append((parts, DECODE_SYNTAX, "lone surrogate escape in string"))
            return True
        return False

    def visit(value: object, parts: Parts) -> object:
        if isinstance(value, _Invalid):
            found.append((parts, DECODE_SYNTAX, value.message))
            return None
        if isinstance(value, str):
            return None if bad_string(value, parts) else value
        if isinstance(value, dict | list):
            stack.append((value, parts))
        return value

    stack: list[tuple[dict[str, object] | list[object], Parts]] = []
    root = visit(root, ())
    while stack:
        container, parts = stack.pop()
        if isinstance(container, dict):
            record = hooks.duplicates.get(id(container))
            if record is not None and record[0] is container:
                found.extend(
                    ((*parts, key), DECODE_DUPLICATE_KEY, f"duplicate field `{shown(key, 64)}`")
                    for key in record[1]
                )
            for key in list(container):
                if bad_string(key, (*parts, key)):
                    del container[key]
                    continue
                container[key] = visit(container[key], (*parts, key))
        else:
            for index, item in enumerate(container):
                container[index] = visit(item, (*parts, index))
    found.sort(key=lambda item: locator.position(item[0]) or (0, 0))
    for parts, code, message in found:
        position = locator.position(parts)
        line, column = position if position is not None else (None, None)
        decoded.problems.append(Diagnostic(code, message, pointer(parts), line, column))
    return root
