"""Loading workflow documents for commands, with errors turned into :class:`CliError`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pureflow.cli.errors import CliError

if TYPE_CHECKING:
    from pureflow.format import RawWorkflowDocument
    from pureflow.workflow import WorkflowDefinition


@contextmanager
def document_errors(path: str, *, bare_format_errors: bool = False) -> Iterator[None]:
    """Turn format-layer errors raised inside the block into :class:`CliError`.

    The first line keeps the original's wording; when a document has several problems (or
    its one problem is inside a rule set), each one follows on its own line with its
    location. ``bare_format_errors`` drops the
    ``workflow JSON is invalid:`` prefix, as the original's ``explain`` does.
    """
    from pureflow.format import FormatError, WorkflowDocumentError

    try:
        yield
    except WorkflowDocumentError as err:
        message = str(err)
        if bare_format_errors and err.stage != "decode":
            message = err.diagnostics[0].message
        details = err.render(path).splitlines()[1:]
        # A lone problem is listed too when it sits inside a rule set, whose message names
        # the rule but not where the rule is in a long document.
        listed = len(err.diagnostics) > 1 or err.diagnostics[0].code.startswith("rule_set.")
        raise CliError(message, details if listed else []) from None
    except FormatError as err:
        raise CliError(str(err)) from None


def load(path: str, *, bare_format_errors: bool = False) -> WorkflowDefinition:
    """Parse and validate a workflow file (``-`` reads JSON from stdin), rule sets included
    (a ``rule_set_ref`` resolves against the file's folder)."""
    return load_document(path, bare_format_errors=bare_format_errors)[1]


def load_document(
    path: str, *, bare_format_errors: bool = False
) -> tuple[RawWorkflowDocument, WorkflowDefinition]:
    """:func:`load`, also giving the decoded document (for locations in warnings)."""
    from pureflow.format import WorkflowDocumentError, load_raw, rule_sources_for

    with document_errors(path, bare_format_errors=bare_format_errors):
        raw = load_raw(path)
        try:
            return raw, raw.to_workflow(rule_sources_for(path))
        except WorkflowDocumentError as err:
            err.source = path
            raise
