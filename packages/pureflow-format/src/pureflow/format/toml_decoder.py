"""TOML text to plain data (:mod:`tomllib`; duplicate keys are already errors there).

Syntax errors carry tomllib's line and column. Values have no positions: TOML
diagnostics after decoding carry a pointer but no line. Nesting too deep for tomllib is
a ``decode.nesting`` error, never a ``RecursionError``.
"""

from __future__ import annotations

import re
from typing import Final

from pureflow.format.decoded import NOTHING, Decoded
from pureflow.format.diagnostics import DECODE_NESTING, DECODE_SYNTAX, Diagnostic

_AT: Final = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END: Final = re.compile(r"\s*\(at end of document\)\s*$")


def decode_toml(text: str) -> Decoded:
    """Decode TOML text; the result holds the value or the syntax problem that stops it."""
    import tomllib  # noqa: PLC0415  (imported on first use: keeps the package import light)

    try:
        value = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return Decoded(NOTHING, None, [_syntax(err, text)])
    except RecursionError:
        return Decoded(NOTHING, None, [Diagnostic(DECODE_NESTING, "document nests too deeply")])
    return Decoded(value, None)


def _syntax(err: ValueError, text: str) -> Diagnostic:
    message = str(getattr(err, "msg", None) or err)
    line: int | None = getattr(err, "lineno", None)
    column: int | None = getattr(err, "colno", None)
    found = _AT.search(message)
    if found is not None:
        message = message[: found.start()]
        line, column = int(found.group(1)), int(found.group(2))
    elif _AT_END.search(message) is not None:
        message = _AT_END.sub("", message)
        line = text.count("\n") + 1
        column = len(text) - (text.rfind("\n") + 1) + 1
    return Diagnostic(DECODE_SYNTAX, message, "", line, column)
