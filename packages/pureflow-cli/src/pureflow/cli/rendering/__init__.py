"""Drawing a workflow graph as text: Mermaid (:func:`to_mermaid`) and Graphviz DOT
(:func:`to_dot`), for ``pureflow graph``.

Both show every node with its id, its component (if any) and its ports, and every edge
with its ports and capacity; edges that close a cycle (feedback loops) are drawn dashed.
Identifiers may hold any character but whitespace and control characters, so every id
is escaped for the language it lands in; the generated node names in Mermaid are
synthetic (``n0``, ``n1``, ...) and the labels carry the real ids.
"""

from pureflow.cli.rendering.common import capacity_label, feedback_edges
from pureflow.cli.rendering.dot import to_dot
from pureflow.cli.rendering.mermaid import to_mermaid

__all__ = ["capacity_label", "feedback_edges", "to_dot", "to_mermaid"]
