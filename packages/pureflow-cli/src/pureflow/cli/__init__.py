"""The ``pureflow`` command-line interface.

Commands live one per module in :mod:`pureflow.cli.commands`; each imports only what it
needs when it runs, so ``pureflow validate`` starts fast. Every command prints its whole
output at once; failures print ``error: <message>`` on stderr and exit 1, usage errors exit 2.

The console script is :func:`pureflow.cli.entry.main`, which takes over SIGINT and SIGTERM
before it imports anything else. ``cli`` (the click group) is imported from
:mod:`pureflow.cli.main` on first use, so importing this package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pureflow.cli.main import cli

__all__ = ["cli"]


def __getattr__(name: str) -> Any:
    if name == "cli":
        import importlib

        return importlib.import_module("pureflow.cli.main").cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
