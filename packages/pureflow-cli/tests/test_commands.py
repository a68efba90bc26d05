"""Command surface: help, version, usage errors, stdin, extensions, schema, completions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pureflow.cli import cli

COMMANDS = ["validate", "inspect", "explain", "validate-manifest", "schema", "completions"]
VALID = (
    '{"pureflow_version": "1", "id": "flow", "nodes": ['
    '{"id": "source", "inputs": [], "outputs": ["out"]}, '
    '{"id": "sink", "inputs": ["in"], "outputs": []}],'
    ' "edges": [{"source": {"node": "source", "port": "out"}, '
    '"target": {"node": "sink", "port": "in"}, "capacity": 8}]}'
)


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin, prog_name="pureflow")
    return result.exit_code, result.stdout, result.stderr


def test_top_level_help_names_pureflow_and_lists_every_command() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    assert "pureflow" in out
    assert "pureflow-cli" not in out
    assert "Pureflow workflow engine CLI" in out
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0
    assert f"pureflow {command}" in out


def test_version() -> None:
    code, out, _ = invoke("--version")
    assert code == 0
    assert out.startswith("pureflow 0.")


@pytest.mark.parametrize(
    "args", [[], ["nope"], ["validate"], ["schema", "xml"], ["validate", "--bogus", "x.json"]]
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    code, _, _ = invoke(*args)
    assert code == 2


def test_stdin_is_read_as_json() -> None:
    code, out, _ = invoke("validate", "-", stdin=VALID)
    assert code == 0
    assert out == "valid workflow `flow`\nnodes: 2\nedges: 1\n"


@pytest.mark.parametrize("name", ["flow.JSON", "flow.Json", "flow", "FLOW.YAML", "flow.YML"])
def test_extensions_are_case_insensitive(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(VALID)  # JSON is valid YAML too
    code, out, err = invoke("validate", str(path))
    assert code == 0, err
    assert out.startswith("valid workflow `flow`")


def test_toml_document(tmp_path: Path) -> None:
    path = tmp_path / "flow.Toml"
    path.write_text(
        'pureflow_version = "1"\nid = "flow"\n'
        '[[nodes]]\nid = "source"\ninputs = []\noutputs = ["out"]\n'
        '[[nodes]]\nid = "sink"\ninputs = ["in"]\noutputs = []\n'
        '[[edges]]\ncapacity = 8\n[edges.source]\nnode = "source"\nport = "out"\n'
        '[edges.target]\nnode = "sink"\nport = "in"\n'
    )
    code, out, err = invoke("validate", str(path))
    assert code == 0, err
    assert out == "valid workflow `flow`\nnodes: 2\nedges: 1\n"


def test_inspect_json_shape(tmp_path: Path) -> None:
    path = tmp_path / "flow.json"
    path.write_text(VALID.replace(', "capacity": 8', ""))
    code, out, _ = invoke("inspect", str(path))
    assert code == 0
    data = json.loads(out)
    assert out == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert data["workflow_id"] == "flow"
    assert data["edges"][0]["capacity"] == {"kind": "default"}
    source = data["nodes"][0]
    assert source == {
        "determinism": "unknown",
        "effects": [],
        "enforcement": "advisory",
        "execution_mode": "native",
        "node_id": "source",
        "ports": [{"capability": "emit", "direction": "output", "port_id": "out", "schema": None}],
        "retry": "unknown",
    }


def test_schema_commands() -> None:
    code, out, _ = invoke("schema", "workflow")
    assert code == 0
    workflow = json.loads(out)
    assert workflow["title"] == "Pureflow workflow document"
    assert workflow["additionalProperties"] is False
    assert workflow["properties"]["pureflow_version"]["const"] == "1"
    code, out, _ = invoke("schema", "wasm-manifest")
    assert code == 0
    manifest = json.loads(out)
    assert manifest["title"] == "Pureflow WASM component manifest"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completions(shell: str) -> None:
    code, out, _ = invoke("completions", shell)
    assert code == 0
    assert "pureflow" in out
    assert "_PUREFLOW_COMPLETE" in out


EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_validate_manifest(tmp_path: Path) -> None:
    component = tmp_path / "guest.wasm"
    component.write_text((EXAMPLES / "wasm-uppercase" / "uppercase.wat").read_text())
    manifest = tmp_path / "m.json"
    workflow = tmp_path / "flow.json"
    workflow.write_text(VALID)

    manifest.write_text('{"components": []}')
    assert (
        invoke("validate-manifest", str(manifest))[1]
        == f"valid manifest `{manifest}`\ncomponents: 0\n"
    )

    manifest.write_text('{"components": [], "extra": 1}')
    code, _, err = invoke("validate-manifest", str(manifest))
    assert code == 1
    assert err.startswith(f"error: failed to decode WASM component manifest `{manifest}`")

    manifest.write_text('{"components": [{"node": "bad node", "component": "guest.wasm"}]}')
    code, _, err = invoke("validate-manifest", str(manifest))
    assert err == (
        "error: CDT-VAL-001: identifier validation failed: node id must not contain whitespace\n"
    )

    manifest.write_text(
        '{"components": [{"node": "a", "component": "guest.wasm"}, '
        '{"node": "a", "component": "guest.wasm"}]}'
    )
    code, _, err = invoke("validate-manifest", str(manifest))
    assert err == "error: invalid WASM component manifest: duplicate component entry for node `a`\n"

    manifest.write_text('{"components": [{"node": "a", "component": "missing.wasm"}]}')
    code, _, err = invoke("validate-manifest", str(manifest))
    assert err == (
        "error: invalid WASM component manifest: component path "
        f"`{tmp_path / 'missing.wasm'}` for node `a` is not readable\n"
    )

    manifest.write_text('{"components": [{"node": "transform", "component": "guest.wasm"}]}')
    code, _, err = invoke("validate-manifest", "--workflow", str(workflow), str(manifest))
    assert err == (
        "error: invalid WASM component manifest: manifest node `transform` does not exist "
        "in workflow `flow`\n"
    )


def test_validate_manifest_rejects_files_that_are_not_components(tmp_path: Path) -> None:
    (tmp_path / "core.wasm").write_bytes(b"\0asm\x01\0\0\0")
    manifest = tmp_path / "m.json"
    manifest.write_text('{"components": [{"node": "a", "component": "core.wasm"}]}')
    code, _, err = invoke("validate-manifest", str(manifest))
    assert code == 1
    assert err.startswith(
        "error: invalid WASM component manifest: component for node `a` cannot be loaded: "
    )
    assert "core WebAssembly module, not a component" in err


def test_wasm_wit_prints_the_batch_world() -> None:
    code, out, _ = invoke("wasm", "wit")
    assert code == 0
    assert "package pureflow:batch@0.1.0;" in out
    assert "invoke: func(inputs: list<port-batch>) -> result<list<port-batch>, batch-error>;" in out


@pytest.mark.parametrize("path", [["run"], ["wasm", "build"], ["validate"]])
def test_help_command_shows_what_dash_dash_help_shows(path: list[str]) -> None:
    code, out, _ = invoke("help", *path)
    assert code == 0
    assert out == invoke(*path, "--help")[1]


def test_help_without_a_command_is_the_top_level_help() -> None:
    assert invoke("help")[1] == invoke("--help")[1]


def test_help_of_an_unknown_command_is_a_usage_error() -> None:
    code, _, err = invoke("help", "nope")
    assert code == 2
    assert "no command `nope`; commands: completions, components" in err


def completion_types(*words: str) -> list[str]:
    """What the shell completion offers for the next word after ``words`` (click's own
    completion protocol, as the generated scripts call it)."""
    from click.shell_completion import ShellComplete

    completer = ShellComplete(cli, {}, "pureflow", "_PUREFLOW_COMPLETE")
    return [item.type for item in completer.get_completions(list(words), "")]


@pytest.mark.parametrize(
    "words",
    [
        ["validate"],
        ["inspect"],
        ["explain"],
        ["graph"],
        ["run"],
        ["run", "flow.json"],
        ["validate-manifest"],
        ["report"],
        ["run", "--wasm-components"],
    ],
)
def test_path_arguments_complete_file_names(words: list[str]) -> None:
    assert completion_types(*words) == ["file"]


def test_inspect_shows_each_wasm_node_limits_and_sandbox(tmp_path: Path) -> None:
    (tmp_path / "guest.wat").write_text((EXAMPLES / "wasm-uppercase" / "uppercase.wat").read_text())
    (tmp_path / "data").mkdir()
    document = {
        "pureflow_version": "1",
        "id": "flow",
        "nodes": [
            {"id": "source", "inputs": [], "outputs": ["out"]},
            {
                "id": "upper",
                "inputs": ["in"],
                "outputs": ["out"],
                "component": "wasm:guest.wat",
                "config": {
                    "fuel": 5000,
                    "memory_limit_bytes": 1048576,
                    "deadline_seconds": 2,
                    "batch_size": 8,
                    "instance": "per-batch",
                    "isolation": "process",
                    "wasi": {"read_dirs": ["data"], "env": ["LANG"]},
                },
            },
            {"id": "sink", "inputs": ["in"], "outputs": []},
        ],
        "edges": [
            {
                "source": {"node": "source", "port": "out"},
                "target": {"node": "upper", "port": "in"},
            },
            {"source": {"node": "upper", "port": "out"}, "target": {"node": "sink", "port": "in"}},
        ],
    }
    workflow = tmp_path / "flow.json"
    workflow.write_text(json.dumps(document))
    code, out, err = invoke("inspect", str(workflow))
    assert code == 0, err
    nodes = {node["node_id"]: node for node in json.loads(out)["nodes"]}
    assert "wasm" not in nodes["source"]
    wasm = nodes["upper"]["wasm"]
    assert wasm == {
        "fuel": 5000,
        "memory_limit_bytes": 1048576,
        "deadline_seconds": 2.0,
        "batch_size": 8,
        "mode": "stream",
        "instance": "per-batch",
        "isolation": "process",
        "can_wait_in_host": False,
        "wasi": {
            "imports": [],
            "read_dirs": [str(tmp_path / "data")],
            "write_dirs": [],
            "env": ["LANG"],
        },
    }
    assert nodes["upper"]["effects"] == ["filesystem_read", "environment_read"]


def test_explain_inspect_graph_and_validate_show_replicas(tmp_path: Path) -> None:
    path = tmp_path / "flow.json"
    document = json.loads(VALID)
    document["nodes"][1].update({"replicas": 3, "partition": {"key": "/user"}})
    path.write_text(json.dumps(document))
    code, out, err = invoke("explain", str(path))
    assert code == 0, err
    assert "  - sink inputs=1 outputs=0 (3 replicas by key /user)\n" in out
    code, out, err = invoke("inspect", str(path))
    assert code == 0, err
    sink = json.loads(out)["nodes"][1]
    assert (sink["replicas"], sink["partition"]) == (3, {"key": "/user"})
    assert "replicas" not in json.loads(out)["nodes"][0]
    code, out, err = invoke("graph", str(path))
    assert code == 0, err
    assert "3 replicas by key /user" in out
    document["nodes"][1]["replicas"] = 0
    path.write_text(json.dumps(document))
    code, _, err = invoke("validate", str(path))
    assert code != 0
    assert "format.replicas" in err or "replicas must be greater than zero" in err
