"""Diagnostics and the errors of the format layer.

A :class:`Diagnostic` is one problem in a document: a stable dotted ``code``, the
original's message, a JSON-pointer ``location`` (``""`` for the document root) and, where
the parser knows it, a 1-based line and column. :class:`WorkflowDocumentError` carries
every diagnostic of a document; its ``str()`` is one line in the original's wording,
built from the first one.

Codes (stable; tools may match on them):

* decode stage: ``decode.syntax``, ``decode.encoding``, ``decode.nesting``,
  ``decode.duplicate_key``, ``decode.unknown_field``, ``decode.missing_field``,
  ``decode.type``, ``decode.invalid_value``, ``decode.tag``, ``decode.alias``;
* format stage: ``format.missing_version``, ``format.unsupported_version``,
  ``format.identifier``, ``format.capacity``, ``format.component``;
* graph (from :mod:`pureflow.workflow.errors`): ``graph.duplicate_node``,
  ``graph.duplicate_port``, ``graph.unknown_node``, ``graph.unknown_port``,
  ``graph.cycle``;
* rule sets: ``rule_set.conflict``, ``rule_set.parse``, ``rule_set.resolve`` (the rule set
  itself); ``rule_set.unknown_route_port``, ``rule_set.missing_dead_letter_port``,
  ``rule_set.tag_default_output``, ``rule_set.unknown_source_node``,
  ``rule_set.unreachable_source_node``, ``rule_set.unknown_arrival_port`` (it does not fit
  its node, from :mod:`pureflow.workflow.rule_checks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from pureflow.format.formats import DocumentFormat

Stage = Literal["decode", "format"]

DECODE_SYNTAX: Final = "decode.syntax"
DECODE_ENCODING: Final = "decode.encoding"
DECODE_NESTING: Final = "decode.nesting"
DECODE_DUPLICATE_KEY: Final = "decode.duplicate_key"
DECODE_UNKNOWN_FIELD: Final = "decode.unknown_field"
DECODE_MISSING_FIELD: Final = "decode.missing_field"
DECODE_TYPE: Final = "decode.type"
DECODE_INVALID_VALUE: Final = "decode.invalid_value"
DECODE_TAG: Final = "decode.tag"
DECODE_ALIAS: Final = "decode.alias"
FORMAT_MISSING_VERSION: Final = "format.missing_version"
FORMAT_UNSUPPORTED_VERSION: Final = "format.unsupported_version"
FORMAT_IDENTIFIER: Final = "format.identifier"
FORMAT_CAPACITY: Final = "format.capacity"
FORMAT_COMPONENT: Final = "format.component"
FORMAT_REPLICAS: Final = "format.replicas"
RULE_SET_CONFLICT: Final = "rule_set.conflict"
RULE_SET_PARSE: Final = "rule_set.parse"
RULE_SET_RESOLVE: Final = "rule_set.resolve"

DIAGNOSTIC_CODES: Final[tuple[str, ...]] = (
    DECODE_SYNTAX,
    DECODE_ENCODING,
    DECODE_NESTING,
    DECODE_DUPLICATE_KEY,
    DECODE_UNKNOWN_FIELD,
    DECODE_MISSING_FIELD,
    DECODE_TYPE,
    DECODE_INVALID_VALUE,
    DECODE_TAG,
    DECODE_ALIAS,
    FORMAT_MISSING_VERSION,
    FORMAT_UNSUPPORTED_VERSION,
    FORMAT_IDENTIFIER,
    FORMAT_CAPACITY,
    FORMAT_COMPONENT,
    FORMAT_REPLICAS,
    "graph.duplicate_node",
    "graph.duplicate_port",
    "graph.unknown_node",
    "graph.unknown_port",
    "graph.cycle",
    RULE_SET_CONFLICT,
    RULE_SET_PARSE,
    RULE_SET_RESOLVE,
    "rule_set.unknown_route_port",
    "rule_set.missing_dead_letter_port",
    "rule_set.tag_default_output",
    "rule_set.unknown_source_node",
    "rule_set.unreachable_source_node",
    "rule_set.unknown_arrival_port",
)
"""Every code a diagnostic of this package can carry."""


def pointer(parts: Sequence[str | int]) -> str:
    """The JSON pointer (RFC 6901) for a path of keys and indexes; ``()`` gives ``""``."""
    out = []
    for part in parts:
        text = str(part)
        if "~" in text or "/" in text:
            text = text.replace("~", "~0").replace("/", "~1")
        out.append("/")
        out.append(text)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a document.

    ``location`` is a JSON pointer into the document (``""`` is the root); ``line`` and
    ``column`` are 1-based, or None when the parser cannot tell.
    """

    code: str
    message: str
    location: str = ""
    line: int | None = None
    column: int | None = None

    @property
    def position_text(self) -> str:
        """``"at line L column C"``, or ``""`` when the position is unknown."""
        if self.line is None:
            return ""
        if self.column is None:
            return f"at line {self.line}"
        return f"at line {self.line} column {self.column}"

    def to_json(self) -> dict[str, Any]:
        """A plain-data form for tools: code, message, location, line, column."""
        return {
            "code": self.code,
            "message": self.message,
            "location": self.location,
            "line": self.line,
            "column": self.column,
        }


def os_error_text(err: OSError) -> str:
    """An OS error as Rust prints it: ``No such file or directory (os error 2)``."""
    if err.strerror and err.errno is not None:
        return f"{err.strerror} (os error {err.errno})"
    return str(err)


class FormatError(Exception):
    """Base of every error this package raises for bad input."""


class WorkflowFileError(FormatError):
    """A document could not be read: ``failed to read `{path}`: {reason}``."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"failed to read `{path}`: {reason}")


class UnsupportedExtension(FormatError):
    """A workflow path has an extension that names no supported format."""

    SUPPORTED: Final = ".json, .toml, .yaml, .yml"

    def __init__(self, extension: str) -> None:
        self.extension = extension
        super().__init__(
            f"unsupported workflow file extension `{extension}`; supported: {self.SUPPORTED}"
        )


class WorkflowDocumentError(FormatError):
    """A workflow document is invalid; ``diagnostics`` lists every problem found.

    ``stage`` is ``"decode"`` (the text is not a well-formed document of the right shape)
    or ``"format"`` (the shape is right but a value or the graph is not). ``str(err)`` is
    the original's one-line wording, built from the first diagnostic:
    ``failed to decode workflow JSON: ... at line L column C`` or
    ``workflow JSON is invalid: ...``. :meth:`render` lists them all.
    """

    def __init__(
        self,
        format: DocumentFormat,
        stage: Stage,
        diagnostics: Sequence[Diagnostic],
        *,
        source: str | None = None,
    ) -> None:
        if not diagnostics:
            raise ValueError("a WorkflowDocumentError needs at least one diagnostic")
        self.format = format
        self.stage: Stage = stage
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        self.source = source
        super().__init__(self._headline())

    def _headline(self) -> str:
        first = self.diagnostics[0]
        label = self.format.label
        message = " ".join(first.message.splitlines())
        if self.stage == "decode":
            position = first.position_text
            suffix = f" {position}" if position else ""
            return f"failed to decode workflow {label}: {message}{suffix}"
        return f"workflow {label} is invalid: {message}"

    @property
    def message(self) -> str:
        """The first diagnostic's message, without the ``workflow JSON is invalid:`` prefix."""
        return self.diagnostics[0].message

    def render(self, source_name: str | None = None) -> str:
        """A human listing: ``str(self)``, then one indented line per diagnostic.

        Each line reads ``  {source}:{line}:{column}: {code}: {message} (at {location})``;
        the position is left out when unknown.
        """
        source = source_name if source_name is not None else (self.source or "<document>")
        lines = [str(self)]
        for diagnostic in self.diagnostics:
            where = source
            if diagnostic.line is not None:
                where += f":{diagnostic.line}"
                if diagnostic.column is not None:
                    where += f":{diagnostic.column}"
            location = diagnostic.location or "document root"
            lines.append(f"  {where}: {diagnostic.code}: {diagnostic.message} (at {location})")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """A plain-data form for tools: format, stage, message and every diagnostic."""
        return {
            "format": self.format.label,
            "stage": self.stage,
            "message": str(self),
            "source": self.source,
            "diagnostics": [diagnostic.to_json() for diagnostic in self.diagnostics],
        }

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_document_error,
            (self.format, self.stage, self.diagnostics, self.source),
        )


def _rebuild_document_error(
    format: DocumentFormat,
    stage: Stage,
    diagnostics: tuple[Diagnostic, ...],
    source: str | None,
) -> WorkflowDocumentError:
    return WorkflowDocumentError(format, stage, diagnostics, source=source)


class ManifestError(FormatError):
    """A WASM component manifest is invalid; ``str(err)`` is the original's message."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__(message)


_ESCAPES: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def shown(text: str, limit: int = 200) -> str:
    """A document value as messages show it: at most ``limit`` characters (then an
    ellipsis), with line breaks and other non-printable characters escaped, so that a
    message stays on one line whatever the document holds."""
    cut = text if len(text) <= limit else text[:limit] + "…"
    if cut.isprintable():
        return cut
    return "".join(ch if ch.isprintable() else _ESCAPES.get(ch, f"\\u{ord(ch):04x}") for ch in cut)
