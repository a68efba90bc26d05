"""Binding: from each node's ``component`` and ``config`` to the code that runs it.

:func:`bind_workflow` resolves every node of a workflow *before* the run and reports
every problem at once, each with a document location, so nothing starts when a binding
is wrong::

    bound = bind_workflow(workflow, base_dir=Path("flows"), catalog=catalog,
                          default=DemoExecutor())
    summary = await run_workflow(workflow, bound)   # a BoundWorkflow is a registry

References (DESIGN §3):

* ``builtin:<name>``: a component of ``catalog`` (the standard library, plus third-party
  components published under the ``pureflow.components`` entry point group; see
  :func:`discover_components` and :func:`merge_catalogs`);
* ``python:package.module:attr``: imported from the workflow file's folder (``base_dir``,
  searched first) and ``sys.path``; ``attr`` may be dotted. The object may be a
  component (see :mod:`pureflow.core.component`), an ``async`` node function, a class
  with ``async def run``, a NodeExecutor object, or a function marked ``in_process``;
* ``wasm:<path>``: handed to ``wasm_resolver`` (supplied by the WebAssembly package);
* no ``component``: ``default`` (the demo executor for the CLI), or no executor at all.

For a component with declarations, the document's ports must equal the declared ones and
the node's config must satisfy the component's JSON Schema. Then the component builds the
node's code from a :class:`~pureflow.core.NodeConfig` (the config plus ``base_dir``), and
its ``run_in`` is applied: a worker thread (:func:`pureflow.runtime.in_thread`) or worker
processes (:func:`pureflow.runtime.process_executor_for`).

Problem codes (stable; :class:`BindingProblem`):

=================================  ===============================================
``binding.unknown_builtin``        ``builtin:`` names no catalog component
``binding.invalid_reference``      ``python:`` text is not ``module:attr``
``binding.import_failed``          the module does not exist
``binding.import_raised``          the module exists but raised while importing
``binding.missing_attribute``      the module lacks the attribute
``binding.not_a_component``        the object cannot run a node
``binding.unsupported_scheme``     a scheme this binder cannot resolve (``wasm:``
                                   without a resolver, or an unknown prefix)
``binding.port_mismatch``          document ports differ from the declared ones
``binding.invalid_config_schema``  the component's own schema is invalid
``binding.invalid_config``         the config fails the schema, or the component
                                   rejected a value (one problem per schema error)
``binding.create_failed``          building the node's code raised
``binding.wasm_failed``            the WebAssembly resolver raised
``binding.entry_point_failed``     a ``pureflow.components`` entry point failed to
                                   load (discovery only)
``binding.duplicate_component``    two different components under one name
                                   (discovery and merging only)
=================================  ===============================================
"""

from __future__ import annotations

import difflib
import importlib.metadata
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pureflow.contract import ConfigSchema, InvalidConfigSchema, NodeCapabilities, NodeContract
from pureflow.core import (
    Component,
    ComponentConfigError,
    ComponentSpec,
    ImportReferenceError,
    NodeConfig,
    NodeExecutor,
    as_component,
    import_object,
    node_capabilities_for,
    node_contract_for,
)
from pureflow.engine.registry import MissingExecutor
from pureflow.format import Diagnostic
from pureflow.runtime import ProcessMapExecutor, in_thread, process_executor_for
from pureflow.types import NodeId
from pureflow.workflow import NodeDefinition, WorkflowDefinition

ENTRY_POINT_GROUP: Final = "pureflow.components"
"""The entry point group third-party packages publish components under."""

UNKNOWN_BUILTIN: Final = "binding.unknown_builtin"
INVALID_REFERENCE: Final = "binding.invalid_reference"
IMPORT_FAILED: Final = "binding.import_failed"
IMPORT_RAISED: Final = "binding.import_raised"
MISSING_ATTRIBUTE: Final = "binding.missing_attribute"
NOT_A_COMPONENT: Final = "binding.not_a_component"
UNSUPPORTED_SCHEME: Final = "binding.unsupported_scheme"
PORT_MISMATCH: Final = "binding.port_mismatch"
INVALID_CONFIG_SCHEMA: Final = "binding.invalid_config_schema"
INVALID_CONFIG: Final = "binding.invalid_config"
CREATE_FAILED: Final = "binding.create_failed"
WASM_FAILED: Final = "binding.wasm_failed"
ENTRY_POINT_FAILED: Final = "binding.entry_point_failed"
DUPLICATE_COMPONENT: Final = "binding.duplicate_component"

BINDING_CODES: Final[tuple[str, ...]] = (
    UNKNOWN_BUILTIN,
    INVALID_REFERENCE,
    IMPORT_FAILED,
    IMPORT_RAISED,
    MISSING_ATTRIBUTE,
    NOT_A_COMPONENT,
    UNSUPPORTED_SCHEME,
    PORT_MISMATCH,
    INVALID_CONFIG_SCHEMA,
    INVALID_CONFIG,
    CREATE_FAILED,
    WASM_FAILED,
    ENTRY_POINT_FAILED,
    DUPLICATE_COMPONENT,
)
"""Every code a :class:`BindingProblem` can carry."""

_IMPORT_CODES: Final = {
    "invalid": INVALID_REFERENCE,
    "not_found": IMPORT_FAILED,
    "raised": IMPORT_RAISED,
    "missing_attribute": MISSING_ATTRIBUTE,
}

WasmResolver = Callable[[NodeDefinition, str, Path | None], "NodeExecutor | Component"]
"""``resolver(node, path, base_dir)`` for ``wasm:<path>``: a NodeExecutor or a Component
(whose ports and config are then checked like any other). It raises :class:`BindingError`
to report its own problems, or any exception (reported as ``binding.wasm_failed``)."""


@dataclass(frozen=True, slots=True)
class BindingProblem:
    """One binding problem: a stable ``code``, a one-line ``message`` that names the node,
    a JSON-pointer ``location`` into the document (``/nodes/3/component``,
    ``/nodes/3/config/limit``; ``""`` outside any document) and the ``node_id``."""

    code: str
    message: str
    location: str = ""
    node_id: str | None = None

    def __str__(self) -> str:
        return f"{self.message} (at {self.location})" if self.location else self.message

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "location": self.location,
            "node_id": self.node_id,
        }

    def to_diagnostic(self, line: int | None = None, column: int | None = None) -> Diagnostic:
        """The problem as a format :class:`~pureflow.format.Diagnostic` (the caller adds
        the line and column when it can locate ``location`` in the source)."""
        return Diagnostic(self.code, self.message, self.location, line, column)


class BindingError(Exception):
    """Some nodes cannot be bound; ``problems`` lists every one, in document order.

    ``str(err)`` is one line: the first problem with its location, plus how many more
    there are. :meth:`render` lists them all.
    """

    def __init__(self, problems: Iterable[BindingProblem]) -> None:
        self.problems: tuple[BindingProblem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("a BindingError needs at least one problem")
        super().__init__(self._headline())

    def _headline(self) -> str:
        text = str(self.problems[0])
        more = len(self.problems) - 1
        if more:
            text += f"; and {more} more binding problem{'s' if more > 1 else ''}"
        return text

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return tuple(problem.to_diagnostic() for problem in self.problems)

    def render(self, source_name: str | None = None) -> str:
        """``str(self)``, then ``  {source}: {code}: {message} (at {location})`` per problem."""
        lines = [str(self)]
        prefix = f"{source_name}: " if source_name else ""
        for problem in self.problems:
            where = problem.location or "document root"
            lines.append(f"  {prefix}{problem.code}: {problem.message} (at {where})")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"message": str(self), "problems": [p.to_json() for p in self.problems]}

    def __reduce__(self) -> tuple[Any, ...]:
        return (BindingError, (self.problems,))


# --- the result ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoundNode:
    """How one node is bound.

    ``reference`` is the document's ``component`` text (``None`` without one);
    ``component`` the resolved component (``None`` for the default executor, an explicit
    executor, or a resolver that returned a bare executor); ``executor`` what runs the
    node (``None`` when nothing does: no component and no default).
    """

    node: NodeDefinition
    index: int
    reference: str | None
    component: Component | None
    executor: NodeExecutor | None

    @property
    def spec(self) -> ComponentSpec | None:
        return None if self.component is None else self.component.spec

    @property
    def contract(self) -> NodeContract:
        return node_contract_for(self.spec, self.node)

    @property
    def capabilities(self) -> NodeCapabilities:
        return node_capabilities_for(self.spec, self.node)


class BoundWorkflow:
    """A workflow with every node bound: an :class:`~pureflow.engine.ExecutorRegistry`.

    Pass it to :func:`~pureflow.engine.run_workflow` as ``executors``. ``executor_for``
    raises :class:`~pureflow.engine.MissingExecutor` for a node nothing runs.
    """

    __slots__ = ("base_dir", "nodes", "workflow")

    def __init__(
        self,
        workflow: WorkflowDefinition,
        nodes: Mapping[NodeId, BoundNode],
        base_dir: Path | None,
    ) -> None:
        self.workflow = workflow
        self.nodes: Mapping[NodeId, BoundNode] = dict(nodes)
        self.base_dir = base_dir

    def executor_for(self, node: NodeDefinition) -> NodeExecutor:
        bound = self.nodes.get(node.id)
        if bound is None or bound.executor is None:
            raise MissingExecutor(node.id)
        return bound.executor

    def contracts(self) -> tuple[NodeContract, ...]:
        """Every node's contract, in document order (passive for unbound nodes)."""
        return tuple(bound.contract for bound in self.nodes.values())

    def capabilities(self) -> tuple[NodeCapabilities, ...]:
        """Every node's capabilities, in document order (no effects for unbound nodes)."""
        return tuple(bound.capabilities for bound in self.nodes.values())

    def __repr__(self) -> str:
        return f"BoundWorkflow({str(self.workflow.id)!r}, nodes={len(self.nodes)})"


# --- binding ---------------------------------------------------------------------------------


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _port_problem(
    index: int, node: NodeDefinition, reference: str, direction: str, declared: tuple[str, ...]
) -> BindingProblem | None:
    document = tuple(
        str(p) for p in (node.input_ports if direction == "inputs" else node.output_ports)
    )
    if set(document) == set(declared):
        return None
    missing = [p for p in declared if p not in document]
    extra = [p for p in document if p not in declared]
    kind = "input" if direction == "inputs" else "output"
    parts = []
    if missing:
        parts.append(f"missing {_quoted(missing)}")
    if extra:
        parts.append(f"has extra {_quoted(extra)}")
    wanted = _quoted(declared) if declared else "none"
    message = (
        f"node `{node.id}`: component `{reference}` declares {kind} ports {wanted}; "
        f"the document {' and '.join(parts)}"
    )
    return BindingProblem(PORT_MISMATCH, message, f"/nodes/{index}/{direction}", node.id)


class _Binder:
    def __init__(
        self,
        base_dir: Path | None,
        catalog: Mapping[str, Component],
        wasm_resolver: WasmResolver | None,
    ) -> None:
        self.base_dir = base_dir
        self.catalog = catalog
        self.wasm_resolver = wasm_resolver
        self.problems: list[BindingProblem] = []

    def problem(self, code: str, node: NodeDefinition, message: str, location: str) -> None:
        self.problems.append(
            BindingProblem(code, f"node `{node.id}`: {message}", location, node.id)
        )

    def resolve(
        self, index: int, node: NodeDefinition, reference: str
    ) -> Component | NodeExecutor | None:
        at = f"/nodes/{index}/component"
        scheme, colon, rest = reference.partition(":")
        if not colon:
            scheme, rest = "", reference
        if scheme == "builtin":
            found = self.catalog.get(rest)
            if found is None:
                hint = difflib.get_close_matches(rest, list(self.catalog), n=1)
                suffix = f"; did you mean `builtin:{hint[0]}`?" if hint else ""
                self.problem(
                    UNKNOWN_BUILTIN, node, f"unknown builtin component `{rest}`{suffix}", at
                )
            return found
        if scheme == "python":
            try:
                target = import_object(rest, base_dir=self.base_dir)
            except ImportReferenceError as err:
                self.problem(_IMPORT_CODES[err.kind], node, f"component `{reference}`: {err}", at)
                return None
            if self.base_dir is not None:
                # A user's module may import its neighbours later, while the node runs.
                _keep_on_path(self.base_dir)
            found = as_component(target, name=reference)
            if found is None:
                self.problem(
                    NOT_A_COMPONENT,
                    node,
                    f"component `{reference}` is a {type(target).__name__}, not a component "
                    "(expected an `async def node(ctx, inputs, outputs)`, a class with "
                    "`async def run`, or an object declared with @component)",
                    at,
                )
            return found
        if scheme == "wasm":
            if self.wasm_resolver is None:
                self.problem(
                    UNSUPPORTED_SCHEME,
                    node,
                    f"component `{reference}`: WebAssembly components need the "
                    "pureflow-wasm package",
                    at,
                )
                return None
            try:
                return self.wasm_resolver(node, rest, self.base_dir)
            except BindingError as err:
                # A resolver does not know where the node is in the document: its problems
                # without a location are about the component reference.
                self.problems.extend(
                    p if p.location else BindingProblem(p.code, p.message, at, p.node_id)
                    for p in err.problems
                )
            except Exception as err:
                self.problem(
                    WASM_FAILED, node, f"component `{reference}`: {type(err).__name__}: {err}", at
                )
            return None
        self.problem(
            UNSUPPORTED_SCHEME,
            node,
            f"component `{reference}` must start with one of `python:`, `builtin:`, `wasm:`",
            at,
        )
        return None

    def check(self, index: int, node: NodeDefinition, reference: str, spec: ComponentSpec) -> bool:
        """Ports and config against the declarations; True when they fit."""
        before = len(self.problems)
        for direction, declared in (("inputs", spec.inputs), ("outputs", spec.outputs)):
            if declared is not None:
                mismatch = _port_problem(index, node, reference, direction, declared)
                if mismatch is not None:
                    self.problems.append(mismatch)
        if spec.config_schema is not None:
            try:
                schema = ConfigSchema(spec.config_schema)
            except InvalidConfigSchema as err:
                self.problem(
                    INVALID_CONFIG_SCHEMA,
                    node,
                    f"component `{reference}` has an invalid config schema: {err}",
                    f"/nodes/{index}/component",
                )
                return False
            config = {} if node.config is None else dict(node.config)
            for problem in schema.problems(config):
                self.problem(
                    INVALID_CONFIG,
                    node,
                    f"config{problem.location or ''} is invalid for `{reference}`: "
                    f"{problem.message}",
                    f"/nodes/{index}/config{problem.location}",
                )
        return len(self.problems) == before

    def build(
        self, index: int, node: NodeDefinition, reference: str, found: Component
    ) -> NodeExecutor | None:
        config = NodeConfig(node.config, base_dir=self.base_dir, node_id=node.id)
        try:
            made = found.create(config)
        except ComponentConfigError as err:
            code = INVALID_CONFIG
            cause = err.__cause__
            if isinstance(cause, ImportReferenceError):
                code = _IMPORT_CODES[cause.kind]
            self.problem(
                code,
                node,
                f"config of `{reference}`: {err}",
                f"/nodes/{index}/config{err.location}",
            )
            return None
        except Exception as err:
            self.problem(
                CREATE_FAILED,
                node,
                f"building component `{reference}` failed: {type(err).__name__}: {err}",
                f"/nodes/{index}/component",
            )
            return None
        return self.wrap(index, node, reference, found.spec, made)

    def wrap(
        self, index: int, node: NodeDefinition, reference: str, spec: ComponentSpec, made: Any
    ) -> NodeExecutor | None:
        if spec.run_in == "thread":
            function = getattr(made, "run", made)
            if callable(function):
                return in_thread(function)
        elif spec.run_in == "process":
            if callable(made):
                if self.base_dir is not None:
                    _keep_on_path(self.base_dir)
                if hasattr(made, "__pureflow_process__"):
                    return process_executor_for(made)
                return ProcessMapExecutor(
                    made,
                    input_port=(spec.inputs or ("in",))[0],
                    output_port=(spec.outputs or ("out",))[0],
                )
        elif isinstance(made, NodeExecutor):
            return made
        self.problem(
            NOT_A_COMPONENT,
            node,
            f"component `{reference}` built a {type(made).__name__}, which cannot run a "
            f'run_in="{spec.run_in}" node',
            f"/nodes/{index}/component",
        )
        return None


def _keep_on_path(base_dir: Path) -> None:
    """Keep the workflow folder on ``sys.path`` (at the end) from now on: a user's module
    may import its neighbours while the node runs, and worker processes import process
    functions by module name with the ``sys.path`` they inherit."""
    entry = os.fspath(base_dir)
    if entry not in sys.path:
        sys.path.append(entry)


def bind_workflow(
    workflow: WorkflowDefinition,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    catalog: Mapping[str, Component] | None = None,
    wasm_resolver: WasmResolver | None = None,
    default: NodeExecutor | None = None,
    executors: Mapping[str, NodeExecutor] | None = None,
) -> BoundWorkflow:
    """Bind every node of ``workflow``; raise :class:`BindingError` listing every problem.

    ``base_dir``: the workflow file's folder (``python:`` modules are searched there
    first; components resolve relative config paths against it). ``catalog``: the
    components ``builtin:<name>`` may name. ``wasm_resolver``: resolves ``wasm:<path>``.
    ``default``: runs nodes without ``component`` (``None``: such nodes get no executor,
    which is fine for validation; running them raises ``MissingExecutor``).
    ``executors``: node id -> executor, taking precedence over everything else (for nodes
    bound by other means, such as a WebAssembly manifest).

    Nothing runs: modules are imported and each component builds its node's code, which
    must not touch the outside world until the node runs.
    """
    base = None if base_dir is None else Path(base_dir)
    binder = _Binder(base, catalog or {}, wasm_resolver)
    explicit = executors or {}
    bound: dict[NodeId, BoundNode] = {}
    for index, node in enumerate(workflow.nodes):
        reference = node.component
        if node.id in explicit:
            bound[node.id] = BoundNode(node, index, reference, None, explicit[node.id])
            continue
        if reference is None:
            bound[node.id] = BoundNode(node, index, None, None, default)
            continue
        found = binder.resolve(index, node, reference)
        if found is None:
            continue
        if not isinstance(found, Component):
            bound[node.id] = BoundNode(node, index, reference, None, found)
            continue
        if not binder.check(index, node, reference, found.spec):
            continue
        executor = binder.build(index, node, reference, found)
        if executor is not None:
            bound[node.id] = BoundNode(node, index, reference, found, executor)
    if binder.problems:
        raise BindingError(binder.problems)
    return BoundWorkflow(workflow, bound, base)


# --- discovery -------------------------------------------------------------------------------


def _report(problems: list[BindingProblem] | None, found: list[BindingProblem]) -> None:
    if not found:
        return
    if problems is None:
        raise BindingError(found)
    problems.extend(found)


def discover_components(
    *, problems: list[BindingProblem] | None = None, group: str = ENTRY_POINT_GROUP
) -> dict[str, Component]:
    """Components published under the ``pureflow.components`` entry point group.

    Each entry point's name is the component name (``builtin:<name>``) and its value a
    ``module:attr`` naming a :class:`~pureflow.core.Component` (or anything
    :func:`~pureflow.core.as_component` accepts). The result is sorted by name. An entry
    point that fails to load or is not a component (``binding.entry_point_failed`` /
    ``binding.not_a_component``), or a name published twice for different components
    (``binding.duplicate_component``), is left out and reported: appended to
    ``problems`` when a list is given, else raised as one :class:`BindingError` after
    every entry point was tried.
    """
    found: dict[str, Component] = {}
    origin: dict[str, str] = {}
    troubles: list[BindingProblem] = []
    for entry in sorted(importlib.metadata.entry_points(group=group), key=lambda e: e.name):
        dist = getattr(getattr(entry, "dist", None), "name", None)
        label = f"entry point `{entry.name} = {entry.value}`" + (f" of `{dist}`" if dist else "")
        try:
            target = entry.load()
        except Exception as err:
            troubles.append(
                BindingProblem(
                    ENTRY_POINT_FAILED, f"{label} failed to load: {type(err).__name__}: {err}"
                )
            )
            continue
        item = as_component(target, name=entry.name)
        if item is None:
            troubles.append(
                BindingProblem(
                    NOT_A_COMPONENT, f"{label} is a {type(target).__name__}, not a component"
                )
            )
            continue
        previous = found.get(entry.name)
        if previous is not None and previous is not item:
            troubles.append(
                BindingProblem(
                    DUPLICATE_COMPONENT,
                    f"component `{entry.name}` is published twice: {origin[entry.name]} "
                    f"and {label}",
                )
            )
            continue
        found[entry.name] = item
        origin[entry.name] = label
    _report(problems, troubles)
    return dict(sorted(found.items()))


def merge_catalogs(
    *catalogs: Mapping[str, Component], problems: list[BindingProblem] | None = None
) -> dict[str, Component]:
    """One catalog from several (for example ``pureflow.nodes.catalog()`` and
    :func:`discover_components`), sorted by name.

    The same component object under the same name is fine (the standard library is both
    built in and published as entry points); two different components under one name are
    a ``binding.duplicate_component`` problem (the first one is kept), appended to
    ``problems`` when a list is given, else raised as a :class:`BindingError`.
    """
    merged: dict[str, Component] = {}
    troubles: list[BindingProblem] = []
    for catalog in catalogs:
        for name, item in catalog.items():
            previous = merged.get(name)
            if previous is None:
                merged[name] = item
            elif previous is not item:
                troubles.append(
                    BindingProblem(
                        DUPLICATE_COMPONENT,
                        f"component `{name}` is defined twice: `{previous.spec.name}` and "
                        f"`{item.spec.name}`",
                    )
                )
    _report(problems, troubles)
    return dict(sorted(merged.items()))
