"""The batch WIT shipped with the package, and the names the host looks up.

``wit/pureflow-batch.wit`` is the original's interface, unchanged (spec 4 §1.3):
package ``pureflow:batch@0.1.0``, interface ``batch`` with one function ``invoke``, world
``pureflow-node`` that exports it and imports nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = [
    "WIT_EXPORT",
    "WIT_FUNCTION",
    "WIT_INTERFACE",
    "WIT_PACKAGE",
    "WIT_WORLD",
    "wit_dir",
    "wit_path",
    "wit_text",
]

WIT_PACKAGE: Final = "pureflow:batch@0.1.0"
"""The WIT package (with version)."""
WIT_WORLD: Final = "pureflow-node"
"""The world a node component targets."""
WIT_INTERFACE: Final = "batch"
"""The interface the world exports."""
WIT_EXPORT: Final = "pureflow:batch/batch@0.1.0"
"""The component's instance export the host looks up."""
WIT_FUNCTION: Final = "invoke"
"""The function inside that instance."""

_WIT_FILE: Final = "pureflow-batch.wit"


def wit_dir() -> Path:
    """The directory holding the shipped WIT (what ``componentize-py -d`` takes)."""
    return Path(__file__).resolve().parent / "wit"


def wit_path() -> Path:
    """The shipped ``pureflow-batch.wit`` file."""
    return wit_dir() / _WIT_FILE


def wit_text() -> str:
    """The text of the shipped WIT."""
    return wit_path().read_text(encoding="utf-8")
