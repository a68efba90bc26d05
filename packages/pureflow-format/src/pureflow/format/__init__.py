"""Pureflow workflow documents in JSON, YAML and TOML, with diagnostics and JSON Schema.

Load and validate a workflow (the format comes from the extension, case-insensitively;
``-`` reads JSON from standard input)::

    from pureflow.format import load_workflow, parse_workflow, DocumentFormat

    workflow = load_workflow("flow.yaml")
    workflow = parse_workflow(text, DocumentFormat.JSON)

Every problem in a document is reported, not only the first:
:class:`WorkflowDocumentError` has ``diagnostics`` (code, message, JSON-pointer location,
line, column), ``str(err)`` in the original's one-line wording, and ``render(source)``
for a listing. The document shape is the original v1 shape plus optional extensions:
node ``component`` and ``config``, top-level ``cycles`` (``"reject"`` or ``"allow"``).
A node's ``rule_set`` (inline) or ``rule_set_ref`` (a path relative to the document, or a
``file://`` or ``embedded://`` URI) is parsed, loaded and checked against the graph as
part of loading: the node's :attr:`~pureflow.workflow.NodeDefinition.rule_set`.

Also here: :func:`parse_raw` (decode only), :func:`raw_to_canonical_json`, the JSON
Schemas generated from the parser's models (:func:`workflow_json_schema`,
:func:`wasm_manifest_json_schema`), the WASM component manifest
(:func:`parse_wasm_manifest`) and rule-set sources (:class:`SourceRegistry`,
:func:`resolve_rule_sets`).

Importing this package is cheap: the modules (and pydantic, ruamel.yaml) load on first
use of a name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pureflow.format.canonical import raw_to_canonical_json, raw_to_json_value
    from pureflow.format.conversion import workflow_diagnostics
    from pureflow.format.decoding import parse_raw, plain_value
    from pureflow.format.diagnostics import (
        DIAGNOSTIC_CODES,
        Diagnostic,
        FormatError,
        ManifestError,
        UnsupportedExtension,
        WorkflowDocumentError,
        WorkflowFileError,
    )
    from pureflow.format.documents import (
        CURRENT_PUREFLOW_VERSION,
        RawEdge,
        RawEndpoint,
        RawNode,
        RawWorkflowDocument,
    )
    from pureflow.format.formats import DocumentFormat, format_for_path
    from pureflow.format.loading import (
        load_raw,
        load_workflow,
        parse_workflow,
        read_document_text,
        rule_sources_for,
    )
    from pureflow.format.manifest import WasmManifest, WasmManifestEntry, parse_wasm_manifest
    from pureflow.format.rule_sources import (
        EmbeddedRuleSets,
        EmbeddedSource,
        LocalFsSource,
        RuleFileNotFound,
        RuleFileReadError,
        RuleSetSource,
        RuleSourceError,
        RuleSourceParseError,
        SourceRegistry,
        UnknownEmbeddedRuleSet,
        UnknownScheme,
        resolve_rule_sets,
    )
    from pureflow.format.schema import wasm_manifest_json_schema, workflow_json_schema

_EXPORTS: dict[str, str] = {
    "raw_to_canonical_json": "canonical",
    "raw_to_json_value": "canonical",
    "workflow_diagnostics": "conversion",
    "parse_raw": "decoding",
    "plain_value": "decoding",
    "DIAGNOSTIC_CODES": "diagnostics",
    "Diagnostic": "diagnostics",
    "FormatError": "diagnostics",
    "ManifestError": "diagnostics",
    "UnsupportedExtension": "diagnostics",
    "WorkflowDocumentError": "diagnostics",
    "WorkflowFileError": "diagnostics",
    "CURRENT_PUREFLOW_VERSION": "documents",
    "RawEdge": "documents",
    "RawEndpoint": "documents",
    "RawNode": "documents",
    "RawWorkflowDocument": "documents",
    "DocumentFormat": "formats",
    "format_for_path": "formats",
    "load_raw": "loading",
    "load_workflow": "loading",
    "parse_workflow": "loading",
    "read_document_text": "loading",
    "rule_sources_for": "loading",
    "WasmManifest": "manifest",
    "WasmManifestEntry": "manifest",
    "parse_wasm_manifest": "manifest",
    "EmbeddedRuleSets": "rule_sources",
    "EmbeddedSource": "rule_sources",
    "LocalFsSource": "rule_sources",
    "RuleFileNotFound": "rule_sources",
    "RuleFileReadError": "rule_sources",
    "RuleSetSource": "rule_sources",
    "RuleSourceError": "rule_sources",
    "RuleSourceParseError": "rule_sources",
    "SourceRegistry": "rule_sources",
    "UnknownEmbeddedRuleSet": "rule_sources",
    "UnknownScheme": "rule_sources",
    "resolve_rule_sets": "rule_sources",
    "wasm_manifest_json_schema": "schema",
    "workflow_json_schema": "schema",
}

__all__ = [
    "CURRENT_PUREFLOW_VERSION",
    "DIAGNOSTIC_CODES",
    "Diagnostic",
    "DocumentFormat",
    "EmbeddedRuleSets",
    "EmbeddedSource",
    "FormatError",
    "LocalFsSource",
    "ManifestError",
    "RawEdge",
    "RawEndpoint",
    "RawNode",
    "RawWorkflowDocument",
    "RuleFileNotFound",
    "RuleFileReadError",
    "RuleSetSource",
    "RuleSourceError",
    "RuleSourceParseError",
    "SourceRegistry",
    "UnknownEmbeddedRuleSet",
    "UnknownScheme",
    "UnsupportedExtension",
    "WasmManifest",
    "WasmManifestEntry",
    "WorkflowDocumentError",
    "WorkflowFileError",
    "format_for_path",
    "load_raw",
    "load_workflow",
    "parse_raw",
    "parse_wasm_manifest",
    "parse_workflow",
    "plain_value",
    "raw_to_canonical_json",
    "raw_to_json_value",
    "read_document_text",
    "resolve_rule_sets",
    "rule_sources_for",
    "wasm_manifest_json_schema",
    "workflow_diagnostics",
    "workflow_json_schema",
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
