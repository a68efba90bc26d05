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
* ``embedded`` is registered by default too: ``embedded://<name>`` names a rule set handed
  to :meth:`SourceRegistry.embed` (a library caller's way to give a document rule sets
  built in code). The original documented both schemes but registered neither;
* :meth:`SourceRegistry.register` appends; the first registration of a scheme wins.

Loading a workflow (:func:`~pureflow.format.load_workflow`) resolves every node's rule
set through a registry whose base directory is the workflow file's folder; problems are
diagnostics with the codes ``rule_set.conflict``, ``rule_set.parse`` and
``rule_set.resolve``, listed after every graph problem.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from pureflow.format.decoding import TextDecodeError, document_text
from pureflow.format.diagnostics import (
    RULE_SET_CONFLICT,
    RULE_SET_PARSE,
    RULE_SET_RESOLVE,
    Diagnostic,
    FormatError,
    WorkflowDocumentError,
    os_error_text,
    pointer,
)
from pureflow.format.documents import RawWorkflowDocument
from pureflow.format.formats import DocumentFormat
from pureflow.format.json_decoder import decode_json
from pureflow.types import DOCUMENT_LIMIT, InputFileRefused, read_input_file

# pureflow.rules is imported where a rule set is parsed: a document without rule nodes
# never loads it (start-up of `pureflow validate`, benchmarks/README.md).
if TYPE_CHECKING:
    from pureflow.rules import RuleSet

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


class UnknownEmbeddedRuleSet(RuleSourceError):
    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        self.name = name
        listing = ", ".join(f"`{k}`" for k in known) if known else "none"
        super().__init__(f"no embedded rule set named `{name}` (embedded: {listing})")


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
    from pureflow.rules import parse_rule_set  # noqa: PLC0415

    decoded = decode_json(document_text(text))
    if decoded.problems:
        first = decoded.problems[0]
        position = f" {first.position_text}" if first.position_text else ""
        raise ValueError(f"{first.message}{position}")
    return parse_rule_set(decoded.value)


class LocalFsSource:
    """Reads rule-set JSON files; relative paths resolve against ``base_dir``.

    A leading ``file://`` (any case) is stripped. Files are JSON whatever their extension,
    read only when they are regular files within the document size limit
    (:data:`pureflow.types.DOCUMENT_LIMIT`).
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
            data = read_input_file(path, DOCUMENT_LIMIT)
        except FileNotFoundError:
            raise RuleFileNotFound(str(path)) from None
        except InputFileRefused as refused:
            raise RuleFileReadError(str(path), refused.reason) from None
        except OSError as err:
            raise RuleFileReadError(str(path), os_error_text(err)) from None
        except ValueError as err:  # e.g. a NUL byte in the path
            raise RuleFileReadError(str(path), str(err)) from None
        try:
            text = document_text(data)
        except TextDecodeError:
            raise RuleFileReadError(str(path), "stream did not contain valid UTF-8") from None
        from pureflow.rules import RuleSetParseError  # noqa: PLC0415

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
        from pureflow.rules import RuleSetParseError, parse_rule_set  # noqa: PLC0415

        try:
            return cls(parse_rule_set(value))
        except RuleSetParseError as err:
            raise RuleSourceParseError(str(err)) from None

    def load(self, uri: str) -> RuleSet:  # noqa: ARG002  (any URI gives the held rule set)
        return self.rule_set


class EmbeddedRuleSets:
    """Rule sets by name, for ``embedded://<name>`` (the text after ``://``)."""

    def __init__(self) -> None:
        self.rule_sets: dict[str, RuleSet] = {}

    def load(self, uri: str) -> RuleSet:
        name = uri.partition("://")[2]
        found = self.rule_sets.get(name)
        if found is None:
            raise UnknownEmbeddedRuleSet(name, tuple(sorted(self.rule_sets)))
        return found


class SourceRegistry:
    """Resolves rule-set URIs by scheme (see the module docstring for the rules)."""

    def __init__(self, base_dir: str | os.PathLike[str] | None = None) -> None:
        self.base_dir = Path(base_dir) if base_dir is not None else Path(".")
        self._sources: list[tuple[str, RuleSetSource]] = []
        self.embedded = EmbeddedRuleSets()
        self.register("file", LocalFsSource(self.base_dir))
        self.register("embedded", self.embedded)

    def embed(self, name: str, rule_set: RuleSet) -> SourceRegistry:
        """Make ``rule_set`` available as ``embedded://<name>``; returns the registry."""
        self.embedded.rule_sets[name] = rule_set
        return self

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
        outcome = resolve_node_rule_set(index, node.rule_set, node.rule_set_ref, registry)
        if outcome is None or isinstance(outcome, tuple):  # none, or a RuleSetProblem
            if outcome is not None:
                problems.append(rule_set_diagnostic(raw, index, outcome))
            nodes.append(node)
            continue
        from pureflow.rules import rule_set_to_json  # noqa: PLC0415

        inline = rule_set_to_json(outcome)
        nodes.append(node.model_copy(update={"rule_set": inline, "rule_set_ref": None}))
    if problems:
        raise WorkflowDocumentError(raw.source_format or DocumentFormat.JSON, "format", problems)
    resolved = raw.model_copy(update={"nodes": nodes})
    return resolved.with_source(raw.source_format, raw.locator)


RuleSetProblem = tuple[str, str, tuple[str | int, ...]]
"""A node's rule-set problem: its code, its detail and where it is in the document."""


def rule_set_diagnostic(
    raw: RawWorkflowDocument, index: int, outcome: RuleSetProblem
) -> Diagnostic:
    """The diagnostic ``node {index} rule set is invalid: {detail}`` for ``outcome``."""
    code, detail, parts = outcome
    message = f"node {index} rule set is invalid: {detail}"
    locator = raw.locator
    position = locator.position(parts) if locator is not None else None
    line, column = position if position is not None else (None, None)
    return Diagnostic(code, message, pointer(parts), line, column)


def resolve_node_rule_set(
    index: int, inline: object, reference: str | None, registry: SourceRegistry
) -> RuleSet | RuleSetProblem | None:
    """Node ``index``'s rule set (inline, or loaded through ``registry``), its problem, or
    None when the node has none."""
    if inline is not None and reference is not None:
        return (
            RULE_SET_CONFLICT,
            "node declares both an inline rule_set and a rule_set_ref",
            ("nodes", index, "rule_set_ref"),
        )
    if inline is not None:
        from pureflow.rules import RuleSetParseError, parse_rule_set  # noqa: PLC0415

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
