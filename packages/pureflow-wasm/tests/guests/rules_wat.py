"""Assemble hand-written rules-world guests (``pureflow:rules@0.1.0``) into components.

The component shell (types, the inner component that names them, the lifting of
``evaluate``) is generated from :data:`TYPES`, the WIT of ``pureflow-rules.wit`` in
component-model text: each type is defined once outside, exported under its WIT name, and
re-imported by an inner component whose instance becomes the
``pureflow:rules/rules@0.1.0`` export (the shape wasmtime requires of an exported
interface). A guest is a core module exporting ``mem``, ``realloc`` and
``evaluate (param i32) (result i32)``: a pointer to the lowered parameters in, a pointer to
the 72-byte result out.
"""

from __future__ import annotations

import re
from pathlib import Path

import wasmtime

GUESTS_DIR = Path(__file__).resolve().parent

TYPES: list[tuple[str, str]] = [
    (
        "scalar-value",
        '(variant (case "text" string) (case "integer" s64) (case "float-value" f64) '
        '(case "boolean" bool) (case "null-value"))',
    ),
    ("scalar-entry", '(record (field "key" string) (field "value" $scalar-value))'),
    ("field-predicate", '(record (field "path" string) (field "value" $scalar-value))'),
    (
        "field-in-predicate",
        '(record (field "path" string) (field "values" (list $scalar-value)))',
    ),
    ("field-match-predicate", '(record (field "path" string) (field "pattern" string))'),
    (
        "condition-node",
        "(variant"
        + "".join(
            f' (case "{name}" $field-predicate)'
            for name in ("field-eq", "field-neq", "field-gt", "field-lt", "field-gte", "field-lte")
        )
        + ' (case "field-in" $field-in-predicate) (case "field-exists" string)'
        ' (case "field-absent" string) (case "field-matches" $field-match-predicate)'
        ' (case "tag-eq" $scalar-entry) (case "tag-exists" string) (case "tag-absent" string)'
        ' (case "source-node" string) (case "arrived-on-port" string)'
        ' (case "hop-count-gt" u32) (case "hop-count-lte" u32) (case "workflow-is" string)'
        ' (case "execution-metadata-eq" $scalar-entry) (case "and-node" (list u32))'
        ' (case "or-node" (list u32)) (case "not-node" u32) (case "always") (case "never"))',
    ),
    ("condition-tree", '(record (field "nodes" (list $condition-node)) (field "root" u32))'),
    (
        "rule-action",
        '(variant (case "route" string) (case "drop") (case "dead-letter" string) '
        '(case "tag" $scalar-entry) (case "halt" string))',
    ),
    ("evaluation-strategy", '(enum "first-match" "all-matches" "score")'),
    (
        "rule",
        '(record (field "id" string) (field "condition" $condition-tree) '
        '(field "action" $rule-action) (field "priority" u32) (field "description" string))',
    ),
    (
        "rule-set",
        '(record (field "id" string) (field "strategy" $evaluation-strategy) '
        '(field "rules" (list $rule)) (field "default-action" $rule-action) '
        '(field "trace-conditions" bool))',
    ),
    ("packet-payload", '(variant (case "bytes" (list u8)) (case "control" string))'),
    (
        "eval-context",
        '(record (field "payload" $packet-payload) (field "tags" (list $scalar-entry)) '
        '(field "source-node" (option string)) (field "arrival-port" (option string)) '
        '(field "hop-count" u32) (field "workflow-id" string) '
        '(field "execution-metadata" (list $scalar-entry)))',
    ),
    (
        "condition-surface",
        '(enum "payload" "tag" "provenance" "execution-context" "combinator" "constant")',
    ),
    (
        "condition-trace",
        '(record (field "rule-id" string) (field "surface" $condition-surface) '
        '(field "matched" bool))',
    ),
    (
        "rule-decision",
        '(record (field "action" $rule-action) (field "matched-rule" (option string)) '
        '(field "tags-applied" (list $scalar-entry)) '
        '(field "conditions-evaluated" (list $condition-trace)))',
    ),
    (
        "rule-error",
        '(variant (case "malformed-rule-set" string) (case "evaluation-failure" string))',
    ),
]

FUNC = (
    '(param "rule-set" $rule-set) (param "context" $eval-context) '
    "(result (result $rule-decision (error $rule-error)))"
)
_REF = re.compile(r"\$([a-z][a-z-]*)")


def _named(text: str, suffix: str) -> str:
    return _REF.sub(lambda match: f"${match.group(1)}-{suffix}", text)


def component_text(core_module: str) -> str:
    """The rules-world component around ``core_module`` (a ``(core module $m ...)``)."""
    inner = []
    outer = []
    for name, definition in TYPES:
        inner.append(f"    (type ${name}-def {_named(definition, 'i')})")
        inner.append(f'    (import "import-type-{name}" (type ${name}-i (eq ${name}-def)))')
        outer.append(f"  (type ${name} {_named(definition, 'x')})")
        outer.append(f'  (export ${name}-x "{name}" (type ${name}))')
    inner.append(f'    (import "import-func-evaluate" (func $f {_named(FUNC, "i")}))')
    inner += [f'    (export ${name}-e "{name}" (type ${name}-i))' for name, _ in TYPES]
    inner.append(f'    (export "evaluate" (func $f) (func {_named(FUNC, "e")}))')
    withs = " ".join(f'(with "import-type-{name}" (type ${name}-x))' for name, _ in TYPES)
    lines = [
        "(component",
        core_module,
        "  (core instance $i (instantiate $m))",
        "  (component $inner",
        *inner,
        "  )",
        *outer,
        f'  (func $evaluate {_named(FUNC, "x")} (canon lift (core func $i "evaluate") '
        '(memory (core memory $i "mem")) (realloc (core func $i "realloc"))))',
        f'  (instance $api (instantiate $inner (with "import-func-evaluate" (func $evaluate)) '
        f"{withs}))",
        '  (export "pureflow:rules/rules@0.1.0" (instance $api))',
        ")",
    ]
    return "\n".join(lines)


def guest_wat(name: str) -> str:
    """The full component text of the rules guest ``<name>.wat``."""
    text = (GUESTS_DIR / f"{name}.wat").read_text()
    realloc = (GUESTS_DIR / "realloc.wat").read_text()
    return component_text(text.replace(";; @include realloc", realloc))


def guest_wasm(name: str) -> bytes:
    """The compiled component binary of the rules guest ``<name>.wat``."""
    return bytes(wasmtime.wat2wasm(guest_wat(name)))
