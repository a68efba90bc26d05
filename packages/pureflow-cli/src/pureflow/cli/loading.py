"""Loading workflow documents for commands, with errors turned into :class:`CliError`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pureflow.cli.errors import CliError

if TYPE_CHECKING:
    from pureflow.format import LoadedWorkflow
    from pureflow.workflow import WorkflowDefinition


@contextmanager
def document_errors(path: str, *, bare_format_errors: bool = False) -> Iterator[None]:
    """Turn format-layer errors raised inside the block into :class:`CliError`.

    The first line keeps the original's wording; when a document has several problems,
    each one follows on its own line with its location. ``bare_format_errors`` drops the
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
        raise CliError(message, details if len(err.diagnostics) > 1 else []) from None
    except FormatError as err:
        raise CliError(str(err)) from None


def load(path: str) -> WorkflowDefinition:
    """Parse and validate a workflow file (``-`` reads JSON from stdin)."""
    from pureflow.format import load_workflow

    with document_errors(path):
        return load_workflow(path)


def load_with_rules(path: str) -> LoadedWorkflow:
    """Parse, validate and resolve the rule sets of a workflow file, as ``explain`` does."""
    from pureflow.format import load_workflow_with_rules

    with document_errors(path, bare_format_errors=True):
        return load_workflow_with_rules(path)
