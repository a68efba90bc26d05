"""YAML specifics (spec-1 §3.1): scalar coercion per field type, tags, aliases, limits."""

from __future__ import annotations

import pytest
from pureflow.format import WorkflowDocumentError, parse_raw, parse_workflow, plain_value
from pureflow_format_testdata import BASE_YAML, YAML, case, yreplace


def decode_error(text: str) -> WorkflowDocumentError:
    with pytest.raises(WorkflowDocumentError) as caught:
        parse_raw(text, YAML)
    assert caught.value.stage == "decode"
    return caught.value


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("1", "1"),
        ("123", "123"),
        ("true", "true"),
        ("~", "~"),
        ("on", "on"),
        ("0x10", "0x10"),
        ("1.50", "1.50"),
        ("'quoted'", "quoted"),
        ('"dq"', "dq"),
        ("yes", "yes"),
        ("null", "null"),
    ],
)
def test_string_fields_take_any_scalar_as_its_text(written: str, read: str) -> None:
    raw = parse_raw(yreplace("id: flow", f"id: {written}"), YAML)
    assert raw.id == read


def test_version_written_as_an_integer_reads_as_text() -> None:
    raw = parse_raw(yreplace('pureflow_version: "1"', "pureflow_version: 1"), YAML)
    assert raw.pureflow_version == "1"
    assert parse_workflow(yreplace('pureflow_version: "1"', "pureflow_version: 1"), YAML)


@pytest.mark.parametrize("absent", ["", "~", "null", "Null", "NULL", "!!null ~"])
def test_optional_fields_read_null_forms_as_absent(absent: str) -> None:
    raw = parse_raw(yreplace("capacity: 4", f"capacity: {absent}"), YAML)
    assert raw.edges[0].capacity is None
    raw = parse_raw(
        yreplace("    outputs: []", f"    outputs: []\n    rule_set_ref: {absent}"), YAML
    )
    assert raw.nodes[1].rule_set_ref is None


def test_quoted_null_in_an_optional_string_is_text() -> None:
    raw = parse_raw(yreplace("    outputs: []", '    outputs: []\n    rule_set_ref: "~"'), YAML)
    assert raw.nodes[1].rule_set_ref == "~"


def test_null_version_is_a_format_error() -> None:
    with pytest.raises(WorkflowDocumentError) as caught:
        parse_workflow(yreplace('pureflow_version: "1"', "pureflow_version: ~"), YAML)
    assert caught.value.stage == "format"
    assert caught.value.diagnostics[0].code == "format.missing_version"


def test_empty_list_value_is_an_empty_list() -> None:
    raw = parse_raw(yreplace("inputs: []", "inputs:"), YAML)
    assert raw.nodes[0].inputs == []


def test_yaml_1_1_booleans_stay_strings() -> None:
    text = yreplace("outputs: [out]", "outputs: [out, on, off, yes, no, y, n]")
    raw = parse_raw(text, YAML)
    assert raw.nodes[0].outputs == ["out", "on", "off", "yes", "no", "y", "n"]


@pytest.mark.parametrize(
    ("written", "value"),
    [("4", 4), ("+4", 4), ("0x10", 16), ("0o10", 8), ("0b1", 1), ("!!int 7", 7), ("!!int '7'", 7)],
)
def test_integer_forms_accepted_for_capacity(written: str, value: int) -> None:
    raw = parse_raw(yreplace("capacity: 4", f"capacity: {written}"), YAML)
    assert raw.edges[0].capacity == value


@pytest.mark.parametrize(
    "written", ['"4"', "'4'", "010", "4.0", "1e2", "true", "four", "!!str 4", "1_000", "[4]"]
)
def test_integer_fields_reject_everything_else(written: str) -> None:
    err = decode_error(yreplace("capacity: 4", f"capacity: {written}"))
    assert err.diagnostics[0].code == "decode.type"
    assert err.diagnostics[0].location == "/edges/0/capacity"
    assert err.diagnostics[0].line == 13


def test_negative_capacity_is_out_of_range() -> None:
    err = decode_error(yreplace("capacity: 4", "capacity: -4"))
    assert err.diagnostics[0].code == "decode.invalid_value"


def test_block_and_flow_styles_and_comments() -> None:
    text = """\
# a comment
pureflow_version: '1'
id: >-
  flow
nodes:
- id: source
  inputs: []
  outputs:
  - out
- {id: sink, inputs: [in], outputs: []}
edges:
- source:
    node: source
    port: out
  target: {node: sink, port: in}
"""
    workflow = parse_workflow(text, YAML)
    assert workflow.id == "flow"
    assert workflow.edges[0].capacity.is_default


def test_anchors_and_aliases_work() -> None:
    text = """\
pureflow_version: "1"
id: flow
nodes:
  - id: source
    inputs: &none []
    outputs: [out]
  - id: sink
    inputs: [in]
    outputs: *none
edges:
  - source: &src {node: source, port: out}
    target: {node: sink, port: in}
"""
    workflow = parse_workflow(text, YAML)
    assert workflow.node("sink").output_ports == ()


def test_billion_laughs_is_refused_without_expanding() -> None:
    err = decode_error(case("yaml-billion-laughs").text)
    assert err.diagnostics[0].code == "decode.alias"
    assert "expands to more than 1000000 nodes" in err.diagnostics[0].message


def test_unknown_anchor_and_recursive_alias() -> None:
    assert decode_error("a: *nope\n").diagnostics[0].code in ("decode.alias", "decode.syntax")
    err = decode_error("a: &a [*a]\n")
    assert err.diagnostics[0].code == "decode.alias"


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/apply:os.system ['true']",
        "!!python/name:os.system ''",
        "!custom flow",
        "!!binary aGVsbG8=",
        "!!timestamp 2001-12-14",
        "!<tag:example.com,2000:x> flow",
    ],
)
def test_non_standard_tags_are_refused(tagged: str) -> None:
    err = decode_error(yreplace("id: flow", f"id: {tagged}"))
    assert err.diagnostics[0].code == "decode.tag"
    assert err.diagnostics[0].location == "/id"


def test_standard_tags_are_allowed() -> None:
    raw = parse_raw(yreplace("id: flow", "id: !!str flow"), YAML)
    assert raw.id == "flow"
    raw = parse_raw(yreplace("inputs: [in]", "inputs: !!seq [in]"), YAML)
    assert raw.nodes[1].inputs == ["in"]


def test_a_standard_tag_must_fit_its_text() -> None:
    err = decode_error(yreplace("capacity: 4", "capacity: !!int four"))
    assert err.diagnostics[0].code == "decode.tag"


def test_duplicate_keys_are_errors_with_positions() -> None:
    err = decode_error(BASE_YAML + "id: again\n")
    first = err.diagnostics[0]
    assert (first.code, first.location, first.line, first.column) == (
        "decode.duplicate_key",
        "/id",
        14,
        1,
    )


def test_every_decode_problem_is_reported() -> None:
    text = yreplace("capacity: 4", "capacity: '4'\n    weight: 3")
    text = text.replace("id: flow", "id: flow\nextra: 1")
    err = decode_error(text)
    assert {d.location for d in err.diagnostics} == {
        "/extra",
        "/edges/0/capacity",
        "/edges/0/weight",
    }
    assert all(d.line is not None for d in err.diagnostics)


def test_syntax_errors_have_positions() -> None:
    err = decode_error("id: [")
    assert err.diagnostics[0].code == "decode.syntax"
    assert err.diagnostics[0].line is not None
    assert str(err).startswith("failed to decode workflow YAML: ")
    assert " at line " in str(err)


def test_mapping_keys_must_be_scalars() -> None:
    err = decode_error("? [a]\n: b\n")
    assert err.diagnostics[0].code == "decode.syntax"


def test_empty_document_is_not_a_map() -> None:
    err = decode_error("")
    assert err.diagnostics[0].message == "invalid type: null, expected a map"


def test_merge_keys_are_plain_unknown_fields() -> None:
    err = decode_error(BASE_YAML + "<<: {x: 1}\n")
    assert err.diagnostics[0].code == "decode.unknown_field"


def test_config_and_rule_set_values_use_the_core_schema() -> None:
    text = yreplace(
        "    outputs: []",
        "    outputs: []\n"
        "    config: {a: 1, b: true, c: ~, d: '1', e: 1.5, f: 0x10, g: on, h: [x]}",
    )
    raw = parse_raw(text, YAML)
    assert raw.nodes[1].config == {
        "a": 1,
        "b": True,
        "c": None,
        "d": "1",
        "e": 1.5,
        "f": 16,
        "g": "on",
        "h": ["x"],
    }


def test_non_finite_numbers_in_config_are_refused() -> None:
    err = decode_error(yreplace("    outputs: []", "    outputs: []\n    config: {a: .inf}"))
    assert err.diagnostics[0].location == "/nodes/1/config/a"


def test_plain_value_gives_the_json_value() -> None:
    value = plain_value(yreplace('pureflow_version: "1"', "pureflow_version: 1"), YAML)
    assert isinstance(value, dict)
    assert value["pureflow_version"] == 1
    assert value["edges"][0]["capacity"] == 4


def test_big_identifier_is_fast_and_reported() -> None:
    text = yreplace("id: flow", "id: " + "x" * 10_000_000)
    with pytest.raises(WorkflowDocumentError) as caught:
        parse_workflow(text, YAML)
    assert caught.value.diagnostics[0].message.endswith("must not exceed 256 bytes")
