"""Bad input never escapes as anything but a format error: fuzzing, depth, size."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pureflow.format import DocumentFormat, WorkflowDocumentError, parse_workflow
from pureflow_format_testdata import BASE_TOML, BASE_YAML, JSON, TOML, YAML, jdoc

FORMATS = [JSON, YAML, TOML]
BASES = {JSON: jdoc(), YAML: BASE_YAML, TOML: BASE_TOML}


def survives(data: str | bytes, fmt: DocumentFormat) -> None:
    """Parsing either succeeds or raises WorkflowDocumentError with >= 1 diagnostic."""
    try:
        parse_workflow(data, fmt)
    except WorkflowDocumentError as err:
        failure = err
    else:
        return
    assert failure.diagnostics
    assert "\n" not in str(failure)
    failure.render("fuzz")


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes(fmt: DocumentFormat, data: bytes) -> None:
    survives(data, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=300))
def test_random_text(fmt: DocumentFormat, text: str) -> None:
    survives(text, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_valid_documents(fmt: DocumentFormat, data: st.DataObject) -> None:
    text = BASES[fmt]
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["delete", "insert", "replace"]))
        piece = data.draw(
            st.sampled_from(
                [
                    "{",
                    "}",
                    "[",
                    "]",
                    ":",
                    ",",
                    '"',
                    "'",
                    "\n",
                    " ",
                    "-",
                    "&a",
                    "*a",
                    "!!",
                    "~",
                    "0",
                    "x",
                    "\t",
                    "#",
                    "\\u",
                    "=",
                    "\x00",
                    "\ufeff",
                ]
            )
        )
        if action == "delete":
            text = text[:position] + text[position + 1 :]
        elif action == "insert":
            text = text[:position] + piece + text[position:]
        else:
            text = text[:position] + piece + text[position + len(piece) :]
    survives(text, fmt)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "nodes",
                    "edges",
                    "inputs",
                    "outputs",
                    "source",
                    "target",
                    "node",
                    "port",
                    "capacity",
                    "config",
                    "x",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_random_json_shapes(value: object) -> None:
    survives(json.dumps(value), JSON)
    if isinstance(value, dict):
        document = {"pureflow_version": "1", "id": "f", "nodes": [], "edges": [], **value}
        survives(json.dumps(document), JSON)


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        (JSON, "[" * 100_000 + "]" * 100_000),
        (JSON, '{"a":' * 100_000 + "1" + "}" * 100_000),
        (YAML, "[" * 100_000 + "]" * 100_000),
        (YAML, "{a: " * 100_000 + "1" + "}" * 100_000),
        (YAML, "".join("  " * level + "- \n" for level in range(1500))),
        (TOML, "a = " + "[" * 100_000 + "]" * 100_000),
        (TOML, "a = " + "{b = " * 100_000 + "1" + "}" * 100_000),
    ],
    ids=[
        "json-arrays",
        "json-objects",
        "yaml-flow",
        "yaml-flow-maps",
        "yaml-block",
        "toml-arrays",
        "toml-tables",
    ],
)
def test_deep_nesting_is_a_clear_error(fmt: DocumentFormat, text: str) -> None:
    with pytest.raises(WorkflowDocumentError) as caught:
        parse_workflow(text, fmt)
    assert caught.value.stage == "decode"
    assert caught.value.diagnostics[0].code in ("decode.nesting", "decode.type")
    if caught.value.diagnostics[0].code == "decode.nesting":
        assert caught.value.diagnostics[0].message == "document nests too deeply"


def test_moderate_nesting_in_config_round_trips() -> None:
    config = {"a": [[[[[[[[[[1]]]]]]]]]]}
    workflow = parse_workflow(jdoc(lambda d: d["nodes"][0].update(config=config)), JSON)
    assert workflow.node("source").config == config


@pytest.mark.parametrize("fmt", FORMATS)
def test_ten_megabyte_identifier(fmt: DocumentFormat) -> None:
    big = "x" * 10_000_000
    texts = {
        JSON: jdoc(lambda d: d.update(id=big), indent=0),
        YAML: BASE_YAML.replace("id: flow", f"id: {big}"),
        TOML: BASE_TOML.replace('id = "flow"', f'id = "{big}"'),
    }
    with pytest.raises(WorkflowDocumentError) as caught:
        parse_workflow(texts[fmt], fmt)
    first = caught.value.diagnostics[0]
    assert first.message == "workflow id is invalid: workflow id must not exceed 256 bytes"
    assert len(str(caught.value)) < 200


def test_ten_megabyte_unsupported_version_message_is_bounded() -> None:
    with pytest.raises(WorkflowDocumentError) as caught:
        parse_workflow(jdoc(lambda d: d.update(pureflow_version="9" * 10_000_000)), JSON)
    assert len(str(caught.value)) < 400


def test_ten_thousand_nodes_in_every_format() -> None:
    count = 10_000
    nodes = [{"id": f"n{i}", "inputs": ["in"], "outputs": ["out"]} for i in range(count)]
    edges = [
        {"source": {"node": f"n{i}", "port": "out"}, "target": {"node": f"n{i + 1}", "port": "in"}}
        for i in range(count - 1)
    ]
    document = {"pureflow_version": "1", "id": "big", "nodes": nodes, "edges": edges}
    workflow = parse_workflow(json.dumps(document), JSON)
    assert len(workflow.nodes) == count
    yaml_lines = ['pureflow_version: "1"', "id: big", "nodes:"]
    yaml_lines += [f"  - {{id: n{i}, inputs: [in], outputs: [out]}}" for i in range(count)]
    yaml_lines += ["edges:"]
    yaml_lines += [
        f"  - {{source: {{node: n{i}, port: out}}, target: {{node: n{i + 1}, port: in}}}}"
        for i in range(count - 1)
    ]
    assert parse_workflow("\n".join(yaml_lines), YAML) == workflow
