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
* any other ``scheme:rest`` (``wasm:<path>``): handed to the resolver of that scheme
  (``schemes``; by default the ones published under the ``pureflow.component_schemes``
  entry point group: the WebAssembly package publishes ``wasm``); for a node with a rule
  set, the ``wasm`` resolver loads a *rules guest* that evaluates it;
* a ``rule_set`` and no ``component``: a :class:`~pureflow.core.RuleNode` running it;
* no ``component``: the node's code given in ``nodes`` (functions, classes, components
  or executors, bound exactly like a ``python:`` reference), else ``default`` (the demo
  executor for the CLI), else no executor at all.

**Static binding** (``static=True``, what ``pureflow validate`` and ``inspect`` do unless
the document is trusted) runs none of the document's code: a ``python:`` reference is
located and read from source by :class:`~pureflow.engine.static_references.StaticReader`
(nothing is imported), and so is every callable a component takes from its config
(:attr:`~pureflow.core.ComponentSpec.calls`: the standard ``map``, ``filter`` and
``split``); such nodes are checked but not built (no executor). Components of installed
packages (``builtin:``, entry points, ``wasm:``) are built as usual: that runs only their
own code. What cannot be read without importing is a ``binding.unchecked`` warning.

For a component with declarations, the document's ports must equal the declared ones and
the node's config must satisfy the component's JSON Schema. Then the component builds the
node's code from a :class:`~pureflow.core.NodeConfig` (the config plus ``base_dir``), and
its ``run_in`` is applied: a worker thread (:func:`pureflow.runtime.in_thread`) or worker
processes (:func:`pureflow.runtime.process_executor_for`).

Problem codes (stable; :class:`BindingProblem`):

=================================  ===============================================
``binding.unknown_builtin``        ``builtin:`` names no catalog component
``binding.invalid_reference``      ``python:`` text is not ``module:attr``
``binding.import_failed``          the module does not exist, or a library the
                                   component needs is not installed (the message
                                   says what to install)
``binding.import_raised``          the module exists but raised while importing
``binding.missing_attribute``      the module lacks the attribute
``binding.not_a_component``        the object cannot run a node
``binding.unsupported_scheme``     a scheme this binder cannot resolve (``wasm:``
                                   without a resolver, or an unknown prefix)
``binding.unknown_node``           code given for a node the workflow does not have
``binding.unbound_node``           nothing runs a node (no ``component``, no code)
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
``binding.rule_node_component``    a node with a rule set names a ``python:`` or
                                   ``builtin:`` component (only ``wasm:`` rules
                                   guests evaluate rule sets)
``binding.unchecked``              a warning, static binding only: part of a
                                   ``python:`` component (or of a callable named in
                                   a config) cannot be checked without importing it
=================================  ===============================================
"""

from __future__ import annotations

import difflib
import importlib.metadata
import logging
import os
import sys
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pureflow.contract import ConfigSchema, InvalidConfigSchema, NodeCapabilities, NodeContract
from pureflow.core import (
    Component,
    ComponentConfigError,
    ComponentLoadError,
    ComponentSpec,
    ImportReferenceError,
    NodeConfig,
    NodeExecutor,
    RuleNode,
    as_component,
    import_object,
    node_capabilities_for,
    node_contract_for,
)
from pureflow.engine.registry import MissingExecutor
from pureflow.engine.static_references import StaticReader
from pureflow.format import Diagnostic
from pureflow.runtime import ProcessMapExecutor, in_thread, process_executor_for
from pureflow.types import NodeId
from pureflow.workflow import NodeDefinition, WorkflowDefinition

_log = logging.getLogger("pureflow.engine")

ENTRY_POINT_GROUP: Final = "pureflow.components"
"""The entry point group third-party packages publish components under."""
SCHEME_ENTRY_POINT_GROUP: Final = "pureflow.component_schemes"
"""The entry point group for ``scheme:`` resolvers (name: the scheme, value: a
:data:`SchemeResolver`)."""

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
UNKNOWN_NODE: Final = "binding.unknown_node"
UNBOUND_NODE: Final = "binding.unbound_node"
RULE_NODE_COMPONENT: Final = "binding.rule_node_component"
UNCHECKED: Final = "binding.unchecked"

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
    UNKNOWN_NODE,
    UNBOUND_NODE,
    RULE_NODE_COMPONENT,
    UNCHECKED,
)
"""Every code a :class:`BindingProblem` can carry."""

_IMPORT_CODES: Final = {
    "invalid": INVALID_REFERENCE,
    "not_found": IMPORT_FAILED,
    "raised": IMPORT_RAISED,
    "missing_attribute": MISSING_ATTRIBUTE,
}

SchemeResolver = Callable[[NodeDefinition, str, Path | None], "NodeExecutor | Component"]
"""``resolver(node, rest, base_dir)`` for a ``scheme:rest`` reference (``wasm:<path>``):
a NodeExecutor or a Component (whose ports and config are then checked like any other).
It raises :class:`~pureflow.core.ComponentLoadError` when the component cannot be loaded,
:class:`BindingError` to report other problems of its own, or any exception (reported
with its type as ``binding.wasm_failed`` for ``wasm:``, else ``binding.create_failed``)."""


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
    from_document: bool = False
    """True when the document itself says what runs the node (its ``component`` or its
    rule set), so another process can bind it again from the definition."""

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

    def from_document(self, node_id: str) -> bool:
        """Whether the document binds ``node_id`` (see :attr:`BoundNode.from_document`)."""
        bound = self.nodes.get(NodeId(node_id))
        return bound is not None and bound.from_document

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
        parts.append(f"lacks {_quoted(missing)}")
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
        schemes: Mapping[str, SchemeResolver],
        *,
        static: bool = False,
    ) -> None:
        self.base_dir = base_dir
        self.catalog = catalog
        self.schemes = schemes
        self.reader = StaticReader(base_dir) if static else None
        self.problems: list[BindingProblem] = []
        self.warnings: list[BindingProblem] = []

    def problem(self, code: str, node: NodeDefinition, message: str, location: str) -> None:
        self.problems.append(
            BindingProblem(code, f"node `{node.id}`: {message}", location, node.id)
        )

    def unchecked(self, node: NodeDefinition, message: str, location: str) -> None:
        self.warnings.append(
            BindingProblem(UNCHECKED, f"node `{node.id}`: {message}", location, node.id)
        )

    def resolve_static(
        self, node: NodeDefinition, reference: str, rest: str, at: str
    ) -> Component | None:
        """A ``python:`` reference read from source (see :mod:`.static_references`)."""
        assert self.reader is not None
        try:
            found = self.reader.component(rest)
        except ImportReferenceError as err:
            self.problem(_IMPORT_CODES[err.kind], node, f"component `{reference}`: {err}", at)
            return None
        if found.component is None:
            self.problem(
                NOT_A_COMPONENT,
                node,
                f"component `{reference}` is a {found.what}, not a component (expected an "
                "`async def node(ctx, inputs, outputs)`, a class with `async def run`, or an "
                "object declared with @component)",
                at,
            )
            return None
        if found.unchecked:
            module = rest.partition(":")[0].strip()
            where = f", {found.where}" if found.where else ""
            if "what it is" in found.unchecked:
                message = (
                    f"component `{reference}` is not checked without importing `{module}` "
                    f"({found.why}{where}): its ports, config and effects are unknown"
                )
            else:
                parts = ", ".join(found.unchecked)
                message = (
                    f"component `{reference}`: {parts} not checked without importing "
                    f"`{module}` ({found.why}{where})"
                )
            self.unchecked(node, message, at)
        return found.component

    def check_calls(
        self, index: int, node: NodeDefinition, reference: str, spec: ComponentSpec
    ) -> None:
        """The callables a component takes from its config (``spec.calls``), read from
        source instead of imported."""
        assert self.reader is not None
        config = node.config if isinstance(node.config, Mapping) else {}
        for key in spec.calls:
            target = config.get(key)
            if not isinstance(target, str):
                continue
            at = f"/nodes/{index}/config/{key}"
            try:
                found = self.reader.callable(target)
            except ImportReferenceError as err:
                self.problem(_IMPORT_CODES[err.kind], node, f"config of `{reference}`: {err}", at)
                continue
            if found.callable is False:
                self.problem(
                    INVALID_CONFIG,
                    node,
                    f"config of `{reference}`: `{target}` is a {found.what}, not a callable",
                    at,
                )
            elif found.callable is None:
                module = target.partition(":")[0].strip()
                where = f", {found.where}" if found.where else ""
                self.unchecked(
                    node,
                    f"config of `{reference}`: `{target}` is not checked without importing "
                    f"`{module}` ({found.why}{where})",
                    at,
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
            if self.reader is not None:
                return self.resolve_static(node, reference, rest, at)
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
        resolver = self.schemes.get(scheme) if colon else None
        if resolver is not None:
            try:
                return resolver(node, rest, self.base_dir)
            except BindingError as err:
                # A resolver does not know where the node is in the document: its problems
                # without a location are about the component reference.
                self.problems.extend(
                    p if p.location else BindingProblem(p.code, p.message, at, p.node_id)
                    for p in err.problems
                )
            except Exception as err:
                code = WASM_FAILED if scheme == "wasm" else CREATE_FAILED
                why = str(err)
                if not isinstance(err, ComponentLoadError):
                    why = f"{type(err).__name__}: {why}"
                self.problem(code, node, f"component `{reference}`: {why}", at)
            return None
        if scheme == "wasm":
            self.problem(
                UNSUPPORTED_SCHEME,
                node,
                f"component `{reference}`: WebAssembly components need the pureflow-wasm package",
                at,
            )
            return None
        known = ", ".join(f"`{name}:`" for name in ("python", "builtin", *sorted(self.schemes)))
        self.problem(
            UNSUPPORTED_SCHEME, node, f"component `{reference}` must start with one of {known}", at
        )
        return None

    def given(self, index: int, node: NodeDefinition, code: object) -> Component | None:
        """Code given for a node in ``nodes=``, as a component (or a problem)."""
        found = as_component(code, name=_code_name(code))
        if found is None:
            self.problem(
                NOT_A_COMPONENT,
                node,
                f"the code given for it is a {type(code).__name__}, which cannot run a node "
                "(expected an `async def node(ctx, inputs, outputs)`, a blocking `def` of the "
                "same shape, a class with `async def run`, an object declared with "
                "@component, or a node executor)",
                f"/nodes/{index}",
            )
        return found

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
        except ImportError as err:
            # A library the component needs is missing (an optional extra, a driver): its
            # message says what to install.
            self.problem(
                IMPORT_FAILED, node, f"component `{reference}`: {err}", f"/nodes/{index}/component"
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
    schemes: Mapping[str, SchemeResolver] | None = None,
    nodes: Mapping[str, object] | None = None,
    default: NodeExecutor | None = None,
    executors: Mapping[str, NodeExecutor] | None = None,
    require_all: bool = False,
    static: bool = False,
    warnings: list[BindingProblem] | None = None,
    only: Collection[str] | None = None,
) -> BoundWorkflow:
    """Bind every node of ``workflow``; raise :class:`BindingError` listing every problem.

    ``base_dir``: the workflow file's folder (``python:`` modules are searched there
    first; components resolve relative config paths against it). ``catalog``: the
    components ``builtin:<name>`` may name. ``schemes``: resolvers of other schemes
    (``wasm:``). ``nodes``: node id -> code (a function, class, component or executor)
    for nodes given in code; it takes precedence over the node's ``component`` and is
    checked the same way (declared ports, config schema). A node with a rule set and no
    ``component`` runs it (:class:`~pureflow.core.RuleNode`). ``default``: runs the
    nodes left without code (``None``: such nodes get no executor, which is fine for
    validation). ``executors``: node id -> a ready executor, used as is (nodes bound by
    other means, such as a WebAssembly manifest). ``require_all``: a node left without
    an executor is a ``binding.unbound_node`` problem (what a run needs).

    Nothing runs: modules are imported and each component builds its node's code, which
    must not touch the outside world until the node runs. With ``static=True`` not even
    that: ``python:`` references (and the callables components take from their config)
    are read from source, not imported, and those nodes get no executor (for checking
    and introspection, never for a run); what cannot be read is a ``binding.unchecked``
    warning, appended to ``warnings`` when a list is given, else logged. ``only``: bind
    just these nodes (a process that runs part of a workflow); the others are left out.
    """
    base = None if base_dir is None else Path(base_dir)
    binder = _Binder(base, catalog or {}, schemes or {}, static=static)
    explicit = executors or {}
    given = nodes or {}
    known = {str(node.id) for node in workflow.nodes}
    for node_id in given:
        if node_id not in known:
            listed = ", ".join(f"`{n}`" for n in sorted(known)) or "none"
            binder.problems.append(
                BindingProblem(
                    UNKNOWN_NODE,
                    f"code given for node `{node_id}`, which workflow `{workflow.id}` does not "
                    f"have (its nodes: {listed})",
                    "",
                    None,
                )
            )
    bound: dict[NodeId, BoundNode] = {}
    for index, node in enumerate(workflow.nodes):
        if only is not None and node.id not in only:
            continue
        reference = node.component
        if node.id in explicit:
            bound[node.id] = BoundNode(node, index, reference, None, explicit[node.id])
            continue
        if node.id in given:
            label = f"<code for {node.id}>"
            found: Component | NodeExecutor | None = binder.given(index, node, given[node.id])
        elif reference is not None:
            if node.rule_set is not None and not reference.startswith("wasm:"):
                binder.problem(
                    RULE_NODE_COMPONENT,
                    node,
                    f"component `{reference}`: a node with a rule set runs the rules itself; "
                    "only a `wasm:` rules guest may evaluate them (drop the component)",
                    f"/nodes/{index}/component",
                )
                continue
            label = reference
            found = binder.resolve(index, node, reference)
        elif node.rule_set is not None:
            bound[node.id] = BoundNode(node, index, None, None, RuleNode(node.rule_set), True)
            continue
        else:
            if default is None and require_all:
                binder.problem(
                    UNBOUND_NODE,
                    node,
                    "nothing runs it: give it a `component` in the document, or its code "
                    "in `nodes`",
                    f"/nodes/{index}",
                )
            bound[node.id] = BoundNode(node, index, None, None, default)
            continue
        if found is None:
            continue
        from_document = node.id not in given
        if not isinstance(found, Component):
            bound[node.id] = BoundNode(node, index, reference, None, found, from_document)
            continue
        if not binder.check(index, node, label, found.spec):
            continue
        if static and (found.spec.calls or (reference or "").startswith("python:")):
            if found.spec.calls:
                binder.check_calls(index, node, label, found.spec)
            bound[node.id] = BoundNode(node, index, reference, found, None)
            continue
        executor = binder.build(index, node, label, found)
        if executor is not None:
            bound[node.id] = BoundNode(node, index, reference, found, executor, from_document)
    if warnings is not None:
        warnings.extend(binder.warnings)
    else:
        for warning in binder.warnings:
            _log.warning("%s", warning)
    if binder.problems:
        raise BindingError(binder.problems)
    return BoundWorkflow(workflow, bound, base)


def _code_name(code: object) -> str:
    module = getattr(code, "__module__", None)
    name = getattr(code, "__qualname__", None) or type(code).__qualname__
    return f"{module}:{name}" if module else name


def discover_schemes(
    *, problems: list[BindingProblem] | None = None, group: str = SCHEME_ENTRY_POINT_GROUP
) -> dict[str, SchemeResolver]:
    """The ``scheme:`` resolvers published under the ``pureflow.component_schemes`` entry
    point group (name: the scheme; value: a :data:`SchemeResolver`). One that fails to
    load is left out and reported like :func:`discover_components` does."""
    found: dict[str, SchemeResolver] = {}
    troubles: list[BindingProblem] = []
    for entry in sorted(importlib.metadata.entry_points(group=group), key=lambda e: e.name):
        try:
            target = entry.load()
        except Exception as err:
            troubles.append(
                BindingProblem(
                    ENTRY_POINT_FAILED,
                    f"entry point `{entry.name} = {entry.value}` failed to load: "
                    f"{type(err).__name__}: {err}",
                )
            )
            continue
        if not callable(target):
            troubles.append(
                BindingProblem(
                    NOT_A_COMPONENT,
                    f"entry point `{entry.name} = {entry.value}` is a "
                    f"{type(target).__name__}, not a scheme resolver",
                )
            )
            continue
        found[entry.name] = target
    _report(problems, troubles)
    return found


def bind_document(
    workflow: WorkflowDefinition,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    nodes: Mapping[str, object] | None = None,
    default: NodeExecutor | None = None,
    executors: Mapping[str, NodeExecutor] | None = None,
    require_all: bool = False,
    warnings: list[BindingProblem] | None = None,
    static: bool = False,
    only: Collection[str] | None = None,
) -> BoundWorkflow:
    """:func:`bind_workflow` with the installed catalog: every component and scheme
    published through entry points (the standard library included). What ``pureflow run``
    and :func:`pureflow.engine.run` bind with. A broken entry point is not an error for
    the workflows that do not use it: its problem goes to ``warnings`` when a list is
    given, else to the ``pureflow.engine`` logger; so do ``binding.unchecked`` warnings
    of a ``static`` binding (see :func:`bind_workflow`)."""
    found: list[BindingProblem] = []
    uses_references = any(
        node.component is not None and str(node.id) not in (nodes or {}) for node in workflow.nodes
    )
    catalog = discover_components(problems=found) if uses_references else {}
    schemes = discover_schemes(problems=found) if uses_references else {}
    if warnings is not None:
        warnings.extend(found)
    else:
        for problem in found:
            _log.warning("%s", problem.message)
    return bind_workflow(
        workflow,
        base_dir=base_dir,
        catalog=catalog,
        schemes=schemes,
        nodes=nodes,
        default=default,
        executors=executors,
        require_all=require_all,
        static=static,
        warnings=warnings,
        only=only,
    )


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
