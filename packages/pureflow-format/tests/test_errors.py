"""The error types: one-line wording, render(), to_json(), pickling, the hierarchy."""

from __future__ import annotations

import json
import pickle

import pytest
from pureflow.format import (
    DIAGNOSTIC_CODES,
    Diagnostic,
    DocumentFormat,
    FormatError,
    ManifestError,
    UnsupportedExtension,
    WorkflowDocumentError,
    WorkflowFileError,
    parse_workflow,
)
from pureflow_format_testdata import JSON, TOML, jdoc, set_at


def failure(text: str, fmt=JSON) -> WorkflowDocumentError:
    with pytest.raises(WorkflowDocumentError) as caught:
        parse_workflow(text, fmt)
    return caught.value


def test_format_labels() -> None:
    assert [f.label for f in DocumentFormat] == ["JSON", "YAML", "TOML"]


def test_full_chain_wording() -> None:
    err = failure(jdoc(set_at(("edges", 0, "target", "node"), "missing")))
    assert str(err) == (
        "workflow JSON is invalid: workflow validation failed: edge 0 target references unknown "
        "node `missing`"
    )
    assert (
        err.message == "workflow validation failed: edge 0 target references unknown node `missing`"
    )


def test_render_lists_every_diagnostic() -> None:
    err = failure(jdoc(lambda d: d.update(id="a b", pureflow_version="3")))
    lines = err.render("flow.json").splitlines()
    assert lines[0] == str(err)
    assert lines[1] == (
        "  flow.json:2:23: format.unsupported_version: workflow document uses unsupported "
        "pureflow_version `3` (at /pureflow_version)"
    )
    assert lines[2].startswith("  flow.json:3:9: format.identifier: workflow id is invalid")


def test_render_without_positions_and_at_the_root() -> None:
    err = WorkflowDocumentError(TOML, "format", [Diagnostic("format.missing_version", "m")])
    assert err.render("f.toml").splitlines()[1] == (
        "  f.toml: format.missing_version: m (at document root)"
    )


def test_to_json_is_plain_data() -> None:
    err = failure(jdoc(set_at(("id",), "a b")))
    data = err.to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["format"] == "JSON"
    assert data["stage"] == "format"
    assert data["diagnostics"][0] == {
        "code": "format.identifier",
        "message": "workflow id is invalid: workflow id must not contain whitespace",
        "location": "/id",
        "line": 3,
        "column": 9,
    }


def test_errors_pickle() -> None:
    err = failure(jdoc(set_at(("id",), "a b")))
    copy = pickle.loads(pickle.dumps(err))
    assert str(copy) == str(err)
    assert copy.diagnostics == err.diagnostics


def test_a_document_error_needs_a_diagnostic() -> None:
    with pytest.raises(ValueError, match="at least one"):
        WorkflowDocumentError(JSON, "format", [])


def test_hierarchy() -> None:
    for cls in (WorkflowDocumentError, WorkflowFileError, UnsupportedExtension, ManifestError):
        assert issubclass(cls, FormatError)


def test_codes_are_unique_and_dotted() -> None:
    assert len(set(DIAGNOSTIC_CODES)) == len(DIAGNOSTIC_CODES)
    assert all(code.count(".") == 1 for code in DIAGNOSTIC_CODES)


def test_messages_stay_on_one_line_whatever_the_document_holds() -> None:
    text = jdoc(lambda d: d.update({"pureflow_version": "1\n2", "a\nb": 1}))
    with pytest.raises(WorkflowDocumentError) as caught:
        parse_workflow(text, JSON)
    assert str(caught.value).startswith("failed to decode workflow JSON: unknown field `a\\nb`")
    with pytest.raises(WorkflowDocumentError) as caught:
        parse_workflow(jdoc(set_at(("pureflow_version",), "1\n2")), JSON)
    assert str(caught.value) == (
        "workflow JSON is invalid: workflow document uses unsupported pureflow_version `1\\n2`"
    )
