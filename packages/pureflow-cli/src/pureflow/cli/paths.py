"""Click types for the CLI's file arguments: shells complete them as file names.

They check nothing by themselves (existence and kind are the loaders' business, which
report a problem in one ``error:`` line); ``-`` stays allowed where stdin or stdout is.
"""

from __future__ import annotations

import click

# No `dir_okay=False`: click would then refuse a folder itself, with a usage error (exit
# 2) instead of the loaders' one `error:` line (exit 1).
DOCUMENT = click.Path(allow_dash=True)
"""A document to read (a workflow, a manifest), or ``-`` for standard input."""
INPUT_FILE = click.Path()
"""A file to read."""
OUTPUT_FILE = click.Path(allow_dash=True)
"""A file to write, or ``-`` for standard output."""
DIRECTORY = click.Path(file_okay=False)
"""A folder."""
