"""JSON Schemas generated from the models the parsers use.

:func:`workflow_json_schema` and :func:`wasm_manifest_json_schema` call pydantic's
``model_json_schema`` on :class:`~pureflow.format.documents.RawWorkflowDocument` and
:class:`~pureflow.format.manifest.RawWasmManifest`, then shape the result like the
original's hand-written schemas (spec-1 §6): draft 2020-12, the same ``$id``, titles and
descriptions, every sub-schema inlined, no pydantic titles or defaults.

Fixed on purpose, compared with the original: nodes have ``rule_set``, ``rule_set_ref``,
``component`` and ``config``; the document has ``cycles``; ``null`` is allowed wherever
the parser reads it as "absent"; identifiers exclude exactly Unicode ``White_Space`` and
the ``Cc`` controls. Not expressible in JSON Schema (the parser is authoritative): the
256-*byte* identifier cap (``maxLength`` counts code points), and the graph checks
(unknown or duplicate nodes and ports, cycles).
"""

from __future__ import annotations

import copy
from typing import Any, Final

from pureflow.format.documents import CURRENT_PUREFLOW_VERSION, RawWorkflowDocument
from pydantic import BaseModel

SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
WORKFLOW_SCHEMA_ID: Final = (
    f"https://pureflow.dev/schemas/workflow-v{CURRENT_PUREFLOW_VERSION}.schema.json"
)
WASM_MANIFEST_SCHEMA_ID: Final = "https://pureflow.dev/schemas/wasm-component-manifest.schema.json"

_WORKFLOW_DESCRIPTION: Final = (
    "A Pureflow workflow document (version 1, with the optional extensions component, "
    "config, replicas, partition and cycles). Identifiers are limited to 256 UTF-8 bytes; "
    "JSON Schema cannot count bytes, so maxLength 256 (code points) only approximates that "
    "cap. Graph rules (unknown or duplicate nodes and ports, cycles) are checked by the "
    "parser only."
)
_MANIFEST_DESCRIPTION: Final = (
    "Binds workflow nodes to WebAssembly components, with optional resource limits."
)


def _clean(node: Any, defs: dict[str, Any]) -> Any:
    """Inline ``$ref`` targets and drop pydantic's titles and defaults, recursively."""
    if isinstance(node, list):
        return [_clean(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = copy.deepcopy(defs[ref.removeprefix("#/$defs/")])
        target.pop("description", None)  # a model's docstring is not a field description
        out.update(_clean(target, defs))
    for key, value in node.items():
        if key in ("$ref", "title", "default"):
            continue
        if key == "properties":
            out[key] = {name: _clean(sub, defs) for name, sub in value.items()}
        else:
            out[key] = _clean(value, defs)
    return out


def _generate(
    model: type[BaseModel], schema_id: str, title: str, description: str
) -> dict[str, Any]:
    generated = model.model_json_schema(mode="validation")
    defs = generated.pop("$defs", {})
    body = _clean(generated, defs)
    body.pop("description", None)
    head: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "$id": schema_id,
        "title": title,
        "description": description,
    }
    head.update(body)
    return head


def workflow_json_schema() -> dict[str, Any]:
    """The JSON Schema of workflow documents (a fresh dict on every call)."""
    return _generate(
        RawWorkflowDocument, WORKFLOW_SCHEMA_ID, "Pureflow workflow document", _WORKFLOW_DESCRIPTION
    )


def wasm_manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema of WASM component manifests (a fresh dict on every call)."""
    from pureflow.format.manifest import RawWasmManifest  # noqa: PLC0415

    return _generate(
        RawWasmManifest,
        WASM_MANIFEST_SCHEMA_ID,
        "Pureflow WASM component manifest",
        _MANIFEST_DESCRIPTION,
    )
