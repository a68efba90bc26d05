"""The on-disk compile cache: serialised components, so a second run does not recompile.

Key: SHA-256 over the component's own SHA-256 and the engine fingerprint (wasmtime
version, engine configuration, OS and machine). A file is ``<key>.cwasm`` holding a magic
line, the SHA-256 of the payload and the payload that ``Component.serialize`` produced.

The payload is native code that wasmtime maps and runs without re-validating it, so the
cache only trusts files that pass the checksum: a truncated, corrupt or foreign file is
ignored (and rewritten after the next compile), never deserialised. The directory is
created private to the user (``0o700``); do not point it at a directory others can write.

Location, first match wins: the ``directory`` argument, ``$PUREFLOW_WASM_CACHE_DIR``,
``$XDG_CACHE_HOME/pureflow/wasm``, ``~/.cache/pureflow/wasm``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Final

__all__ = [
    "CACHE_DIR_ENV",
    "CompileCache",
    "default_cache_dir",
]

CACHE_DIR_ENV: Final = "PUREFLOW_WASM_CACHE_DIR"
_MAGIC: Final = b"PUREFLOW-CWASM-1\n"
_DIGEST_LEN: Final = 32
_log = logging.getLogger("pureflow.wasm.cache")


def default_cache_dir() -> Path:
    """Where the cache lives unless told otherwise (see the module docstring)."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "pureflow" / "wasm"


class CompileCache:
    """Serialised components on disk, keyed by component digest and engine fingerprint.

    ``hits``, ``misses`` and ``writes`` count what this object did. Every method is safe
    to call concurrently from several threads or processes: files are written to a
    temporary name and renamed into place.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.hits = 0
        self.misses = 0
        self.writes = 0

    @staticmethod
    def key(component_digest: str, fingerprint: str) -> str:
        """The cache key of a component (hex SHA-256) under an engine fingerprint."""
        return hashlib.sha256(f"{component_digest}\n{fingerprint}".encode()).hexdigest()

    def path_for(self, key: str) -> Path:
        """The file that holds ``key``."""
        return self.directory / f"{key}.cwasm"

    def load(self, key: str) -> bytes | None:
        """The serialised component stored under ``key``, or None (missing or corrupt)."""
        path = self.path_for(key)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            self.misses += 1
            return None
        except OSError as err:
            _log.warning("cannot read compile cache file %s: %s", path, err)
            self.misses += 1
            return None
        header = len(_MAGIC) + _DIGEST_LEN
        if (
            len(blob) < header
            or not blob.startswith(_MAGIC)
            or hashlib.sha256(memoryview(blob)[header:]).digest() != blob[len(_MAGIC) : header]
        ):
            _log.warning("ignoring corrupt compile cache file %s", path)
            self.misses += 1
            return None
        self.hits += 1
        return blob[header:]

    def store(self, key: str, serialized: bytes | bytearray) -> Path | None:
        """Store ``serialized`` under ``key``; returns the path, or None if writing failed.

        A cache that cannot be written is a slower run, not a failed one: errors are
        logged, not raised.
        """
        path = self.path_for(key)
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            digest = hashlib.sha256(serialized).digest()
            fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(_MAGIC)
                    handle.write(digest)
                    handle.write(serialized)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as err:
            _log.warning("cannot write compile cache file %s: %s", path, err)
            return None
        self.writes += 1
        return path

    def discard(self, key: str) -> None:
        """Remove the file for ``key`` if present (e.g. wasmtime refused to load it)."""
        try:
            self.path_for(key).unlink(missing_ok=True)
        except OSError as err:  # pragma: no cover - permissions
            _log.warning("cannot remove compile cache file for %s: %s", key, err)

    def clear(self) -> int:
        """Remove every cached component; returns how many files were removed."""
        removed = 0
        if not self.directory.is_dir():
            return 0
        for path in self.directory.glob("*.cwasm"):
            try:
                path.unlink()
                removed += 1
            except OSError:  # pragma: no cover - permissions
                continue
        return removed
