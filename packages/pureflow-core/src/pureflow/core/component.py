"""Components: node code together with what it declares (ports, config schema, effects).

A workflow document binds a node to code with ``component``
(``python:package.module:attr`` or ``builtin:<name>``) and hands it ``config``. A
:class:`Component` is what such a reference resolves to: a :class:`ComponentSpec` (name,
description, ports, config JSON Schema, effects, determinism, retry advice and where it
runs) plus a factory that builds the node's code from its :class:`NodeConfig`.

Write one with the :func:`component` decorator, on an ``async`` function::

    @component(inputs=["in"], outputs=["out"],
               config_schema={"type": "object", "properties": {"suffix": {"type": "string"}}})
    async def shout(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        suffix = ctx.config.get("suffix", "!")
        out = outputs["out"]
        async for packet in inputs.iter("in"):
            text = str(packet.payload.as_control()).upper() + suffix
            await out.send(packet.with_payload(PacketPayload.control(text)))

(a function sees the document's config as ``ctx.config``, a plain mapping), or on a class
whose ``__init__`` takes the node's :class:`NodeConfig` (or nothing) and whose instances
have ``async def run(self, ctx, inputs, outputs)``; only a class gets ``base_dir`` to
resolve relative paths::

    @component(inputs=["in"], outputs=[], effects=["filesystem_write"])
    class Save:
        def __init__(self, config: NodeConfig) -> None:
            self.path = config.resolve_path(config["path"])  # relative to the workflow file

        async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None: ...

The decorator returns the function or class unchanged (still callable and testable) and
attaches the :class:`Component`; :func:`component_of` reads it back. ``inputs`` /
``outputs`` of ``None`` mean "whatever ports the document declares" (unchecked).

``run_in`` says where the code runs. ``"loop"`` (default): on the event loop, as above.
``"thread"``: a *blocking* ``def node(ctx, inputs, outputs)`` (or a class whose ``run`` is
blocking) run in a worker thread with blocking port views. ``"process"``: a picklable,
module-level ``def transform(value) -> value`` applied to every packet of the single input
port in worker processes. This package has no runtime, so it only declares ``run_in``; the
engine's binder applies it (``pureflow.runtime.in_thread`` / ``process_executor_for``).

:func:`as_component` also accepts what needs no decorator: a plain ``async`` node function,
a class with ``async def run``, a ready :class:`~pureflow.core.NodeExecutor` object, and a
function marked with ``pureflow.runtime.in_process`` (ports unchecked, except the process
function's single input and output). :func:`import_object` resolves ``module:attr``
references the way ``python:`` components and the standard library's callables do.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar, overload

from pureflow.contract import (
    Determinism,
    EffectCapability,
    ExecutionMode,
    NodeCapabilities,
    NodeContract,
    PortCapability,
    PortCapabilityDirection,
    PortContract,
    RetryDisposition,
)
from pureflow.core.executor import FunctionNodeExecutor
from pureflow.types import PortId
from pureflow.workflow import NodeDefinition, PortDirection

RunIn = Literal["loop", "thread", "process"]
"""Where a component's code runs: the event loop, a worker thread, or worker processes."""

RUN_IN_VALUES: Final[tuple[RunIn, ...]] = ("loop", "thread", "process")

COMPONENT_ATTRIBUTE: Final = "__pureflow_component__"
"""The attribute :func:`component` sets on the decorated function or class."""

_PROCESS_MARK: Final = "__pureflow_process__"  # set by pureflow.runtime.in_process

T = TypeVar("T")


# --- configuration ---------------------------------------------------------------------


class NodeConfig(Mapping[str, Any]):
    """One node's ``config`` from the document (read-only), plus where the document lives.

    It is a plain read-only mapping of the document's values (no schema defaults are
    filled in), with two additions: ``base_dir``, the workflow file's folder (``None``
    when the workflow did not come from a file), and :meth:`resolve_path`, which resolves
    a path written in the config the way users expect: relative to the workflow file.
    ``node_id`` names the node being built (for messages).
    """

    __slots__ = ("_values", "base_dir", "node_id")

    def __init__(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        base_dir: str | os.PathLike[str] | None = None,
        node_id: str | None = None,
    ) -> None:
        self._values: Mapping[str, Any] = MappingProxyType(dict(values or {}))
        self.base_dir: Path | None = None if base_dir is None else Path(base_dir)
        self.node_id = node_id

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def resolve_path(self, value: str | os.PathLike[str]) -> Path:
        """``value`` as a path: ``~`` expanded; a relative path is joined to ``base_dir``
        (left relative to the current directory when there is no ``base_dir``)."""
        path = Path(value).expanduser()
        if path.is_absolute() or self.base_dir is None:
            return path
        return self.base_dir / path

    def __repr__(self) -> str:
        return f"NodeConfig({dict(self._values)!r}, base_dir={self.base_dir!r})"


class ComponentConfigError(ValueError):
    """Raised by a component factory when a config value is unusable (beyond its schema).

    ``location`` is a JSON pointer into the node's config (``"/function"``); the binder
    reports the problem at ``/nodes/<i>/config<location>`` before any node starts. Raise it
    ``from`` an :class:`ImportReferenceError` to report an import problem with its own code.
    """

    def __init__(self, message: str, *, location: str = "") -> None:
        self.location = location
        super().__init__(message)


class ComponentLoadError(Exception):
    """Raised by a ``scheme:`` resolver when the component a reference names cannot be
    loaded (unreadable, malformed, imports the host cannot give). The message is one line
    that says why; the binder reports it as the scheme's load problem
    (``binding.wasm_failed`` for ``wasm:``) at the node's ``component``."""


# --- the declaration -----------------------------------------------------------------------


def _port_tuple(ports: Iterable[str] | None, what: str) -> tuple[str, ...] | None:
    if ports is None:
        return None
    if isinstance(ports, str):
        raise TypeError(f"{what} must be a list of port ids, not a string")
    result = tuple(str(PortId(port)) for port in ports)
    seen: set[str] = set()
    for port in result:
        if port in seen:
            raise ValueError(f"{what} lists port `{port}` twice")
        seen.add(port)
    return result


def _calls_tuple(keys: Iterable[str]) -> tuple[str, ...]:
    if isinstance(keys, str):
        raise TypeError("calls must be a list of config keys, not a string")
    result = tuple(str(key) for key in keys)
    if len(set(result)) != len(result):
        raise ValueError("calls lists a config key twice")
    return result


def _effect_tuple(effects: Iterable[EffectCapability | str]) -> tuple[EffectCapability, ...]:
    result = tuple(e if isinstance(e, EffectCapability) else EffectCapability(e) for e in effects)
    if len(set(result)) != len(result):
        raise ValueError("effects list an effect twice")
    return result


@dataclass(frozen=True, slots=True)
class ComponentSpec:
    """What a component declares. Pure data.

    ``inputs`` / ``outputs``: the port ids the node must declare in the document (any
    order), or ``None`` for "any ports". ``config_schema``: a JSON Schema (Draft 2020-12)
    the node's config must satisfy, or ``None`` for no check (the binder validates it, and
    the config, before the run). ``effects``: the side effects the code has. ``run_in``:
    ``"loop"``, ``"thread"`` or ``"process"`` (see the module docs). ``calls``: the config
    keys whose values name Python callables (``module:attr``) that the node imports and
    calls (the standard ``map``, ``filter`` and ``split`` take ``function``): their effects
    are nobody's declaration, so such a node's effects are unknown, and a static binding
    checks those references without importing them. ``effects_known``: False when
    ``effects`` may not be all (a declaration read from source whose ``effects`` was not a
    literal). Construction normalises lists to tuples and effect labels to
    :class:`EffectCapability` and raises ``ValueError`` for a port or effect listed twice
    or an unknown ``run_in``.
    """

    name: str
    description: str = ""
    inputs: tuple[str, ...] | None = None
    outputs: tuple[str, ...] | None = None
    config_schema: Mapping[str, Any] | None = None
    effects: tuple[EffectCapability, ...] = ()
    determinism: Determinism = Determinism.UNKNOWN
    retry: RetryDisposition = RetryDisposition.UNKNOWN
    run_in: RunIn = "loop"
    sandbox: ExecutionMode | None = None
    calls: tuple[str, ...] = ()
    effects_known: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", _port_tuple(self.inputs, "inputs"))
        object.__setattr__(self, "outputs", _port_tuple(self.outputs, "outputs"))
        object.__setattr__(self, "effects", _effect_tuple(self.effects))
        object.__setattr__(self, "calls", _calls_tuple(self.calls))
        if self.run_in not in RUN_IN_VALUES:
            raise ValueError(f"run_in must be one of {', '.join(RUN_IN_VALUES)}: {self.run_in!r}")
        if self.run_in == "process" and (
            (self.inputs is not None and len(self.inputs) != 1)
            or (self.outputs is not None and len(self.outputs) != 1)
        ):
            raise ValueError("a process component has exactly one input and one output port")

    @property
    def effects_are_known(self) -> bool:
        """Whether ``effects`` is all the node may do: False when it calls code named in
        its config (``calls``) or its ``effects`` were not read (``effects_known``)."""
        return self.effects_known and not self.calls

    @property
    def execution_mode(self) -> ExecutionMode:
        """``sandbox`` when set (``wasm`` for WebAssembly components), else ``process``
        for process components and ``native`` for the rest."""
        if self.sandbox is not None:
            return self.sandbox
        return ExecutionMode.PROCESS if self.run_in == "process" else ExecutionMode.NATIVE

    def to_json(self) -> dict[str, Any]:
        """A plain-data form (for ``pureflow components --json``)."""
        return {
            "name": self.name,
            "description": self.description,
            "inputs": None if self.inputs is None else list(self.inputs),
            "outputs": None if self.outputs is None else list(self.outputs),
            "config_schema": None if self.config_schema is None else dict(self.config_schema),
            "effects": [effect.label for effect in self.effects],
            "effects_known": self.effects_are_known,
            "calls": list(self.calls),
            "determinism": self.determinism.label,
            "retry": self.retry.label,
            "run_in": self.run_in,
        }


ComponentFactory = Callable[[NodeConfig], Any]
"""Builds a node's code from its config: for ``run_in="loop"`` a NodeExecutor, for
``"thread"`` a blocking node function (or an object with a blocking ``run``), for
``"process"`` a picklable ``value -> value`` function."""


@dataclass(frozen=True, slots=True, eq=False)
class Component:
    """A :class:`ComponentSpec` and the factory that builds one node's code.

    Components compare (and hash) by identity: two components are the same only if they
    are the same object.

    ``create`` is called once per node, before the run, with that node's config. It must
    be cheap and must not touch the outside world (files are opened when the node runs),
    since ``pureflow validate`` calls it too. It raises :class:`ComponentConfigError` for
    a config value it cannot use.
    """

    spec: ComponentSpec
    factory: ComponentFactory

    @property
    def name(self) -> str:
        return self.spec.name

    def create(self, config: NodeConfig | Mapping[str, Any] | None = None) -> Any:
        """Build the code for one node (see :data:`ComponentFactory` for what it is)."""
        if not isinstance(config, NodeConfig):
            config = NodeConfig(config)
        return self.factory(config)


def node_contract_for(spec: ComponentSpec | None, node: NodeDefinition) -> NodeContract:
    """The node's contract: its document ports (inputs then outputs), the execution mode
    of ``spec.run_in``, and the spec's determinism and retry advice (the passive contract
    when ``spec`` is ``None``)."""
    if spec is None:
        return NodeContract.passive_for(node)
    ports = [PortContract(p, PortDirection.INPUT) for p in node.input_ports]
    ports += [PortContract(p, PortDirection.OUTPUT) for p in node.output_ports]
    return NodeContract(node.id, tuple(ports), spec.execution_mode, spec.determinism, spec.retry)


def node_capabilities_for(spec: ComponentSpec | None, node: NodeDefinition) -> NodeCapabilities:
    """The node's capabilities: every document port claimed in its direction, and the
    spec's effects (none when ``spec`` is ``None``), unknown when the spec says its
    effects are not all known (:attr:`ComponentSpec.effects_are_known`)."""
    claims = [PortCapability(p, PortCapabilityDirection.RECEIVE) for p in node.input_ports]
    claims += [PortCapability(p, PortCapabilityDirection.EMIT) for p in node.output_ports]
    if spec is None:
        return NodeCapabilities(node.id, tuple(claims))
    return NodeCapabilities(node.id, tuple(claims), spec.effects, spec.effects_are_known)


# --- the decorator -------------------------------------------------------------------------


def _is_async(function: object) -> bool:
    return inspect.iscoroutinefunction(function)


def _takes_three(function: Callable[..., Any]) -> bool:
    """True when ``function(ctx, inputs, outputs)`` is a valid call."""
    try:
        inspect.signature(function).bind(None, None, None)
    except (TypeError, ValueError):
        return False
    return True


def _takes_config(cls: type) -> bool:
    try:
        inspect.signature(cls).bind(None)
    except TypeError:
        return False
    except ValueError:  # no signature (builtins): assume the default object() constructor
        return False
    return True


def _class_factory(cls: type) -> ComponentFactory:
    if _takes_config(cls):
        return cls
    return lambda _config: cls()


def _function_factory(function: Callable[..., Any], run_in: RunIn) -> ComponentFactory:
    if run_in == "loop":
        executor = FunctionNodeExecutor(function)
        return lambda _config: executor
    return lambda _config: function


def _check_shape(target: object, run_in: RunIn) -> None:
    """TypeError when ``target`` cannot run as ``run_in`` says."""
    label = getattr(target, "__qualname__", repr(target))
    if inspect.isclass(target):
        run = getattr(target, "run", None)
        if run_in == "loop" and not _is_async(run):
            raise TypeError(
                f"component class `{label}` needs `async def run(ctx, inputs, outputs)`"
            )
        if run_in == "thread" and (run is None or _is_async(run)):
            raise TypeError(f"thread component class `{label}` needs a blocking `def run(...)`")
        if run_in == "process" and not any("__call__" in vars(k) for k in target.__mro__):
            raise TypeError(f"process component class `{label}` needs `__call__(value)`")
        return
    if not callable(target):
        raise TypeError(f"@component applies to a function or a class, not {type(target).__name__}")
    if run_in == "loop" and not _is_async(target):
        raise TypeError(
            f"component function `{label}` must be `async def` "
            '(use run_in="thread" for blocking code)'
        )
    if run_in != "loop" and _is_async(target):
        raise TypeError(f'a run_in="{run_in}" component function `{label}` must not be async')


def _description(target: object) -> str:
    doc = inspect.getdoc(target) or ""
    return doc.strip().split("\n\n", 1)[0].replace("\n", " ")


def _default_name(target: object) -> str:
    module = getattr(target, "__module__", None) or "?"
    return f"{module}:{getattr(target, '__qualname__', type(target).__name__)}"


@overload
def component(target: T, /) -> T: ...


@overload
def component(
    *,
    name: str | None = None,
    inputs: Iterable[str] | None = None,
    outputs: Iterable[str] | None = None,
    config_schema: Mapping[str, Any] | None = None,
    effects: Iterable[EffectCapability | str] = (),
    description: str | None = None,
    determinism: Determinism = Determinism.UNKNOWN,
    retry: RetryDisposition = RetryDisposition.UNKNOWN,
    run_in: RunIn = "loop",
    calls: Iterable[str] = (),
) -> Callable[[T], T]: ...


def component(
    target: Any = None,
    /,
    *,
    name: str | None = None,
    inputs: Iterable[str] | None = None,
    outputs: Iterable[str] | None = None,
    config_schema: Mapping[str, Any] | None = None,
    effects: Iterable[EffectCapability | str] = (),
    description: str | None = None,
    determinism: Determinism = Determinism.UNKNOWN,
    retry: RetryDisposition = RetryDisposition.UNKNOWN,
    run_in: RunIn = "loop",
    calls: Iterable[str] = (),
) -> Any:
    """Declare a function or class as a component; returns it unchanged.

    Use bare (``@component``: any ports, no schema) or with arguments. ``name`` defaults
    to ``module:qualname`` and ``description`` to the docstring's first paragraph. A
    function runs as the node itself (config through ``ctx.config``); a class is
    instantiated once per node with its :class:`NodeConfig` (when ``__init__`` takes an
    argument). ``calls`` names the config keys whose values are ``module:attr`` callables
    the component imports and calls (its effects are then unknown; see
    :class:`ComponentSpec`). ``TypeError`` when the target's shape does not fit ``run_in``
    (a loop function that is not ``async``, a thread function that is).

    ``pureflow validate`` and ``inspect`` read this declaration from the module's source
    without importing it, when its arguments are literals (or module-level names bound to
    literals, and ``EffectCapability``/``Determinism``/``RetryDisposition`` members);
    anything computed is reported as unchecked unless the document is trusted.
    """

    def decorate(obj: T) -> T:
        if run_in not in RUN_IN_VALUES:
            raise ValueError(f"run_in must be one of {', '.join(RUN_IN_VALUES)}: {run_in!r}")
        _check_shape(obj, run_in)
        process = run_in == "process"
        spec = ComponentSpec(
            name=name or _default_name(obj),
            description=_description(obj) if description is None else description,
            inputs=tuple(inputs) if inputs is not None else (("in",) if process else None),
            outputs=tuple(outputs) if outputs is not None else (("out",) if process else None),
            config_schema=config_schema,
            effects=_effect_tuple(effects),
            determinism=determinism,
            retry=retry,
            run_in=run_in,
            calls=tuple(calls),
        )
        factory = (
            _class_factory(obj) if inspect.isclass(obj) else _function_factory(obj, run_in)  # type: ignore[arg-type]
        )
        setattr(obj, COMPONENT_ATTRIBUTE, Component(spec, factory))
        return obj

    if target is not None:
        return decorate(target)
    return decorate


def component_of(obj: object) -> Component | None:
    """The :class:`Component` ``obj`` is, or was declared as with :func:`component`.

    A subclass of a decorated class is not itself a component (it must be decorated too),
    and neither is an instance of one (it is a ready node: ``as_component`` runs it as is).
    """
    if isinstance(obj, Component):
        return obj
    # Only the object's own attributes: an instance must not inherit its class's declaration.
    found = getattr(obj, "__dict__", {}).get(COMPONENT_ATTRIBUTE)
    return found if isinstance(found, Component) else None


def as_component(obj: object, *, name: str) -> Component | None:
    """``obj`` as a :class:`Component`, or ``None`` when it cannot run a node.

    Accepted, in this order: a :class:`Component` or a :func:`component`-decorated object;
    a function marked with ``pureflow.runtime.in_process`` (a process component with its
    marked ports); an ``async def node(ctx, inputs, outputs)`` function; a blocking
    ``def node(ctx, inputs, outputs)`` function (a ``run_in="thread"`` component: it runs
    in a worker thread with blocking port views); a class with ``async def run`` (built
    per node with its config, or with no argument); an object with ``async def run``
    (shared by every node bound to it). Undecorated objects declare
    no ports (``None``: unchecked) and no schema; ``name`` names them.
    """
    found = component_of(obj)
    if found is not None:
        return found
    description = _description(obj)
    if not inspect.isclass(obj) and callable(obj) and hasattr(obj, _PROCESS_MARK):
        options = getattr(obj, _PROCESS_MARK)
        spec = ComponentSpec(
            name,
            description,
            (str(options.get("input_port", "in")),),
            (str(options.get("output_port", "out")),),
            run_in="process",
        )
        return Component(spec, _function_factory(obj, "process"))
    if inspect.isfunction(obj) or inspect.ismethod(obj):
        if _is_async(obj):
            return Component(ComponentSpec(name, description), _function_factory(obj, "loop"))
        if _takes_three(obj):
            spec = ComponentSpec(name, description, run_in="thread")
            return Component(spec, _function_factory(obj, "thread"))
        return None
    if inspect.isclass(obj):
        if _is_async(getattr(obj, "run", None)):
            return Component(ComponentSpec(name, description), _class_factory(obj))
        return None
    if _is_async(getattr(obj, "run", None)):
        instance = obj
        return Component(ComponentSpec(name, description), lambda _config: instance)
    return None


# --- imports ---------------------------------------------------------------------------------


class ImportReferenceError(ImportError):
    """A ``module:attr`` reference could not be resolved. ``kind`` says why:

    * ``"invalid"``: the text is not ``module:attr``;
    * ``"not_found"``: the module (or a package on its path) does not exist;
    * ``"raised"``: the module exists but raised while being imported (``cause``);
    * ``"missing_attribute"``: the module has no such (dotted) attribute.
    """

    def __init__(
        self, kind: str, reference: str, message: str, cause: BaseException | None = None
    ) -> None:
        self.kind = kind
        self.reference = reference
        self.cause = cause
        super().__init__(message)


_PATH_LOCK: Final = threading.RLock()


def _import_module(module_name: str, base_dir: Path | None) -> Any:
    if base_dir is None:
        return importlib.import_module(module_name)
    entry = os.fspath(base_dir)
    with _PATH_LOCK:
        sys.path.insert(0, entry)
        importlib.invalidate_caches()
        try:
            return importlib.import_module(module_name)
        finally:
            # The first occurrence is the one inserted above (unless the module removed it).
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)


def import_object(reference: str, *, base_dir: str | os.PathLike[str] | None = None) -> Any:
    """Import ``module:attr`` (``attr`` may be dotted, ``Outer.method``) and return it.

    With ``base_dir`` (the workflow file's folder) that folder is searched first, for
    the duration of the import only: modules there need no installation. Modules stay
    cached in ``sys.modules`` as usual, so two folders holding a module of the same name
    share the first one imported. Raises :class:`ImportReferenceError`.
    """
    module_name, colon, attribute = reference.partition(":")
    module_name = module_name.strip()
    attribute = attribute.strip()
    if not colon or not module_name or not attribute:
        raise ImportReferenceError(
            "invalid", reference, f"`{reference}` is not of the form `module:attribute`"
        )
    try:
        module = _import_module(module_name, None if base_dir is None else Path(base_dir))
    except ModuleNotFoundError as err:
        missing = err.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            where = f" (looked in `{base_dir}` and sys.path)" if base_dir is not None else ""
            detail = "" if missing == module_name else f" (no module named `{missing}`)"
            raise ImportReferenceError(
                "not_found", reference, f"module `{module_name}` not found{detail}{where}", err
            ) from None
        raise ImportReferenceError(
            "raised",
            reference,
            f"importing module `{module_name}` raised {type(err).__name__}: {err}",
            err,
        ) from err
    except (Exception, SystemExit, KeyboardInterrupt) as err:
        # A module that calls sys.exit() or raises KeyboardInterrupt while it is imported
        # is a broken component, not a request to end the program (the CLI handles real
        # signals without KeyboardInterrupt).
        raise ImportReferenceError(
            "raised",
            reference,
            f"importing module `{module_name}` raised {type(err).__name__}: {err}",
            err,
        ) from err
    value: Any = module
    walked = module_name
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise ImportReferenceError(
                "missing_attribute",
                reference,
                f"`{walked}` has no attribute `{part}`",
            ) from None
        walked = f"{walked}:{part}" if walked == module_name else f"{walked}.{part}"
    return value
