"""Rule sets attached to nodes: where ``rule_set_ref`` URIs come from, and loading them.

A node names its rule set inline (``rule_set``, a RuleSet JSON value) or by reference
(``rule_set_ref``, a URI or path). :class:`SourceRegistry` resolves references by URI
scheme, synchronously:

* the scheme is the text before the first ``://``, but only when that text is a valid URI
  scheme (a letter, then letters, digits, ``+``, ``-``, ``.``); ``dir/a://b`` and
  ``://x`` have none, and are paths. Schemes match case-insensitively;
* ``file`` is registered by default (a :class:`LocalFsSource` at the registry's base
  directory), so ``file:///abs/rules.json`` works out of the box. This fixes the
  original, whose docs promised it but whose registry registered nothing;
* a reference without a scheme is a path read by a :class:`LocalFsSource` at the base
  directory (``.`` when none is given);
* :meth:`SourceRegistry.register` appends; the first registration of a scheme wins.

:func:`load_workflow_with_rules` validates the workflow first (every graph problem comes
before any rule-set problem), then resolves each node's rule set in declaration order.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from pureflow.format.decoding import TextDecodeError, document_text
from pureflow.format.diagnostics import (
    RULE_SET_CONFLICT,
    RULE_SET_PARSE,
    RULE_SET_RESOLVE,
    Diagnostic,
    FormatError,
    WorkflowDocumentError,
    pointer,
)
from pureflow.format.documents import RawWorkflowDocument
from pureflow.format.formats import STDIN_PATH, DocumentFormat
from pureflow.format.json_decoder import decode_json
from pureflow.format.loading import load_raw, os_error_text
from pureflow.types import NodeId
from pureflow.workflow import WorkflowDefinition
from pureflow.workflow.rules import RuleSet, RuleSetParseError, parse_rule_set, rule_set_to_json

_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_FILE_PREFIX: Final = "file://"


class RuleSourceError(FormatError):
    """A ``rule_set_ref`` could not be resolved; ``str(err)`` is the original's message."""


class UnknownScheme(RuleSourceError):
    def __init__(self, scheme: str) -> None:
        self.scheme = scheme
        super().__init__(f"no source registered for URI scheme `{scheme}`")


class RuleFileNotFound(RuleSourceError):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"rule set file not found: `{path}`")


class RuleFileReadError(RuleSourceError):
    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"failed to read rule set file `{path}`: {reason}")


class RuleSourceParseError(RuleSourceError):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"failed to parse rule set: {reason}")


class RuleSetSource(Protocol):
    """Something that loads a rule set for a URI, or raises :class:`RuleSourceError`."""

    def load(self, uri: str) -> RuleSet: ...


def uri_scheme(uri: str) -> str | None:
    """The URI scheme of ``uri``, or None when it is a plain path."""
    head, separator, _ = uri.partition("://")
    if separator and _SCHEME.fullmatch(head):
        return head
    return None


def parse_rule_set_text(text: str) -> RuleSet:
    """Parse rule-set JSON text strictly (duplicate keys rejected); raises ValueError."""
    decoded = decode_json(document_text(text))
    if decoded.problems:
        first = decoded.problems[0]
        position = f" {first.position_text}" if first.position_text else ""
        raise ValueError(f"{first.message}{position}")
    return parse_rule_set(decoded.value)


class LocalFsSource:
    """Reads rule-set JSON files; relative paths resolve against ``base_dir``.

    A leading ``file://`` (any case) is stripped. Files are JSON whatever their extension.
    """

    def __init__(self, base_dir: str | os.PathLike[str] = ".") -> None:
        self.base_dir = Path(base_dir)

    def load(self, uri: str) -> RuleSet:
        prefixed = uri[: len(_FILE_PREFIX)].lower() == _FILE_PREFIX
        location = uri[len(_FILE_PREFIX) :] if prefixed else uri
        path = Path(location)
        if not path.is_absolute():
            path = self.base_dir / path
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise RuleFileNotFound(str(path)) from None
        except OSError as err:
            raise RuleFileReadError(str(path), os_error_text(err)) from None
        except ValueError as err:  # e.g. a NUL byte in the path
            raise RuleFileReadError(str(path), str(err)) from None
        try:
            text = document_text(data)
        except TextDecodeError:
            raise RuleFileReadError(str(path), "stream did not contain valid UTF-8") from None
        try:
            return parse_rule_set_text(text)
        except (ValueError, RuleSetParseError) as err:
            raise RuleSourceParseError(f"{path}: {err}") from None


class EmbeddedSource:
    """Always returns the rule set it holds, whatever the URI."""

    def __init__(self, rule_set: RuleSet) -> None:
        self.rule_set = rule_set

    @classmethod
    def from_json(cls, value: object) -> EmbeddedSource:
        """Parse a RuleSet JSON value; raises :class:`RuleSourceParseError`."""
        try:
            return cls(parse_rule_set(value))
        except RuleSetParseError as err:
            raise RuleSourceParseError(str(err)) from None

    def load(self, uri: str) -> RuleSet:  # noqa: ARG002  (any URI gives the held rule set)
        return self.rule_set


class SourceRegistry:
    """Resolves rule-set URIs by scheme (see the module docstring for the rules)."""

    def __init__(self, base_dir: str | os.PathLike[str] | None = None) -> None:
        self.base_dir = Path(base_dir) if base_dir is not None else Path(".")
        self._sources: list[tuple[str, RuleSetSource]] = []
        self.register("file", LocalFsSource(self.base_dir))

    @classmethod
    def with_base_dir(cls, base_dir: str | os.PathLike[str]) -> SourceRegistry:
        return cls(base_dir)

    def register(self, scheme: str, source: RuleSetSource) -> None:
        """Add a source for ``scheme``; a scheme registered earlier keeps its first source."""
        self._sources.append((scheme.lower(), source))

    def source_for(self, scheme: str) -> RuleSetSource | None:
        wanted = scheme.lower()
        return next((source for name, source in self._sources if name == wanted), None)

    def load(self, uri: str) -> RuleSet:
        """Load the rule set ``uri`` names; raises :class:`RuleSourceError`."""
        scheme = uri_scheme(uri)
        if scheme is None:
            return LocalFsSource(self.base_dir).load(uri)
        source = self.source_for(scheme)
        if source is None:
            raise UnknownScheme(scheme)
        return source.load(uri)


@dataclass(frozen=True, slots=True)
class LoadedWorkflow:
    """A validated workflow and the rule set of each rule node (sorted by node id)."""

    workflow: WorkflowDefinition
    rule_sets: Mapping[NodeId, RuleSet]


def load_workflow_with_rules(
    source: str | os.PathLike[str] | RawWorkflowDocument,
    registry: SourceRegistry | None = None,
    *,
    format: DocumentFormat | None = None,
) -> LoadedWorkflow:
    """Validate a workflow and resolve its nodes' rule sets, as ``explain`` does.

    ``source`` is a path (``-`` for stdin) or an already decoded document. Without a
    registry, references resolve against the workflow file's folder (``.`` for a raw
    document or stdin). Raises :class:`WorkflowDocumentError`: graph problems first (as
    :meth:`RawWorkflowDocument.to_workflow`), then every rule-set problem, each
    ``node {i} rule set is invalid: ...`` with code ``rule_set.conflict``,
    ``rule_set.parse`` or ``rule_set.resolve``.
    """
    path: str | None = None
    if isinstance(source, RawWorkflowDocument):
        raw = source
    else:
        path = os.fspath(source)
        raw = load_raw(path, format=format)
    try:
        workflow = raw.to_workflow()
    except WorkflowDocumentError as err:
        err.source = path
        raise
    if registry is None:
        base = Path(path).parent if path is not None and path != STDIN_PATH else Path(".")
        registry = SourceRegistry(base)
    found: dict[NodeId, RuleSet] = {}
    problems: list[Diagnostic] = []
    for index, node in enumerate(raw.nodes):
        outcome = _resolve(index, node.rule_set, node.rule_set_ref, registry)
        if isinstance(outcome, RuleSet):
            found[NodeId(node.id)] = outcome
        elif outcome is not None:
            problems.append(_rule_diagnostic(raw, index, outcome))
    if problems:
        format_ = raw.source_format or DocumentFormat.JSON
        raise WorkflowDocumentError(format_, "format", problems, source=path)
    return LoadedWorkflow(workflow, {key: found[key] for key in sorted(found)})


def resolve_rule_sets(
    raw: RawWorkflowDocument, registry: SourceRegistry | None = None
) -> RawWorkflowDocument:
    """A copy of ``raw`` in which every node's rule set is inline (spec-1 §3.5).

    Each rule set (inline or referenced) is parsed and written back in its canonical JSON
    shape, and ``rule_set_ref`` is cleared. The graph is not validated; the version, id
    and edges are copied unchanged. Raises :class:`WorkflowDocumentError` listing every
    rule-set problem.
    """
    registry = registry if registry is not None else SourceRegistry()
    nodes = []
    problems: list[Diagnostic] = []
    for index, node in enumerate(raw.nodes):
        outcome = _resolve(index, node.rule_set, node.rule_set_ref, registry)
        if isinstance(outcome, RuleSet):
            inline = rule_set_to_json(outcome)
            nodes.append(node.model_copy(update={"rule_set": inline, "rule_set_ref": None}))
            continue
        if outcome is not None:
            problems.append(_rule_diagnostic(raw, index, outcome))
        nodes.append(node)
    if problems:
        raise WorkflowDocumentError(raw.source_format or DocumentFormat.JSON, "format", problems)
    resolved = raw.model_copy(update={"nodes": nodes})
    return resolved.with_source(raw.source_format, raw.locator)


def _rule_diagnostic(
    raw: RawWorkflowDocument, index: int, outcome: tuple[str, str, tuple[str | int, ...]]
) -> Diagnostic:
    code, detail, parts = outcome
    message = f"node {index} rule set is invalid: {detail}"
    locator = raw.locator
    position = locator.position(parts) if locator is not None else None
    line, column = position if position is not None else (None, None)
    return Diagnostic(code, message, pointer(parts), line, column)


def _resolve(
    index: int, inline: object, reference: str | None, registry: SourceRegistry
) -> RuleSet | tuple[str, str, tuple[str | int, ...]] | None:
    if inline is not None and reference is not None:
        return (
            RULE_SET_CONFLICT,
            "node declares both an inline rule_set and a rule_set_ref",
            ("nodes", index, "rule_set_ref"),
        )
    if inline is not None:
        try:
            return parse_rule_set(inline)
        except RuleSetParseError as err:
            parts: tuple[str | int, ...] = ("nodes", index, "rule_set")
            inner = [part for part in err.location.split("/")[1:] if part]
            extra = [int(part) if part.isdigit() else _unescape(part) for part in inner]
            return RULE_SET_PARSE, f"inline rule_set is invalid: {err}", (*parts, *extra)
    if reference is not None:
        try:
            return registry.load(reference)
        except RuleSourceError as err:
            return (
                RULE_SET_RESOLVE,
                f"failed to resolve rule_set_ref: {err}",
                ("nodes", index, "rule_set_ref"),
            )
    return None


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")
