"""Mermaid ``flowchart LR``: a box per node listing its ports, a labelled arrow per edge.

Mermaid has no ports, so each node's label lists them (``in: ...`` / ``out: ...``) and
each edge's label names the two ports it joins (and, leaving a rule node, the rules that
route there: ``rules: high-value, default``). Node names are synthetic (``n0``,
``n1``, ... in declaration order): Mermaid ids cannot hold most punctuation, and words
such as ``end`` are keywords. Labels are quoted strings in which every character Mermaid
could read as syntax is written as an entity code (``#35;`` for ``#``, ``#quot;`` for
``"``, ...). Feedback-loop edges are dotted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import partial

from pureflow.cli.rendering.common import capacity_label, feedback_edges, rule_route_label
from pureflow.workflow import NodeDefinition, WorkflowDefinition

# `#` first in spirit: every other escape introduces a `#`, and a literal `#` must never
# be able to start an entity code of its own.
_ESCAPES = {
    "#": "#35;",
    '"': "#quot;",
    "&": "#amp;",
    "<": "#lt;",
    ">": "#gt;",
    "`": "#96;",
    "|": "#124;",
    "\\": "#92;",
    "%": "#37;",
}
_SPECIAL = re.compile("[" + re.escape("".join(_ESCAPES)) + "]")
# Mermaid drops the last `;` of a line matching `style.*:\S*#.*;` or
# `classDef.*:\S*#.*;` (its pre-processing for style statements), which would break the
# entity codes above: on such lines every `:` of an id is written as an entity too.
_STYLE_LIKE = re.compile("style|classDef")


def text(value: str, *, colons: bool = False) -> str:
    """``value`` for a quoted Mermaid label."""
    escaped = _SPECIAL.sub(lambda match: _ESCAPES[match.group()], value)
    return escaped.replace(":", "#58;") if colons else escaped


def node_label(node: NodeDefinition, *, colons: bool = False) -> str:
    parts = [text(node.id, colons=colons)]
    if node.component is not None:
        parts.append(f"({text(node.component, colons=colons)})")
    replication = node.replication()
    if replication is not None:
        parts.append(text(replication, colons=colons))
    if node.input_ports:
        parts.append("in: " + ", ".join(text(p, colons=colons) for p in node.input_ports))
    if node.output_ports:
        parts.append("out: " + ", ".join(text(p, colons=colons) for p in node.output_ports))
    return "<br/>".join(parts)


def _guarded(build: Callable[[bool], str]) -> str:
    """Build a statement; rebuild it with colons escaped if it looks like a style line."""
    line = build(False)
    return build(True) if _STYLE_LIKE.search(line) else line


def to_mermaid(workflow: WorkflowDefinition) -> str:
    """The workflow as a Mermaid flowchart (ends with a newline)."""
    feedback = feedback_edges(workflow)
    names = {node.id: f"n{index}" for index, node in enumerate(workflow.nodes)}
    out = [
        "---",
        f"title: {json.dumps(str(workflow.id), ensure_ascii=False)}",
        "---",
        "flowchart LR",
    ]

    def node_line(node: NodeDefinition, colons: bool) -> str:
        return f'    {names[node.id]}["{node_label(node, colons=colons)}"]'

    def edge_line(index: int, colons: bool) -> str:
        edge = workflow.edges[index]
        source = text(edge.source.port_id, colons=colons)
        target = text(edge.target.port_id, colons=colons)
        ports = f"{source} → {target}"
        label = f"{ports}<br/>{capacity_label(edge.capacity)}"
        routes = rule_route_label(workflow, edge)
        if routes is not None:
            label = f"{ports}<br/>{text(routes, colons=colons)}<br/>{capacity_label(edge.capacity)}"
        arrow = "-->"
        if index in feedback:
            label, arrow = f"feedback<br/>{label}", "-.->"
        return f'    {names[edge.source.node_id]} {arrow}|"{label}"| {names[edge.target.node_id]}'

    out.extend(_guarded(partial(node_line, node)) for node in workflow.nodes)
    out.extend(_guarded(partial(edge_line, index)) for index in range(len(workflow.edges)))
    return "\n".join(out) + "\n"
