"""The runnable examples under examples/ do what their READMEs say, from a fresh copy.

Each example folder holds a workflow, its input data, any Python components next to the
workflow (imported from that folder: nothing installed), a README and ``expected/``: the
exact files the run writes to ``output/``. For every example this test

* copies the folder (without ``output/`` and caches) into a temporary ``examples/``, so
  the run starts like a fresh clone and never writes into the repository;
* runs each ``$ pureflow run ...`` command of the README's ``console`` blocks from the
  temporary root with this interpreter, and checks the exit code and that stdout is
  exactly the text the README shows under the command;
* compares every file the run wrote with ``expected/``, byte for byte (same set of files);
* checks each ``$ cat`` / ``$ head -n N`` block of the README against ``expected/``, so
  the file contents the README shows cannot drift either.

``db-to-api`` writes a database rather than text files: its README's commands (a script
that creates the database, the runs, a script that prints the table) run in order on a
fresh copy, and each must print exactly what the README shows.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from integration_support import REPO, pureflow

EXAMPLES = REPO / "examples"

WORKFLOW_EXAMPLES = {
    "csv-clean-dedupe": "customers.workflow.json",
    "jsonl-window-join": "window-join.workflow.json",
    "log-fanout": "log-fanout.workflow.yaml",
    "retry-feedback-loop": "retry-loop.workflow.json",
    "word-frequency": "word-frequency.workflow.toml",
    "sensor-aggregation": "sensor-aggregation.workflow.json",
    "rules-routing": "rules-routing.workflow.json",
}

CONSOLE_BLOCK = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Shown:
    """One ``$ command`` of a README console block and the output shown under it."""

    argv: list[str]
    output: str


def shown_commands(readme: Path) -> list[Shown]:
    commands: list[Shown] = []
    for block in CONSOLE_BLOCK.findall(readme.read_text(encoding="utf-8")):
        current: list[str] | None = None
        lines: list[str] = []
        for line in block.splitlines(keepends=True):
            if line.startswith("$ "):
                if current is not None:
                    commands.append(Shown(current, "".join(lines)))
                current, lines = shlex.split(line[2:]), []
            else:
                assert current is not None, f"{readme}: console block output before a `$` line"
                lines.append(line)
        if current is not None:
            commands.append(Shown(current, "".join(lines)))
    return commands


def fresh_copy(name: str, root: Path) -> Path:
    """``examples/<name>`` copied under ``root/examples`` without outputs or caches."""
    target = root / "examples" / name
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns("output", "__pycache__"))
    return target


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("name", sorted(WORKFLOW_EXAMPLES))
def test_readme_names_the_workflow_and_shows_its_run(name: str) -> None:
    """The README's run command names this example's workflow, which exists in the
    repository (so the README cannot drift from the files)."""
    runs = [
        c
        for c in shown_commands(EXAMPLES / name / "README.md")
        if c.argv[:2] == ["pureflow", "run"]
    ]
    assert runs, f"examples/{name}/README.md shows no `$ pureflow run` command"
    for shown in runs:
        workflow = shown.argv[-1]
        assert workflow == f"examples/{name}/{WORKFLOW_EXAMPLES[name]}"
        assert (REPO / workflow).is_file()
        assert shown.output.endswith("status: completed\n")


@pytest.mark.parametrize("name", sorted(WORKFLOW_EXAMPLES))
def test_example_runs_as_its_readme_says(name: str, tmp_path: Path) -> None:
    example = fresh_copy(name, tmp_path)
    expected = files_under(EXAMPLES / name / "expected")
    assert expected, f"examples/{name}/expected/ is empty"
    shown = shown_commands(EXAMPLES / name / "README.md")
    runs = [c for c in shown if c.argv[:2] == ["pureflow", "run"]]
    assert runs
    for command in runs:
        result = pureflow(*command.argv[1:], cwd=tmp_path)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == command.output, result.stderr
        assert files_under(example / "output") == expected

    for command in shown:
        if command.argv[:2] == ["pureflow", "run"]:
            continue
        prefix = f"examples/{name}/output/"
        path = command.argv[-1]
        assert path.startswith(prefix), f"README shows `{shlex.join(command.argv)}`"
        text = expected[path.removeprefix(prefix)].decode("utf-8")
        if command.argv[0] == "cat" and len(command.argv) == 2:
            assert command.output == text, f"README's `cat {path}` differs from expected/"
        elif command.argv[:2] == ["head", "-n"] and len(command.argv) == 4:
            head = "".join(text.splitlines(keepends=True)[: int(command.argv[2])])
            assert command.output == head, f"README's `head {path}` differs from expected/"
        else:
            pytest.fail(f"README shows an unchecked command `{shlex.join(command.argv)}`")


def test_every_example_is_indexed_and_every_workflow_example_tested() -> None:
    """Every example folder appears in examples/README.md, and every one with an
    ``expected/`` folder is run above."""
    folders = {p.parent.name for p in EXAMPLES.glob("*/README.md")}
    index = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for name in sorted(folders):
        assert f"[{name}]({name}/)" in index, f"examples/README.md does not list `{name}`"
    with_expected = {p.parent.name for p in EXAMPLES.glob("*/expected") if p.is_dir()}
    assert with_expected == set(WORKFLOW_EXAMPLES)


def test_db_to_api_runs_as_its_readme_says(tmp_path: Path) -> None:
    fresh_copy("db-to-api", tmp_path)
    shown = shown_commands(EXAMPLES / "db-to-api" / "README.md")
    assert [c.argv[0] for c in shown] == ["python", "pureflow", "python", "pureflow"]
    for command in shown:
        if command.argv[0] == "pureflow":
            assert command.argv[1:] == ["run", "examples/db-to-api/enrich.workflow.yaml"]
            result = pureflow(*command.argv[1:], cwd=tmp_path)
            assert result.exit_code == 0, result.stderr
            assert result.stdout == command.output, result.stderr
            continue
        assert command.argv[1].startswith("examples/db-to-api/"), command.argv
        done = subprocess.run(
            [sys.executable, *command.argv[1:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == command.output
