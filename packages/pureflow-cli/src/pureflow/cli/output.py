"""Printing command output: the whole text at once, JSON pretty with sorted keys."""

from __future__ import annotations

import json
from typing import Any

import click


def echo_text(text: str) -> None:
    """Print ``text`` exactly (it already ends with a newline)."""
    click.echo(text, nl=False)


def pretty_json(value: Any) -> str:
    """The original CLI's JSON: 2-space indent, sorted keys, UTF-8 unescaped, newline."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
