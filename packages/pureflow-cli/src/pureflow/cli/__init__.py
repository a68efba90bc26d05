"""The ``pureflow`` command-line interface.

Commands live one per module in :mod:`pureflow.cli.commands`; each imports only what it
needs when it runs, so ``pureflow validate`` starts fast. Every command prints its whole
output at once; failures print ``error: <message>`` on stderr and exit 1, usage errors exit 2.
"""

from pureflow.cli.main import cli, main

__all__ = ["cli", "main"]
