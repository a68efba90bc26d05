"""A Griffe extension: the reStructuredText habits of Pureflow's docstrings, as Markdown.

The docstrings are written for readers of the source (and ``help()``), in a light
reStructuredText: Sphinx roles (``:class:`NodeContext```), literal blocks introduced by a
paragraph ending in ``::``, ``>>>`` sessions and simple ``====`` tables. mkdocstrings
renders docstrings as Markdown, so this extension rewrites those four constructs before
rendering; everything else (backquoted code, emphasis, lists) reads the same in both.

Loaded by mkdocs.yml (``extensions: - docs/_ext/griffe_rst.py:RstMarkup``).
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|exc|obj|const):`(~?)([^`]+)`")
_BORDER = re.compile(r"^\s*=+( +=+)+\s*$")


def _role(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    if tilde:
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _table(lines: list[str], *, header: bool) -> list[str]:
    """A simple reST table (``===`` borders) as a Markdown table."""
    border = lines[0]
    starts = [m.start() for m in re.finditer(r"=+", border)]
    rows: list[list[str]] = []
    header_rows = 0
    for line in lines[1:]:
        if _BORDER.match(line):
            if header_rows == 0:
                header_rows = len(rows)
            continue
        if not line.strip():
            continue
        # Column boundaries from the border; a cell that overflows its column pushes the
        # boundary to the next space, as a reader would split it.
        bounds = [0, *starts[1:], len(line)]
        for k in range(1, len(bounds) - 1):
            b = max(bounds[k], bounds[k - 1])
            while 0 < b < len(line) and line[b - 1] != " " and line[b] != " ":
                b += 1
            bounds[k] = b
        cells = [line[bounds[k] : bounds[k + 1]].strip() for k in range(len(starts))]
        if rows and not cells[0]:  # a continuation line: extend the row above
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
        else:
            rows.append(cells)
    if not header:
        header_rows = 0
    titles = [" ".join(col).strip() for col in zip(*rows[:header_rows], strict=True)]
    titles = titles or [" "] * len(starts)
    out = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    out.extend(
        "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
        for row in rows[header_rows:]
    )
    return out


def rst_to_markdown(text: str) -> str:
    """Rewrite the reStructuredText constructs of a docstring as Markdown."""
    text = _ROLE.sub(_role, text)
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if _BORDER.match(line):
            # A simple table runs to the first blank line: two borders (no header row) or
            # three (a header row above the second).
            j = i + 1
            while j < len(lines) and lines[j].strip():
                j += 1
            borders = sum(1 for row in lines[i:j] if _BORDER.match(row))
            if borders in (2, 3) and _BORDER.match(lines[j - 1]):
                if out and out[-1].strip():
                    out.append("")
                out.extend(_table(lines[i:j], header=borders == 3))
                out.append("")
                i = j
                continue
        if stripped.startswith(">>> "):
            j = i
            while j < len(lines) and lines[j].strip():
                j += 1
            if out and out[-1].strip():
                out.append("")
            out.append("```pycon")
            out.extend(textwrap.dedent("\n".join(lines[i:j])).split("\n"))
            out.append("```")
            i = j
            continue
        if stripped.endswith("::") and not stripped.startswith(".."):
            # A literal block follows: the next non-blank lines indented deeper.
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            base = _indent(line)
            if j < len(lines) and _indent(lines[j]) > base:
                k = j
                while k < len(lines) and (not lines[k].strip() or _indent(lines[k]) > base):
                    k += 1
                while k > j and not lines[k - 1].strip():
                    k -= 1
                lead = stripped[:-2].rstrip()
                if lead:
                    out.append(" " * base + lead + ("" if lead.endswith(":") else ":"))
                    out.append("")
                out.append(" " * base + "```python")
                block = textwrap.dedent("\n".join(lines[j:k]))
                out.extend(" " * base + row if row else "" for row in block.split("\n"))
                out.append(" " * base + "```")
                i = k
                continue
        out.append(line)
        i += 1
    return "\n".join(out)


class RstMarkup(griffe.Extension):
    """Rewrite every docstring from light reStructuredText to Markdown."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:  # noqa: ARG002 - Griffe's hook signature
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
