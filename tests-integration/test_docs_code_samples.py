"""Every code sample of the documentation site runs, and prints what the page shows.

The pages are docs/**/*.md plus the pages the build generates (the changelog and one per
example, from examples/<name>/README.md; see docs/_ext/docs_support.py). Each page runs
top to bottom in its own fresh folder (example pages: in the repository root, where their
commands are written to run, and pages that say ``<!-- docs-test: cwd=repo -->``), in
one Python session per page:

* a block right after ``<!-- file: NAME -->`` is written to NAME (and checked: Python
  compiles, JSON, YAML and TOML parse);
* a ``python`` block is a program, run the way a reader would run it: saved as a file
  and run with ``python FILE`` (so no top-level ``await``: a sample runs its workflow
  with ``run_sync``); a block marked ``<!-- continues -->`` continues the program of the
  Python block before it (the file holds both). A ``text`` block right after
  ``<!-- output -->`` is what the Python block before it prints. A program runs before the
  next ``console`` block (which may use what it made), before the next program and at
  the end of the page; when a console block sits between two blocks of one program, the
  second run repeats the first block's code but checks only the new block's output;
* a ``console`` block's ``$ COMMAND`` lines run with bash (``pureflow`` and ``python`` are
  this environment's; ``hatch run X`` runs X) and the lines after each command are its
  output, stdout and stderr together: a line ``...`` stands for any number of lines, and
  ``...`` inside a line for any text. A command must exit 0, or the code its
  ``# exit code N`` comment gives;
* ``json``, ``yaml`` and ``toml`` blocks must parse;
* ``bash`` blocks, which show commands to type without their output, must say who runs
  them: ``<!-- sample: clean-install ... -->`` (tests-integration/test_clean_install.py)
  or ``<!-- skip-sample: REASON -->``, which skips any block and must give its reason.

``mermaid``, ``text``, ``wit`` and ``wat`` blocks are pictures and listings, not code. An
indented (unfenced) code block fails the page: fence it, so that it runs.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from integration_support import REPO

sys.path.insert(0, str(REPO / "docs" / "_ext"))

from docs_support import example_pages, page_sources

pytestmark = pytest.mark.timeout(300)

PAGES = page_sources()
REPO_PAGES = {page.uri for page in example_pages()}
NOT_CODE = {"mermaid", "text", "wit", "wat", ""}
CHECKED_ELSEWHERE = {
    "clean-install": REPO / "tests-integration" / "test_clean_install.py",
    # JavaScript guests need Node.js, which a machine with only Python may lack.
    "js-guest": REPO / "tests-integration" / "test_examples_wasm_guests.py",
    # Ray samples start a Ray: the Ray suite (`hatch run test-ray`) runs their equivalents.
    "ray-cli": REPO / "packages" / "pureflow-ray" / "tests" / "test_ray_examples.py",
    "ray-api": REPO / "packages" / "pureflow-ray" / "tests" / "test_ray_backend.py",
}
# The README's set-up commands, twice; the docs build; a release upload; Ray started on
# several machines (test_ray_cluster.py runs a two-node local cluster instead).
MAX_SKIPPED = 5

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)(?P<lang>[\w+-]*)[^\n]*$")
_MARKER = re.compile(r"^<!--\s*(?P<name>[\w-]+)(?::\s*(?P<value>.*?))?\s*-->$")
_EXIT = re.compile(r"\s+#\s*exit code (\d+)\s*$")


@dataclass
class Block:
    page: str
    line: int
    lang: str
    body: str
    marker: str | None = None
    marker_value: str = ""
    output_of_previous: bool = False
    expected_output: str | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks_of(page: str, text: str) -> list[Block]:
    """The fenced blocks of a page, with the marker comment right before each."""
    lines = text.split("\n")
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence = match["indent"], match["fence"]
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not (
            lines[j].strip().startswith(fence) and lines[j].strip().strip(fence[0]) == ""
        ):
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
            j += 1
        before = next((lines[k].strip() for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        marker = _MARKER.match(before)
        block = Block(page, i + 1, match["lang"].lower(), "\n".join(body))
        if marker:
            block.marker, block.marker_value = marker["name"], (marker["value"] or "")
        found.append(block)
        i = j + 1
    # A text block marked `output` belongs to the Python block before it.
    for previous, block in itertools.pairwise(found):
        if block.marker == "output":
            assert previous.lang == "python", f"{block.where}: output of a non-Python block"
            previous.expected_output = block.body
            block.output_of_previous = True
    return found


def indented_code(text: str) -> list[int]:
    """Lines that start an indented (unfenced) code block, which no test would run."""
    lines = text.split("\n")
    found: list[int] = []
    fence: str | None = None
    previous = ""
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if fence is not None:
            if stripped.startswith(fence) and stripped.strip(fence[0]) == "":
                fence = None
            continue
        if match := _FENCE.match(line):
            fence, previous = match["fence"], line
            continue
        if not stripped:
            continue
        after_blank = number > 1 and not lines[number - 2].strip()
        continues = re.match(r"^\s*([-*+]|\d+\.)\s|^    |^(!!!|\?\?\?|===|:::)", previous)
        if line.startswith("    ") and after_blank and not continues:
            found.append(number)
        previous = line
    return found


def matches(expected: str, actual: str) -> bool:
    """``...`` lines match any number of lines; ``...`` inside a line any text."""

    def lines(text: str) -> list[str]:
        return [line.rstrip() for line in text.strip("\n").split("\n")] if text.strip() else []

    want, have = lines(expected), lines(actual)

    def line_matches(pattern: str, line: str) -> bool:
        if "..." not in pattern:
            return pattern == line
        parts = [re.escape(part) for part in pattern.split("...")]
        return re.fullmatch(".*".join(parts), line) is not None

    def match(w: int, h: int) -> bool:
        if w == len(want):
            return h == len(have)
        if want[w] == "...":
            return any(match(w + 1, k) for k in range(h, len(have) + 1))
        return h < len(have) and line_matches(want[w], have[h]) and match(w + 1, h + 1)

    return match(0, 0)


# --- running a page ---------------------------------------------------------------------


def shell_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PUREFLOW_", "CONDUIT_"))}
    env.pop("RUST_LOG", None)
    bin_dir = str(Path(sys.executable).parent)
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", COLUMNS="80", NO_COLOR="1")
    return env


# `hatch run X` inside a sample runs X in this (the hatch) environment.
SHELL_PRELUDE = 'hatch() { if [ "$1" = run ]; then shift; "$@"; else command hatch "$@"; fi; }\n'


def run_console(block: Block, cwd: Path) -> None:
    commands: list[tuple[str, list[str]]] = []
    for line in block.body.split("\n"):
        if line.startswith("$ "):
            commands.append((line[2:], []))
        else:
            assert commands, f"{block.where}: output before the first `$ ` command"
            commands[-1][1].append(line)
    assert commands, f"{block.where}: a console block without `$ ` commands"
    for line, expected in commands:
        code, command = 0, line
        if exit_match := _EXIT.search(line):
            code = int(exit_match.group(1))
            command = line[: exit_match.start()]
        done = subprocess.run(
            ["bash", "-c", SHELL_PRELUDE + command],
            cwd=cwd,
            env=shell_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=240,
            check=False,
        )
        assert done.returncode == code, (
            f"{block.where}: `$ {command}` exited {done.returncode}, not {code}:\n{done.stdout}"
        )
        assert matches("\n".join(expected), done.stdout), (
            f"{block.where}: `$ {command}` printed\n{done.stdout}\n--- the page shows ---\n"
            + "\n".join(expected)
        )


def check_parses(block: Block, text: str) -> None:
    if block.lang in {"python", "py"}:
        compile(text, block.where, "exec")
    elif block.lang == "json":
        try:
            json.loads(text)
        except json.JSONDecodeError:  # JSON Lines: one value a line
            for line in filter(None, text.splitlines()):
                json.loads(line)
    elif block.lang in {"yaml", "yml"}:
        from ruamel.yaml import YAML

        YAML(typ="safe", pure=True).load(text)
    elif block.lang == "toml":
        tomllib.loads(text)


@contextlib.contextmanager
def page_session(cwd: Path) -> Iterator[None]:
    """cwd and sys.path for a page; modules imported from its folder are forgotten after."""
    old_cwd, old_path = Path.cwd(), list(sys.path)
    before = set(sys.modules)
    os.chdir(cwd)
    sys.path.insert(0, str(cwd))
    try:
        yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path
        for name in set(sys.modules) - before:
            module_file = getattr(sys.modules[name], "__file__", None) or ""
            if module_file.startswith(str(cwd)) and cwd != REPO:
                del sys.modules[name]


_MARK = "@@pureflow-docs-block {}@@"


class PageProgram:
    """The Python blocks of one page, run as one saved script (see the module doc)."""

    def __init__(self, page: str, cwd: Path) -> None:
        self.page = page
        self.cwd = cwd
        self.done: list[Block] = []  # blocks whose output was checked already
        self.pending: list[Block] = []

    def add(self, block: Block) -> None:
        """A block for this program (``<!-- continues -->``) or the first of the next."""
        if block.marker != "continues":
            self.run()
            self.done = []
        self.pending.append(block)

    def script(self) -> str:
        """Every block at its own line number (so a traceback names the page's lines),
        each new block preceded by a line that prints its mark."""
        lines: list[str] = []
        for index, block in enumerate([*self.done, *self.pending]):
            while len(lines) < block.line - 1:
                lines.append("")
            if index >= len(self.done):
                lines.append(f"print({_MARK.format(index)!r}, flush=True)")
            else:
                lines.append("")
            lines.extend(block.body.split("\n"))
        return "\n".join(lines) + "\n"

    def run(self) -> None:
        if not self.pending:
            return
        name = "docs_" + re.sub(r"\W", "_", self.page.removesuffix(".md")) + ".py"
        folder = self.cwd if self.cwd != REPO else Path(tempfile.mkdtemp(prefix="docs-"))
        path = folder / name
        path.write_text(self.script(), encoding="utf-8")
        env = shell_env()
        env["PYTHONPATH"] = str(self.cwd)
        done = subprocess.run(
            [sys.executable, str(path)],
            cwd=self.cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert done.returncode == 0, (
            f"docs/{self.page}: `python {name}` exited {done.returncode}:\n"
            f"{done.stdout}\n{done.stderr}"
        )
        outputs = re.split(r"^@@pureflow-docs-block (\d+)@@\n", done.stdout, flags=re.M)
        printed = dict(zip(map(int, outputs[1::2]), outputs[2::2], strict=True))
        for index, block in enumerate(self.pending, start=len(self.done)):
            if block.expected_output is not None:
                assert matches(block.expected_output, printed.get(index, "")), (
                    f"{block.where}: printed\n{printed.get(index, '')}\n--- the page shows ---\n"
                    f"{block.expected_output}"
                )
        self.done.extend(self.pending)
        self.pending = []


def run_page(page: str, cwd: Path) -> None:
    unfenced = indented_code(PAGES[page])
    assert not unfenced, f"{page}: indented code at lines {unfenced}: fence it, so it runs"
    program = PageProgram(page, cwd)
    with page_session(cwd):
        for block in blocks_of(page, PAGES[page]):
            if block.marker == "skip-sample":
                assert block.marker_value.strip(), f"{block.where}: skip-sample needs a reason"
                continue
            if block.marker == "sample":
                kind = block.marker_value.split()[0]
                assert kind in CHECKED_ELSEWHERE, f"{block.where}: unknown sample `{kind}`"
                continue
            if block.marker == "file":
                target = cwd / block.marker_value
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.body + "\n", encoding="utf-8")
                check_parses(block, block.body)
                continue
            if block.output_of_previous or block.lang in NOT_CODE:
                continue
            if block.lang in {"python", "py"}:
                check_parses(block, block.body)
                program.add(block)
            elif block.lang == "console":
                program.run()  # a command may use what the Python before it made
                run_console(block, cwd)
            elif block.lang in {"json", "yaml", "yml", "toml"}:
                check_parses(block, block.body)
            else:
                pytest.fail(
                    f"{block.where}: a `{block.lang}` block nobody runs: show commands as a "
                    "`console` block with `$ ` lines and their output, or mark it"
                )
        program.run()


def runs_in_repo(page: str) -> bool:
    """Example pages, and pages that say ``<!-- docs-test: cwd=repo -->``."""
    return page in REPO_PAGES or "<!-- docs-test: cwd=repo -->" in PAGES[page]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_code_samples(page: str, tmp_path: Path) -> None:
    run_page(page, REPO if runs_in_repo(page) else tmp_path)


# --- the rules themselves --------------------------------------------------------------


def test_skipped_samples_are_few_and_explained() -> None:
    skipped = [
        block
        for page, text in PAGES.items()
        for block in blocks_of(page, text)
        if block.marker == "skip-sample"
    ]
    assert all(block.marker_value.strip() for block in skipped)
    assert len(skipped) <= MAX_SKIPPED, [block.where for block in skipped]


def test_samples_checked_elsewhere_are_checked_there() -> None:
    for page, text in PAGES.items():
        for block in blocks_of(page, text):
            if block.marker == "sample":
                kind = block.marker_value.split()[0]
                checker = CHECKED_ELSEWHERE[kind].read_text(encoding="utf-8")
                assert f"sample: {block.marker_value}" in checker or (
                    f'documented_block("{block.marker_value}")' in checker
                ), f"{block.where}: {CHECKED_ELSEWHERE[kind].name} does not run this block"


def test_the_harness_matches_as_documented() -> None:
    assert matches("a\n...\nd", "a\nb\nc\nd")
    assert matches("a\n...\nd", "a\nd")
    assert matches("records: ...", "records: 58")
    assert not matches("a\nb", "a\nc")
    assert not matches("a", "a\nb")
    assert matches("", "")
    assert not matches("", "a")
    assert indented_code("text\n\n    code\n") == [3]
    assert indented_code("- item\n\n    more of the item\n") == []
    blocks = blocks_of("x.md", "<!-- file: f.py -->\n```python\nx = 1\n```\n")
    assert (blocks[0].marker, blocks[0].marker_value, blocks[0].body) == ("file", "f.py", "x = 1")
