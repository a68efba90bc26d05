"""Streaming text files off the event loop: a chunked reader and an atomic buffered writer.

Every blocking call (open, read, write, close, rename) runs in a worker thread, a chunk
at a time, so memory stays bounded by the chunk size plus what the edges hold.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Final, TypeVar

import anyio.to_thread
from pureflow.core import ExecutionError

READ_CHUNK_CHARS: Final = 1 << 16
"""About this many characters are read per trip to a worker thread."""
WRITE_BUFFER_CHARS: Final = 1 << 18
"""Text is handed to a worker thread once this many characters are buffered."""

T = TypeVar("T")


def os_error_text(err: OSError) -> str:
    return err.strerror or str(err)


async def open_for_reading(
    what: str, path: Path, encoding: str, *, newline: str | None = None
) -> IO[str]:
    """Open ``path`` for text reading in a worker thread; ``ExecutionError`` if it cannot."""
    try:
        return await anyio.to_thread.run_sync(
            lambda: open(path, encoding=encoding, newline=newline)
        )
    except OSError as err:
        raise ExecutionError(f"{what}: cannot open `{path}`: {os_error_text(err)}") from err


async def in_thread(what: str, path: Path, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a worker thread, an ``OSError`` becoming ``ExecutionError``."""
    try:
        return await anyio.to_thread.run_sync(function, *args)
    except OSError as err:
        raise ExecutionError(f"{what}: `{path}`: {os_error_text(err)}") from err


class TextSink:
    """A text file written from a node: buffered, flushed in worker threads.

    Replace mode (default) writes a temporary file next to ``path`` and renames it over
    ``path`` in :meth:`commit`, so readers never see a half-written file and a failed or
    cancelled run leaves the old file untouched (:meth:`abort` removes the temporary).
    Append mode appends to ``path`` directly and flushes on :meth:`commit`. Missing parent
    folders are created.
    """

    def __init__(
        self, what: str, path: Path, *, encoding: str, append: bool = False, newline: str = ""
    ) -> None:
        self.what = what
        self.path = path
        self.encoding = encoding
        self.append = append
        self.newline = newline
        self._file: IO[str] | None = None
        self._temp: Path | None = None
        self._buffer: list[str] = []
        self._buffered = 0

    def _open(self) -> IO[str]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.append:
            return open(self.path, "a", encoding=self.encoding, newline=self.newline)
        fd, temp = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        self._temp = Path(temp)
        try:
            return os.fdopen(fd, "w", encoding=self.encoding, newline=self.newline)
        except BaseException:
            os.close(fd)
            raise

    async def open(self) -> None:
        self._file = await in_thread(self.what, self.path, self._open)

    async def write(self, text: str) -> None:
        """Buffer ``text``; hand the buffer to a worker thread once it is large."""
        self._buffer.append(text)
        self._buffered += len(text)
        if self._buffered >= WRITE_BUFFER_CHARS:
            await self.flush()

    async def flush(self) -> None:
        if not self._buffer:
            return
        assert self._file is not None, "TextSink.open() first"
        text = "".join(self._buffer)
        self._buffer.clear()
        self._buffered = 0
        await in_thread(self.what, self.path, self._file.write, text)

    def _finish(self) -> None:
        assert self._file is not None
        self._file.close()
        if self._temp is not None:
            if not self.append:
                # mkstemp creates 0600 files: give the result the usual permissions.
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(self._temp, 0o666 & ~umask)
            os.replace(self._temp, self.path)
            self._temp = None

    async def commit(self) -> None:
        """Write what is buffered, close, and put the file in place."""
        await self.flush()
        await in_thread(self.what, self.path, self._finish)
        self._file = None

    def abort(self) -> None:
        """Close and remove the temporary file (synchronous: safe while cancelled)."""
        self._buffer.clear()
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        if self._temp is not None:
            with contextlib.suppress(OSError):
                self._temp.unlink()
            self._temp = None
