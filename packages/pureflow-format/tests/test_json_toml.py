"""JSON and TOML decoding strictness (spec-1 §3.1, §9)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pureflow.format import WorkflowDocumentError, parse_raw, parse_workflow
from pureflow_format_testdata import BASE_TOML, JSON, TOML, base, jdoc, set_at, treplace


def decode_error(text: str | bytes, fmt=JSON) -> WorkflowDocumentError:
    with pytest.raises(WorkflowDocumentError) as caught:
        parse_raw(text, fmt)
    assert caught.value.stage == "decode"
    return caught.value


def test_syntax_error_message_has_line_and_column() -> None:
    err = decode_error('{\n  "id": }')
    first = err.diagnostics[0]
    assert (first.code, first.line, first.column) == ("decode.syntax", 2, 9)
    assert str(err) == "failed to decode workflow JSON: Expecting value at line 2 column 9"


def test_unknown_field_message_lists_the_fields() -> None:
    err = decode_error(jdoc(set_at(("extra",), True)))
    assert err.diagnostics[0].message == (
        "unknown field `extra`, expected one of `pureflow_version`, `id`, `nodes`, `edges`, "
        "`cycles`"
    )
    err = decode_error(jdoc(set_at(("edges", 0, "source", "x"), 1)))
    assert err.diagnostics[0].message == "unknown field `x`, expected one of `node`, `port`"


def test_every_decode_problem_is_reported_with_positions() -> None:
    def change(document):
        document["extra"] = 1
        document["nodes"][0]["inputs"] = [1, "ok", None]
        document["edges"][0]["capacity"] = "4"

    err = decode_error(jdoc(change))
    assert sorted(d.location for d in err.diagnostics) == [
        "/edges/0/capacity",
        "/extra",
        "/nodes/0/inputs/0",
        "/nodes/0/inputs/2",
    ]
    assert all(d.line is not None and d.column is not None for d in err.diagnostics)


def test_all_duplicate_keys_are_reported() -> None:
    text = '{"a": 1, "a": 2, "nodes": [{"id": "x", "id": "y"}]}'
    err = decode_error(text)
    duplicates = [
        (d.location, d.line, d.column) for d in err.diagnostics if d.code == "decode.duplicate_key"
    ]
    assert duplicates == [("/a", 1, 15), ("/nodes/0/id", 1, 46)]


def test_valid_surrogate_pairs_are_fine() -> None:
    raw = parse_raw(jdoc().replace('"flow"', '"fl\\ud83d\\ude00ow"'), JSON)
    assert raw.id == "fl\U0001f600ow"


@pytest.mark.parametrize(
    ("change", "location"),
    [
        (set_at(("cycles",), "reje\ud800ct"), "/cycles"),
        (set_at(("nodes", 0, "inputs"), ["a\ud800"]), "/nodes/0/inputs/0"),
        (set_at(("nodes", 0, "config"), {"k\udc00": 1}), "/nodes/0/config/k\udc00"),
        (set_at(("edges", 0, "source", "port"), "\udfff"), "/edges/0/source/port"),
    ],
)
def test_a_lone_surrogate_anywhere_is_a_diagnostic_never_an_exception(
    change: Any, location: str
) -> None:
    """Found by fuzzing: a lone surrogate escape in a field the document model encodes (an
    enum value, a list item, a key) used to escape as UnicodeEncodeError."""
    document = base()
    change(document)
    err = decode_error(json.dumps(document, ensure_ascii=True))  # escapes: \ud800
    assert ("decode.syntax", "lone surrogate escape in string", location) in [
        (d.code, d.message, d.location) for d in err.diagnostics
    ]


def test_escaped_backslash_before_u_is_not_a_surrogate() -> None:
    raw = parse_raw(jdoc().replace('"flow"', '"fl\\\\ud800ow"'), JSON)
    assert raw.id == "fl\\ud800ow"


def test_a_huge_integer_is_refused() -> None:
    err = decode_error(jdoc().replace('"capacity": 4', '"capacity": ' + "9" * 5000))
    assert err.diagnostics[0].message == "number out of range"


def test_bom_is_skipped() -> None:
    assert parse_workflow("\ufeff" + jdoc(), JSON).id == "flow"
    assert parse_workflow(b"\xef\xbb\xbf" + jdoc().encode(), JSON).id == "flow"


def test_bytes_must_be_utf8() -> None:
    err = decode_error(b'{"id": "\xff"}')
    assert err.diagnostics[0].code == "decode.encoding"
    assert str(err) == (
        "failed to decode workflow JSON: stream did not contain valid UTF-8 at line 1 column 9"
    )


def test_str_with_lone_surrogate_is_refused() -> None:
    err = decode_error('{"id": "\ud800"}')
    assert err.diagnostics[0].code == "decode.encoding"


def test_raw_control_characters_in_strings_are_refused() -> None:
    err = decode_error('{"id": "a\x01b"}')
    assert err.diagnostics[0].code == "decode.syntax"


def test_toml_arrays_of_tables() -> None:
    workflow = parse_workflow(BASE_TOML, TOML)
    assert workflow.id == "flow"
    assert workflow.edges[0].capacity.value == 4


def test_toml_inline_tables_and_extensions() -> None:
    text = """\
pureflow_version = "1"
id = "flow"
cycles = "reject"
nodes = [
  { id = "a", inputs = [], outputs = ["out"], component = "builtin:emit", config = { n = 3 } },
  { id = "b", inputs = ["in"], outputs = [] },
]
edges = [{ source = { node = "a", port = "out" }, target = { node = "b", port = "in" } }]
"""
    workflow = parse_workflow(text, TOML)
    assert workflow.node("a").config == {"n": 3}
    assert workflow.edges[0].capacity.is_default


def test_toml_syntax_error_has_position() -> None:
    err = decode_error("not = ", TOML)
    first = err.diagnostics[0]
    assert first.code == "decode.syntax"
    assert first.line == 1
    assert str(err).startswith("failed to decode workflow TOML: ")


def test_toml_strings_must_be_strings() -> None:
    err = decode_error(treplace('id = "flow"', "id = 5"), TOML)
    assert err.diagnostics[0].message == "invalid type: integer `5`, expected a string"
    assert err.diagnostics[0].line is None


def test_toml_datetime_in_config_is_not_json() -> None:
    text = treplace('outputs = ["out"]', 'outputs = ["out"]\nconfig = { when = 1979-05-27 }')
    err = decode_error(text, TOML)
    assert err.diagnostics[0].location == "/nodes/0/config/when"
    assert err.diagnostics[0].message == "invalid type: date, expected a JSON value"


def test_deep_config_is_refused() -> None:
    deep = "[" * 200 + "]" * 200
    err = decode_error(
        jdoc().replace(
            '"outputs": [\n        "out"\n      ]', f'"outputs": ["out"], "config": {{"a": {deep}}}'
        )
    )
    assert err.diagnostics[0].code == "decode.nesting"
    assert err.diagnostics[0].location.startswith("/nodes/0/config/a/0/0")
