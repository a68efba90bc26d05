"""The raw workflow document: pydantic models of the v1 shape plus the extensions.

These models are the single source of truth for the document's shape: the decoders
validate against them and :mod:`pureflow.format.schema` generates the JSON Schema from
them. Unknown fields are rejected everywhere (``extra="forbid"``) and types are strict.
Each field's validator also accepts the :class:`~pureflow.format.values.YamlScalar`
values the YAML decoder produces and coerces them as serde_yaml does (spec-1 §3.1).

A raw document is decoded but not yet validated: identifiers, the version, capacities
and the graph are checked by :meth:`RawWorkflowDocument.to_workflow`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from pureflow.format.diagnostics import DECODE_INVALID_VALUE, DECODE_TYPE, pointer
from pureflow.format.values import JsonValueError, YamlScalar, describe, to_json_value
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, WithJsonSchema

if TYPE_CHECKING:
    from pureflow.format.formats import DocumentFormat
    from pureflow.format.locations import Locator
    from pureflow.format.rule_sources import SourceRegistry
    from pureflow.workflow import WorkflowDefinition

CURRENT_PUREFLOW_VERSION: Final = "1"
"""The only document version there is."""

U64_MAX: Final = 2**64 - 1

# Unicode White_Space (exactly the set Rust uses) and general category Cc, as one class.
_EXCLUDED: Final = r"\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
IDENTIFIER_PATTERN: Final = rf"^[^{_EXCLUDED}]+$(?!\n)"
"""Identifier pattern for JSON Schema: no White_Space, no Cc control character.

``$(?!\\n)`` pins the true end of the string in both the ECMAScript and the Python regex
dialects (a bare ``$`` in Python also matches before a final newline).
"""

COMPONENT_PREFIXES: Final = ("python:", "builtin:", "wasm:")
COMPONENT_PATTERN: Final = r"^(?:python|builtin|wasm):[\s\S]"

IDENTIFIER_SCHEMA: Final[dict[str, Any]] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 256,
    "pattern": IDENTIFIER_PATTERN,
    "description": "Identifier value.",
    "$comment": (
        "Identifiers are 1 to 256 UTF-8 bytes with no Unicode White_Space and no control "
        "character. JSON Schema counts code points, so maxLength 256 only approximates the "
        "byte cap."
    ),
}


class FieldProblem(ValueError):
    """Raised by the field validators; the decoder turns it into a diagnostic.

    ``subpath`` is a JSON pointer inside the field's value (``""``: the value itself).
    """

    def __init__(self, code: str, message: str, subpath: str = "") -> None:
        self.code = code
        self.message = message
        self.subpath = subpath
        super().__init__(message)


def _error(code: str, message: str, subpath: str = "") -> FieldProblem:
    return FieldProblem(code, message, subpath)


def _type_error(value: object, expected: str) -> FieldProblem:
    return _error(DECODE_TYPE, f"invalid type: {describe(value)}, expected {expected}")


def _string(value: object) -> object:
    if type(value) is str:
        return value
    if type(value) is YamlScalar:
        return value.value  # a string field takes any scalar as its text
    raise _type_error(value, "a string")


def _optional_string(value: object) -> object:
    if value is None or type(value) is str:
        return value
    if type(value) is YamlScalar:
        return None if value.is_null() else value.value
    raise _type_error(value, "a string")


def _sequence(value: object) -> object:
    if type(value) is list:
        return value
    if type(value) is YamlScalar and value.is_empty():
        return []
    raise _type_error(value, "a sequence")


def _mapping(value: object) -> object:
    if type(value) is dict or isinstance(value, BaseModel):
        return value
    if type(value) is YamlScalar and value.is_empty():
        return {}
    raise _type_error(value, "a map")


def _capacity(value: object) -> object:
    if type(value) is YamlScalar:
        if value.is_null():
            return None
        number = value.as_int()
        if number is None:
            raise _type_error(value, "u64")
        value = number
    if value is None:
        return None
    if type(value) is not int:
        raise _type_error(value, "u64")
    assert isinstance(value, int)
    if value < 0 or value > U64_MAX:
        raise _error(DECODE_INVALID_VALUE, f"invalid value: {describe(value)}, expected u64")
    return value


def _json(value: object) -> object:
    try:
        return to_json_value(value)
    except JsonValueError as problem:
        raise _error(problem.code, problem.message, pointer(problem.parts)) from None


def _json_object(value: object) -> object:
    if value is None or (type(value) is YamlScalar and value.is_null()):
        return None
    if type(value) is not dict:
        raise _type_error(value, "a map")
    return _json(value)


def _json_value(value: object) -> object:
    if type(value) is YamlScalar and value.is_null():
        return None
    return _json(value)


def _cycles(value: object) -> object:
    if type(value) is YamlScalar:
        value = None if value.is_null() else value.value
    if value is None:
        return None
    if type(value) is not str:
        raise _type_error(value, "a string")
    if value not in ("reject", "allow"):
        raise _error(
            DECODE_INVALID_VALUE,
            f"unknown variant `{value}`, expected `reject` or `allow`",
        )
    return value


Identifier = Annotated[str, BeforeValidator(_string), WithJsonSchema(IDENTIFIER_SCHEMA)]
IdentifierList = Annotated[
    list[Identifier],
    BeforeValidator(_sequence),
    WithJsonSchema({"type": "array", "items": IDENTIFIER_SCHEMA}),
]
OptionalText = Annotated[
    str | None, BeforeValidator(_optional_string), WithJsonSchema({"type": ["string", "null"]})
]
Version = Annotated[
    str | None,
    BeforeValidator(_optional_string),
    WithJsonSchema({"type": "string", "const": CURRENT_PUREFLOW_VERSION}),
]
Component = Annotated[
    str | None,
    BeforeValidator(_optional_string),
    WithJsonSchema({"type": ["string", "null"], "pattern": COMPONENT_PATTERN}),
]
Capacity = Annotated[
    int | None,
    BeforeValidator(_capacity),
    WithJsonSchema({"type": ["integer", "null"], "minimum": 1, "maximum": U64_MAX}),
]
JsonObject = Annotated[
    dict[str, Any] | None,
    BeforeValidator(_json_object),
    WithJsonSchema({"type": ["object", "null"]}),
]
JsonValue = Annotated[Any, BeforeValidator(_json_value), WithJsonSchema({})]
CyclesPolicy = Annotated[
    Literal["reject", "allow"] | None,
    BeforeValidator(_cycles),
    WithJsonSchema({"enum": ["reject", "allow", None]}),
]

_MODEL_CONFIG: Final = ConfigDict(
    extra="forbid", strict=True, frozen=True, revalidate_instances="never"
)


class RawEndpoint(BaseModel):
    """One end of an edge as written: ``{"node": ..., "port": ...}``."""

    model_config = _MODEL_CONFIG

    node: Identifier = Field(description="Referenced node identifier.")
    port: Identifier = Field(description="Referenced port identifier.")


Endpoint = Annotated[RawEndpoint, BeforeValidator(_mapping)]


class RawEdge(BaseModel):
    """An edge as written: source, target and an optional capacity (None: the default)."""

    model_config = _MODEL_CONFIG

    source: Endpoint = Field(description="Upstream output endpoint.")
    target: Endpoint = Field(description="Downstream input endpoint.")
    capacity: Capacity = Field(
        default=None,
        description="Optional explicit bounded capacity. Omit (or null) to use the engine default.",
    )


class RawNode(BaseModel):
    """A node as written, with the optional extensions ``component``, ``config``,
    ``replicas`` and ``partition``."""

    model_config = _MODEL_CONFIG

    id: Identifier = Field(description="Node identifier.")
    inputs: IdentifierList = Field(description="Declared input port identifiers.")
    outputs: IdentifierList = Field(description="Declared output port identifiers.")
    component: Component = Field(
        default=None,
        description="Extension: what runs the node: `python:package.module:attr`, "
        "`builtin:<name>` or `wasm:<path>`.",
    )
    config: JsonObject = Field(
        default=None, description="Extension: a JSON object handed to the node."
    )
    rule_set: JsonValue = Field(
        default=None,
        description="Optional inline rule set (a RuleSet document); makes this a rule node.",
    )
    rule_set_ref: OptionalText = Field(
        default=None,
        description="Optional URI of a rule set, resolved relative to the workflow file.",
    )
    replicas: Capacity = Field(
        default=None,
        description="Extension: how many copies of the node run side by side (default 1).",
    )
    partition: JsonObject = Field(
        default=None,
        description='Extension: how packets are spread over the copies: `{"key": "<JSON '
        'pointer>"}` (same key, same copy); omitted: round-robin.',
    )


Node = Annotated[RawNode, BeforeValidator(_mapping)]
Edge = Annotated[RawEdge, BeforeValidator(_mapping)]


class RawWorkflowDocument(BaseModel):
    """A decoded workflow document (v1 shape plus the optional ``cycles`` extension).

    ``pureflow_version`` may be None here (absent or null): that is a format error found
    by :meth:`to_workflow`, after decoding. ``cycles`` is None when the document does not
    say (which means ``"reject"``).
    """

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        revalidate_instances="never",
        json_schema_extra={"required": ["pureflow_version", "id", "nodes", "edges"]},
    )

    pureflow_version: Version = Field(
        default=None, description="Required Pureflow workflow format version."
    )
    id: Identifier = Field(description="Workflow identifier.")
    nodes: Annotated[list[Node], BeforeValidator(_sequence)] = Field(
        description="Declared node topology."
    )
    edges: Annotated[list[Edge], BeforeValidator(_sequence)] = Field(
        description="Declared directed edges."
    )
    cycles: CyclesPolicy = Field(
        default=None,
        description='Extension: "reject" (the default) refuses directed cycles; "allow" '
        "loads feedback loops.",
    )

    _format: DocumentFormat | None = PrivateAttr(default=None)
    _locator: Locator | None = PrivateAttr(default=None)

    def with_source(
        self,
        format: DocumentFormat | None,
        locator: Locator | None,
    ) -> RawWorkflowDocument:
        """Remember where this document came from, so diagnostics carry positions."""
        self._format = format
        self._locator = locator
        return self

    @property
    def source_format(self) -> DocumentFormat | None:
        """The format this document was decoded from (None when built in code)."""
        return self._format

    @property
    def locator(self) -> Locator | None:
        """Positions in the source text, when known."""
        return self._locator

    def to_workflow(self, rule_sources: SourceRegistry | None = None) -> WorkflowDefinition:
        """Validate into a :class:`~pureflow.workflow.WorkflowDefinition`.

        Raises :class:`~pureflow.format.WorkflowDocumentError` (stage ``"format"``) listing
        every problem, in the original's check order, then every rule-set problem. A
        node's ``rule_set`` is parsed and its ``rule_set_ref`` loaded through
        ``rule_sources`` (default: paths relative to the current directory).
        """
        from pureflow.format.conversion import to_workflow  # noqa: PLC0415

        return to_workflow(self, rule_sources)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawWorkflowDocument):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]
