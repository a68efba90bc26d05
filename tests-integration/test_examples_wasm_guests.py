"""examples/wasm-guests: the JavaScript guest builds with componentize-js and runs under
``pureflow run``, printing what the README shows.

The README's Python block runs in the docs tests (its page is generated from the README);
the JavaScript block is marked ``<!-- sample: js-guest example -->`` because it needs
Node.js, and runs here: each ``$ pureflow ...`` command of that block, from a fresh copy of
the example, with its output matched the way the docs tests match (``...`` for any text).
docs/wasm.md shows the guest's source under ``<!-- sample: js-guest source -->``; it must
be the example's file. Without ``node`` and ``npm`` these tests skip (CI has both).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from integration_support import REPO
from pureflow.wasm.build import node_available
from test_docs_code_samples import blocks_of, matches

EXAMPLE = REPO / "examples" / "wasm-guests"

needs_node = pytest.mark.skipif(
    not node_available(),
    reason="Node.js (node and npm) is not installed: JavaScript guests are built with "
    "componentize-js, which runs on node",
)


def marked_block(page: Path, marker_value: str) -> str:
    text = page.read_text(encoding="utf-8")
    found = [
        b
        for b in blocks_of(page.name, text)
        if b.marker == "sample" and b.marker_value == marker_value
    ]
    assert len(found) == 1, f"{page}: one block marked `sample: {marker_value}`"
    return found[0].body


def test_docs_show_the_example_guest_source() -> None:
    """sample: js-guest source"""
    shown = marked_block(REPO / "docs" / "wasm.md", "js-guest source")
    assert shown.strip() == (EXAMPLE / "upper_guest.js").read_text(encoding="utf-8").strip()


@needs_node
@pytest.mark.timeout(1200)
def test_javascript_guest_builds_and_runs_as_the_readme_shows(tmp_path: Path) -> None:
    """sample: js-guest example"""
    root = tmp_path / "repo"
    shutil.copytree(
        EXAMPLE, root / "examples" / "wasm-guests", ignore=shutil.ignore_patterns("build")
    )
    block = marked_block(EXAMPLE / "README.md", "js-guest example")
    commands: list[tuple[str, list[str]]] = []
    for line in block.split("\n"):
        if line.startswith("$ "):
            commands.append((line[2:], []))
        else:
            commands[-1][1].append(line)
    assert [shlex.split(c)[:3] for c, _ in commands] == [
        ["pureflow", "wasm", "build"],
        ["pureflow", "run", "examples/wasm-guests/js-guest.workflow.json"],
    ]
    for command, expected in commands:
        argv = shlex.split(command)
        done = subprocess.run(
            [sys.executable, "-m", "pureflow.cli", *argv[1:]],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=1100,
            check=False,
        )
        assert done.returncode == 0, f"$ {command}\n{done.stdout}{done.stderr}"
        assert matches("\n".join(expected), done.stdout + done.stderr), (
            f"$ {command} printed\n{done.stdout}{done.stderr}--- the README shows ---\n"
            + "\n".join(expected)
        )
    built = root / "examples" / "wasm-guests" / "build" / "upper-js.wasm"
    assert built.stat().st_size > 1_000_000  # the JavaScript engine is inside
