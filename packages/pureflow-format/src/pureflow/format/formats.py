"""The three document formats (JSON, YAML, TOML) and how a file path picks one.

Choosing by path is case-insensitive (``flow.JSON`` is JSON) and fixes the original,
which matched extensions case-sensitively. A path with no extension, and ``-`` (standard
input), are JSON.
"""

from __future__ import annotations

import enum
import os
from pathlib import PurePath

from pureflow.format.diagnostics import UnsupportedExtension

STDIN_PATH = "-"
"""The path that means standard input."""


class DocumentFormat(enum.Enum):
    """A document format; ``label`` is the upper-case name used in messages."""

    JSON = "json"
    YAML = "yaml"
    TOML = "toml"

    @property
    def label(self) -> str:
        return self.name


_BY_SUFFIX = {
    "": DocumentFormat.JSON,
    ".json": DocumentFormat.JSON,
    ".yaml": DocumentFormat.YAML,
    ".yml": DocumentFormat.YAML,
    ".toml": DocumentFormat.TOML,
}


def format_for_path(path: str | os.PathLike[str]) -> DocumentFormat:
    """The format a workflow file is read as, by its extension (case-insensitive).

    ``.json`` or none: JSON; ``.yaml``/``.yml``: YAML; ``.toml``: TOML; ``-``: JSON.
    Any other extension raises :class:`UnsupportedExtension`.
    """
    text = os.fspath(path)
    if text == STDIN_PATH:
        return DocumentFormat.JSON
    suffix = PurePath(text).suffix
    found = _BY_SUFFIX.get(suffix.lower())
    if found is None:
        raise UnsupportedExtension(suffix)
    return found
