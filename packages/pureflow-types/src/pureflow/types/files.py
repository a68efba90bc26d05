"""Reading a file someone named: a regular file (or standard input), never past a limit.

Every file Pureflow reads because a command line or a document names it (a workflow
document, a ``rule_set_ref`` rule set, a WebAssembly component manifest or component, the
source of a ``python:`` module read without importing it) is read by
:func:`read_input_file` or, for ``-``, :func:`read_input_stream`:

* the file is opened without blocking (``O_NONBLOCK``), so a FIFO with no writer cannot
  stall the open, and its kind is taken from ``fstat`` of what was opened (a symlink is
  judged by its target): anything but a regular file (a FIFO, a device such as
  ``/dev/zero``, a socket) is refused before a byte is read; a folder fails as the OS
  says (``Is a directory``);
* at most ``limit + 1`` bytes are ever read, so a file larger than its limit (or one that
  grows while it is read) is refused without reading it all;
* standard input may be a pipe or a terminal (that is its job), but it is read under the
  same limit.

The limits are per kind of file (:data:`DOCUMENT_LIMIT`, :data:`COMPONENT_LIMIT`), each
changed by an environment variable (a whole number of bytes, or with a ``K``, ``M`` or
``G`` suffix for KiB, MiB and GiB). A refusal is an :class:`InputFileRefused` whose
``reason`` is one line naming the limit; OS errors (a missing file, no permission)
propagate as the :class:`OSError` they are, so each caller keeps its own wording.

This module sits in the lowest layer so that every layer reading such files (the format
layer's documents and rule sets, the WebAssembly package's components, the engine's
static reading of ``python:`` modules) shares this one routine.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO, Final

_KIB: Final = 1024
_MIB: Final = 1024 * _KIB
_GIB: Final = 1024 * _MIB
_SUFFIXES: Final = {"": 1, "K": _KIB, "M": _MIB, "G": _GIB}
_CHUNK: Final = 1 * _MIB
_OPEN_FLAGS: Final = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO with no writer must not block the open
    | getattr(os, "O_NOCTTY", 0)  # a terminal device must not become our terminal
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def size_text(size: int) -> str:
    """``16 MiB``, ``512 KiB`` or ``1000 bytes``: a byte count as people write it."""
    for unit, factor in (("GiB", _GIB), ("MiB", _MIB), ("KiB", _KIB)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} byte{'s' if size != 1 else ''}"


@dataclass(frozen=True, slots=True)
class ReadLimit:
    """The largest file of one kind that is read: ``default`` bytes unless the
    environment variable ``variable`` says otherwise. ``what`` names the kind in messages
    (``"document"``: "the document size limit")."""

    what: str
    variable: str
    default: int

    def value(self, environ: Mapping[str, str] | None = None) -> int:
        """The limit in bytes. Raises ``ValueError`` (one line naming the variable) when
        the variable is set to something other than a whole number >= 1 with an optional
        ``K``, ``M`` or ``G`` suffix."""
        text = (os.environ if environ is None else environ).get(self.variable)
        if text is None or not text.strip():
            return self.default
        cleaned = text.strip().upper().removesuffix("IB").removesuffix("B")
        number, suffix = cleaned, ""
        if cleaned[-1:] in _SUFFIXES:
            number, suffix = cleaned[:-1], cleaned[-1]
        if not number.strip().isdigit() or int(number) < 1:
            raise ValueError(
                f"{self.variable} must be a whole number of bytes >= 1, optionally with a K, "
                f"M or G suffix; got `{text}`"
            )
        return int(number) * _SUFFIXES[suffix]


DOCUMENT_LIMIT: Final = ReadLimit("document", "PUREFLOW_MAX_DOCUMENT_BYTES", 16 * _MIB)
"""Workflow documents (files and standard input), rule-set files, WebAssembly component
manifests, and Python sources read without importing them: 16 MiB unless
``PUREFLOW_MAX_DOCUMENT_BYTES`` says otherwise."""

COMPONENT_LIMIT: Final = ReadLimit(
    "WebAssembly component", "PUREFLOW_MAX_COMPONENT_BYTES", 256 * _MIB
)
"""WebAssembly component files: 256 MiB unless ``PUREFLOW_MAX_COMPONENT_BYTES`` says
otherwise (a guest built with componentize-py carries a whole Python interpreter, some
40 MiB)."""


class InputFileRefused(Exception):
    """A file that is not read: not a regular file, or larger than its limit (or the
    limit's variable is malformed). ``path`` is the name as given; ``reason`` one line
    that says why (``str(err)`` is the reason)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(reason)


_KINDS: Final = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def _limit_bytes(path: str, limit: ReadLimit) -> int:
    try:
        return limit.value()
    except ValueError as err:
        raise InputFileRefused(path, str(err)) from None


def _too_large(path: str, limit: ReadLimit, size: int) -> InputFileRefused:
    return InputFileRefused(
        path,
        f"larger than the {limit.what} size limit of {size_text(size)} "
        f"(set {limit.variable} to change it)",
    )


def _regular_size(fd: int, path: str, limit: ReadLimit | None, maximum: int) -> int:
    """The size of the open file ``fd``, or why it is not read (no ``limit``: any size)."""
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    if not stat.S_ISREG(info.st_mode):
        raise InputFileRefused(
            path, f"not a regular file but {_kind(info.st_mode)} (only regular files are read)"
        )
    if limit is not None and info.st_size > maximum:
        raise _too_large(path, limit, maximum)
    return info.st_size


def _open_regular(path: str, limit: ReadLimit) -> tuple[int, int, int]:
    """``(fd, st_size, limit in bytes)`` of a regular file within its limit, opened
    without blocking; raises :class:`InputFileRefused` or ``OSError``."""
    maximum = _limit_bytes(path, limit)
    fd = os.open(path, _OPEN_FLAGS)
    try:
        size = _regular_size(fd, path, limit, maximum)
    except BaseException:
        os.close(fd)
        raise
    return fd, size, maximum


def check_input_file(path: str | os.PathLike[str], limit: ReadLimit) -> None:
    """Raise what :func:`read_input_file` would before reading: ``OSError`` when the
    file cannot be opened, :class:`InputFileRefused` when it is not a regular file or its
    size is over the limit. For a reader that must read the file itself."""
    fd, _size, _maximum = _open_regular(os.fspath(path), limit)
    os.close(fd)


def open_input_file(path: str | os.PathLike[str], *, buffered: bool = True) -> BinaryIO:
    """The regular file at ``path``, opened for reading in binary, with no size limit:
    for a file read as a stream in bounded memory (a run's metadata file). It is opened
    without blocking and judged from ``fstat`` like :func:`read_input_file`'s files, then
    read blocking; ``buffered=False`` gives the raw file (for a reader of large blocks,
    which a buffer would only copy). Raises :class:`InputFileRefused` (not a regular
    file) or ``OSError`` (cannot be opened; a folder is ``IsADirectoryError``)."""
    path_text = os.fspath(path)
    fd = os.open(path_text, _OPEN_FLAGS)
    try:
        _regular_size(fd, path_text, None, 0)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=-1 if buffered else 0)
    except BaseException:
        os.close(fd)
        raise


def read_input_file(path: str | os.PathLike[str], limit: ReadLimit) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    Raises :class:`InputFileRefused` (not a regular file; over the limit, checked from its
    size before reading and again while reading, in case it grows) or ``OSError`` (cannot
    be opened or read; a folder is ``IsADirectoryError``).
    """
    path_text = os.fspath(path)
    fd, size, maximum = _open_regular(path_text, limit)
    try:
        chunks: list[bytes] = []
        total = 0
        # The first read asks for the whole file (one byte more, to see its end); files
        # whose size says nothing (/proc) go on in chunks.
        want = min(size + 1, maximum + 1)
        while True:
            chunk = os.read(fd, want)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > maximum:
                raise _too_large(path_text, limit, maximum)
            want = min(_CHUNK, maximum + 1 - total)
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_input_stream(stream: BinaryIO, limit: ReadLimit, label: str = "-") -> bytes:
    """Everything ``stream`` (standard input's binary buffer) holds, at most ``limit``
    bytes; ``label`` names it in a refusal. A pipe or a terminal is read to its end; a
    regular file redirected in is refused from its size when that is over the limit.
    Raises :class:`InputFileRefused` or ``OSError``."""
    maximum = _limit_bytes(label, limit)
    try:
        info = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):  # not a real file (tests, wrappers)
        info = None
    if info is not None and stat.S_ISREG(info.st_mode) and info.st_size > maximum:
        raise _too_large(label, limit, maximum)
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(_CHUNK, maximum + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > maximum:
            raise _too_large(label, limit, maximum)
    return b"".join(chunks)
