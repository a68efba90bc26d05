"""Hardening (issue 15), through the real CLI in a subprocess: bad files never hang or
exhaust memory, a document runs none of its code unless trusted, and what the docs say
about YAML and queue-pressure capacities is what happens.

Every case asserts the one ``error:`` line (or the lines of a problem list), the exit
code, and that nothing ran or hung: each command runs under a timeout far below what a
hang or a read of ``/dev/zero`` to exhaustion would take.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev/zero are POSIX")

TIMEOUT = 60  # seconds: a hang, or reading /dev/zero until memory runs out, takes far longer


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return self.stderr.splitlines()


def pureflow(
    *args: str | Path,
    cwd: Path,
    stdin: IO[bytes] | None = None,
    env: Mapping[str, str] | None = None,
) -> Result:
    """``pureflow ARGS`` in a subprocess, under :data:`TIMEOUT` (an expired timeout fails
    the test: that is the hang these tests exist to rule out)."""
    completed = subprocess.run(
        [sys.executable, "-m", "pureflow.cli", *map(str, args)],
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=TIMEOUT,
        check=False,
    )
    return Result(
        completed.returncode,
        completed.stdout.decode("utf-8", "replace"),
        completed.stderr.decode("utf-8", "replace"),
    )


def document(nodes: list[dict[str, Any]], edges: list[dict[str, Any]] | None = None) -> str:
    return json.dumps(
        {"pureflow_version": "1", "id": "flow", "nodes": nodes, "edges": edges or []}, indent=2
    )


def edge(source: str, target: str, capacity: int | None = None) -> dict[str, Any]:
    source_node, source_port = source.split(".")
    target_node, target_port = target.split(".")
    result: dict[str, Any] = {
        "source": {"node": source_node, "port": source_port},
        "target": {"node": target_node, "port": target_port},
    }
    if capacity is not None:
        result["capacity"] = capacity
    return result


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def assert_one_error(result: Result, line: str, *, exit_code: int = 1) -> None:
    assert result.exit_code == exit_code, result.stderr
    assert result.error_lines == [line], result.stderr
    assert "Traceback" not in result.stderr


NOT_REGULAR = "not a regular file but a character device (only regular files are read)"
FIFO = "not a regular file but a named pipe (FIFO) (only regular files are read)"
TOO_LARGE = (
    "larger than the document size limit of 16 MiB (set PUREFLOW_MAX_DOCUMENT_BYTES to change it)"
)


# --- unbounded reads -------------------------------------------------------------------------


@posix_only
@pytest.mark.parametrize("command", ["validate", "inspect", "explain", "graph", "run"])
def test_a_device_as_the_workflow_is_refused_at_once(tmp_path: Path, command: str) -> None:
    result = pureflow(command, "/dev/zero", cwd=tmp_path)
    assert_one_error(result, f"error: failed to read `/dev/zero`: {NOT_REGULAR}")
    assert result.stdout == ""


@posix_only
def test_a_json_symlink_to_a_device_is_refused(tmp_path: Path) -> None:
    (tmp_path / "flow.json").symlink_to("/dev/zero")
    result = pureflow("validate", "flow.json", cwd=tmp_path)
    assert_one_error(result, f"error: failed to read `flow.json`: {NOT_REGULAR}")


@posix_only
def test_standard_input_from_a_device_stops_at_the_limit(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as zeros:
        result = pureflow("validate", "-", cwd=tmp_path, stdin=zeros)
    assert_one_error(result, f"error: failed to read `-`: {TOO_LARGE}")


@posix_only
def test_a_fifo_with_no_writer_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.json")
    result = pureflow("validate", "x.json", cwd=tmp_path)
    assert_one_error(result, f"error: failed to read `x.json`: {FIFO}")


def test_a_document_over_the_limit_is_refused_naming_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "big.json", document([{"id": "a", "inputs": [], "outputs": []}]))
    limited = {"PUREFLOW_MAX_DOCUMENT_BYTES": "64"}
    result = pureflow("validate", path.name, cwd=tmp_path, env=limited)
    assert_one_error(
        result,
        "error: failed to read `big.json`: larger than the document size limit of 64 bytes "
        "(set PUREFLOW_MAX_DOCUMENT_BYTES to change it)",
    )
    raised = pureflow(
        "validate", path.name, cwd=tmp_path, env={"PUREFLOW_MAX_DOCUMENT_BYTES": "1K"}
    )
    assert raised.exit_code == 0, raised.stderr


@posix_only
def test_a_rule_set_ref_to_a_device_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "flow.json",
        document([{"id": "route", "inputs": [], "outputs": [], "rule_set_ref": "/dev/zero"}]),
    )
    result = pureflow("validate", path.name, cwd=tmp_path)
    reason = (
        "node 0 rule set is invalid: failed to resolve rule_set_ref: failed to read rule set "
        f"file `/dev/zero`: {NOT_REGULAR}"
    )
    assert result.exit_code == 1
    # The headline, then the problem with its place (a rule-set problem is always listed).
    assert result.error_lines == [
        f"error: workflow JSON is invalid: {reason}",
        f"  flow.json:9:23: rule_set.resolve: {reason} (at /nodes/0/rule_set_ref)",
    ]


@posix_only
def test_a_wasm_component_that_is_a_device_is_refused(tmp_path: Path) -> None:
    (tmp_path / "guest.wasm").symlink_to("/dev/zero")
    path = write(
        tmp_path,
        "flow.json",
        document(
            [{"id": "a", "inputs": ["in"], "outputs": ["out"], "component": "wasm:guest.wasm"}]
        ),
    )
    result = pureflow("validate", path.name, cwd=tmp_path)
    assert result.exit_code == 1
    assert len(result.error_lines) == 1, result.stderr
    (line,) = result.error_lines
    assert line.startswith("error: node `a`: ")
    assert f"failed to read WASM component `{tmp_path / 'guest.wasm'}`: {NOT_REGULAR}" in line
    assert line.endswith("(at /nodes/0/component)")


@posix_only
def test_a_manifest_component_that_is_a_device_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "components.json", '{"components": [{"node": "a", "component": "/dev/zero"}]}')
    path = write(tmp_path, "flow.json", document([{"id": "a", "inputs": [], "outputs": []}]))
    result = pureflow("run", "--wasm-components", "components.json", path.name, cwd=tmp_path)
    assert_one_error(
        result,
        "error: invalid WASM component manifest: component for node `a` cannot be loaded: "
        f"WASM-LOAD-001: failed to read WASM component `/dev/zero`: {NOT_REGULAR}",
    )
    checked = pureflow("validate-manifest", "components.json", cwd=tmp_path)
    assert_one_error(
        checked,
        "error: invalid WASM component manifest: component path `/dev/zero` for node `a` is "
        "not readable",
    )


@posix_only
def test_a_manifest_that_is_a_fifo_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "components.json")
    path = write(tmp_path, "flow.json", document([{"id": "a", "inputs": [], "outputs": []}]))
    result = pureflow("run", "--wasm-components", "components.json", path.name, cwd=tmp_path)
    assert_one_error(result, f"error: failed to read `components.json`: {FIFO}")
    checked = pureflow("validate-manifest", "components.json", cwd=tmp_path)
    assert_one_error(checked, f"error: failed to read `components.json`: {FIFO}")


# --- documents that run code -----------------------------------------------------------------

TRIPWIRE = """
from pathlib import Path

Path(__file__).with_name("ran.txt").write_text("the module ran")


async def node(ctx, inputs, outputs):
    pass


def double(value):
    return value * 2
"""


def one_node(component: str, config: dict[str, Any] | None = None) -> str:
    node: dict[str, Any] = {"id": "a", "inputs": [], "outputs": [], "component": component}
    if config is not None:
        node["config"] = config
    return document([node])


@pytest.mark.parametrize("command", ["validate", "inspect"])
def test_python_this_s_prints_nothing_and_is_not_a_component(tmp_path: Path, command: str) -> None:
    write(tmp_path, "flow.json", one_node("python:this:s"))
    result = pureflow(command, "flow.json", cwd=tmp_path)
    assert_one_error(
        result,
        "error: node `a`: component `python:this:s` is a str, not a component (expected an "
        "`async def node(ctx, inputs, outputs)`, a class with `async def run`, or an object "
        "declared with @component) (at /nodes/0/component)",
    )
    assert "Zen of Python" not in result.stdout + result.stderr


def test_python_venv_main_creates_nothing(tmp_path: Path) -> None:
    write(tmp_path, "flow.json", one_node("python:venv.__main__:main"))
    before = sorted(os.listdir(tmp_path))
    result = pureflow("validate", "flow.json", cwd=tmp_path)
    assert_one_error(
        result,
        "error: node `a`: component `python:venv.__main__:main` is a function, not a component "
        "(expected an `async def node(ctx, inputs, outputs)`, a class with `async def run`, or "
        "an object declared with @component) (at /nodes/0/component)",
    )
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("command", ["validate", "inspect", "explain", "graph"])
def test_looking_at_a_document_runs_none_of_its_modules(tmp_path: Path, command: str) -> None:
    write(tmp_path, "tripwire.py", TRIPWIRE)
    flow = document(
        [
            {"id": "src", "inputs": [], "outputs": ["out"], "component": "python:tripwire:node"},
            {
                "id": "twice",
                "inputs": ["in"],
                "outputs": ["out"],
                "component": "builtin:map",
                "config": {"function": "tripwire:double"},
            },
            {"id": "sink", "inputs": ["in"], "outputs": [], "component": "builtin:print"},
        ],
        [edge("src.out", "twice.in"), edge("twice.out", "sink.in")],
    )
    write(tmp_path, "flow.json", flow)
    result = pureflow(command, "flow.json", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert not (tmp_path / "ran.txt").exists()


def test_trust_imports_as_run_does(tmp_path: Path) -> None:
    write(tmp_path, "tripwire.py", TRIPWIRE)
    write(tmp_path, "flow.json", one_node("python:tripwire:node"))
    result = pureflow("validate", "--trust", "flow.json", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "ran.txt").read_text() == "the module ran"


def test_what_cannot_be_read_statically_is_a_warning_then_a_hint(tmp_path: Path) -> None:
    write(
        tmp_path,
        "made.py",
        TRIPWIRE + "\nfrom pureflow.core import component\n\nbuilt = component()(node)\n",
    )
    write(tmp_path, "flow.json", one_node("python:made:built"))
    result = pureflow("validate", "flow.json", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.error_lines == [
        "warning: node `a`: component `python:made:built` is not checked without importing "
        "`made` (it is bound to an expression, made.py:16): its ports, config and effects are "
        "unknown (at /nodes/0/component)",
        "hint: --trust imports the modules the document names (running their code) to check "
        "them fully",
    ]
    assert result.stdout.startswith("valid workflow `flow`")
    assert not (tmp_path / "ran.txt").exists()


def test_map_with_os_system_has_unknown_effects_not_none(tmp_path: Path) -> None:
    flow = document(
        [
            {
                "id": "src",
                "inputs": [],
                "outputs": ["out"],
                "component": "builtin:sequence",
                "config": {"stop": 1},
            },
            {
                "id": "shell",
                "inputs": ["in"],
                "outputs": ["out"],
                "component": "builtin:map",
                "config": {"function": "os:system"},
            },
            {"id": "sink", "inputs": ["in"], "outputs": [], "component": "builtin:print"},
        ],
        [edge("src.out", "shell.in"), edge("shell.out", "sink.in")],
    )
    write(tmp_path, "flow.json", flow)
    for args in (["inspect"], ["inspect", "--trust"]):
        result = pureflow(*args, "flow.json", cwd=tmp_path)
        assert result.exit_code == 0, result.stderr
        nodes = {node["node_id"]: node for node in json.loads(result.stdout)["nodes"]}
        assert nodes["shell"]["effects"] == []
        assert nodes["shell"]["effects_known"] is False
        assert "effects_known" not in nodes["src"]  # the original's shape where known
        assert nodes["sink"]["effects"] == ["external_effect"]


# --- docs that disagree with behaviour -------------------------------------------------------


def test_yaml_anchors_aliases_and_standard_tags_are_accepted_as_documented(tmp_path: Path) -> None:
    write(
        tmp_path,
        "flow.yaml",
        'pureflow_version: !!str "1"\nid: &name flow\n'
        "nodes:\n  - {id: *name, inputs: [], outputs: []}\nedges: []\n",
    )
    result = pureflow("validate", "flow.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "valid workflow `flow`\nnodes: 1\nedges: 0\n"


def test_other_yaml_tags_are_refused_with_their_location(tmp_path: Path) -> None:
    write(
        tmp_path,
        "flow.yaml",
        'pureflow_version: "1"\nid: !!python/object:os.system flow\nnodes: []\nedges: []\n',
    )
    result = pureflow("validate", "flow.yaml", cwd=tmp_path)
    assert_one_error(
        result,
        "error: failed to decode workflow YAML: unsupported YAML tag "
        "`tag:yaml.org,2002:python/object:os.system` at line 2 column 5",
    )


def test_a_billion_laughs_is_refused_without_expanding_it(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    write(tmp_path, "laughs.yaml", "\n".join(lines) + "\n")
    result = pureflow("validate", "laughs.yaml", cwd=tmp_path)
    assert result.exit_code == 1
    (line,) = result.error_lines
    assert line.startswith(
        "error: failed to decode workflow YAML: YAML document expands to more than 1000000 "
        "nodes (too many aliases)"
    )


def test_fan_in_capacity_in_records_fits_a_u64(tmp_path: Path) -> None:
    """Two edges of the largest capacity a document allows into one port: the port's
    queue-pressure capacity saturates at 2**64 - 1 instead of overflowing the original's
    readers."""
    largest = 2**64 - 1
    flow = document(
        [
            {
                "id": "one",
                "inputs": [],
                "outputs": ["out"],
                "component": "builtin:sequence",
                "config": {"stop": 2},
            },
            {
                "id": "two",
                "inputs": [],
                "outputs": ["out"],
                "component": "builtin:sequence",
                "config": {"stop": 2},
            },
            {"id": "sink", "inputs": ["in"], "outputs": [], "component": "builtin:print"},
        ],
        [edge("one.out", "sink.in", largest), edge("two.out", "sink.in", largest)],
    )
    write(tmp_path, "flow.json", flow)
    result = pureflow("run", "flow.json", "m.jsonl", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    capacities = {
        (r["context"]["node_id"], r["port_id"]): r["capacity"]
        for r in records
        if r["record_type"] == "queue_pressure" and r["capacity"] is not None
    }
    assert capacities[("sink", "in")] == largest
    assert capacities[("one", "out")] == largest
    assert all(0 < capacity <= largest for capacity in capacities.values())
