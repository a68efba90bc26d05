"""Text to raw document: the decode stage, shared by workflows and manifests.

:func:`document_text` turns bytes or text into clean text (UTF-8, an optional BOM
skipped). :func:`decode_value` runs the format's decoder. :func:`validate_model` checks
the plain value against a pydantic model and turns every validation error into a
:class:`~pureflow.format.diagnostics.Diagnostic` with a serde-like message, a pointer
and, where the locator knows it, a line and column. :func:`parse_raw` chains them for
workflow documents.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Sequence
from typing import Any, TypeVar

from pureflow.format.decoded import Decoded
from pureflow.format.diagnostics import (
    DECODE_ENCODING,
    DECODE_INVALID_VALUE,
    DECODE_MISSING_FIELD,
    DECODE_NESTING,
    DECODE_TYPE,
    DECODE_UNKNOWN_FIELD,
    Diagnostic,
    WorkflowDocumentError,
    pointer,
    shown,
)
from pureflow.format.documents import FieldProblem, RawWorkflowDocument
from pureflow.format.formats import DocumentFormat
from pureflow.format.gcpause import paused_gc
from pureflow.format.locations import LineIndex, Locator
from pureflow.format.values import describe
from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)

BOM = "\ufeff"


class TextDecodeError(ValueError):
    """The input is not valid UTF-8 text; ``diagnostic`` says where."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(diagnostic.message)


def document_text(data: str | bytes) -> str:
    """Clean document text: bytes decoded as UTF-8 (strictly), a leading BOM dropped.

    Raises :class:`TextDecodeError` for invalid UTF-8 (or a ``str`` holding lone surrogates).
    """
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            line = raw.count(b"\n", 0, err.start) + 1
            column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
            raise TextDecodeError(
                Diagnostic(DECODE_ENCODING, "stream did not contain valid UTF-8", "", line, column)
            ) from None
    else:
        text = data
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as err:
                line, column = LineIndex(text).position(err.start)
                raise TextDecodeError(
                    Diagnostic(
                        DECODE_ENCODING,
                        "stream did not contain valid UTF-8 (lone surrogate)",
                        "",
                        line,
                        column,
                    )
                ) from None
    if text.startswith(BOM):
        text = text[1:]
    return text


def decode_value(text: str, format: DocumentFormat) -> Decoded:
    """Run the decoder of ``format`` over ``text``."""
    if format is DocumentFormat.JSON:
        from pureflow.format.json_decoder import decode_json  # noqa: PLC0415

        return decode_json(text)
    if format is DocumentFormat.YAML:
        from pureflow.format.yaml_decoder import decode_yaml  # noqa: PLC0415

        return decode_yaml(text)
    from pureflow.format.toml_decoder import decode_toml  # noqa: PLC0415

    return decode_toml(text)


def plain_value(data: str | bytes, format: DocumentFormat) -> object:
    """The document as a plain JSON value (YAML scalars resolved by the YAML 1.2 core
    schema), for tools such as JSON Schema validators.

    Raises :class:`~pureflow.format.WorkflowDocumentError` when the text cannot be decoded
    or holds something JSON cannot (a TOML datetime, a non-finite number).
    """
    from pureflow.format.values import JsonValueError, to_json_value  # noqa: PLC0415

    try:
        decoded = decode_value(document_text(data), format)
    except TextDecodeError as problem:
        raise WorkflowDocumentError(format, "decode", [problem.diagnostic]) from None
    if not decoded.ok or decoded.problems:
        raise WorkflowDocumentError(format, "decode", decoded.problems)
    try:
        return to_json_value(decoded.value, max_depth=10_000)
    except JsonValueError as problem:
        diagnostic = Diagnostic(problem.code, problem.message, pointer(problem.parts))
        raise WorkflowDocumentError(format, "decode", [diagnostic]) from None
    except RecursionError:
        diagnostic = Diagnostic(DECODE_NESTING, "document nests too deeply")
        raise WorkflowDocumentError(format, "decode", [diagnostic]) from None


def validate_model(model: type[ModelT], decoded: Decoded) -> tuple[ModelT | None, list[Diagnostic]]:
    """Validate a decoded value against ``model``; every problem becomes a diagnostic.

    The decoder's own problems come first; model errors at or under a location the
    decoder already reported are dropped. A model is returned only when there is no
    problem at all.
    """
    problems = list(decoded.problems)
    if not decoded.ok:
        return None, problems
    value = decoded.value
    locator = decoded.locator
    if type(value) is not dict:
        problems.append(
            _diagnostic(
                DECODE_TYPE, f"invalid type: {describe(value)}, expected a map", (), locator
            )
        )
        return None, problems
    try:
        result = model.model_validate(value)
    except ValidationError as err:
        reported = [problem.location for problem in problems]
        for item in err.errors(include_url=False):
            diagnostic = _translate(model, item, locator)
            if not any(_under(diagnostic.location, done) for done in reported):
                problems.append(diagnostic)
        return None, problems
    except RecursionError:
        problems.append(_diagnostic(DECODE_NESTING, "document nests too deeply", (), locator))
        return None, problems
    if problems:
        return None, problems
    return result, problems


def _under(location: str, ancestor: str) -> bool:
    return location == ancestor or location.startswith(ancestor + "/")


def _diagnostic(
    code: str, message: str, parts: Sequence[str | int], locator: Locator | None
) -> Diagnostic:
    position = locator.position(parts) if locator is not None else None
    line, column = position if position is not None else (None, None)
    return Diagnostic(code, message, pointer(parts), line, column)


def _translate(model: type[BaseModel], item: Any, locator: Locator | None) -> Diagnostic:
    kind: str = item["type"]
    loc: tuple[str | int, ...] = tuple(item["loc"])
    ctx: dict[str, Any] = item.get("ctx") or {}
    value = item.get("input")
    problem = ctx.get("error")
    if kind == "value_error" and isinstance(problem, FieldProblem):
        parts = (*loc, *_split_pointer(problem.subpath)) if problem.subpath else loc
        return _diagnostic(problem.code, problem.message, parts, locator)
    if kind == "missing":
        return _diagnostic(DECODE_MISSING_FIELD, f"missing field `{loc[-1]}`", loc, locator)
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        expected = ", ".join(f"`{name}`" for name in owner.model_fields) if owner else ""
        message = f"unknown field `{shown(str(loc[-1]), 64)}`"
        if expected:
            message += f", expected one of {expected}"
        return _diagnostic(DECODE_UNKNOWN_FIELD, message, loc, locator)
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {
            "greater_than_equal": ">= {ge}",
            "greater_than": "> {gt}",
            "less_than_equal": "<= {le}",
            "less_than": "< {lt}",
        }[kind].format(**ctx)
        message = f"invalid value: {describe(value)}, expected an integer {bound}"
        return _diagnostic(DECODE_INVALID_VALUE, message, loc, locator)
    if kind == "string_too_short":
        message = f"invalid value: {describe(value)}, expected a non-empty string"
        return _diagnostic(DECODE_INVALID_VALUE, message, loc, locator)
    if kind == "recursion_loop":
        return _diagnostic(DECODE_NESTING, "document nests too deeply", loc, locator)
    expected_type = {
        "string_type": "a string",
        "list_type": "a sequence",
        "dict_type": "a map",
        "model_type": "a map",
        "model_attributes_type": "a map",
        "int_type": "u64",
        "int_from_float": "u64",
        "int_parsing": "u64",
        "bool_type": "a boolean",
    }.get(kind)
    if expected_type is not None:
        message = f"invalid type: {describe(value)}, expected {expected_type}"
    else:
        message = str(item["msg"])
    return _diagnostic(DECODE_TYPE, message, loc, locator)


def _split_pointer(text: str) -> list[str | int]:
    parts: list[str | int] = []
    for raw in text.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(part) if part.isdigit() else part)
    return parts


@functools.cache
def _submodel(model: type[BaseModel], field: str) -> type[BaseModel] | None:
    info = model.model_fields.get(field)
    if info is None:
        return None
    pending: list[Any] = [info.annotation]
    while pending:
        annotation = pending.pop()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation
        if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
            pending.extend(typing.get_args(annotation))
    return None


def _model_at(model: type[BaseModel], parts: Sequence[str | int]) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in parts:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        current = _submodel(current, part)
    return current


def parse_raw(data: str | bytes, format: DocumentFormat) -> RawWorkflowDocument:
    """Decode a workflow document without validating it (identifiers, graph) yet.

    Raises :class:`~pureflow.format.WorkflowDocumentError` with stage ``"decode"`` listing
    every decode problem: syntax, duplicate keys, unknown fields, wrong types.
    """
    try:
        text = document_text(data)
    except TextDecodeError as problem:
        raise WorkflowDocumentError(format, "decode", [problem.diagnostic]) from None
    with paused_gc():
        decoded = decode_value(text, format)
        raw, problems = validate_model(RawWorkflowDocument, decoded)
    if raw is None:
        raise WorkflowDocumentError(format, "decode", problems)
    return raw.with_source(format, decoded.locator)
