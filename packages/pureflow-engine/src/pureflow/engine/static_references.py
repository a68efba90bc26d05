"""What a ``python:`` reference names, found without running any of its code.

Importing a module runs it, so a document that names ``python:venv.__main__:main`` would
make a mere ``pureflow validate`` create a virtualenv. A *static* binding (what
``validate``, ``inspect``, ``explain`` and ``graph`` do unless told to trust the
document) reads instead:

* **Locating** the module imports nothing. A module already imported (``os``, the
  standard library's startup modules, Pureflow itself) is used as it is: its attributes
  are read with :func:`inspect.getattr_static`, which runs no descriptor or module
  ``__getattr__``. Any other module is looked up the way the import system would, the
  workflow file's folder first, then ``sys.path``, through the import system's *finders*
  (which only look at files), one package level at a time: a package's ``__init__`` is
  never run to find its submodules (``importlib.util.find_spec`` would run it).
* **Reading** the module's source (a regular file within the document size limit,
  :data:`pureflow.types.DOCUMENT_LIMIT`) with :mod:`ast`: the name is looked up among the
  module's top-level definitions, assignments and imports (``from x import y`` is
  followed into ``x``); a ``@component(...)`` declaration gives the spec when its
  arguments are literals, module-level names bound to literals, or members of
  ``EffectCapability``, ``Determinism`` and ``RetryDisposition``; an undecorated
  ``async def`` (or a blocking ``def`` taking ``(ctx, inputs, outputs)``, or a class with
  ``async def run``) is a component as :func:`~pureflow.core.as_component` would take it.
* **Honesty** about the rest: a declaration argument that is computed leaves that part
  unchecked (``StaticComponent.unchecked``: ``ports``, ``config schema``, ``effects``,
  ``where it runs``), and an object made at import time (bound to an expression,
  decorated by something else, defined conditionally, from compiled code, from a
  ``from x import *``) leaves everything unchecked, its effects unknown. Nothing is
  guessed: a binding reports these as ``binding.unchecked`` warnings.

A module that does not exist, a name the module does not define (and cannot define
dynamically), a literal that is not a component, or a declaration that would raise at
import are reported as :class:`~pureflow.core.ImportReferenceError` with the same kinds
(and the same wording, where it applies) as an import would give.
"""

from __future__ import annotations

import ast
import builtins
import enum
import importlib.machinery
import importlib.util
import inspect
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from pureflow.contract import Determinism, EffectCapability, RetryDisposition
from pureflow.core import (
    Component,
    ComponentSpec,
    ImportReferenceError,
    NodeConfig,
    as_component,
)
from pureflow.types import DOCUMENT_LIMIT, InputFileRefused, read_input_file

_MAX_HOPS: Final = 16
"""How many imports and aliases one lookup follows before giving up (cycles included)."""
_MAX_NESTING: Final = 500
"""How deep a literal (a config schema) may nest and still be read."""

_ENUMS: Final[dict[str, type[enum.Enum]]] = {
    "EffectCapability": EffectCapability,
    "Determinism": Determinism,
    "RetryDisposition": RetryDisposition,
}
_DECLARATION_KEYWORDS: Final = frozenset(
    {
        "name",
        "description",
        "inputs",
        "outputs",
        "config_schema",
        "effects",
        "determinism",
        "retry",
        "run_in",
        "calls",
    }
)
# What each unreadable @component argument leaves unchecked.
_UNCHECKED_BY: Final = {
    "inputs": "ports",
    "outputs": "ports",
    "config_schema": "config schema",
    "effects": "effects",
    "calls": "effects",
    "run_in": "where it runs",
}
_DYNAMIC_CALLS: Final = frozenset({"globals", "vars", "exec", "eval", "setattr", "__import__"})
_DECORATORS: Final = frozenset({"component", "in_process", "in_thread", "node_executor"})
EVERYTHING: Final = ("ports", "config schema", "effects", "what it is")
"""What stays unchecked when not even the kind of the object is known."""


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaticComponent:
    """What a ``python:`` reference names, read without importing.

    ``component``: the component as far as it could be read (its factory refuses to
    build: nothing was imported), or ``None`` when the object is not a component;
    ``what`` then says what it is (``"str"``, ``"function"``, ``"module"``), in the words
    ``type(obj).__name__`` would give. ``unchecked``: the parts that could not be read
    (:data:`EVERYTHING` when even the object's kind is unknown), ``why`` says why in one
    phrase and ``where`` is ``file:line`` (or ``""``).
    """

    component: Component | None
    what: str = ""
    unchecked: tuple[str, ...] = ()
    why: str = ""
    where: str = ""


@dataclass(frozen=True, slots=True)
class StaticCallable:
    """Whether a ``module:attr`` callable reference names something callable: ``True``,
    ``False`` (``what`` says what it is instead) or ``None`` (unknown: ``why`` and
    ``where`` say why)."""

    callable: bool | None
    what: str = ""
    why: str = ""
    where: str = ""


def _not_imported(reference: str) -> Any:
    def refuse(_config: NodeConfig) -> Any:
        raise RuntimeError(
            f"component `{reference}` was read without importing it; bind it with imports "
            "allowed (static=False) to build its code"
        )

    return refuse


# --- finding modules -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Located:
    name: str
    module: ModuleType | None = None
    spec: ModuleSpec | None = None

    @property
    def search_locations(self) -> list[str] | None:
        if self.module is not None:
            path = self.module.__dict__.get("__path__")
            return None if path is None else [str(p) for p in path]
        assert self.spec is not None
        locations = self.spec.submodule_search_locations
        return None if locations is None else [str(p) for p in locations]


def _find_top_level(name: str, base_dir: Path | None) -> ModuleSpec | None:
    """The spec of a top-level module, the finders asked in import order (built-in and
    frozen modules first, then the path: ``base_dir`` before ``sys.path``)."""
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        path = None
        if finder is importlib.machinery.PathFinder and base_dir is not None:
            path = [os.fspath(base_dir), *sys.path]
        try:
            spec: ModuleSpec | None = find(name, path)
        except (ImportError, OSError, ValueError):
            spec = None
        if spec is not None:
            return spec
    return None


def _locate(name: str, base_dir: Path | None) -> _Located | str:
    """The module ``name``, or the name of its first part that does not exist."""
    loaded = sys.modules.get(name)
    if loaded is not None:
        return _Located(name, module=loaded)
    parent, dot, _ = name.rpartition(".")
    if not dot:
        spec = _find_top_level(name, base_dir)
        return name if spec is None else _Located(name, spec=spec)
    outer = _locate(parent, base_dir)
    if isinstance(outer, str):
        return outer
    locations = outer.search_locations
    if locations is None:
        return name
    try:
        found = importlib.machinery.PathFinder.find_spec(name, locations)
    except (ImportError, OSError, ValueError):
        found = None
    return name if found is None else _Located(name, spec=found)


def _display(path: str) -> str:
    """A source path as messages show it: relative to the current folder when inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if relative.startswith("..") else relative


# --- reading a module's top level ------------------------------------------------------------


@dataclass(slots=True)
class _Binding:
    kind: str  # "def", "class", "value", "import", "from", "dynamic"
    node: ast.AST
    conditional: bool
    module: str = ""  # the module an import binds, or imports from
    name: str = ""  # the name a from-import takes


@dataclass(slots=True)
class _Source:
    """One module read from its source: its top-level bindings."""

    name: str
    path: str
    package: str
    bindings: dict[str, _Binding] = field(default_factory=dict)
    star_imports: list[str] = field(default_factory=list)
    dynamic: bool = False  # a module __getattr__, or globals()/setattr()/exec() at top level

    def where(self, node: ast.AST) -> str:
        return f"{_display(self.path)}:{getattr(node, 'lineno', 1)}"


def _absolute(module: str | None, level: int, package: str) -> str:
    if level == 0:
        return module or ""
    parts = package.split(".") if package else []
    base = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    return ".".join([*base, module] if module else base)


def _calls_dynamic(node: ast.AST) -> bool:
    return any(
        isinstance(sub, ast.Call)
        and isinstance(sub.func, ast.Name)
        and sub.func.id in _DYNAMIC_CALLS
        for sub in ast.walk(node)
    )


def _collect(source: _Source, statements: Sequence[ast.stmt], conditional: bool) -> None:
    bind = source.bindings

    def target(node: ast.expr, value: ast.AST, statement: ast.stmt) -> None:
        if isinstance(node, ast.Name):
            bind[node.id] = _Binding("value", value, conditional)
        elif isinstance(node, ast.Tuple | ast.List | ast.Starred):
            for name in ast.walk(node):
                if isinstance(name, ast.Name):
                    bind[name.id] = _Binding("dynamic", statement, conditional)
        else:  # globals()["x"] = ..., module.x = ...
            source.dynamic = source.dynamic or _calls_dynamic(node)

    for statement in statements:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            bind[statement.name] = _Binding("def", statement, conditional)
            if statement.name == "__getattr__":
                source.dynamic = True
        elif isinstance(statement, ast.ClassDef):
            bind[statement.name] = _Binding("class", statement, conditional)
        elif isinstance(statement, ast.Assign):
            source.dynamic = source.dynamic or _calls_dynamic(statement.value)
            for node in statement.targets:
                target(node, statement.value, statement)
        elif isinstance(statement, ast.AnnAssign):
            if statement.value is not None:
                target(statement.target, statement.value, statement)
        elif isinstance(statement, ast.AugAssign | ast.Delete):
            nodes = statement.targets if isinstance(statement, ast.Delete) else [statement.target]
            for node in nodes:
                if isinstance(node, ast.Name):
                    bind[node.id] = _Binding("dynamic", statement, conditional)
        elif isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    bind[alias.asname] = _Binding("import", statement, conditional, alias.name)
                else:
                    top = alias.name.split(".", 1)[0]
                    bind[top] = _Binding("import", statement, conditional, top)
        elif isinstance(statement, ast.ImportFrom):
            module = _absolute(statement.module, statement.level, source.package)
            for alias in statement.names:
                if alias.name == "*":
                    source.star_imports.append(module)
                else:
                    bind[alias.asname or alias.name] = _Binding(
                        "from", statement, conditional, module, alias.name
                    )
        elif isinstance(statement, ast.If | ast.For | ast.AsyncFor | ast.While):
            _collect(source, statement.body, True)
            _collect(source, statement.orelse, True)
        elif isinstance(statement, ast.With | ast.AsyncWith):
            _collect(source, statement.body, True)
        elif isinstance(statement, ast.Try | ast.TryStar):
            for block in (statement.body, statement.orelse, statement.finalbody):
                _collect(source, block, True)
            for handler in statement.handlers:
                _collect(source, handler.body, True)
        elif isinstance(statement, ast.Match):
            for case in statement.cases:
                _collect(source, case.body, True)
        elif _calls_dynamic(statement):
            source.dynamic = True


# --- what a name is --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Def:
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    source: _Source
    qualname: str


@dataclass(frozen=True, slots=True)
class _Value:
    node: ast.AST
    source: _Source


@dataclass(frozen=True, slots=True)
class _Live:
    value: object


@dataclass(frozen=True, slots=True)
class _Unknown:
    why: str
    where: str = ""


_Found = _Def | _Value | _Live | _Unknown


class StaticReader:
    """Reads ``module:attr`` references without importing; parsed modules are kept for
    the reader's life (one binding)."""

    def __init__(self, base_dir: str | os.PathLike[str] | None = None) -> None:
        self.base_dir = None if base_dir is None else Path(base_dir)
        self._sources: dict[str, _Source | str] = {}

    # -- public ----------------------------------------------------------------------------

    def component(self, reference: str) -> StaticComponent:
        """What ``module:attr`` names, as a component (see :class:`StaticComponent`).

        Raises :class:`~pureflow.core.ImportReferenceError` as an import would: kind
        ``invalid``, ``not_found``, ``raised`` (the source cannot be read or parsed, or
        its declaration is invalid) or ``missing_attribute``.
        """
        module_name, attribute = _split(reference)
        found = self._resolve(reference, module_name, attribute.split("."))
        return _as_component(found, f"python:{reference}", reference)

    def callable(self, reference: str) -> StaticCallable:
        """Whether ``module:attr`` names a callable; raises like :meth:`component`."""
        module_name, attribute = _split(reference)
        found = self._resolve(reference, module_name, attribute.split("."))
        if isinstance(found, _Live):
            if callable(found.value):
                return StaticCallable(True)
            return StaticCallable(False, type(found.value).__name__)
        if isinstance(found, _Unknown):
            return StaticCallable(None, why=found.why, where=found.where)
        if isinstance(found, _Def):
            if found.node.decorator_list:
                return StaticCallable(
                    None, why="it is decorated", where=found.source.where(found.node)
                )
            return StaticCallable(True)
        literal = _literal_type(found.node)
        if literal is not None:
            return StaticCallable(False, literal)
        if isinstance(found.node, ast.Lambda):
            return StaticCallable(True)
        return StaticCallable(
            None, why="it is bound to an expression", where=found.source.where(found.node)
        )

    # -- modules ---------------------------------------------------------------------------

    def _source(self, reference: str, located: _Located) -> _Source | str:
        """The parsed module, or why its source cannot be read (compiled, built in)."""
        cached = self._sources.get(located.name)
        if cached is not None:
            return cached
        result = self._read(reference, located)
        self._sources[located.name] = result
        return result

    def _read(self, reference: str, located: _Located) -> _Source | str:
        spec = located.spec
        assert spec is not None
        origin = spec.origin
        is_package = spec.submodule_search_locations is not None
        if not origin or not spec.has_location:
            if is_package:  # a namespace package: no code of its own
                return _Source(located.name, origin or located.name, located.name)
            return f"`{located.name}` is a {origin or 'built-in'} module, with no source to read"
        if not origin.endswith(tuple(importlib.machinery.SOURCE_SUFFIXES)):
            return f"`{located.name}` is compiled code ({_display(origin)}), with no source to read"
        if not os.path.lexists(origin):  # inside an archive (zipimport)
            return f"`{located.name}` is inside an archive ({_display(origin)})"
        try:
            data = read_input_file(origin, DOCUMENT_LIMIT)
        except InputFileRefused as refused:
            raise ImportReferenceError(
                "raised",
                reference,
                f"module `{located.name}` cannot be read: `{_display(origin)}`: {refused.reason}",
            ) from None
        except OSError as err:
            raise ImportReferenceError(
                "raised",
                reference,
                f"module `{located.name}` cannot be read: `{_display(origin)}`: "
                f"{err.strerror or err}",
            ) from None
        try:
            tree = ast.parse(importlib.util.decode_source(data), filename=origin)
        except (SyntaxError, ValueError, UnicodeDecodeError, LookupError, RecursionError) as err:
            raise ImportReferenceError(
                "raised",
                reference,
                f"importing module `{located.name}` would raise {type(err).__name__}: {err}",
            ) from None
        package = located.name if is_package else located.name.rpartition(".")[0]
        source = _Source(located.name, origin, package)
        _collect(source, tree.body, False)
        return source

    def _resolve(self, reference: str, module_name: str, parts: list[str]) -> _Found:
        located = _locate(module_name, self.base_dir)
        if isinstance(located, str):
            where = f" (looked in `{self.base_dir}` and sys.path)" if self.base_dir else ""
            detail = "" if located == module_name else f" (no module named `{located}`)"
            raise ImportReferenceError(
                "not_found", reference, f"module `{module_name}` not found{detail}{where}"
            )
        return self._in_module(reference, located, parts, module_name, 0)

    def _in_module(
        self, reference: str, located: _Located, parts: list[str], walked: str, hops: int
    ) -> _Found:
        if hops > _MAX_HOPS:
            return _Unknown(f"more than {_MAX_HOPS} imports and aliases to follow")
        if located.module is not None:
            return _live(reference, located.module, parts, walked)
        source = self._source(reference, located)
        if isinstance(source, str):
            return _Unknown(source)
        return self._lookup(reference, source, parts, walked, hops)

    def _lookup(
        self, reference: str, source: _Source, parts: list[str], walked: str, hops: int
    ) -> _Found:
        if hops > _MAX_HOPS:
            return _Unknown(f"more than {_MAX_HOPS} imports and aliases to follow")
        first, rest = parts[0], parts[1:]
        binding = source.bindings.get(first)
        if binding is None:
            # A submodule is an attribute of its package once imported.
            if source.package == source.name:
                sub = _locate(f"{source.name}.{first}", self.base_dir)
                if isinstance(sub, _Located):
                    return self._module_value(reference, sub, rest, hops)
            if source.star_imports or source.dynamic:
                origin = f"`from {source.star_imports[0]} import *`" if source.star_imports else ""
                return _Unknown(
                    f"`{first}` is not defined in `{source.name}` itself"
                    + (
                        f" (it may come from {origin})"
                        if origin
                        else " (it may be set at run time)"
                    )
                )
            raise ImportReferenceError(
                "missing_attribute", reference, f"`{walked}` has no attribute `{first}`"
            )
        if binding.conditional:
            return _Unknown(
                f"`{first}` is defined conditionally in `{source.name}`",
                source.where(binding.node),
            )
        step = f"{walked}:{first}" if ":" not in walked else f"{walked}.{first}"
        if binding.kind == "import":
            target = _locate(binding.module, self.base_dir)
            if isinstance(target, str):
                return _Unknown(
                    f"`{source.name}` imports `{binding.module}`, which was not found",
                    source.where(binding.node),
                )
            if not rest:
                return _Live(_MODULE)
            return self._in_module(reference, target, rest, binding.module, hops + 1)
        if binding.kind == "from":
            target = _locate(binding.module, self.base_dir)
            if isinstance(target, str):
                return _Unknown(
                    f"`{source.name}` imports from `{binding.module}`, which was not found",
                    source.where(binding.node),
                )
            # `from package import name`: an attribute of the package, or its submodule
            # (always the submodule for `from . import name` in the package's __init__).
            if binding.module == source.name:
                sub = _locate(f"{binding.module}.{binding.name}", self.base_dir)
                if isinstance(sub, _Located):
                    return self._module_value(reference, sub, rest, hops)
                return _Unknown(
                    f"`{source.name}` imports `{binding.name}` from itself",
                    source.where(binding.node),
                )
            if target.module is None:
                read = self._source(reference, target)
                if (
                    isinstance(read, _Source)
                    and binding.name not in read.bindings
                    and not read.star_imports
                    and not read.dynamic
                ):
                    sub = _locate(f"{binding.module}.{binding.name}", self.base_dir)
                    if isinstance(sub, _Located):
                        return self._module_value(reference, sub, rest, hops)
            return self._in_module(
                reference, target, [binding.name, *rest], binding.module, hops + 1
            )
        if binding.kind in ("def", "class"):
            node = binding.node
            assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            return self._member(
                reference, source=source, node=node, qualname=node.name, rest=rest, walked=step
            )
        if binding.kind == "value":
            value = binding.node
            if isinstance(value, ast.Name) and value.id != first:
                if value.id in source.bindings:
                    return self._lookup(reference, source, [value.id, *rest], walked, hops + 1)
                if value.id in builtins.__dict__ and not rest:
                    return _Live(builtins.__dict__[value.id])
                return _Unknown(
                    f"`{first}` is bound to `{value.id}`, which `{source.name}` does not define",
                    source.where(value),
                )
            if rest:
                return _Unknown(
                    f"`{first}` is bound to an expression in `{source.name}`",
                    source.where(value),
                )
            return _Value(value, source)
        return _Unknown(
            f"`{first}` is changed at import time in `{source.name}`", source.where(binding.node)
        )

    def _module_value(
        self, reference: str, located: _Located, rest: list[str], hops: int
    ) -> _Found:
        if not rest:
            return _Live(_MODULE)
        return self._in_module(reference, located, rest, located.name, hops + 1)

    def _member(
        self,
        reference: str,
        *,
        source: _Source,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
        qualname: str,
        rest: list[str],
        walked: str,
    ) -> _Found:
        if not rest:
            return _Def(node, source, qualname)
        if isinstance(node, ast.ClassDef) and not node.decorator_list:
            for item in node.body:
                if (
                    isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                    and item.name == rest[0]
                ):
                    return self._member(
                        reference,
                        source=source,
                        node=item,
                        qualname=f"{qualname}.{item.name}",
                        rest=rest[1:],
                        walked=walked,
                    )
            assigned = any(
                isinstance(target, ast.Name) and target.id == rest[0]
                for item in node.body
                if isinstance(item, ast.Assign | ast.AnnAssign)
                for target in (item.targets if isinstance(item, ast.Assign) else [item.target])
            )
            if not assigned and not node.bases and not node.keywords:
                raise ImportReferenceError(
                    "missing_attribute", reference, f"`{walked}` has no attribute `{rest[0]}`"
                )
        return _Unknown(
            f"`{qualname}.{rest[0]}` is not a `def` or `class` of the class body",
            source.where(node),
        )


_MODULE: Final = ModuleType("module")
"""Stands for a module found in source, where only its kind matters."""


def _live(reference: str, module: ModuleType, parts: list[str], walked: str) -> _Found:
    """Attributes of an already-imported module, read without running any code."""
    value: object = module
    for part in parts:
        try:
            value = inspect.getattr_static(value, part)
        except AttributeError:
            if isinstance(value, ModuleType) and "__getattr__" in value.__dict__:
                return _Unknown(f"`{walked}` computes its attributes (a module `__getattr__`)")
            raise ImportReferenceError(
                "missing_attribute", reference, f"`{walked}` has no attribute `{part}`"
            ) from None
        walked = f"{walked}:{part}" if ":" not in walked else f"{walked}.{part}"
        if isinstance(value, staticmethod | classmethod):
            value = value.__func__
    return _Live(value)


def _split(reference: str) -> tuple[str, str]:
    module_name, colon, attribute = reference.partition(":")
    module_name, attribute = module_name.strip(), attribute.strip()
    if not colon or not module_name or not attribute:
        raise ImportReferenceError(
            "invalid", reference, f"`{reference}` is not of the form `module:attribute`"
        )
    if not all(part.isidentifier() for part in module_name.split(".")):
        # Never a path: `../x` must not lead the finders out of the search path.
        raise ImportReferenceError("not_found", reference, f"module `{module_name}` not found")
    return module_name, attribute


# --- literals --------------------------------------------------------------------------------


class _NotLiteral(Exception):
    pass


_LITERAL_TYPES: Final[dict[type[ast.AST], str]] = {
    ast.List: "list",
    ast.ListComp: "list",
    ast.Tuple: "tuple",
    ast.Dict: "dict",
    ast.DictComp: "dict",
    ast.Set: "set",
    ast.SetComp: "set",
    ast.JoinedStr: "str",
}


def _literal_type(node: ast.AST) -> str | None:
    """The type name of a literal expression (``"str"``, ``"list"``), or None."""
    if isinstance(node, ast.Constant):
        return type(node.value).__name__
    return _LITERAL_TYPES.get(type(node))


def _pureflow_name(source: _Source, node: ast.expr) -> str | None:
    """The name ``node`` refers to when it is imported from a ``pureflow`` package
    (``component``, ``pureflow.core.component``, ``core.EffectCapability``), else None."""
    chain: list[str] = []
    while isinstance(node, ast.Attribute):
        chain.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    chain.append(node.id)
    chain.reverse()
    binding = source.bindings.get(chain[0])
    if binding is None or binding.conditional:
        return None
    module = binding.module
    if binding.kind not in ("import", "from") or not (
        module == "pureflow" or module.startswith("pureflow.")
    ):
        return None
    if len(chain) == 1:
        return binding.name if binding.kind == "from" else None
    return chain[-1]


def _literal(node: ast.AST, source: _Source, hops: int = 0, depth: int = 0) -> Any:
    """The value of a literal expression: constants, containers of literals, a negated
    number, a module-level name bound to a literal (``hops`` counts those, against
    cycles), an ``EffectCapability``/``Determinism``/``RetryDisposition`` member.
    Raises :class:`_NotLiteral` for anything else."""
    if hops > _MAX_HOPS or depth > _MAX_NESTING:
        raise _NotLiteral
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = [_literal(item, source, hops, depth + 1) for item in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise _NotLiteral
        return {
            _literal(key, source, hops, depth + 1): _literal(value, source, hops, depth + 1)
            for key, value in zip(node.keys, node.values, strict=True)
            if key is not None
        }
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _literal(node.operand, source, hops, depth + 1)
        if isinstance(operand, int | float) and not isinstance(operand, bool):
            return -operand if isinstance(node.op, ast.USub) else operand
        raise _NotLiteral
    if isinstance(node, ast.Name):
        binding = source.bindings.get(node.id)
        if binding is not None and binding.kind == "value" and not binding.conditional:
            return _literal(binding.node, source, hops + 1, depth)
        raise _NotLiteral
    if isinstance(node, ast.Attribute):
        owner = _pureflow_name(source, node.value)
        members = _ENUMS.get(owner or "")
        if members is not None and node.attr in members.__members__:
            return members.__members__[node.attr]
    raise _NotLiteral


# --- the component a definition declares -----------------------------------------------------


def _decorator(source: _Source, node: ast.expr) -> tuple[str | None, ast.Call | None]:
    call = node if isinstance(node, ast.Call) else None
    name = _pureflow_name(source, call.func if call is not None else node)
    return (name if name in _DECORATORS else None), call


def _takes_three(arguments: ast.arguments) -> bool:
    positional = [*arguments.posonlyargs, *arguments.args]
    required = len(positional) - len(arguments.defaults)
    required_keywords = sum(default is None for default in arguments.kw_defaults)
    return (
        required <= 3
        and required_keywords == 0
        and (len(positional) >= 3 or bool(arguments.vararg))
    )


def _description(node: ast.AST) -> str:
    doc = (
        ast.get_docstring(node)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        else None
    )
    return (doc or "").strip().split("\n\n", 1)[0].replace("\n", " ")


def _class_method(node: ast.ClassDef, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for item in node.body:
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == name:
            return item
    return None


def _unknown_component(reference: str, why: str, where: str = "") -> StaticComponent:
    spec = ComponentSpec(reference, effects_known=False)
    return StaticComponent(Component(spec, _not_imported(reference)), "", EVERYTHING, why, where)


def _as_component(found: _Found, label: str, reference: str) -> StaticComponent:
    if isinstance(found, _Unknown):
        return _unknown_component(label, found.why, found.where)
    if isinstance(found, _Live):
        component = as_component(found.value, name=label)
        if component is None:
            return StaticComponent(None, type(found.value).__name__)
        return StaticComponent(component)
    if isinstance(found, _Value):
        literal = _literal_type(found.node)
        if literal is not None:
            return StaticComponent(None, literal)
        return _unknown_component(
            label, "it is bound to an expression", found.source.where(found.node)
        )
    return _definition(found, label, reference)


def _definition(found: _Def, label: str, reference: str) -> StaticComponent:
    node, source = found.node, found.source
    where = source.where(node)
    decorators = [_decorator(source, d) for d in node.decorator_list]
    if len(decorators) > 1 or any(kind is None for kind, _ in decorators):
        unknown = [
            d for d, (kind, _) in zip(node.decorator_list, decorators, strict=True) if kind is None
        ]
        shown = ast.unparse((unknown or node.decorator_list)[0]).split("(", 1)[0]
        return _unknown_component(label, f"it is decorated with `@{shown}`", where)
    description = _description(node)
    if not decorators:
        if isinstance(node, ast.AsyncFunctionDef):
            return _static(ComponentSpec(label, description), where)
        if isinstance(node, ast.FunctionDef):
            if _takes_three(node.args):
                return _static(ComponentSpec(label, description, run_in="thread"), where)
            return StaticComponent(None, "function")
        assert isinstance(node, ast.ClassDef)
        run = _class_method(node, "run")
        if isinstance(run, ast.AsyncFunctionDef):
            return _static(ComponentSpec(label, description), where)
        if run is None and (node.bases or node.keywords):
            return _unknown_component(label, "`run` may come from a base class", where)
        return StaticComponent(None, "type")
    kind, call = decorators[0]
    if kind in ("in_thread", "node_executor"):
        return _static(ComponentSpec(label), where)
    if kind == "in_process":
        return _process(node, call, source=source, label=label, reference=reference, where=where)
    return _declared(found, call, label, reference, description)


def _static(
    spec: ComponentSpec, where: str, unchecked: Iterable[str] = (), why: str = ""
) -> StaticComponent:
    listed = tuple(dict.fromkeys(unchecked))
    return StaticComponent(Component(spec, _not_imported(spec.name)), "", listed, why, where)


def _invalid(
    reference: str, source: _Source, qualname: str, err: Exception, where: str
) -> ImportReferenceError:
    return ImportReferenceError(
        "raised",
        reference,
        f"importing module `{source.name}` would raise {type(err).__name__}: the declaration "
        f"of `{qualname}` is invalid: {err} (at {where})",
    )


def _process(
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
    call: ast.Call | None,
    *,
    source: _Source,
    label: str,
    reference: str,
    where: str,
) -> StaticComponent:
    ports = {"input_port": "in", "output_port": "out"}
    unread = False
    for keyword in call.keywords if call is not None else ():
        if keyword.arg in ports:
            try:
                ports[keyword.arg] = str(_literal(keyword.value, source))
            except _NotLiteral:
                unread = True
    try:
        spec = ComponentSpec(
            label,
            _description(node),
            None if unread else (ports["input_port"],),
            None if unread else (ports["output_port"],),
            run_in="process",
        )
    except (ValueError, TypeError) as err:
        raise _invalid(reference, source, node.name, err, where) from None
    return _static(spec, where, ["ports"] if unread else [], "declared by expressions")


def _enum_value(kind: type[enum.Enum], value: Any) -> Any:
    return value if isinstance(value, kind) else kind(value)


def _declared(
    found: _Def,
    call: ast.Call | None,
    label: str,
    reference: str,
    description: str,
) -> StaticComponent:
    """A ``@component(...)`` declaration read from its literal arguments."""
    node, source = found.node, found.source
    where = source.where(node)
    values: dict[str, Any] = {}
    unread: list[str] = []
    if call is not None:
        if call.args:
            return _unknown_component(
                label, "`@component` is called with positional arguments", where
            )
        for keyword in call.keywords:
            if keyword.arg is None:
                return _unknown_component(
                    label, "`@component` is called with `**` arguments", where
                )
            if keyword.arg not in _DECLARATION_KEYWORDS:
                err = TypeError(f"component() got an unexpected keyword argument '{keyword.arg}'")
                raise _invalid(reference, source, found.qualname, err, where)
            try:
                values[keyword.arg] = _literal(keyword.value, source)
            except _NotLiteral:
                unread.append(keyword.arg)
    run_in = values.get("run_in", "loop")
    process = run_in == "process"
    default_ports = ("in",) if process else None
    inputs = values.get("inputs", default_ports) if "inputs" not in unread else None
    outputs = (
        values.get("outputs", ("out",) if process else None) if "outputs" not in unread else None
    )
    try:
        spec = ComponentSpec(
            name=str(values.get("name") or f"{found.source.name}:{found.qualname}"),
            description=str(values["description"]) if "description" in values else description,
            inputs=None if inputs is None else tuple(inputs),
            outputs=None if outputs is None else tuple(outputs),
            config_schema=values.get("config_schema"),
            effects=tuple(values.get("effects", ())),
            determinism=_enum_value(Determinism, values.get("determinism", Determinism.UNKNOWN)),
            retry=_enum_value(RetryDisposition, values.get("retry", RetryDisposition.UNKNOWN)),
            run_in=run_in,
            calls=tuple(values.get("calls", ())),
            effects_known=not ({"effects", "calls"} & set(unread)),
        )
        _check_shape(node, spec.run_in, found.qualname)
    except (ValueError, TypeError) as err:
        raise _invalid(reference, source, found.qualname, err, where) from None
    unchecked = [_UNCHECKED_BY[name] for name in unread if name in _UNCHECKED_BY]
    return _static(spec, where, unchecked, "declared by expressions, not literals")


def _check_shape(
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, run_in: str, qualname: str
) -> None:
    """The TypeError ``@component`` would raise at import for a shape that does not fit."""
    if isinstance(node, ast.ClassDef):
        inherits = bool(node.bases or node.keywords)
        run = _class_method(node, "run")
        # An inherited `run` cannot be seen here: only a missing one in a plain class is.
        judged = run is not None or not inherits
        if run_in == "loop" and judged and not isinstance(run, ast.AsyncFunctionDef):
            raise TypeError(
                f"component class `{qualname}` needs `async def run(ctx, inputs, outputs)`"
            )
        if run_in == "thread" and judged and not isinstance(run, ast.FunctionDef):
            raise TypeError(f"thread component class `{qualname}` needs a blocking `def run(...)`")
        if run_in == "process" and _class_method(node, "__call__") is None and not inherits:
            raise TypeError(f"process component class `{qualname}` needs `__call__(value)`")
        return
    is_async = isinstance(node, ast.AsyncFunctionDef)
    if run_in == "loop" and not is_async:
        raise TypeError(
            f"component function `{qualname}` must be `async def` "
            '(use run_in="thread" for blocking code)'
        )
    if run_in != "loop" and is_async:
        raise TypeError(f'a run_in="{run_in}" component function `{qualname}` must not be async')
