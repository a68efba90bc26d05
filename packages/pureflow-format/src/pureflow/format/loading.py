"""Reading documents from files and standard input, and the one-call loaders.

``-`` means standard input (read as bytes, JSON unless a format is given). Read
failures raise :class:`~pureflow.format.WorkflowFileError` with the original's wording:
``failed to read `{path}`: {OS error text} (os error N)``, or
``... stream did not contain valid UTF-8``. Only a regular file (or standard input) is
read, and never more than the document size limit
(:data:`pureflow.types.DOCUMENT_LIMIT`, 16 MiB unless ``PUREFLOW_MAX_DOCUMENT_BYTES``
says otherwise): ``failed to read `{path}`: not a regular file but a character device
(only regular files are read)``, ``... larger than the document size limit of 16 MiB
(set PUREFLOW_MAX_DOCUMENT_BYTES to change it)``.
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

from pureflow.format.decoding import TextDecodeError, document_text, parse_raw
from pureflow.format.diagnostics import WorkflowDocumentError, WorkflowFileError, os_error_text
from pureflow.format.documents import RawWorkflowDocument
from pureflow.format.formats import STDIN_PATH, DocumentFormat, format_for_path
from pureflow.format.rule_sources import SourceRegistry
from pureflow.types import DOCUMENT_LIMIT, InputFileRefused, read_input_file, read_input_stream
from pureflow.workflow import WorkflowDefinition


def read_document_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file, or of standard input for ``-``, within the document
    size limit; raises :class:`WorkflowFileError`."""
    path_text = os.fspath(path)
    try:
        if path_text == STDIN_PATH:
            return _stdin_bytes()
        return read_input_file(path_text, DOCUMENT_LIMIT)
    except InputFileRefused as refused:
        raise WorkflowFileError(path_text, refused.reason) from None
    except OSError as err:
        raise WorkflowFileError(path_text, os_error_text(err)) from None
    except ValueError as err:  # a NUL byte in the path
        raise WorkflowFileError(path_text, str(err)) from None


def _stdin_bytes() -> bytes:
    if sys.stdin is None:  # started without a standard input
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))
    return read_input_stream(sys.stdin.buffer, DOCUMENT_LIMIT, "standard input")


def read_document_text(path: str | os.PathLike[str]) -> str:
    """The UTF-8 text of a file (or ``-`` for standard input), a leading BOM dropped.

    Raises :class:`WorkflowFileError` when the file cannot be read or is not UTF-8.
    """
    data = read_document_bytes(path)
    try:
        return document_text(data)
    except TextDecodeError:
        raise WorkflowFileError(os.fspath(path), "stream did not contain valid UTF-8") from None


def parse_workflow(
    text: str | bytes, format: DocumentFormat, *, rule_sources: SourceRegistry | None = None
) -> WorkflowDefinition:
    """Decode and validate a workflow document.

    Raises :class:`WorkflowDocumentError` (stage ``"decode"`` or ``"format"``) listing every
    problem. A ``rule_set_ref`` resolves through ``rule_sources`` (default: paths relative
    to the current directory).
    """
    return parse_raw(text, format).to_workflow(rule_sources)


def load_raw(
    path: str | os.PathLike[str],
    *,
    format: DocumentFormat | None = None,
) -> RawWorkflowDocument:
    """Read and decode a workflow file without validating it (format from the extension)."""
    chosen = format or format_for_path(path)
    text = read_document_text(path)
    try:
        return parse_raw(text, chosen)
    except WorkflowDocumentError as err:
        err.source = os.fspath(path)
        raise


def rule_sources_for(path: str | os.PathLike[str]) -> SourceRegistry:
    """The rule-set registry of a workflow file: references resolve against its folder
    (the current directory for ``-``)."""
    path_text = os.fspath(path)
    return SourceRegistry(Path(".") if path_text == STDIN_PATH else Path(path_text).parent)


def load_workflow(
    path: str | os.PathLike[str],
    *,
    format: DocumentFormat | None = None,
    rule_sources: SourceRegistry | None = None,
) -> WorkflowDefinition:
    """Read, decode and validate a workflow file; ``-`` reads standard input.

    The format comes from the extension (case-insensitive; none means JSON) unless
    ``format`` is given. Every node's rule set is parsed (``rule_set``) or loaded
    (``rule_set_ref``, through ``rule_sources``; default: :func:`rule_sources_for` the
    file) and checked against the graph. Raises
    :class:`~pureflow.format.UnsupportedExtension`, :class:`WorkflowFileError` or
    :class:`WorkflowDocumentError`.
    """
    raw = load_raw(path, format=format)
    try:
        return raw.to_workflow(rule_sources if rule_sources is not None else rule_sources_for(path))
    except WorkflowDocumentError as err:
        err.source = os.fspath(path)
        raise
