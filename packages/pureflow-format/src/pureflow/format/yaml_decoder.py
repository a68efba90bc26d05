"""YAML text to plain data with YAML 1.2 semantics and safe loading only.

The text is read as a stream of parser events (ruamel.yaml; its C parser when
installed) and composed here, iteratively, into dicts, lists and :class:`YamlScalar`
objects that keep each scalar's text, style, tag and position. Nothing is ever
constructed from a tag, so no Python object can be created by a document.

Rules:

* only the standard tags ``!!str``, ``!!int``, ``!!float``, ``!!bool``, ``!!null``,
  ``!!map``, ``!!seq`` (and the non-specific ``!``) are accepted; any other explicit tag
  is a ``decode.tag`` error, as is a standard scalar tag whose text does not fit;
* duplicate keys are ``decode.duplicate_key`` errors; keys must be scalars;
* anchors and aliases work, but the document may expand to at most
  :data:`MAX_EXPANDED_NODES` nodes (a "billion laughs" document is a ``decode.alias``
  error, found without expanding anything), and an alias may not refer to a node that
  contains it;
* nesting (aliases included) deeper than :data:`MAX_DEPTH` is a ``decode.nesting``
  error; only one document per stream.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, Final

from pureflow.format.decoded import NOTHING, Decoded
from pureflow.format.diagnostics import (
    DECODE_ALIAS,
    DECODE_DUPLICATE_KEY,
    DECODE_NESTING,
    DECODE_SYNTAX,
    DECODE_TAG,
    Diagnostic,
    pointer,
    shown,
)
from pureflow.format.locations import Parts, Position
from pureflow.format.values import YAML_MAP, YAML_SCALAR_TAGS, YAML_SEQ, YamlScalar

MAX_EXPANDED_NODES: Final = 1_000_000
"""The most nodes a YAML document may hold once every alias is expanded."""

MAX_DEPTH: Final = 1000
"""The deepest a YAML document may nest."""


class _FatalError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(diagnostic.message)


_IN_PROGRESS: Final = object()
_SKIP: Final = object()


class _Frame:
    __slots__ = ("anchor", "height", "key", "key_scalar", "mapping", "size", "slot", "value")

    def __init__(
        self,
        value: dict[str, object] | list[object],
        slot: str | int | None,
        anchor: str | None,
    ) -> None:
        self.value = value
        self.mapping = isinstance(value, dict)
        self.slot = slot
        self.anchor = anchor
        self.key: object = None  # None: expecting a key (mappings only)
        self.key_scalar: YamlScalar | None = None
        self.size = 1
        self.height = 1


class YamlLocator:
    """Positions of the values of a composed YAML document (aliases share a position)."""

    def __init__(self, root: object, marks: dict[int, Position]) -> None:
        self._root = root
        self._marks = marks

    def _mark(self, value: object) -> Position | None:
        if isinstance(value, YamlScalar):
            return value.line, value.column
        return self._marks.get(id(value))

    def position(self, parts: Sequence[str | int]) -> Position | None:
        current = self._root
        found = self._mark(current)
        for part in parts:
            child = _child(current, part)
            if child is _MISSING:
                break
            current = child
            found = self._mark(current) or found
        return found


_MISSING: Final = object()


def _child(container: object, part: str | int) -> object:
    if isinstance(container, dict) and isinstance(part, str):
        return container.get(part, _MISSING)
    if isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container):
        return container[part]
    return _MISSING


def _event_source(text: str) -> Callable[[], Any]:
    """A function returning the next parser event (the C parser when installed)."""
    try:
        c_parser: Any = importlib.import_module("_ruamel_yaml").CParser
    except (ImportError, AttributeError):  # pragma: no cover - depends on the platform
        yaml_module: Any = importlib.import_module("ruamel.yaml")
        pure_events: Callable[[], Any] = iter(
            yaml_module.YAML(typ="safe", pure=True).parse(text)
        ).__next__
        return pure_events
    get_event: Callable[[], Any] = c_parser(text).get_event
    return get_event


class _Composer:
    def __init__(self) -> None:
        self.frames: list[_Frame] = []
        self.root: object = NOTHING
        self.anchors: dict[str, tuple[object, int, int]] = {}
        self.marks: dict[int, Position] = {}
        self.problems: list[Diagnostic] = []
        self.expanded = 0
        self.documents = 0

    # -- helpers ---------------------------------------------------------------------

    def _parts(self, last: str | int | None = None) -> Parts:
        parts: list[str | int] = [frame.slot for frame in self.frames[1:] if frame.slot is not None]
        if last is not None:
            parts.append(last)
        return tuple(parts)

    def _next_slot(self) -> str | int | None:
        if not self.frames:
            return None
        top = self.frames[-1]
        if top.mapping:
            return top.key if isinstance(top.key, str) else None
        assert isinstance(top.value, list)
        return len(top.value)

    def _problem(self, code: str, message: str, mark: Position, parts: Parts) -> Diagnostic:
        return Diagnostic(code, message, pointer(parts), mark[0], mark[1])

    def _count(self, size: int, height: int, mark: Position) -> None:
        self.expanded += size
        if self.expanded > MAX_EXPANDED_NODES:
            raise _FatalError(
                self._problem(
                    DECODE_ALIAS,
                    f"YAML document expands to more than {MAX_EXPANDED_NODES} nodes "
                    "(too many aliases)",
                    mark,
                    self._parts(),
                )
            )
        if len(self.frames) + height > MAX_DEPTH:
            raise _FatalError(
                self._problem(DECODE_NESTING, "document nests too deeply", mark, self._parts())
            )

    def _check_tag(self, tag: object, allowed: frozenset[str], mark: Position) -> None:
        if tag is None or str(tag) in allowed:
            return
        self.problems.append(
            self._problem(
                DECODE_TAG,
                f"unsupported YAML tag `{shown(str(tag), 64)}`",
                mark,
                self._parts(self._next_slot()),
            )
        )

    # -- composing -------------------------------------------------------------------

    def _attach(self, value: object, size: int, height: int, mark: Position) -> None:
        if not self.frames:
            self.root = value
            return
        top = self.frames[-1]
        top.size += size
        top.height = max(top.height, height + 1)
        if not top.mapping:
            assert isinstance(top.value, list)
            top.value.append(value)
            return
        assert isinstance(top.value, dict)
        if top.key is None:
            if not isinstance(value, YamlScalar):
                self.problems.append(
                    self._problem(
                        DECODE_SYNTAX, "YAML mapping keys must be scalars", mark, self._parts()
                    )
                )
                top.key = _SKIP
                return
            key = value.value
            if key in top.value:
                self.problems.append(
                    self._problem(
                        DECODE_DUPLICATE_KEY,
                        f"duplicate field `{shown(key, 64)}`",
                        mark,
                        self._parts(key),
                    )
                )
                top.key = _SKIP
                return
            top.key = key
            return
        if isinstance(top.key, str):
            top.value[top.key] = value
        top.key = None

    def _start(self, value: dict[str, object] | list[object], event: Any, mark: Position) -> None:
        tag = event.tag
        self._check_tag(
            tag, frozenset({YAML_MAP if isinstance(value, dict) else YAML_SEQ, "!"}), mark
        )
        self._count(1, 1, mark)
        frame = _Frame(value, self._next_slot(), event.anchor)
        self.marks[id(value)] = mark
        if event.anchor is not None:
            self.anchors[event.anchor] = (_IN_PROGRESS, 0, 0)
        self.frames.append(frame)

    def _end(self, mark: Position) -> None:
        frame = self.frames.pop()
        if frame.anchor is not None:
            self.anchors[frame.anchor] = (frame.value, frame.size, frame.height)
        self._attach(frame.value, frame.size, frame.height, mark)

    def run(self, next_event: Callable[[], Any]) -> None:
        """Compose the events into the document (the hot loop: scalars are inlined)."""
        events: Any = importlib.import_module("ruamel.yaml.events")
        scalar_event = events.ScalarEvent
        mapping_start, sequence_start = events.MappingStartEvent, events.SequenceStartEvent
        mapping_end, sequence_end = events.MappingEndEvent, events.SequenceEndEvent
        alias_event, document_start = events.AliasEvent, events.DocumentStartEvent
        stream_end = events.StreamEndEvent
        frames = self.frames
        while True:
            event = next_event()
            kind = type(event)
            if kind is scalar_event:
                start = event.start_mark
                scalar = YamlScalar(
                    event.value, not event.style, None, start.line + 1, start.column + 1
                )
                if event.tag is not None:
                    self._scalar_tag(scalar, str(event.tag))
                if event.anchor is not None:
                    self.anchors[event.anchor] = (scalar, 1, 0)
                self.expanded += 1
                if self.expanded > MAX_EXPANDED_NODES:
                    self._count(1, 0, (scalar.line, scalar.column))
                if not frames:
                    self.root = scalar
                    continue
                top = frames[-1]
                top.size += 1
                if not top.mapping:
                    top.value.append(scalar)  # type: ignore[union-attr]
                elif top.key is None:
                    self._attach(scalar, 0, 0, (scalar.line, scalar.column))
                else:
                    key = top.key
                    if isinstance(key, str):
                        top.value[key] = scalar  # type: ignore[call-overload]
                    top.key = None
                continue
            if kind is stream_end or event is None:
                return
            start = event.start_mark
            mark: Position = (start.line + 1, start.column + 1) if start is not None else (0, 0)
            if kind is mapping_start:
                self._start({}, event, mark)
            elif kind is sequence_start:
                self._start([], event, mark)
            elif kind is mapping_end or kind is sequence_end:
                self._end(mark)
            elif kind is alias_event:
                self._alias(event.anchor, mark)
            elif kind is document_start:
                self.documents += 1
                if self.documents > 1:
                    raise _FatalError(
                        Diagnostic(
                            DECODE_SYNTAX,
                            "deserializing from YAML containing more than one document is "
                            "not supported",
                            "",
                            mark[0],
                            mark[1],
                        )
                    )

    def _scalar_tag(self, scalar: YamlScalar, tag: str) -> None:
        mark = (scalar.line, scalar.column)
        self._check_tag(tag, YAML_SCALAR_TAGS, mark)
        if tag not in YAML_SCALAR_TAGS:
            return
        scalar.tag = tag
        if scalar.tag_mismatch():
            self.problems.append(
                self._problem(
                    DECODE_TAG,
                    f"YAML scalar `{shown(scalar.value, 64)}` does not match its tag `{tag}`",
                    mark,
                    self._parts(self._next_slot()),
                )
            )
            scalar.tag = None

    def _alias(self, anchor: str, mark: Position) -> None:
        entry = self.anchors.get(anchor)
        if entry is None:
            raise _FatalError(
                self._problem(
                    DECODE_ALIAS,
                    f"unknown YAML anchor `{shown(anchor, 64)}`",
                    mark,
                    self._parts(self._next_slot()),
                )
            )
        value, size, height = entry
        if value is _IN_PROGRESS:
            raise _FatalError(
                self._problem(
                    DECODE_ALIAS,
                    f"YAML alias `{shown(anchor, 64)}` refers to a node that contains it",
                    mark,
                    self._parts(self._next_slot()),
                )
            )
        self._count(size, height, mark)
        self._attach(value, size, height, mark)


def decode_yaml(text: str) -> Decoded:
    """Decode YAML text; the result holds the value or the problems that stop it.

    An empty stream decodes to None (not a mapping, so the document is rejected later).
    """
    errors: Any = importlib.import_module("ruamel.yaml.error")
    composer = _Composer()
    try:
        composer.run(_event_source(text))
    except _FatalError as fatal:
        return Decoded(NOTHING, None, [*composer.problems, fatal.diagnostic])
    except errors.YAMLError as err:
        return Decoded(NOTHING, None, [*composer.problems, _syntax(err)])
    except RecursionError:  # pragma: no cover - the composer is iterative
        return Decoded(NOTHING, None, [Diagnostic(DECODE_NESTING, "document nests too deeply")])
    root = None if composer.root is NOTHING else composer.root
    return Decoded(root, YamlLocator(root, composer.marks), composer.problems)


def _syntax(err: Any) -> Diagnostic:
    problem = getattr(err, "problem", None)
    context = getattr(err, "context", None)
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    if problem:
        message = f"{context}: {problem}" if context else str(problem)
    else:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
    if mark is not None and getattr(mark, "line", None) is not None:
        return Diagnostic(DECODE_SYNTAX, message, "", mark.line + 1, mark.column + 1)
    return Diagnostic(DECODE_SYNTAX, message)
