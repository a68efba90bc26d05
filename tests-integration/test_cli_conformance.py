"""`pureflow validate` and `explain` on every example of the original print what the
reference (upstream-spec-5-cli.md §9) says they print."""

from __future__ import annotations

from pathlib import Path

import pytest
from integration_support import CONFORMANCE, pureflow

EXPLAIN_HEADER = (
    "status: valid\n"
    "nodes: {nodes}\n"
    "edges: {edges}\n"
    "execution: native-registry\n"
    "metadata: jsonl lifecycle, message, and queue-pressure records with tiered "
    "control-only policy\n"
)

# document -> (workflow id, node lines, edge lines, topological order), from the reference.
EXAMPLES: dict[str, tuple[str, list[str], list[str], str]] = {
    "native-linear-etl.workflow.json": (
        "native-linear-etl",
        ["source 0/1", "transform 1/1", "sink 1/0"],
        ["source.rows -> transform.rows 2", "transform.cleaned -> sink.cleaned 2"],
        "source -> transform -> sink",
    ),
    "wasm-uppercase.workflow.json": (
        "wasm-uppercase",
        ["source 0/1", "wasm-upper 1/1", "sink 1/0"],
        ["source.out -> wasm-upper.in 8", "wasm-upper.out -> sink.in 8"],
        "source -> wasm-upper -> sink",
    ),
    "authoring/native-fanout.workflow.json": (
        "authoring-native-fanout",
        ["source 0/1", "branch 1/2", "sink 1/0", "audit-log 1/0"],
        [
            "source.rows -> branch.rows 4",
            "branch.clean -> sink.clean 2",
            "branch.audit -> audit-log.audit 1",
        ],
        "source -> branch -> audit-log -> sink",
    ),
    "authoring/native-join.workflow.yaml": (
        "authoring-native-join",
        ["left-source 0/1", "right-source 0/1", "join 2/1", "sink 1/0"],
        [
            "left-source.left -> join.left 2",
            "right-source.right -> join.right 2",
            "join.joined -> sink.joined 2",
        ],
        "left-source -> right-source -> join -> sink",
    ),
    "authoring/wasm-uppercase.workflow.json": (
        "authoring-wasm-uppercase",
        ["source 0/1", "wasm-upper 1/1", "sink 1/0"],
        ["source.out -> wasm-upper.in 8", "wasm-upper.out -> sink.in 8"],
        "source -> wasm-upper -> sink",
    ),
    "workloads/fanout-fanin.workflow.json": (
        "fanout-fanin-workload",
        ["source 0/1", "splitter 1/1", "left-enrich 1/1", "right-enrich 1/1", "collector 1/0"],
        [
            "source.rows -> splitter.rows 1",
            "splitter.row -> left-enrich.row 1",
            "splitter.row -> right-enrich.row 1",
            "left-enrich.enriched -> collector.enriched 1",
            "right-enrich.enriched -> collector.enriched 1",
        ],
        "source -> splitter -> left-enrich -> right-enrich -> collector",
    ),
    "workloads/stream-join-window.workflow.json": (
        "stream-join-window-workload",
        ["event-source 0/1", "profile-source 0/1", "join-window 2/1", "sink 1/0"],
        [
            "event-source.events -> join-window.events 1",
            "profile-source.profiles -> join-window.profiles 1",
            "join-window.joined -> sink.joined 1",
        ],
        "event-source -> profile-source -> join-window -> sink",
    ),
    "workloads/replay-branch-eval.workflow.json": (
        "replay-branch-eval-workload",
        ["source 0/1", "branch-a 1/1", "branch-b 1/1", "evaluator 2/0"],
        [
            "source.out -> branch-a.in 4",
            "source.out -> branch-b.in 4",
            "branch-a.out -> evaluator.a 4",
            "branch-b.out -> evaluator.b 4",
        ],
        "source -> branch-a -> branch-b -> evaluator",
    ),
    "workloads/ai-call-orchestration.workflow.json": (
        "ai-call-orchestration-workload",
        ["prompter 0/1", "llm-mock 1/1", "tool-executor 1/1", "finalizer 1/1", "collector 1/0"],
        [
            "prompter.prompt -> llm-mock.prompt 4",
            "llm-mock.tool-call -> tool-executor.call 4",
            "tool-executor.result -> finalizer.context 4",
            "finalizer.response -> collector.response 4",
        ],
        "prompter -> llm-mock -> tool-executor -> finalizer -> collector",
    ),
    "workloads/watcher-cancellation.workflow.json": (
        "watcher-cancellation-workload",
        ["change-source 0/1", "shutdown-controller 1/1", "watcher 2/0"],
        [
            "change-source.changes -> watcher.changes 1",
            "change-source.changes -> shutdown-controller.changes 1",
            "shutdown-controller.control -> watcher.control 1",
        ],
        "change-source -> shutdown-controller -> watcher",
    ),
    "workloads/rules-content-routing.workflow.json": (
        "rules-content-routing",
        [
            "source 0/1",
            "router-inline 1/3",
            "router-sidecar 1/3",
            "high-sink 1/0",
            "fast-sink 1/0",
            "standard-sink 1/0",
        ],
        [
            f"{src}.{port} -> {dst}.in default"
            for src, port, dst in [
                ("source", "payments", "router-inline"),
                ("source", "payments", "router-sidecar"),
                ("router-inline", "high-value-out", "high-sink"),
                ("router-inline", "fast-path-out", "fast-sink"),
                ("router-inline", "standard-out", "standard-sink"),
                ("router-sidecar", "high-value-out", "high-sink"),
                ("router-sidecar", "fast-path-out", "fast-sink"),
                ("router-sidecar", "standard-out", "standard-sink"),
            ]
        ],
        "source -> router-inline -> router-sidecar -> fast-sink -> high-sink -> standard-sink",
    ),
}

DASH, ARROW = "\u2014", "\u2192"
RULE_LINES = [
    f"    rule high-value (priority 10) {DASH} if amount >= 10000 [payload] {ARROW} "
    "Route(high-value-out)",
    f'    rule priority-tagged (priority 20) {DASH} if tag priority="high" [tag] {ARROW} '
    "Route(fast-path-out)",
    f"    rule standard (priority 30) {DASH} if always [constant] {ARROW} Route(standard-out)",
    f"    default {ARROW} Drop",
]
RULES_TAIL = (
    "rule routing:\n"
    "  node router-inline: rule set `payment-router` strategy first-match\n"
    + "\n".join(RULE_LINES)
    + "\n  node router-sidecar: rule set `payment-router-audit` strategy first-match\n"
    + "\n".join(RULE_LINES)
    + "\n"
)


def test_every_conformance_document_is_covered() -> None:
    documents = {str(p.relative_to(CONFORMANCE)) for p in CONFORMANCE.rglob("*.workflow.*")}
    assert documents == set(EXAMPLES)


@pytest.mark.parametrize("document", sorted(EXAMPLES))
def test_validate_prints_id_and_counts(document: str) -> None:
    workflow_id, nodes, edges, _ = EXAMPLES[document]
    result = pureflow("validate", CONFORMANCE / document)
    assert result.exit_code == 0, result.stderr
    assert (
        result.stdout
        == f"valid workflow `{workflow_id}`\nnodes: {len(nodes)}\nedges: {len(edges)}\n"
    )
    assert result.stderr == ""


@pytest.mark.parametrize("document", sorted(EXAMPLES))
def test_explain_prints_the_reference_layout(document: str) -> None:
    workflow_id, nodes, edges, order = EXAMPLES[document]
    result = pureflow("explain", CONFORMANCE / document)
    assert result.exit_code == 0, result.stderr
    node_lines = "".join(
        f"  - {name} inputs={counts.split('/')[0]} outputs={counts.split('/')[1]}\n"
        for name, counts in (line.split(" ") for line in nodes)
    )
    edge_lines = "".join(
        f"  - {line.rsplit(' ', 1)[0]} capacity={line.rsplit(' ', 1)[1]}\n" for line in edges
    )
    routing = RULES_TAIL if "rules" in document else "rule routing: none\n"
    expected = (
        f"workflow `{workflow_id}`\n"
        + EXPLAIN_HEADER.format(nodes=len(nodes), edges=len(edges))
        + "node order:\n"
        + node_lines
        + "edges:\n"
        + edge_lines
        + routing
    )
    # The original's text is kept exactly; Pureflow for Python adds the topological order.
    assert result.stdout == expected + f"topological order: {order}\n"


def test_explain_reports_format_errors_without_the_document_prefix(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"pureflow_version": "1", "id": "flow", "nodes": [], "edges": ['
        '{"source": {"node": "a", "port": "o"}, "target": {"node": "b", "port": "i"}}]}'
    )
    explain = pureflow("explain", bad)
    validate = pureflow("validate", bad)
    assert explain.exit_code == validate.exit_code == 1
    message = "workflow validation failed: edge 0 source references unknown node `a`"
    assert explain.stderr.splitlines()[0] == f"error: {message}"
    assert validate.stderr.splitlines()[0] == f"error: workflow JSON is invalid: {message}"
