"""Rule nodes through the commands: validate (errors and warnings), inspect, graph, run with
a native rule set and with a WebAssembly rules guest, and the rules WIT."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from pureflow.cli import cli

GUESTS = Path(__file__).resolve().parents[2] / "pureflow-wasm" / "tests" / "guests"


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args], prog_name="pureflow")
    return result.exit_code, result.stdout, result.stderr


def rule(rule_id: str, condition: Any, action: Any, priority: int) -> dict[str, Any]:
    return {
        "id": rule_id,
        "condition": condition,
        "action": action,
        "priority": priority,
        "description": "",
    }


def router(rules: list[dict[str, Any]], default: Any = "Drop", **node: Any) -> dict[str, Any]:
    return {
        "pureflow_version": "1",
        "id": "orders",
        "nodes": [
            {"id": "source", "inputs": [], "outputs": ["out"]},
            {
                "id": "router",
                "inputs": ["in"],
                "outputs": ["big", "small"],
                "rule_set": {
                    "id": "by-size",
                    "strategy": "FirstMatch",
                    "rules": rules,
                    "default_action": default,
                    "trace_conditions": False,
                },
                **node,
            },
            {"id": "big-sink", "inputs": ["in"], "outputs": []},
            {"id": "small-sink", "inputs": ["in"], "outputs": []},
        ],
        "edges": [
            {
                "source": {"node": "source", "port": "out"},
                "target": {"node": "router", "port": "in"},
            },
            {
                "source": {"node": "router", "port": "big"},
                "target": {"node": "big-sink", "port": "in"},
            },
            {
                "source": {"node": "router", "port": "small"},
                "target": {"node": "small-sink", "port": "in"},
            },
        ],
    }


BIG = rule("big", {"FieldGte": {"path": "amount", "value": {"Integer": 100}}}, {"Route": "big"}, 1)


def write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "orders.workflow.json"
    path.write_text(json.dumps(document, indent=2))
    return path


def test_validate_rejects_a_route_to_a_missing_port_with_its_location(tmp_path: Path) -> None:
    nope = rule("lost", "Always", {"Route": "nope"}, 2)
    path = write(tmp_path, router([BIG, nope]))
    code, out, err = invoke("validate", path)
    assert code == 1
    assert out == ""
    message = (
        "workflow validation failed: rule set `by-size` rule `lost` routes to output port "
        "`nope` not declared on node `router`"
    )
    first, listed = err.splitlines()
    assert first == f"error: workflow JSON is invalid: {message}"
    text = path.read_text().splitlines()
    line = next(i for i, t in enumerate(text) if '"Route": "nope"' in t)  # after `"action": {`
    column = text[line - 1].index("{") + 1
    assert listed == (
        f"  {path}:{line}:{column}: rule_set.unknown_route_port: {message} "
        "(at /nodes/1/rule_set/rules/1/action)"
    )
    code, out, err = invoke("explain", path)
    assert code == 1
    assert err.splitlines()[0] == f"error: {message}"


def test_every_rule_set_problem_is_listed_with_line_and_column(tmp_path: Path) -> None:
    bad_default = router([BIG], default={"DeadLetter": "why"})
    bad_default["nodes"][0]["rule_set"] = {"id": "x"}
    path = write(tmp_path, bad_default)
    code, _, err = invoke("validate", path)
    assert code == 1
    lines = err.splitlines()
    assert "rule_set.parse" in lines[1]
    assert "(at /nodes/0/rule_set)" in lines[1]
    assert "rule_set.missing_dead_letter_port" in lines[2]
    assert "(at /nodes/1/rule_set/default_action)" in lines[2]
    assert lines[2].split(": ")[0].startswith(f"  {path}:")  # file:line:column


def test_unreachable_rules_are_warnings(tmp_path: Path) -> None:
    catch_all = rule("catch-all", "Always", {"Route": "small"}, 1)
    path = write(tmp_path, router([catch_all, BIG]))
    code, out, err = invoke("validate", path)
    assert code == 0
    assert out == "valid workflow `orders`\nnodes: 4\nedges: 3\n"
    (warning,) = err.splitlines()
    assert warning.startswith(f"warning: {path}:")
    assert warning.endswith(
        "node `router`: rule set `by-size` rule `big` can never apply: shadowed by "
        "always-matching rule `catch-all` (at /nodes/1/rule_set/rules/1)"
    )


def test_inspect_and_graph_show_the_rules(tmp_path: Path) -> None:
    path = write(tmp_path, router([BIG], default={"Route": "small"}))
    code, out, _ = invoke("inspect", path)
    assert code == 0
    nodes = {n["node_id"]: n for n in json.loads(out)["nodes"]}
    assert nodes["router"]["rule_set"]["rules"][0]["id"] == "big"
    assert nodes["router"]["rule_set"]["default_action"] == {"Route": "small"}
    assert "rule_set" not in nodes["source"]
    code, out, _ = invoke("graph", path)
    assert code == 0
    assert '|"big → in<br/>rules: big<br/>cap 1 (default)"|' in out
    assert '|"small → in<br/>rules: default<br/>cap 1 (default)"|' in out
    code, out, _ = invoke("graph", "--format", "dot", path)
    assert 'label="rules: big, cap 1 (default)"' in out


def test_run_routes_with_the_native_rules(tmp_path: Path) -> None:
    path = write(tmp_path, router([BIG], default={"Route": "small"}))
    metadata = tmp_path / "run.jsonl"
    code, out, err = invoke("run", path, metadata)
    assert code == 0, err
    lines = [json.loads(line) for line in metadata.read_text().splitlines()]
    (record,) = [r for r in lines if r["record_type"] == "rule_eval"]
    # The demo source sends bytes: no fields, so the default action routes it.
    assert record["matched_rule"] is None
    assert record["action_taken"] == {"kind": "route", "port": "small"}
    assert f"records: {len(lines)}\n" in out


def _rules_echo_wasm() -> bytes:
    spec = importlib.util.spec_from_file_location("cli_rules_wat", GUESTS / "rules_wat.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return bytes(module.guest_wasm("rules_echo"))


def test_a_rule_node_can_name_a_rules_guest(tmp_path: Path) -> None:
    (tmp_path / "echo.wasm").write_bytes(_rules_echo_wasm())
    document = router([BIG], default={"Route": "big"}, component="wasm:echo.wasm")
    document["nodes"][1]["config"] = {"fuel": 1_000_000}
    path = write(tmp_path, document)
    code, _, err = invoke("validate", path)
    assert code == 0, err
    metadata = tmp_path / "run.jsonl"
    code, out, err = invoke("run", path, metadata)
    assert code == 0, err
    assert "status: completed" in out
    lines = [json.loads(line) for line in metadata.read_text().splitlines()]
    (record,) = [r for r in lines if r["record_type"] == "rule_eval"]
    # The echo guest answers with the default action.
    assert record["action_taken"] == {"kind": "route", "port": "big"}
    delivered = [
        r["message"]["route"]["target"]["node_id"]
        for r in lines
        if r["record_type"] == "message" and r["kind"] == "dequeued"
    ]
    assert delivered == ["router", "big-sink"]
    code, _, err = invoke("inspect", path)
    assert code == 0, err


def test_a_rule_node_cannot_name_a_python_component(tmp_path: Path) -> None:
    path = write(tmp_path, router([BIG], component="python:os:getcwd"))
    code, _, err = invoke("validate", path)
    assert code == 1
    assert "binding.rule_node_component" not in err.splitlines()[0]
    assert "a node with a rule set runs the rules itself" in err


def test_the_rules_wit() -> None:
    code, out, _ = invoke("wasm", "wit", "--world", "rules")
    assert code == 0
    assert "package pureflow:rules@0.1.0;" in out
    assert "world pureflow-rules-node { export rules; }" in out
    code, out, _ = invoke("wasm", "wit")
    assert "package pureflow:batch@0.1.0;" in out
