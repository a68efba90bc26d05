"""The ``pureflow`` console script: SIGINT and SIGTERM are taken over first, before the
CLI's own imports, so a signal at any moment ends the process with ``128 + signum`` and
one line, never a ``KeyboardInterrupt`` traceback (see :mod:`pureflow.cli.interrupts`)."""

from __future__ import annotations

from pureflow.cli.interrupts import INTERRUPTS, Interrupted


def main() -> None:
    """Install the signal handlers, then run :func:`pureflow.cli.main.main`."""
    INTERRUPTS.install()
    try:
        from pureflow.cli.main import main as run_cli
    except Interrupted as stop:
        raise SystemExit(stop.exit_code) from None
    run_cli()
