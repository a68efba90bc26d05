"""Raw document to validated workflow: the format-level checks, every problem reported.

The checks run in the original's order (spec-1 §3.2) and the first diagnostic is the one
the original reported; the rest follow in the same order:

1. the version (``format.missing_version``, ``format.unsupported_version``);
2. the workflow id (``format.identifier``);
3. each node in order: its id, each input port, each output port, duplicate ports
   (``graph.duplicate_port``), then the ``component`` extension (``format.component``),
   then ``replicas`` and ``partition`` (``format.replicas``);
4. each edge in order: source node, source port, target node, target port, capacity
   (``format.capacity``);
5. the graph (``graph.*`` codes from :func:`pureflow.workflow.graph.graph_errors`);
6. each node's rule set, in node order: the rule set itself (``rule_set.conflict``,
   ``rule_set.parse``, ``rule_set.resolve``; the node then carries none), then whether it
   fits its node (the other ``rule_set.*`` codes, located at the rule's action or
   condition, the default action, or the ``rule_set_ref`` of a referenced rule set).

The graph check still runs when earlier checks failed, over the parts that are valid:
nodes with a valid id (keeping their valid ports, each once) and edges whose four
identifiers are valid. So it never reports a problem that the earlier ones caused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from pureflow.format.diagnostics import (
    FORMAT_CAPACITY,
    FORMAT_COMPONENT,
    FORMAT_IDENTIFIER,
    FORMAT_MISSING_VERSION,
    FORMAT_REPLICAS,
    FORMAT_UNSUPPORTED_VERSION,
    Diagnostic,
    WorkflowDocumentError,
    pointer,
    shown,
)
from pureflow.format.documents import (
    COMPONENT_PREFIXES,
    CURRENT_PUREFLOW_VERSION,
    RawEdge,
    RawNode,
    RawWorkflowDocument,
)
from pureflow.format.formats import DocumentFormat
from pureflow.format.gcpause import paused_gc
from pureflow.format.locations import Locator
from pureflow.format.rule_sources import (
    SourceRegistry,
    resolve_node_rule_set,
    rule_set_diagnostic,
)
from pureflow.types import Identifier, IdentifierError, NodeId, PortId, WorkflowId
from pureflow.workflow import (
    CycleDetected,
    CyclePolicy,
    DuplicateNode,
    EdgeCapacity,
    EdgeDefinition,
    EdgeEndpoint,
    NodeDefinition,
    RuleSetViolation,
    UnknownNode,
    UnknownPort,
    WorkflowDefinition,
    WorkflowGraph,
    WorkflowValidationError,
)
from pureflow.workflow.errors import DuplicatePort
from pureflow.workflow.graph import graph_errors

if TYPE_CHECKING:
    from pureflow.rules import RuleSet

IdT = TypeVar("IdT", bound=Identifier)
Parts = tuple[str | int, ...]


class _Collector:
    def __init__(self, locator: Locator | None) -> None:
        self.locator = locator
        self.diagnostics: list[Diagnostic] = []
        self._ids: dict[tuple[Callable[[str], Identifier], str], Identifier | IdentifierError] = {}

    def add(self, code: str, message: str, parts: Parts) -> None:
        position = self.locator.position(parts) if self.locator is not None else None
        line, column = position if position is not None else (None, None)
        self.diagnostics.append(Diagnostic(code, message, pointer(parts), line, column))

    def identifier(
        self, factory: Callable[[str], IdT], value: str, context: str, parts: Parts
    ) -> IdT | None:
        # Documents repeat ids (every edge names two nodes and two ports): validate each
        # distinct text once per kind.
        key = (factory, value)
        known = self._ids.get(key)
        if known is None:
            try:
                known = factory(value)
            except IdentifierError as err:
                known = err
            self._ids[key] = known
        if isinstance(known, IdentifierError):
            self.add(FORMAT_IDENTIFIER, f"{context} is invalid: {known}", parts)
            return None
        return known  # type: ignore[return-value]

    def graph(self, err: WorkflowValidationError, parts: Parts) -> None:
        self.add(err.code, f"workflow validation failed: {err}", parts)


def component_problem(component: str) -> str | None:
    """Why a ``component`` value is malformed, or None when it is well formed."""
    for prefix in COMPONENT_PREFIXES:
        if component.startswith(prefix):
            if len(component) == len(prefix):
                return f"component `{shown(component)}` names nothing after `{prefix}`"
            return None
    return f"component `{shown(component)}` must start with one of `python:`, `builtin:`, `wasm:`"


class _RuleSets:
    """Each node's rule set, resolved once; problems kept apart (reported last)."""

    def __init__(self, raw: RawWorkflowDocument, registry: SourceRegistry | None) -> None:
        self.raw = raw
        self.registry = registry
        self.problems: list[Diagnostic] = []

    def resolve(self, index: int) -> RuleSet | None:
        node = self.raw.nodes[index]
        if node.rule_set is None and node.rule_set_ref is None:
            return None
        if self.registry is None:
            self.registry = SourceRegistry()
        outcome = resolve_node_rule_set(index, node.rule_set, node.rule_set_ref, self.registry)
        if isinstance(outcome, tuple):  # a RuleSetProblem
            self.problems.append(rule_set_diagnostic(self.raw, index, outcome))
            return None
        return outcome

    def location(self, index: int, violation: RuleSetViolation) -> Parts:
        """Where ``violation`` of node ``index``'s rule set is in the document."""
        return rule_location(self.raw, index, violation.site.index, violation.part)


def rule_location(
    raw: RawWorkflowDocument, node_index: int, rule_index: int | None, part: str | None = None
) -> Parts:
    """Where a rule of node ``node_index``'s rule set is in the document, as path parts.

    ``rule_index`` is the rule's position in evaluation order (``None``: the default
    action); ``part`` (``"action"``, ``"condition"``) narrows it. A referenced rule set
    points at the node's ``rule_set_ref``. For a rule set that parsed.
    """
    node = raw.nodes[node_index]
    if node.rule_set is None:
        return ("nodes", node_index, "rule_set_ref")
    here: Parts = ("nodes", node_index, "rule_set")
    if rule_index is None:
        return (*here, "default_action")
    # The parsed rules are the document's, stable-sorted by priority: undo the sort.
    raw_rules = node.rule_set["rules"]
    order = sorted(range(len(raw_rules)), key=lambda i: raw_rules[i]["priority"])
    where: Parts = (*here, "rules", order[rule_index])
    return where if part is None else (*where, part)


def workflow_diagnostics(
    raw: RawWorkflowDocument,
    rule_sources: SourceRegistry | None = None,
) -> tuple[WorkflowDefinition | None, list[Diagnostic]]:
    """The validated workflow (None if anything is wrong) and every problem found.

    ``rule_sources`` resolves ``rule_set_ref`` (default: relative to the current directory).
    """
    out = _Collector(raw.locator)
    rule_sets = _RuleSets(raw, rule_sources)
    _check_version(raw, out)
    workflow_id = out.identifier(WorkflowId, raw.id, "workflow id", ("id",))
    nodes, node_indexes = _nodes(raw, out, rule_sets)
    edges, edge_indexes = _edges(raw, out)
    cycles = CyclePolicy.ALLOW if raw.cycles == "allow" else CyclePolicy.REJECT
    if not out.diagnostics and not rule_sets.problems and workflow_id is not None:
        try:
            graph = WorkflowGraph(nodes, edges, cycles=cycles)
        except WorkflowValidationError:
            pass
        else:
            return WorkflowDefinition(workflow_id, graph), []
    _graph(
        raw,
        nodes=nodes,
        node_indexes=node_indexes,
        edges=edges,
        edge_indexes=edge_indexes,
        cycles=cycles,
        out=out,
        rule_sets=rule_sets,
    )
    return None, out.diagnostics


def to_workflow(
    raw: RawWorkflowDocument, rule_sources: SourceRegistry | None = None
) -> WorkflowDefinition:
    """Validate a raw document; raise :class:`WorkflowDocumentError` listing every problem."""
    with paused_gc():
        workflow, diagnostics = workflow_diagnostics(raw, rule_sources)
    if workflow is None:
        format_ = raw.source_format or DocumentFormat.JSON
        raise WorkflowDocumentError(format_, "format", diagnostics)
    return workflow


def _check_version(raw: RawWorkflowDocument, out: _Collector) -> None:
    version = raw.pureflow_version
    if version is None:
        out.add(FORMAT_MISSING_VERSION, "workflow document is missing pureflow_version", ())
    elif version != CURRENT_PUREFLOW_VERSION:
        out.add(
            FORMAT_UNSUPPORTED_VERSION,
            f"workflow document uses unsupported pureflow_version `{shown(version)}`",
            ("pureflow_version",),
        )


def _nodes(
    raw: RawWorkflowDocument, out: _Collector, rule_sets: _RuleSets
) -> tuple[list[NodeDefinition], list[int]]:
    nodes: list[NodeDefinition] = []
    indexes: list[int] = []
    for index, node in enumerate(raw.nodes):
        node_id = out.identifier(NodeId, node.id, f"node {index} id", ("nodes", index, "id"))
        ports: dict[str, list[PortId]] = {"inputs": [], "outputs": []}
        seen: set[str] = set()
        for field, label in (("inputs", "input"), ("outputs", "output")):
            for port_index, text in enumerate(getattr(node, field)):
                parts: Parts = ("nodes", index, field, port_index)
                port = out.identifier(
                    PortId, text, f"node {index} {label} port {port_index}", parts
                )
                if port is None:
                    continue
                if port in seen:
                    if node_id is not None:
                        out.graph(DuplicatePort(node_id, port), parts)
                    continue
                seen.add(port)
                ports[field].append(port)
        component = node.component
        if component is not None:
            problem = component_problem(component)
            if problem is not None:
                out.add(FORMAT_COMPONENT, problem, ("nodes", index, "component"))
                component = None
        replicas, partition_key = _replicas(node, index, out)
        rule_set = rule_sets.resolve(index)
        if node_id is not None:
            nodes.append(
                NodeDefinition(
                    node_id,
                    tuple(ports["inputs"]),
                    tuple(ports["outputs"]),
                    component,
                    node.config,
                    rule_set,
                    replicas,
                    partition_key,
                )
            )
            indexes.append(index)
    return nodes, indexes


def _replicas(node: RawNode, index: int, out: _Collector) -> tuple[int, str | None]:
    """The node's ``replicas`` (1 when absent or invalid) and partition key."""
    replicas = 1 if node.replicas is None else node.replicas
    if replicas == 0:
        out.add(
            FORMAT_REPLICAS,
            f"node {index} replicas must be greater than zero, got 0",
            ("nodes", index, "replicas"),
        )
        replicas = 1
    if replicas > 1 and not node.inputs:
        out.add(
            FORMAT_REPLICAS,
            f"node {index} has replicas but no inputs (every copy would send the same packets)",
            ("nodes", index, "replicas"),
        )
        replicas = 1
    partition = node.partition
    if partition is None:
        return replicas, None
    key = partition.get("key")
    if set(partition) != {"key"} or not isinstance(key, str) or not (key == "" or key[0] == "/"):
        out.add(
            FORMAT_REPLICAS,
            f'node {index} partition must be {{"key": "<JSON pointer>"}} (a pointer is empty '
            "or starts with `/`)",
            ("nodes", index, "partition"),
        )
        return replicas, None
    return replicas, key


def _edges(raw: RawWorkflowDocument, out: _Collector) -> tuple[list[EdgeDefinition], list[int]]:
    edges: list[EdgeDefinition] = []
    indexes: list[int] = []
    for index, edge in enumerate(raw.edges):
        ends = []
        for role in ("source", "target"):
            end = getattr(edge, role)
            node_id = out.identifier(
                NodeId, end.node, f"edge {index} {role} node", ("edges", index, role, "node")
            )
            port_id = out.identifier(
                PortId, end.port, f"edge {index} {role} port", ("edges", index, role, "port")
            )
            ends.append(
                None if node_id is None or port_id is None else EdgeEndpoint(node_id, port_id)
            )
        capacity = _capacity(edge, index, out)
        source, target = ends
        if source is not None and target is not None:
            edges.append(EdgeDefinition(source, target, capacity))
            indexes.append(index)
    return edges, indexes


def _capacity(edge: RawEdge, index: int, out: _Collector) -> EdgeCapacity:
    if edge.capacity is None:
        return EdgeCapacity.DEFAULT
    if edge.capacity == 0:
        out.add(
            FORMAT_CAPACITY,
            f"edge {index} explicit capacity must be greater than zero, got {edge.capacity}",
            ("edges", index, "capacity"),
        )
        return EdgeCapacity.DEFAULT
    return EdgeCapacity(edge.capacity)


def _graph(
    raw: RawWorkflowDocument,
    *,
    nodes: Sequence[NodeDefinition],
    node_indexes: Sequence[int],
    edges: Sequence[EdgeDefinition],
    edge_indexes: Sequence[int],
    cycles: CyclePolicy,
    out: _Collector,
    rule_sets: _RuleSets,
) -> None:
    index_of = dict(zip((node.id for node in nodes), node_indexes, strict=True))
    misfits: list[RuleSetViolation] = []
    seen: set[str] = set()
    duplicates: list[int] = []
    for node, index in zip(nodes, node_indexes, strict=True):
        if node.id in seen:
            duplicates.append(index)
        seen.add(node.id)
    duplicate_at = iter(duplicates)
    for err in graph_errors(nodes, edges, cycles):
        if isinstance(err, DuplicateNode):
            out.graph(err, ("nodes", next(duplicate_at), "id"))
        elif isinstance(err, UnknownNode):
            index = edge_indexes[err.edge_index]
            renumbered = UnknownNode(index, err.endpoint, err.node_id)
            out.graph(renumbered, ("edges", index, err.endpoint.value, "node"))
        elif isinstance(err, UnknownPort):
            index = edge_indexes[err.edge_index]
            moved = UnknownPort(index, err.endpoint, err.node_id, err.port_id, err.expected)
            out.graph(moved, ("edges", index, err.endpoint.value, "port"))
        elif isinstance(err, CycleDetected):
            out.graph(err, _cycle_location(raw, err.cycle))
        elif isinstance(err, RuleSetViolation):
            misfits.append(err)
        else:  # pragma: no cover - graph_errors yields only the kinds above
            out.graph(err, ())
    out.diagnostics.extend(rule_sets.problems)
    for misfit in misfits:
        out.graph(misfit, rule_sets.location(index_of[misfit.node_id], misfit))


def _cycle_location(raw: RawWorkflowDocument, cycle: Sequence[str]) -> Parts:
    """The first edge (in document order) on the reported cycle."""
    if len(cycle) >= 2:
        first, second = cycle[0], cycle[1]
        for index, edge in enumerate(raw.edges):
            if edge.source.node == first and edge.target.node == second:
                return ("edges", index)
    return ("edges",)
