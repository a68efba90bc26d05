"""Canonical JSON for raw documents: the original's encoder, plus the extensions.

Pretty JSON with a 2-space indent and raw UTF-8, no trailing newline. Keys come in
struct order: ``pureflow_version, id, nodes, edges`` (then ``cycles``, only when set);
``id, inputs, outputs`` then ``component``, ``config``, ``rule_set``, ``rule_set_ref``,
``replicas``, ``partition`` (each only when set) for nodes; ``source, target, capacity``
for edges; ``node, port`` for endpoints. ``pureflow_version`` and ``capacity`` are
always written (``null`` when absent). ``rule_set`` and ``config`` objects are written
with sorted keys, as serde's ``Value`` does. Parsing the output gives back an equal raw document.
"""

from __future__ import annotations

import json
from typing import Any

from pureflow.format.documents import RawEdge, RawNode, RawWorkflowDocument


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def _node(node: RawNode) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": node.id,
        "inputs": list(node.inputs),
        "outputs": list(node.outputs),
    }
    if node.component is not None:
        out["component"] = node.component
    if node.config is not None:
        out["config"] = _sorted(node.config)
    if node.rule_set is not None:
        out["rule_set"] = _sorted(node.rule_set)
    if node.rule_set_ref is not None:
        out["rule_set_ref"] = node.rule_set_ref
    if node.replicas is not None:
        out["replicas"] = node.replicas
    if node.partition is not None:
        out["partition"] = _sorted(node.partition)
    return out


def _edge(edge: RawEdge) -> dict[str, Any]:
    return {
        "source": {"node": edge.source.node, "port": edge.source.port},
        "target": {"node": edge.target.node, "port": edge.target.port},
        "capacity": edge.capacity,
    }


def raw_to_json_value(raw: RawWorkflowDocument) -> dict[str, Any]:
    """The canonical JSON value of a raw document (what :func:`raw_to_canonical_json` writes)."""
    out: dict[str, Any] = {
        "pureflow_version": raw.pureflow_version,
        "id": raw.id,
        "nodes": [_node(node) for node in raw.nodes],
        "edges": [_edge(edge) for edge in raw.edges],
    }
    if raw.cycles is not None:
        out["cycles"] = raw.cycles
    return out


def raw_to_canonical_json(raw: RawWorkflowDocument) -> str:
    """The canonical pretty JSON text of a raw document (no trailing newline)."""
    return json.dumps(raw_to_json_value(raw), indent=2, ensure_ascii=False)
