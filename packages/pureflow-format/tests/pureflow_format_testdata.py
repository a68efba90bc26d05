"""Documents shared by the tests: a valid base document and the table of invalid cases.

Every invalid workflow document the test suite uses is a :class:`Case` in :data:`CASES`,
so ``test_schema.py`` can check that the JSON Schema and the parser agree on all of them
(or that the case is listed as not expressible, with the reason).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance_fixtures import UPSTREAM_EXAMPLES
from pureflow.format import DocumentFormat

JSON = DocumentFormat.JSON
YAML = DocumentFormat.YAML
TOML = DocumentFormat.TOML

EXAMPLES = UPSTREAM_EXAMPLES


def conformance_examples() -> list[Path]:
    """Every upstream example workflow (JSON and YAML)."""
    return sorted(EXAMPLES.glob("**/*.workflow.json")) + sorted(EXAMPLES.glob("**/*.workflow.yaml"))


BASE: dict[str, Any] = {
    "pureflow_version": "1",
    "id": "flow",
    "nodes": [
        {"id": "source", "inputs": [], "outputs": ["out"]},
        {"id": "sink", "inputs": ["in"], "outputs": []},
    ],
    "edges": [
        {
            "source": {"node": "source", "port": "out"},
            "target": {"node": "sink", "port": "in"},
            "capacity": 4,
        }
    ],
}

BASE_YAML = """\
pureflow_version: "1"
id: flow
nodes:
  - id: source
    inputs: []
    outputs: [out]
  - id: sink
    inputs: [in]
    outputs: []
edges:
  - source: {node: source, port: out}
    target: {node: sink, port: in}
    capacity: 4
"""

BASE_TOML = """\
pureflow_version = "1"
id = "flow"

[[nodes]]
id = "source"
inputs = []
outputs = ["out"]

[[nodes]]
id = "sink"
inputs = ["in"]
outputs = []

[[edges]]
capacity = 4

[edges.source]
node = "source"
port = "out"

[edges.target]
node = "sink"
port = "in"
"""


def base() -> dict[str, Any]:
    """A fresh copy of the valid base document."""
    return copy.deepcopy(BASE)


def jdoc(change: Callable[[dict[str, Any]], object] | None = None, *, indent: int = 2) -> str:
    """The base document as JSON text, after ``change`` mutated it."""
    document = base()
    if change is not None:
        change(document)
    return json.dumps(document, indent=indent, ensure_ascii=False)


def yreplace(old: str, new: str) -> str:
    """The base YAML document with one line replaced."""
    assert old in BASE_YAML, old
    return BASE_YAML.replace(old, new, 1)


def treplace(old: str, new: str) -> str:
    """The base TOML document with one line replaced."""
    assert old in BASE_TOML, old
    return BASE_TOML.replace(old, new, 1)


def set_at(path: tuple[str | int, ...], value: object) -> Callable[[dict[str, Any]], None]:
    """A change that sets the value at ``path``."""

    def change(document: dict[str, Any]) -> None:
        target: Any = document
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def drop(path: tuple[str | int, ...]) -> Callable[[dict[str, Any]], None]:
    """A change that deletes the value at ``path``."""

    def change(document: dict[str, Any]) -> None:
        target: Any = document
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return change


# Why a case is not checked against the JSON Schema (the parser is authoritative there).
NOT_A_VALUE = "the text does not decode to a JSON value, so there is nothing to give the schema"
BYTE_CAP = "the 256-byte identifier cap: JSON Schema counts code points (maxLength 256)"
GRAPH = "graph check (unknown or duplicate nodes and ports, cycles): not expressible in JSON Schema"
INTEGRAL_FLOAT = "JSON Schema counts a number with a zero fraction (4.0, 1e2) as an integer"
YAML_COERCION = (
    "YAML coercion: the parser reads this scalar as the field's type (string text, absent, "
    "empty list), the schema sees its YAML 1.2 core value"
)


@dataclass(frozen=True)
class Case:
    """A workflow document and what the parser says about it.

    ``code``/``location``/``message`` describe the first diagnostic (``code`` None: the
    document is valid). ``schema`` is None when the JSON Schema must agree with the parser,
    else the reason it cannot.
    """

    id: str
    format: DocumentFormat
    text: str | bytes
    code: str | None
    location: str | None = None
    message: str | None = None
    schema: str | None = None

    @property
    def stage(self) -> str | None:
        if self.code is None:
            return None
        return "decode" if self.code.startswith("decode.") else "format"


def _deep_json(depth: int) -> str:
    return '{"pureflow_version": "1", "id": "deep", "nodes": ' + "[" * depth + "]" * depth + "}"


def _billion_laughs() -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for index in range(1, 9):
        previous = chr(ord("a") + index - 1)
        name = chr(ord("a") + index)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    return "\n".join(lines) + "\n"


THREE_PROBLEMS_YAML = """\
pureflow_version: "1"
id: flow
nodes:
  - id: source
    inputs: []
    outputs: [out]
  - id: sink
    inputs: [in, bad port]
    outputs: []
edges:
  - source: {node: source, port: out}
    target: {node: sink, port: in}
    capacity: 0
  - source: {node: source, port: out}
    target: {node: nowhere, port: in}
"""

CASES: tuple[Case, ...] = (
    # ---- valid documents (the schema must accept them too) -------------------------------
    Case("valid-json", JSON, jdoc(), None),
    Case("valid-yaml", YAML, BASE_YAML, None),
    Case("valid-toml", TOML, BASE_TOML, None),
    Case("valid-null-capacity", JSON, jdoc(set_at(("edges", 0, "capacity"), None)), None),
    Case("valid-no-capacity", JSON, jdoc(drop(("edges", 0, "capacity"))), None),
    Case("valid-zwsp-id", JSON, jdoc(set_at(("id",), "flow\u200bone")), None),
    Case("valid-bom-id", JSON, jdoc(set_at(("id",), "\ufeffflow")), None),
    Case("valid-cjk", JSON, jdoc(set_at(("id",), "源流")), None),
    Case(
        "valid-component",
        JSON,
        jdoc(set_at(("nodes", 0, "component"), "python:pkg.mod:attr")),
        None,
    ),
    Case("valid-config", JSON, jdoc(set_at(("nodes", 0, "config"), {"a": [1, {"b": None}]})), None),
    Case(
        "valid-extension-nulls",
        JSON,
        jdoc(
            lambda d: d["nodes"][0].update(
                component=None, config=None, rule_set=None, rule_set_ref=None
            )
        ),
        None,
    ),
    Case("valid-cycles-reject", JSON, jdoc(set_at(("cycles",), "reject")), None),
    Case(
        "valid-cycles-allow-loop",
        JSON,
        jdoc(
            lambda d: (
                d.update(cycles="allow"),
                d["nodes"][1].update(outputs=["back"]),
                d["nodes"][0].update(inputs=["back"]),
                d["edges"].append(
                    {
                        "source": {"node": "sink", "port": "back"},
                        "target": {"node": "source", "port": "back"},
                    }
                ),
            )
        ),
        None,
    ),
    Case("valid-yaml-on-port", YAML, yreplace("outputs: [out]", "outputs: [out, on, yes]"), None),
    Case("valid-yaml-int-forms", YAML, yreplace("capacity: 4", "capacity: 0x10"), None),
    # ---- decode: syntax -----------------------------------------------------------------
    Case("json-syntax", JSON, "{not-json", "decode.syntax", "", schema=NOT_A_VALUE),
    Case("json-trailing-garbage", JSON, jdoc() + " x", "decode.syntax", schema=NOT_A_VALUE),
    Case("json-empty", JSON, "", "decode.syntax", schema=NOT_A_VALUE),
    Case(
        "json-nan",
        JSON,
        jdoc().replace('"capacity": 4', '"capacity": NaN'),
        "decode.syntax",
        "/edges/0/capacity",
        schema=NOT_A_VALUE,
    ),
    Case(
        "json-infinity",
        JSON,
        jdoc().replace('"capacity": 4', '"capacity": -Infinity'),
        "decode.syntax",
        "/edges/0/capacity",
        schema=NOT_A_VALUE,
    ),
    Case(
        "json-overflow-float",
        JSON,
        jdoc().replace('"capacity": 4', '"capacity": 1e400'),
        "decode.syntax",
        "/edges/0/capacity",
        schema=NOT_A_VALUE,
    ),
    Case(
        "json-lone-surrogate",
        JSON,
        jdoc().replace('"flow"', '"fl\\ud800ow"'),
        "decode.syntax",
        "/id",
        "lone surrogate escape in string",
        schema=NOT_A_VALUE,
    ),
    Case(
        "json-duplicate-key",
        JSON,
        jdoc().replace('"id": "flow"', '"id": "flow", "id": "x"'),
        "decode.duplicate_key",
        "/id",
        "duplicate field `id`",
        schema=NOT_A_VALUE,
    ),
    Case(
        "json-deep-nesting",
        JSON,
        _deep_json(100_000),
        "decode.nesting",
        "",
        "document nests too deeply",
        schema=NOT_A_VALUE,
    ),
    Case(
        "json-binary",
        JSON,
        bytes(range(256)) * 4,
        "decode.encoding",
        "",
        "stream did not contain valid UTF-8",
        schema=NOT_A_VALUE,
    ),
    Case("yaml-syntax", YAML, "id: [", "decode.syntax", "", schema=NOT_A_VALUE),
    Case(
        "yaml-duplicate-key",
        YAML,
        BASE_YAML + "id: again\n",
        "decode.duplicate_key",
        "/id",
        "duplicate field `id`",
        schema=NOT_A_VALUE,
    ),
    Case(
        "yaml-python-tag",
        YAML,
        yreplace("id: flow", "id: !!python/object:os.system flow"),
        "decode.tag",
        "/id",
        schema=NOT_A_VALUE,
    ),
    Case(
        "yaml-local-tag",
        YAML,
        yreplace("id: flow", "id: !custom flow"),
        "decode.tag",
        "/id",
        schema=NOT_A_VALUE,
    ),
    Case("yaml-billion-laughs", YAML, _billion_laughs(), "decode.alias", schema=NOT_A_VALUE),
    Case("yaml-recursive-alias", YAML, "a: &a [*a]\n", "decode.alias", schema=NOT_A_VALUE),
    Case(
        "yaml-two-documents",
        YAML,
        BASE_YAML + "---\n" + BASE_YAML,
        "decode.syntax",
        schema=NOT_A_VALUE,
    ),
    Case(
        "yaml-deep-nesting",
        YAML,
        "nodes: " + "[" * 100_000 + "]" * 100_000,
        "decode.nesting",
        schema=NOT_A_VALUE,
    ),
    Case("toml-syntax", TOML, "not = ", "decode.syntax", "", schema=NOT_A_VALUE),
    Case(
        "toml-duplicate-key",
        TOML,
        BASE_TOML.replace('id = "flow"', 'id = "flow"\nid = "x"'),
        "decode.syntax",
        schema=NOT_A_VALUE,
    ),
    Case(
        "toml-datetime-id",
        TOML,
        treplace('id = "flow"', "id = 1979-05-27T07:32:00Z"),
        "decode.type",
        "/id",
        schema=NOT_A_VALUE,
    ),
    Case(
        "toml-deep-nesting",
        TOML,
        "nodes = " + "[" * 100_000 + "]" * 100_000,
        "decode.nesting",
        schema=NOT_A_VALUE,
    ),
    # ---- decode: shape and types (the schema agrees) -------------------------------------
    Case(
        "json-top-level-array",
        JSON,
        "[]",
        "decode.type",
        "",
        "invalid type: sequence, expected a map",
    ),
    Case(
        "json-top-level-extra",
        JSON,
        jdoc(set_at(("extra",), True)),
        "decode.unknown_field",
        "/extra",
    ),
    Case(
        "json-node-extra",
        JSON,
        jdoc(set_at(("nodes", 1, "kind"), "x")),
        "decode.unknown_field",
        "/nodes/1/kind",
    ),
    Case(
        "json-edge-extra",
        JSON,
        jdoc(set_at(("edges", 0, "weight"), 1)),
        "decode.unknown_field",
        "/edges/0/weight",
    ),
    Case(
        "json-endpoint-extra",
        JSON,
        jdoc(set_at(("edges", 0, "target", "x"), 1)),
        "decode.unknown_field",
        "/edges/0/target/x",
    ),
    Case(
        "json-contract-field",
        JSON,
        jdoc(set_at(("nodes", 0, "contract"), "pureflow.rules.v1")),
        "decode.unknown_field",
        "/nodes/0/contract",
    ),
    Case(
        "json-null-id",
        JSON,
        jdoc(set_at(("id",), None)),
        "decode.type",
        "/id",
        "invalid type: null, expected a string",
    ),
    Case("json-int-id", JSON, jdoc(set_at(("id",), 7)), "decode.type", "/id"),
    Case(
        "json-int-version",
        JSON,
        jdoc(set_at(("pureflow_version",), 1)),
        "decode.type",
        "/pureflow_version",
    ),
    Case(
        "json-missing-id",
        JSON,
        jdoc(drop(("id",))),
        "decode.missing_field",
        "/id",
        "missing field `id`",
    ),
    Case("json-missing-nodes", JSON, jdoc(drop(("nodes",))), "decode.missing_field", "/nodes"),
    Case("json-missing-edges", JSON, jdoc(drop(("edges",))), "decode.missing_field", "/edges"),
    Case(
        "json-missing-inputs",
        JSON,
        jdoc(drop(("nodes", 0, "inputs"))),
        "decode.missing_field",
        "/nodes/0/inputs",
    ),
    Case(
        "json-missing-port",
        JSON,
        jdoc(drop(("edges", 0, "source", "port"))),
        "decode.missing_field",
        "/edges/0/source/port",
    ),
    Case("json-nodes-object", JSON, jdoc(set_at(("nodes",), {})), "decode.type", "/nodes"),
    Case("json-node-string", JSON, jdoc(set_at(("nodes", 0), "source")), "decode.type", "/nodes/0"),
    Case(
        "json-inputs-string",
        JSON,
        jdoc(set_at(("nodes", 1, "inputs"), "in")),
        "decode.type",
        "/nodes/1/inputs",
    ),
    Case(
        "json-port-int",
        JSON,
        jdoc(set_at(("nodes", 1, "inputs"), [4])),
        "decode.type",
        "/nodes/1/inputs/0",
    ),
    Case(
        "json-capacity-float",
        JSON,
        jdoc(set_at(("edges", 0, "capacity"), 4.0)),
        "decode.type",
        "/edges/0/capacity",
        "invalid type: floating point `4.0`, expected u64",
        schema=INTEGRAL_FLOAT,
    ),
    Case(
        "json-capacity-exponent",
        JSON,
        jdoc().replace('"capacity": 4', '"capacity": 1e2'),
        "decode.type",
        "/edges/0/capacity",
        schema=INTEGRAL_FLOAT,
    ),
    Case(
        "json-capacity-minus-zero",
        JSON,
        jdoc().replace('"capacity": 4', '"capacity": -0'),
        "decode.type",
        "/edges/0/capacity",
    ),
    Case(
        "json-capacity-fraction",
        JSON,
        jdoc(set_at(("edges", 0, "capacity"), 4.5)),
        "decode.type",
        "/edges/0/capacity",
    ),
    Case(
        "json-capacity-negative",
        JSON,
        jdoc(set_at(("edges", 0, "capacity"), -1)),
        "decode.invalid_value",
        "/edges/0/capacity",
        "invalid value: integer `-1`, expected u64",
    ),
    Case(
        "json-capacity-too-big",
        JSON,
        jdoc(set_at(("edges", 0, "capacity"), 2**64)),
        "decode.invalid_value",
        "/edges/0/capacity",
    ),
    Case(
        "json-capacity-bool",
        JSON,
        jdoc(set_at(("edges", 0, "capacity"), True)),
        "decode.type",
        "/edges/0/capacity",
        "invalid type: boolean `true`, expected u64",
    ),
    Case(
        "json-capacity-string",
        JSON,
        jdoc(set_at(("edges", 0, "capacity"), "4")),
        "decode.type",
        "/edges/0/capacity",
        'invalid type: string "4", expected u64',
    ),
    Case(
        "json-config-list",
        JSON,
        jdoc(set_at(("nodes", 0, "config"), [])),
        "decode.type",
        "/nodes/0/config",
    ),
    Case(
        "json-config-string",
        JSON,
        jdoc(set_at(("nodes", 0, "config"), "x")),
        "decode.type",
        "/nodes/0/config",
    ),
    Case(
        "json-rule-set-ref-int",
        JSON,
        jdoc(set_at(("nodes", 0, "rule_set_ref"), 5)),
        "decode.type",
        "/nodes/0/rule_set_ref",
    ),
    Case(
        "json-component-int",
        JSON,
        jdoc(set_at(("nodes", 0, "component"), 5)),
        "decode.type",
        "/nodes/0/component",
    ),
    Case(
        "json-cycles-unknown",
        JSON,
        jdoc(set_at(("cycles",), "maybe")),
        "decode.invalid_value",
        "/cycles",
        "unknown variant `maybe`, expected `reject` or `allow`",
    ),
    Case("json-cycles-bool", JSON, jdoc(set_at(("cycles",), True)), "decode.type", "/cycles"),
    Case(
        "yaml-top-level-extra", YAML, BASE_YAML + "extra: true\n", "decode.unknown_field", "/extra"
    ),
    Case(
        "yaml-quoted-capacity",
        YAML,
        yreplace("capacity: 4", 'capacity: "4"'),
        "decode.type",
        "/edges/0/capacity",
        'invalid type: string "4", expected u64',
    ),
    Case(
        "yaml-leading-zero-capacity",
        YAML,
        yreplace("capacity: 4", "capacity: 010"),
        "decode.type",
        "/edges/0/capacity",
    ),
    Case(
        "yaml-float-capacity",
        YAML,
        yreplace("capacity: 4", "capacity: 4.0"),
        "decode.type",
        "/edges/0/capacity",
        schema=INTEGRAL_FLOAT,
    ),
    Case(
        "yaml-bool-capacity",
        YAML,
        yreplace("capacity: 4", "capacity: true"),
        "decode.type",
        "/edges/0/capacity",
    ),
    Case(
        "yaml-inputs-scalar",
        YAML,
        yreplace("inputs: [in]", "inputs: in"),
        "decode.type",
        "/nodes/1/inputs",
    ),
    Case(
        "toml-top-level-extra", TOML, "extra = true\n" + BASE_TOML, "decode.unknown_field", "/extra"
    ),
    Case(
        "toml-int-version",
        TOML,
        treplace('pureflow_version = "1"', "pureflow_version = 1"),
        "decode.type",
        "/pureflow_version",
    ),
    Case(
        "toml-float-capacity",
        TOML,
        treplace("capacity = 4", "capacity = 4.0"),
        "decode.type",
        "/edges/0/capacity",
        schema=INTEGRAL_FLOAT,
    ),
    Case(
        "toml-negative-capacity",
        TOML,
        treplace("capacity = 4", "capacity = -4"),
        "decode.invalid_value",
        "/edges/0/capacity",
    ),
    # ---- YAML coercion: accepted by the parser, not by the schema ------------------------
    Case(
        "yaml-int-version",
        YAML,
        yreplace('pureflow_version: "1"', "pureflow_version: 1"),
        None,
        schema=YAML_COERCION,
    ),
    Case("yaml-int-id", YAML, yreplace("id: flow", "id: 123"), None, schema=YAML_COERCION),
    Case("yaml-bool-id", YAML, yreplace("id: flow", "id: true"), None, schema=YAML_COERCION),
    Case("yaml-tilde-id", YAML, yreplace("id: flow", "id: ~"), None, schema=YAML_COERCION),
    Case("yaml-empty-inputs", YAML, yreplace("inputs: []", "inputs:"), None, schema=YAML_COERCION),
    Case(
        "yaml-null-version",
        YAML,
        yreplace('pureflow_version: "1"', "pureflow_version: ~"),
        "format.missing_version",
        "",
        "workflow document is missing pureflow_version",
    ),
    # ---- format stage -------------------------------------------------------------------
    Case(
        "missing-version",
        JSON,
        jdoc(drop(("pureflow_version",))),
        "format.missing_version",
        "",
        "workflow document is missing pureflow_version",
    ),
    Case(
        "null-version",
        JSON,
        jdoc(set_at(("pureflow_version",), None)),
        "format.missing_version",
        "",
    ),
    Case(
        "version-2",
        JSON,
        jdoc(set_at(("pureflow_version",), "2")),
        "format.unsupported_version",
        "/pureflow_version",
        "workflow document uses unsupported pureflow_version `2`",
    ),
    Case(
        "version-1.0",
        JSON,
        jdoc(set_at(("pureflow_version",), "1.0")),
        "format.unsupported_version",
        "/pureflow_version",
    ),
    Case(
        "version-01",
        JSON,
        jdoc(set_at(("pureflow_version",), "01")),
        "format.unsupported_version",
        "/pureflow_version",
    ),
    Case(
        "version-space-1",
        JSON,
        jdoc(set_at(("pureflow_version",), " 1")),
        "format.unsupported_version",
        "/pureflow_version",
    ),
    Case(
        "toml-version-2",
        TOML,
        treplace('pureflow_version = "1"', 'pureflow_version = "2"'),
        "format.unsupported_version",
        "/pureflow_version",
    ),
    Case(
        "yaml-version-2",
        YAML,
        yreplace('pureflow_version: "1"', 'pureflow_version: "2"'),
        "format.unsupported_version",
        "/pureflow_version",
    ),
    Case(
        "workflow-id-space",
        JSON,
        jdoc(set_at(("id",), "bad workflow")),
        "format.identifier",
        "/id",
        "workflow id is invalid: workflow id must not contain whitespace",
    ),
    Case(
        "workflow-id-empty",
        JSON,
        jdoc(set_at(("id",), "")),
        "format.identifier",
        "/id",
        "workflow id is invalid: workflow id must not be empty",
    ),
    Case(
        "workflow-id-line-separator",
        JSON,
        jdoc(set_at(("id",), "\u2028")),
        "format.identifier",
        "/id",
        "workflow id is invalid: workflow id must not be empty",
    ),
    Case(
        "workflow-id-nel",
        JSON,
        jdoc(set_at(("id",), "a\u0085b")),
        "format.identifier",
        "/id",
        "workflow id is invalid: workflow id must not contain whitespace",
    ),
    Case("workflow-id-nbsp", JSON, jdoc(set_at(("id",), "a\u00a0b")), "format.identifier", "/id"),
    Case(
        "workflow-id-unit-separator",
        JSON,
        jdoc(set_at(("id",), "msg\u001fone")),
        "format.identifier",
        "/id",
        "workflow id is invalid: workflow id must not contain control characters",
    ),
    Case(
        "workflow-id-trailing-newline",
        JSON,
        jdoc(set_at(("id",), "flow\n")),
        "format.identifier",
        "/id",
    ),
    Case(
        "workflow-id-257",
        JSON,
        jdoc(set_at(("id",), "a" * 257)),
        "format.identifier",
        "/id",
        "workflow id is invalid: workflow id must not exceed 256 bytes",
    ),
    Case(
        "workflow-id-300-spaces",
        JSON,
        jdoc(set_at(("id",), " " * 300)),
        "format.identifier",
        "/id",
        "workflow id is invalid: workflow id must not exceed 256 bytes",
    ),
    Case(
        "workflow-id-258-bytes",
        JSON,
        jdoc(set_at(("id",), "é" * 129)),
        "format.identifier",
        "/id",
        schema=BYTE_CAP,
    ),
    Case(
        "workflow-id-10mb",
        JSON,
        jdoc(set_at(("id",), "x" * 10_000_000), indent=0),
        "format.identifier",
        "/id",
    ),
    Case(
        "node-id-space",
        JSON,
        jdoc(set_at(("nodes", 0, "id"), "node one")),
        "format.identifier",
        "/nodes/0/id",
        "node 0 id is invalid: node id must not contain whitespace",
    ),
    Case(
        "node-input-port-space",
        JSON,
        jdoc(set_at(("nodes", 1, "inputs", 0), "bad port")),
        "format.identifier",
        "/nodes/1/inputs/0",
        "node 1 input port 0 is invalid: port id must not contain whitespace",
    ),
    Case(
        "node-output-port-empty",
        JSON,
        jdoc(set_at(("nodes", 0, "outputs", 0), "")),
        "format.identifier",
        "/nodes/0/outputs/0",
        "node 0 output port 0 is invalid: port id must not be empty",
    ),
    Case(
        "edge-source-port-space",
        JSON,
        jdoc(set_at(("edges", 0, "source", "port"), "bad port")),
        "format.identifier",
        "/edges/0/source/port",
        "edge 0 source port is invalid: port id must not contain whitespace",
    ),
    Case(
        "edge-target-node-tab",
        JSON,
        jdoc(set_at(("edges", 0, "target", "node"), "a\tb")),
        "format.identifier",
        "/edges/0/target/node",
        "edge 0 target node is invalid: node id must not contain whitespace",
    ),
    Case(
        "capacity-zero",
        JSON,
        jdoc(set_at(("edges", 0, "capacity"), 0)),
        "format.capacity",
        "/edges/0/capacity",
        "edge 0 explicit capacity must be greater than zero, got 0",
    ),
    Case(
        "toml-capacity-zero",
        TOML,
        treplace("capacity = 4", "capacity = 0"),
        "format.capacity",
        "/edges/0/capacity",
    ),
    Case(
        "component-no-prefix",
        JSON,
        jdoc(set_at(("nodes", 0, "component"), "pkg.mod:attr")),
        "format.component",
        "/nodes/0/component",
    ),
    Case(
        "component-empty-rest",
        JSON,
        jdoc(set_at(("nodes", 0, "component"), "wasm:")),
        "format.component",
        "/nodes/0/component",
    ),
    Case(
        "component-empty",
        JSON,
        jdoc(set_at(("nodes", 0, "component"), "")),
        "format.component",
        "/nodes/0/component",
    ),
    Case(
        "three-problems-yaml", YAML, THREE_PROBLEMS_YAML, "format.identifier", "/nodes/1/inputs/1"
    ),
    # ---- graph stage (not expressible in JSON Schema) ------------------------------------
    Case(
        "unknown-target-node",
        JSON,
        jdoc(set_at(("edges", 0, "target", "node"), "missing")),
        "graph.unknown_node",
        "/edges/0/target/node",
        "workflow validation failed: edge 0 target references unknown node `missing`",
        schema=GRAPH,
    ),
    Case(
        "unknown-target-port",
        JSON,
        jdoc(set_at(("edges", 0, "target", "port"), "out")),
        "graph.unknown_port",
        "/edges/0/target/port",
        "workflow validation failed: edge 0 target references unknown input port `out` on "
        "node `sink`",
        schema=GRAPH,
    ),
    Case(
        "input-used-as-source",
        JSON,
        jdoc(set_at(("edges", 0, "source"), {"node": "sink", "port": "in"})),
        "graph.unknown_port",
        "/edges/0/source/port",
        schema=GRAPH,
    ),
    Case(
        "duplicate-node",
        JSON,
        jdoc(set_at(("nodes", 1, "id"), "source")),
        "graph.duplicate_node",
        "/nodes/1/id",
        "workflow validation failed: workflow graph contains duplicate node `source`",
        schema=GRAPH,
    ),
    Case(
        "duplicate-port",
        JSON,
        jdoc(set_at(("nodes", 0, "inputs"), ["out"])),
        "graph.duplicate_port",
        "/nodes/0/outputs/0",
        "workflow validation failed: node `source` contains duplicate port `out`",
        schema=GRAPH,
    ),
    Case(
        "cycle",
        JSON,
        jdoc(
            lambda d: (
                d["nodes"][1].update(outputs=["back"]),
                d["nodes"][0].update(inputs=["back"]),
                d["edges"].append(
                    {
                        "source": {"node": "sink", "port": "back"},
                        "target": {"node": "source", "port": "back"},
                    }
                ),
            )
        ),
        "graph.cycle",
        "/edges/0",
        "workflow validation failed: workflow graph contains a cycle involving `source` `sink` "
        "`source`",
        schema=GRAPH,
    ),
)

CASES_BY_ID: dict[str, Case] = {case.id: case for case in CASES}
assert len(CASES_BY_ID) == len(CASES), "case ids must be unique"


def case(case_id: str) -> Case:
    return CASES_BY_ID[case_id]
