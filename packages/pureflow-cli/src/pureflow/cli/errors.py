"""How the CLI reports failures: one ``error: ...`` line on stderr and exit code 1."""

from __future__ import annotations

import click


class CliError(click.ClickException):
    """A failure the user can act on. Printed as ``error: <message>`` (plus detail lines)."""

    exit_code = 1

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.details = details or []

    def show(self, file: object = None) -> None:  # noqa: ARG002 - always stderr
        click.echo(f"error: {self.format_message()}", err=True)
        for line in self.details:
            click.echo(line, err=True)
