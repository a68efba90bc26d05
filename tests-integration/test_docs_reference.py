"""The references cover everything they name: every CLI command, metadata record type and
kind, diagnostic, binding, error and exit code, run-summary key, package and example.

Each list comes from the code itself (the click group, the record enums, the code
tuples), so a new command, record kind or code fails here until the docs describe it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import click
import pytest
from integration_support import REPO

sys.path.insert(0, str(REPO / "docs" / "_ext"))

from docs_support import example_pages, page_sources

DOCS = REPO / "docs"
PAGES = page_sources()


def page(name: str) -> str:
    return PAGES[name]


def json_lines(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Every JSON object written one a line in the page's ``json`` blocks."""
    return [
        (line, json.loads(line))
        for block in re.findall(r"```json\n(.*?)\n```", text, re.DOTALL)
        for line in block.splitlines()
        if line.startswith("{") and line.endswith("}")
    ]


# --- the CLI ---------------------------------------------------------------------------


def command_paths(group: click.Group, prefix: str = "") -> list[str]:
    paths = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        paths.append(path)
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, f"{path} "))
    return paths


def cli_commands() -> list[str]:
    from pureflow.cli.main import cli

    return command_paths(cli)


def leaf_commands() -> list[str]:
    commands = cli_commands()
    return [c for c in commands if not any(other.startswith(f"{c} ") for other in commands)]


def test_every_cli_command_is_in_the_cli_reference() -> None:
    text = page("reference/cli.md")
    rows = [line for line in text.splitlines() if line.startswith("| `pureflow ")]
    missing = [
        command
        for command in leaf_commands()
        if not any(re.match(rf"\| `pureflow {re.escape(command)}[ `]", row) for row in rows)
    ]
    assert missing == [], "add a row for each to the table of docs/reference/cli.md"
    # The generated reference walks the same group.
    assert ":module: pureflow.cli.main" in text
    assert ":command: cli" in text


def test_every_cli_command_has_a_sample() -> None:
    samples = "\n".join(
        line
        for text in PAGES.values()
        for block in re.findall(r"```console\n(.*?)\n```", text, re.DOTALL)
        for line in block.splitlines()
        if line.startswith("$ ")
    )
    for command in leaf_commands():
        assert re.search(rf"\bpureflow (?:-\S+ )*{re.escape(command)}\b", samples), (
            f"no console sample runs `pureflow {command}`"
        )


# --- metadata ------------------------------------------------------------------------


def record_kinds() -> dict[str, set[str]]:
    from pureflow.core import (
        EdgeStatisticsKind,
        ErrorRecordKind,
        ExternalEffectKind,
        LifecycleEventKind,
        MessageBoundaryKind,
        QueuePressureKind,
        WarningRecordKind,
    )

    return {
        "execution_context": {"execution_context"},
        "lifecycle": {str(k.value) for k in LifecycleEventKind},
        "message": {str(k.value) for k in MessageBoundaryKind},
        "queue_pressure": {str(k.value) for k in QueuePressureKind},
        "error": {str(k.value) for k in ErrorRecordKind},
        "external_effect": {str(k.value) for k in ExternalEffectKind},
        "rule_eval": {"rule_eval"},
        "edge_statistics": {str(k.value) for k in EdgeStatisticsKind},
        "warning": {str(k.value) for k in WarningRecordKind},
    }


def api_records() -> dict[str, dict[str, Any]]:
    """One record of every type, built through the API, as JSON values."""
    from pureflow.core import (
        EDGE_STATISTICS_FIELDS,
        DeadlockDiagnostic,
        EdgeStatisticsKind,
        EdgeStatisticsRecord,
        ErrorRecord,
        ExecutionContextRecord,
        ExecutionError,
        ExecutionMetadata,
        ExternalEffectRecord,
        LifecycleEventKind,
        LifecycleRecord,
        MessageBoundaryKind,
        MessageEndpoint,
        MessageRecord,
        MessageRoute,
        NodeContext,
        QueuePressureKind,
        QueuePressureRecord,
        RuleEvalRecord,
        WarningRecord,
        WarningRecordKind,
    )
    from pureflow.types import MessageId, PortId, WorkflowId
    from pureflow.workflow import PortDirection

    execution = ExecutionMetadata.first_attempt("run-1")
    ctx = NodeContext.new("flow", "node", execution)
    route = MessageRoute(MessageEndpoint("a", "out"), MessageEndpoint("b", "in"))
    diagnostic = DeadlockDiagnostic(2, 2, 1, 100, "reject_cycles")
    records = [
        ExecutionContextRecord(ctx),
        LifecycleRecord(LifecycleEventKind.NODE_STARTED, ctx),
        MessageRecord(
            MessageBoundaryKind.ENQUEUED, MessageId("m"), WorkflowId("flow"), execution, route
        ),
        QueuePressureRecord(
            QueuePressureKind.RECEIVE_READY, PortDirection.INPUT, PortId("in"), ctx, 1, 8, 0
        ),
        ErrorRecord.workflow_failed(WorkflowId("flow"), execution, ExecutionError("x"), diagnostic),
        ExternalEffectRecord.requested(ctx, "clock", "read", "now"),
        RuleEvalRecord(
            ctx,
            rule_set_id="rs",
            strategy="first_match",
            matched_rule="r",
            action_taken={"kind": "route", "port": "out"},
            rules_evaluated=1,
        ),
        EdgeStatisticsRecord(
            EdgeStatisticsKind.PERIODIC,
            WorkflowId("flow"),
            execution,
            1,
            dict.fromkeys(EDGE_STATISTICS_FIELDS, 0),
        ),
        WarningRecord(
            WarningRecordKind.EVENT_LOOP_BLOCKED,
            WorkflowId("flow"),
            execution,
            node_id="node",
            message="blocked",
            location="node.py:3",
            seconds=1.0,
        ),
    ]
    return {r.record_type: r.to_json_value() for r in records}


def shape_problems(documented: Any, actual: Any, where: str) -> list[str]:
    """Where the documented value has other keys than the real one (``null`` fits any)."""
    if not isinstance(documented, dict) or not isinstance(actual, dict):
        return []
    problems = []
    if set(documented) != set(actual):
        problems.append(f"{where}: keys {sorted(documented)} != {sorted(actual)}")
    for key in set(documented) & set(actual):
        if key == "cancellation":  # a snapshot: active, or requested with its reason
            assert documented[key] in (
                {"state": "active"},
                {**documented[key], "state": "requested"},
            )
            assert set(documented[key]) in ({"state"}, {"reason", "state"}), where
        else:
            problems += shape_problems(documented[key], actual[key], f"{where}.{key}")
    return problems


def test_every_record_type_and_kind_has_a_documented_example() -> None:
    from pureflow.core import FORBIDDEN_KEYS, encode_json_line

    text = page("reference/metadata.md")
    examples = json_lines(text)
    seen = {
        (value["record_type"], value["kind"]) for _, value in examples if "record_type" in value
    }
    expected = {(rt, kind) for rt, kinds in record_kinds().items() for kind in kinds}
    assert sorted(expected - seen) == [], "add an example line for each"
    assert sorted(seen - expected) == [], "examples of kinds that do not exist"
    real = api_records()
    assert set(real) == set(record_kinds())
    for line, value in examples:
        if "record_type" not in value:
            continue
        assert encode_json_line(value) == line + "\n", f"not canonical JSONL: {line}"
        assert not FORBIDDEN_KEYS & set(value), line
        reference = real[value["record_type"]]
        documented = dict(value)
        if value["record_type"] == "error" and isinstance(value.get("diagnostic"), dict):
            # The watchdog adds its extension fields (blocked nodes, edges).
            documented["diagnostic"] = {
                k: v for k, v in value["diagnostic"].items() if k not in {"blocked_nodes", "edges"}
            }
        assert shape_problems(documented, reference, value["record_type"]) == [], line


def test_every_record_type_and_kind_is_in_the_overview_table() -> None:
    text = page("reference/metadata.md")
    for record_type, kinds in record_kinds().items():
        row = re.search(rf"^\| `{record_type}` \|(.*)$", text, re.MULTILINE)
        assert row, f"no row for {record_type}"
        for kind in kinds:
            assert f"`{kind}`" in row.group(1), f"{record_type}: {kind} not in its row"


# --- codes -----------------------------------------------------------------------------


def test_every_diagnostic_and_binding_code_is_documented() -> None:
    from pureflow.engine import BINDING_CODES
    from pureflow.format import DIAGNOSTIC_CODES

    text = page("reference/workflow-document.md")
    for code in (*DIAGNOSTIC_CODES, *BINDING_CODES):
        assert re.search(rf"^\| `{re.escape(code)}` \|", text, re.MULTILINE), code


def test_every_exit_code_is_documented() -> None:
    from pureflow.cli import exit_codes

    text = page("reference/run-summary.md")
    codes = {v for k, v in vars(exit_codes).items() if k.isupper() and isinstance(v, int)}
    assert codes == {0, 1, 2, 3, 4, 130, 143}
    for code in codes:
        assert re.search(rf"^\| {code} \|", text, re.MULTILINE), code


def test_every_error_code_is_documented() -> None:
    import pureflow.wasm
    from pureflow.core import ErrorCode

    summary = page("reference/run-summary.md")
    for code in ErrorCode:
        assert f"| `{code.value}` |" in summary, code
    wasm_codes = {
        cls.code
        for cls in vars(pureflow.wasm).values()
        if isinstance(cls, type)
        and issubclass(cls, pureflow.wasm.WasmError)
        and cls is not pureflow.wasm.WasmError
    }
    assert len(wasm_codes) == 9
    for code in wasm_codes:
        assert f"| `{code}` |" in page("wasm.md"), code


def test_every_run_summary_key_is_documented(tmp_path: Path) -> None:
    document = tmp_path / "flow.workflow.json"
    document.write_text(
        json.dumps(
            {
                "pureflow_version": "1",
                "id": "flow",
                "nodes": [
                    {"id": "a", "inputs": [], "outputs": ["out"]},
                    {"id": "b", "inputs": ["in"], "outputs": []},
                ],
                "edges": [
                    {"source": {"node": "a", "port": "out"}, "target": {"node": "b", "port": "in"}}
                ],
            }
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "pureflow.cli", "run", "--json", str(document)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    report = json.loads(done.stdout)
    text = page("reference/run-summary.md")
    for key, value in report.items():
        assert f"`{key}`" in text or f"`{key}." in text, key
        if isinstance(value, dict) and key != "error":
            for inner in value:
                assert f"`{inner}`" in text or f"`{key}.{inner}`" in text, f"{key}.{inner}"


# --- packages, examples, the build -------------------------------------------------------


def test_every_package_has_an_api_page() -> None:
    mkdocs = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    for source in sorted((REPO / "packages").glob("*/src/pureflow/*/__init__.py")):
        module = source.parent.name
        api = DOCS / "api" / f"{module}.md"
        assert api.is_file(), f"no docs/api/{module}.md"
        assert f"::: pureflow.{module}\n" in api.read_text(encoding="utf-8")
        assert f"api/{module}.md" in mkdocs, f"api/{module}.md is not in the nav"
        assert f"packages/{source.parents[3].name}/src" in mkdocs, "not on mkdocstrings' path"


def test_every_example_has_a_page() -> None:
    folders = sorted(p.name for p in (REPO / "examples").iterdir() if p.is_dir())
    folders = [f for f in folders if not f.startswith((".", "_"))]
    assert [p.name for p in example_pages()] == folders, "every example needs a README.md"
    for example in example_pages():
        assert example.uri in PAGES
        assert example.summary.strip(" ."), f"{example.name}: README has no first paragraph"


def test_the_docs_env_and_the_default_env_build_the_same_site() -> None:
    hatch = tomllib.loads((REPO / "hatch.toml").read_text(encoding="utf-8"))
    default = set(hatch["envs"]["default"]["dependencies"])
    docs = set(hatch["envs"]["docs"]["dependencies"])
    assert docs <= default, sorted(docs - default)
    assert "docs" in hatch["envs"]["default"]["scripts"]["check"]
    assert "mkdocs build --strict" in hatch["envs"]["default"]["scripts"]["docs"]
    assert "mkdocs build --strict" in hatch["envs"]["docs"]["scripts"]["build"]


def test_the_changelog_and_the_version_policy_are_published() -> None:
    assert "changelog.md" in PAGES
    assert "(docs/versioning.md)" not in PAGES["changelog.md"], "links must be rewritten"
    assert "versioning.md" in (REPO / "mkdocs.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(p for p in PAGES if not p.startswith("api/")))
def test_pages_have_one_title(name: str) -> None:
    titles = re.findall(r"^# .+$", re.sub(r"```.*?```", "", PAGES[name], flags=re.DOTALL), re.M)
    assert len(titles) == 1, (name, titles)


# --- rendering ---------------------------------------------------------------------------


def test_no_table_cell_relies_on_an_escaped_pipe() -> None:
    """``\\|`` inside a code span of a table renders as a literal backslash and bar on the
    site (Python-Markdown does not unescape it there, unlike GitHub): say it in words."""
    texts = dict(PAGES) | {"README.md": (REPO / "README.md").read_text(encoding="utf-8")}
    found = [
        f"{name}:{number}"
        for name, text in texts.items()
        for number, line in enumerate(text.splitlines(), start=1)
        if line.lstrip().startswith("|") and "\\|" in line
    ]
    assert not found, found
