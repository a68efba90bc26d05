"""Where a JSON pointer sits in the source text: line and column for diagnostics.

A :class:`Locator` answers ``position(parts)`` for a path of keys and indexes, falling
back to the nearest enclosing value that exists (a missing field is reported at its
parent object). JSON documents get a :class:`JsonLocator`, which tokenises the text
once, only when the first diagnostic needs a position, so valid documents pay nothing.
YAML documents get a locator from the YAML decoder, built from the parser's marks.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from typing import Final, Protocol

Position = tuple[int, int]
Parts = tuple[str | int, ...]


class Locator(Protocol):
    """Maps a path into the document to a 1-based (line, column)."""

    def position(self, parts: Sequence[str | int]) -> Position | None: ...


class LineIndex:
    """Character offsets to 1-based line and column."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [match.end() for match in re.finditer("\n", text)]

    def position(self, offset: int) -> Position:
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


_TOKEN: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


class JsonLocator:
    """Positions in a JSON text that ``json.loads`` accepted (index built on first use).

    A duplicated key maps to its last occurrence, which is where the duplicate is.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._index: dict[Parts, int] | None = None
        self._lines: LineIndex | None = None

    def position(self, parts: Sequence[str | int]) -> Position | None:
        if self._index is None:
            self._index = _index_json(self._text)
            self._lines = LineIndex(self._text)
        assert self._lines is not None
        path = tuple(parts)
        while True:
            offset = self._index.get(path)
            if offset is not None:
                return self._lines.position(offset)
            if not path:
                return None
            path = path[:-1]


def _index_json(text: str) -> dict[Parts, int]:
    index: dict[Parts, int] = {}
    # Each frame: [is_object, parts, current key or index, expecting a key].
    stack: list[list[object]] = []
    pending: Parts | None = ()
    for match in _TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        if first == ",":
            frame = stack[-1]
            if frame[0]:
                frame[3] = True
            else:
                position = int(frame[2]) + 1  # type: ignore[call-overload]
                frame[2] = position
                pending = (*_parts(frame), position)
            continue
        if first == ":":
            frame = stack[-1]
            pending = (*_parts(frame), frame[2])  # type: ignore[arg-type]
            continue
        if first in "]}":
            stack.pop()
            pending = None
            continue
        if stack and stack[-1][0] and stack[-1][3]:
            try:
                key: object = json.loads(token)
            except ValueError:
                key = token
            stack[-1][2] = key
            stack[-1][3] = False
            continue
        if pending is None:
            continue
        index[pending] = match.start()
        if first == "{":
            stack.append([True, pending, None, True])
            pending = None
        elif first == "[":
            stack.append([False, pending, 0, False])
            pending = (*pending, 0)
        else:
            pending = None
    return index


def _parts(frame: list[object]) -> Parts:
    parts = frame[1]
    assert isinstance(parts, tuple)
    return parts
