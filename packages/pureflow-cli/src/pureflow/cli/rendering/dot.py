r"""Graphviz DOT: one HTML-like table per node (inputs left, outputs right), left to right.

Escaping: node names and plain attribute values are DOT quoted strings, in which ``"``
and ``\`` get a backslash (doubling backslashes also keeps Graphviz from reading ``\N``,
``\l`` and friends in labels and tooltips). Node labels are HTML-like labels: ``&``,
``<``, ``>`` and ``"`` become entities, and backslashes are doubled too, because Graphviz
expands ``\N`` and friends in HTML text as well (after decoding entities, so ``&#92;``
would not help). Ports are named ``i0``, ``o0``, ... in the label and on the edges, so
port ids never need escaping there (and never clash with compass points such as ``n`` or
``e``). Graphviz also reads entities in plain labels, so the graph label's ``&`` is
written ``&amp;``. A node id holding a backslash or an entity (``&amp;``) is not spelled
exactly in its DOT node name (only the SVG ``<title>`` shows that); its label shows it exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape as _html

from pureflow.cli.rendering.common import capacity_label, feedback_edges, rule_route_label
from pureflow.workflow import NodeDefinition, WorkflowDefinition

FONT = "Helvetica"
NODE_FILL = "#eef3fb"
FEEDBACK_COLOR = "#b03a2e"


def quote(text: str) -> str:
    """``text`` as a DOT quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def text(value: str) -> str:
    """``value`` as a quoted label: Graphviz reads entities in labels, so ``&`` is one."""
    return quote(value.replace("&", "&amp;"))


def html(value: str) -> str:
    """``value`` for an HTML-like label (entities for ``& < > "``, backslashes doubled)."""
    return _html(value, quote=True).replace("\\", "\\\\")


def node_label(node: NodeDefinition, fill: str = NODE_FILL) -> str:
    """The node's HTML-like label: a table with one input port per row on the left, the
    id (and component) in the middle on ``fill``, one output port per row on the right."""
    inputs, outputs = node.input_ports, node.output_ports
    rows = max(len(inputs), len(outputs), 1)
    title = f"<B>{html(node.id)}</B>"
    if node.component is not None:
        title += f'<BR/><FONT POINT-SIZE="10">{html(node.component)}</FONT>'
    replication = node.replication()
    if replication is not None:
        title += f'<BR/><FONT POINT-SIZE="10">{html(replication)}</FONT>'
    lines = ['<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">']
    for row in range(rows):
        cells = [_port_cell("i", row, inputs, rows)]
        if row == 0:
            span = f' ROWSPAN="{rows}"' if rows > 1 else ""
            cells.append(f'<TD{span} BGCOLOR="{html(fill)}">{title}</TD>')
        cells.append(_port_cell("o", row, outputs, rows))
        lines.append("    <TR>" + "".join(cells) + "</TR>")
    lines.append("  </TABLE>>")
    return "\n".join(lines)


def _port_cell(prefix: str, row: int, ports: tuple[str, ...], rows: int) -> str:
    if row >= len(ports):
        return ""
    span = rows - row if row == len(ports) - 1 else 1
    rowspan = f' ROWSPAN="{span}"' if span > 1 else ""
    align = "LEFT" if prefix == "i" else "RIGHT"
    return f'<TD PORT="{prefix}{row}"{rowspan} ALIGN="{align}">{html(ports[row])}</TD>'


def to_dot(
    workflow: WorkflowDefinition,
    *,
    node_fills: Mapping[str, str] | None = None,
    edge_notes: Sequence[str] | None = None,
) -> str:
    """The workflow as a DOT ``digraph`` (ends with a newline). ``node_fills`` (node id
    to colour) and ``edge_notes`` (a line per edge, in declaration order, added to its
    label) annotate a drawing of a run, as ``pureflow report`` does."""
    feedback = feedback_edges(workflow)
    nodes = {node.id: node for node in workflow.nodes}
    out = [
        f"digraph {quote(workflow.id)} {{",
        f"  graph [rankdir=LR, label={text(workflow.id)}, labelloc=t, fontname={quote(FONT)}];",
        f"  node [shape=plain, fontname={quote(FONT)}];",
        f"  edge [fontname={quote(FONT)}, fontsize=10];",
    ]
    fills = node_fills or {}
    out.extend(
        f"  {quote(node.id)} [label={node_label(node, fills.get(node.id, NODE_FILL))}];"
        for node in workflow.nodes
    )
    for index, edge in enumerate(workflow.edges):
        source, target = edge.source, edge.target
        tail = (
            f"{quote(source.node_id)}:o{nodes[source.node_id].output_ports.index(source.port_id)}"
        )
        head = f"{quote(target.node_id)}:i{nodes[target.node_id].input_ports.index(target.port_id)}"
        label = capacity_label(edge.capacity)
        if edge_notes is not None:
            label = f"{edge_notes[index]}\n{label}"
        routes = rule_route_label(workflow, edge)
        if routes is not None:
            label = f"{routes}, {label}"
        attrs = []
        if index in feedback:
            label = f"feedback, {label}"
            attrs = [
                "style=dashed",
                f"color={quote(FEEDBACK_COLOR)}",
                f"fontcolor={quote(FEEDBACK_COLOR)}",
                "constraint=false",
            ]
        attrs.insert(0, f"label={text(label)}")
        out.append(f"  {tail}:e -> {head}:w [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"
