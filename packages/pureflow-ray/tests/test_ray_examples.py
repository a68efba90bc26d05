"""``pureflow run --backend ray`` of every example gives what the in-process run gives:
the same files in ``output/`` and the same summary counts.

Each example's README commands run in order in two fresh copies of the example: the
reference copy with every command as shown (in a child process), the Ray copy with
``--backend ray`` added to each ``pureflow run`` (in this process, on the module's Ray).
Other commands (a script that makes a database) run in both copies and must print the
same; a guest build runs once, its component copied to the Ray copy.
``native-linear-etl`` shows no run command: its workflow runs with the demo executor.
``python-api`` has no workflow document (its Python API is what the contract tests run
on both backends); the JavaScript guest needs node (skipped without).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from integration_support import REPO, pureflow
from pureflow.cli.main import cli

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("ray_session")]

EXAMPLES = REPO / "examples"
CONSOLE_BLOCK = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)
EXTRA_RUNS = {
    "native-linear-etl": [
        ["pureflow", "run", "examples/native-linear-etl/native-linear-etl.workflow.json"]
    ]
}
COUNTS = (
    "terminal_state",
    "scheduled_node_count",
    "completed_node_count",
    "failed_node_count",
    "cancelled_node_count",
    "observed_message_count",
)


def commands(name: str) -> list[list[str]]:
    text = (EXAMPLES / name / "README.md").read_text(encoding="utf-8")
    found = [
        shlex.split(line[2:])
        for block in CONSOLE_BLOCK.findall(text)
        for line in block.splitlines()
        if line.startswith("$ ")
    ]
    wanted = [
        argv
        for argv in found
        if argv[:2] in (["pureflow", "run"], ["pureflow", "wasm"]) or argv[0] == "python"
    ]
    return wanted + EXTRA_RUNS.get(name, [])


def examples() -> list[str]:
    return sorted(
        path.name
        for path in EXAMPLES.iterdir()
        if path.is_dir() and any(argv[:2] == ["pureflow", "run"] for argv in commands(path.name))
    )


def fresh_copy(name: str, root: Path) -> Path:
    target = root / "examples" / name
    ignore = shutil.ignore_patterns("output", "build", "__pycache__")
    shutil.copytree(EXAMPLES / name, target, ignore=ignore)
    return target


def summary_of(stdout: str) -> dict[str, Any]:
    report = json.loads(stdout[stdout.index('{\n  "error"') :])
    return {key: report["summary"][key] for key in COUNTS}


def outputs(folder: Path) -> dict[str, bytes]:
    """The files a run wrote (a database compares by what the README's script prints)."""
    out = folder / "output"
    return {
        path.relative_to(out).as_posix(): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file() and path.suffix != ".db"
    }


# Also runs the CLI sample of docs/distributed.md, on every example:
# sample: ray-cli distributed.md: pureflow run --backend ray
@pytest.mark.parametrize("name", examples())
def test_example_gives_the_same_on_ray(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    argvs = commands(name)
    if any(argv[-1].endswith(".js") for argv in argvs) and shutil.which("node") is None:
        argvs = [a for a in argvs if "js" not in " ".join(a)]
    reference_root, ray_root = tmp_path / "reference", tmp_path / "ray"
    reference, on_ray = fresh_copy(name, reference_root), fresh_copy(name, ray_root)
    runner = CliRunner()
    monkeypatch.chdir(ray_root)
    for argv in argvs:
        if argv[:2] == ["pureflow", "run"]:
            expected = pureflow(*argv[1:], "--json", cwd=reference_root)
            assert expected.exit_code == 0, expected.stderr
            got = runner.invoke(cli, [*argv[1:], "--json", "--backend", "ray"])
            assert got.exit_code == 0, got.output
            assert summary_of(got.stdout) == summary_of(expected.stdout)
        elif argv[:3] == ["pureflow", "wasm", "build"]:
            # A guest build takes a minute and is not what this test compares: built once,
            # the component is copied to the Ray copy.
            built = subprocess.run(
                [sys.executable, "-m", "pureflow.cli", *argv[1:]],
                cwd=reference_root,
                capture_output=True,
                text=True,
                check=False,
            )
            assert built.returncode == 0, built.stderr
            target = Path(argv[argv.index("-o") + 1])
            (ray_root / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(reference_root / target, ray_root / target)
        else:
            program = [sys.executable] + ([] if argv[0] == "python" else ["-m", "pureflow.cli"])
            shown = [
                subprocess.run(
                    [*program, *argv[1:]], cwd=root, capture_output=True, text=True, check=True
                ).stdout.replace(str(root), "ROOT")
                for root in (reference_root, ray_root)
            ]
            assert shown[0] == shown[1]
    assert outputs(on_ray) == outputs(reference)
