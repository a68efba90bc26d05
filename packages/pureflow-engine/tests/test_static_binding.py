"""Static binding: ``python:`` references (and the callables ``map``/``filter``/``split``
take from their config) checked from source without running any of their code.

Every module written here leaves a marker file when it is imported; the tests assert that
no marker appears, that what a literal declaration says is read exactly as an import
would give it, and that what cannot be read is reported as unchecked, never guessed.
"""

from __future__ import annotations

import os
import sys
import textwrap
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from pureflow.contract import Determinism, EffectCapability, RetryDisposition
from pureflow.core import ImportReferenceError
from pureflow.engine import BindingError, BindingProblem, bind_document, bind_workflow
from pureflow.engine.static_references import EVERYTHING, StaticReader
from pureflow.workflow import NodeDefinition, WorkflowDefinition, WorkflowGraph


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def tripwire(marker: Path) -> str:
    """Module code that leaves ``marker`` behind when it runs."""
    return f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"


def write(folder: Path, relative: str, source: str) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def node(
    node_id: str,
    component: str,
    inputs: Iterable[str] = ("in",),
    outputs: Iterable[str] = ("out",),
    config: Mapping[str, Any] | None = None,
) -> NodeDefinition:
    return NodeDefinition.of(node_id, inputs, outputs, component=component, config=config)


def flow(*nodes: NodeDefinition) -> WorkflowDefinition:
    return WorkflowDefinition("flow", WorkflowGraph(list(nodes), []))


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "imported.txt"


@pytest.fixture(autouse=True)
def _no_module_left_behind() -> Any:
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith(("declared_", "plain_", "pkg_", "dyn_", "callee_")):
            del sys.modules[name]


DECLARED = """
    from pureflow.core import component
    from pureflow.contract import Determinism, EffectCapability, RetryDisposition

    {tripwire}
    SCHEMA = {{"type": "object", "properties": {{"n": {{"type": "integer"}}}}, "required": ["n"]}}
    INPUTS = ["in"]

    @component(
        name="fetcher",
        inputs=INPUTS,
        outputs=["out", "error"],
        config_schema=SCHEMA,
        effects=["network_outbound", EffectCapability.CLOCK],
        determinism=Determinism.NON_DETERMINISTIC,
        retry=RetryDisposition.SAFE,
    )
    async def fetch(ctx, inputs, outputs):
        "Fetch one thing per packet."

    @component(run_in="thread", inputs=["in"], outputs=[])
    def blocking(ctx, inputs, outputs):
        pass

    @component(run_in="process")
    def double(value):
        return value * 2

    @component(inputs=["in"], outputs=["out"], calls=["key"])
    class Keyed:
        def __init__(self, config):
            self.config = config

        async def run(self, ctx, inputs, outputs):
            pass

    async def plain(ctx, inputs, outputs):
        pass

    class Runner:
        async def run(self, ctx, inputs, outputs):
            pass
"""


def test_a_literal_declaration_is_read_as_an_import_would_give_it(
    tmp_path: Path, marker: Path
) -> None:
    module = unique("declared")
    write(tmp_path, f"{module}.py", DECLARED.format(tripwire=tripwire(marker)))
    reader = StaticReader(tmp_path)
    read = {
        name: reader.component(f"{module}:{name}")
        for name in ("fetch", "blocking", "double", "Keyed", "plain", "Runner")
    }
    assert not marker.exists()
    assert all(found.component is not None and not found.unchecked for found in read.values())

    # The same module imported, for comparison (now it runs, on purpose).
    sys.path.insert(0, str(tmp_path))
    try:
        from pureflow.core import as_component, import_object

        for name, found in read.items():
            assert found.component is not None
            static = found.component.spec
            imported = as_component(
                import_object(f"{module}:{name}"), name=f"python:{module}:{name}"
            )
            assert imported is not None
            expected = imported.spec
            assert static.inputs == expected.inputs, name
            assert static.outputs == expected.outputs, name
            assert static.config_schema == expected.config_schema, name
            assert static.effects == expected.effects, name
            assert static.effects_are_known == expected.effects_are_known, name
            assert static.run_in == expected.run_in, name
            assert static.determinism == expected.determinism, name
            assert static.retry == expected.retry, name
            assert static.calls == expected.calls, name
            assert static.name == expected.name, name
            assert static.description == expected.description, name
    finally:
        sys.path.remove(str(tmp_path))
    assert marker.exists()
    fetch = read["fetch"].component
    assert fetch is not None
    assert fetch.spec.effects == (EffectCapability.NETWORK_OUTBOUND, EffectCapability.CLOCK)
    assert fetch.spec.determinism is Determinism.NON_DETERMINISTIC
    assert fetch.spec.retry is RetryDisposition.SAFE
    with pytest.raises(RuntimeError, match="read without importing"):
        fetch.create({})


def test_a_deep_literal_schema_is_read_whole(tmp_path: Path) -> None:
    schema: dict[str, Any] = {"type": "integer"}
    for level in range(40):
        schema = {"type": "object", "properties": {f"level{level}": schema}}
    module = unique("declared")
    write(
        tmp_path,
        f"{module}.py",
        "from pureflow.core import component\n"
        f"@component(config_schema={schema!r})\n"
        "async def deep(ctx, inputs, outputs):\n    pass\n",
    )
    found = StaticReader(tmp_path).component(f"{module}:deep")
    assert found.component is not None
    assert found.unchecked == ()
    assert found.component.spec.config_schema == schema


def test_what_is_computed_is_unchecked_not_guessed(tmp_path: Path, marker: Path) -> None:
    module = unique("declared")
    write(
        tmp_path,
        f"{module}.py",
        f"""
        from pureflow.core import component
        import functools
        {tripwire(marker)}
        def ports():
            return ["out"]

        @component(inputs=["in"], outputs=ports(), effects=list(("clock",)))
        async def computed(ctx, inputs, outputs):
            pass

        made = component(inputs=["in"])(computed)

        @functools.lru_cache
        async def wrapped(ctx, inputs, outputs):
            pass

        if True:
            async def conditional(ctx, inputs, outputs):
                pass

        def __getattr__(name):
            raise AttributeError(name)
        """,
    )
    reader = StaticReader(tmp_path)
    computed = reader.component(f"{module}:computed")
    assert computed.component is not None
    assert computed.unchecked == ("ports", "effects")
    assert computed.component.spec.outputs is None  # unchecked, not assumed
    assert computed.component.spec.inputs == ("in",)
    assert computed.component.spec.effects_are_known is False
    source = (tmp_path / f"{module}.py").read_text().splitlines()
    line = source.index("async def computed(ctx, inputs, outputs):") + 1
    assert computed.where == f"{_shown(tmp_path / f'{module}.py')}:{line}"

    for name, why in [
        ("made", "it is bound to an expression"),
        ("wrapped", "it is decorated with `@functools.lru_cache`"),
        ("conditional", f"`conditional` is defined conditionally in `{module}`"),
        ("anything", f"`anything` is not defined in `{module}` itself (it may be set at run time)"),
    ]:
        found = reader.component(f"{module}:{name}")
        assert found.component is not None, name
        assert found.unchecked == EVERYTHING, name
        assert found.why == why, name
        assert found.component.spec.inputs is None
        assert found.component.spec.config_schema is None
        assert found.component.spec.effects_are_known is False
    assert not marker.exists()


def _shown(path: Path) -> str:
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def test_packages_are_not_run_to_find_their_submodules(tmp_path: Path, marker: Path) -> None:
    package = unique("pkg")
    write(tmp_path, f"{package}/__init__.py", tripwire(marker))
    write(
        tmp_path,
        f"{package}/nodes/__init__.py",
        tripwire(marker) + "from .impl import shout as loud\nfrom . import impl\n",
    )
    write(
        tmp_path,
        f"{package}/nodes/impl.py",
        tripwire(marker)
        + "from pureflow.core import component\n"
        + "@component(inputs=['in'], outputs=['out'])\n"
        + "async def shout(ctx, inputs, outputs):\n    pass\n",
    )
    reader = StaticReader(tmp_path)
    direct = reader.component(f"{package}.nodes.impl:shout")
    through_import = reader.component(f"{package}.nodes:loud")
    through_module = reader.component(f"{package}.nodes:impl.shout")
    for found in (direct, through_import, through_module):
        assert found.component is not None
        assert found.component.spec.inputs == ("in",)
        assert found.component.spec.outputs == ("out",)
        assert found.component.spec.name == f"{package}.nodes.impl:shout"
    assert reader.component(f"{package}:nodes").what == "module"
    assert not marker.exists()
    assert not any(name.startswith(package) for name in sys.modules)


def test_problems_have_the_kinds_an_import_would_give(tmp_path: Path, marker: Path) -> None:
    module = unique("plain")
    write(
        tmp_path,
        f"{module}.py",
        tripwire(marker)
        + "VALUE = 3\nNAME = 'x'\n"
        + "def one(value):\n    return value\n"
        + "class NoRun:\n    pass\n"
        + "from pureflow.core import component\n"
        + "@component(inputs=['in', 'in'])\nasync def twice(ctx, inputs, outputs):\n    pass\n"
        + "@component(inputs=['in'])\ndef blocking(ctx, inputs, outputs):\n    pass\n"
        + "@component(colour='red')\nasync def odd(ctx, inputs, outputs):\n    pass\n",
    )
    broken = unique("plain")
    write(tmp_path, f"{broken}.py", tripwire(marker) + "def (:\n")
    reader = StaticReader(tmp_path)

    def kind_of(reference: str) -> tuple[str, str]:
        with pytest.raises(ImportReferenceError) as caught:
            reader.component(reference)
        return caught.value.kind, str(caught.value)

    assert kind_of("no_colon") == ("invalid", "`no_colon` is not of the form `module:attribute`")
    assert kind_of("../outside:x") == ("not_found", "module `../outside` not found")
    assert kind_of("static_binding_nowhere:x") == (
        "not_found",
        f"module `static_binding_nowhere` not found (looked in `{tmp_path}` and sys.path)",
    )
    assert kind_of("static_binding_nowhere.sub:x")[1].startswith(
        "module `static_binding_nowhere.sub` not found (no module named `static_binding_nowhere`)"
    )
    assert kind_of(f"{module}:missing") == (
        "missing_attribute",
        f"`{module}` has no attribute `missing`",
    )
    assert kind_of(f"{module}:NoRun.missing")[0] == "missing_attribute"
    kind, message = kind_of(f"{broken}:x")
    assert kind == "raised"
    assert message.startswith(f"importing module `{broken}` would raise SyntaxError")
    kind, message = kind_of(f"{module}:twice")
    assert kind == "raised"
    assert "lists port `in` twice" in message
    kind, message = kind_of(f"{module}:blocking")
    assert "must be `async def`" in message
    kind, message = kind_of(f"{module}:odd")
    assert "unexpected keyword argument 'colour'" in message
    assert reader.component(f"{module}:VALUE").what == "int"
    assert reader.component(f"{module}:NAME").what == "str"
    assert reader.component(f"{module}:one").what == "function"
    assert reader.component(f"{module}:NoRun").what == "type"
    assert not marker.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are POSIX")
def test_a_module_that_is_a_fifo_or_a_device_is_never_read(tmp_path: Path) -> None:
    """The import system's finders take only regular files for modules; neither hangs."""
    fifo, device = unique("plain"), unique("plain")
    os.mkfifo(tmp_path / f"{fifo}.py")
    (tmp_path / f"{device}.py").symlink_to("/dev/zero")
    for module in (fifo, device):
        with pytest.raises(ImportReferenceError) as caught:
            StaticReader(tmp_path).component(f"{module}:x")
        assert caught.value.kind == "not_found"


def test_a_module_over_the_size_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = unique("plain")
    write(tmp_path, f"{module}.py", "async def node(ctx, inputs, outputs):\n    pass\n" * 10)
    monkeypatch.setenv("PUREFLOW_MAX_DOCUMENT_BYTES", "64")
    with pytest.raises(ImportReferenceError) as caught:
        StaticReader(tmp_path).component(f"{module}:node")
    assert caught.value.kind == "raised"
    assert str(caught.value) == (
        f"module `{module}` cannot be read: `{_shown(tmp_path / f'{module}.py')}`: larger than "
        "the document size limit of 64 bytes (set PUREFLOW_MAX_DOCUMENT_BYTES to change it)"
    )


def test_modules_already_imported_are_read_without_running_anything() -> None:
    import json

    reader = StaticReader()
    assert reader.component("json:dumps").what == "function"
    assert reader.component("os:system").what == "builtin_function_or_method"
    assert reader.component("os:sep").what == "str"
    assert reader.callable("json:loads").callable is True
    assert reader.callable("os:sep").callable is False
    assert json.dumps  # still the module it was
    with pytest.raises(ImportReferenceError) as caught:
        reader.component("json:nothing_here")
    assert caught.value.kind == "missing_attribute"


def test_callables_are_read_the_same_way(tmp_path: Path, marker: Path) -> None:
    module = unique("callee")
    write(
        tmp_path,
        f"{module}.py",
        tripwire(marker)
        + "from string import *\nLIMIT = 3\nsquare = lambda value: value * value\n"
        + "def double(value):\n    return value * 2\nclass Upper:\n    pass\n"
        + "made = len\nother = undefined_name\n",
    )
    reader = StaticReader(tmp_path)
    assert reader.callable(f"{module}:other").callable is None
    assert reader.callable(f"{module}:double").callable is True
    assert reader.callable(f"{module}:square").callable is True
    assert reader.callable(f"{module}:Upper").callable is True
    limit = reader.callable(f"{module}:LIMIT")
    assert (limit.callable, limit.what) == (False, "int")
    assert reader.callable(f"{module}:made").callable is True  # the builtin `len`
    star = reader.callable(f"{module}:capwords")
    assert star.callable is None
    assert "from string import *" in star.why
    assert not marker.exists()


# --- the binder ------------------------------------------------------------------------------


def test_static_binding_runs_nothing_and_reports_like_an_import(
    tmp_path: Path, marker: Path
) -> None:
    module = unique("declared")
    write(tmp_path, f"{module}.py", DECLARED.format(tripwire=tripwire(marker)))
    good = flow(
        node("fetch", f"python:{module}:fetch", ["in"], ["out", "error"], {"n": 1}),
        node("plain", f"python:{module}:plain"),
    )
    bound = bind_workflow(good, base_dir=tmp_path, static=True)
    assert {n: b.executor for n, b in bound.nodes.items()} == {"fetch": None, "plain": None}
    capabilities = {str(c.node_id): c for c in bound.capabilities()}
    assert capabilities["fetch"].effects == (
        EffectCapability.NETWORK_OUTBOUND,
        EffectCapability.CLOCK,
    )
    assert str(tmp_path) not in sys.path

    bad = flow(
        node("ports", f"python:{module}:fetch", ["in"], ["out"], {"n": 1}),
        node("config", f"python:{module}:fetch", ["in"], ["out", "error"], {"n": "x"}),
        node("value", f"python:{module}:SCHEMA"),
    )
    with pytest.raises(BindingError) as caught:
        bind_workflow(bad, base_dir=tmp_path, static=True)
    assert [(p.code, p.location) for p in caught.value.problems] == [
        ("binding.port_mismatch", "/nodes/0/outputs"),
        ("binding.invalid_config", "/nodes/1/config/n"),
        ("binding.not_a_component", "/nodes/2/component"),
    ]
    assert "is a dict, not a component" in caught.value.problems[2].message
    assert not marker.exists()


def test_unchecked_parts_are_warnings_with_their_location(tmp_path: Path, marker: Path) -> None:
    module = unique("dyn")
    write(
        tmp_path,
        f"{module}.py",
        tripwire(marker)
        + "from pureflow.core import component\n"
        + "def ports():\n    return ['in']\n"
        + "@component(inputs=ports())\nasync def node(ctx, inputs, outputs):\n    pass\n"
        + "made = component()(node)\n",
    )
    warnings: list[BindingProblem] = []
    bound = bind_workflow(
        flow(node("a", f"python:{module}:node"), node("b", f"python:{module}:made")),
        base_dir=tmp_path,
        static=True,
        warnings=warnings,
    )
    assert [(w.code, w.location, w.node_id) for w in warnings] == [
        ("binding.unchecked", "/nodes/0/component", "a"),
        ("binding.unchecked", "/nodes/1/component", "b"),
    ]
    assert warnings[0].message == (
        f"node `a`: component `python:{module}:node`: ports not checked without importing "
        f"`{module}` (declared by expressions, not literals, {_shown(tmp_path / f'{module}.py')}:6)"
    )
    assert warnings[1].message.startswith(
        f"node `b`: component `python:{module}:made` is not checked without importing "
        f"`{module}` (it is bound to an expression, "
    )
    assert warnings[1].message.endswith("): its ports, config and effects are unknown")
    effects_known = {str(c.node_id): c.effects_known for c in bound.capabilities()}
    assert effects_known == {"a": True, "b": False}
    assert not marker.exists()


def test_map_filter_and_split_callables_are_checked_statically(
    tmp_path: Path, marker: Path
) -> None:
    module = unique("callee")
    write(
        tmp_path,
        f"{module}.py",
        tripwire(marker) + "LIMIT = 3\ndef keep(value):\n    return True\nmade = make()\n",
    )
    workflow = flow(
        node("shell", "builtin:map", config={"function": "os:system"}),
        node("keep", "builtin:filter", config={"function": f"{module}:keep"}),
        node(
            "route",
            "builtin:split",
            outputs=["matched", "unmatched"],
            config={"function": f"{module}:made"},
        ),
    )
    warnings: list[BindingProblem] = []
    bound = bind_document(workflow, base_dir=tmp_path, static=True, warnings=warnings)
    assert all(b.executor is None for b in bound.nodes.values())
    assert all(c.effects_known is False for c in bound.capabilities())
    assert [(w.code, w.location) for w in warnings] == [
        ("binding.unchecked", "/nodes/2/config/function")
    ]
    bad = flow(
        node("literal", "builtin:map", config={"function": f"{module}:LIMIT"}),
        node("absent", "builtin:map", config={"function": "static_binding_nowhere:f"}),
        node("attribute", "builtin:filter", config={"function": f"{module}:nope"}),
    )
    with pytest.raises(BindingError) as caught:
        bind_document(bad, base_dir=tmp_path, static=True)
    assert [(p.code, p.location) for p in caught.value.problems] == [
        ("binding.invalid_config", "/nodes/0/config/function"),
        ("binding.import_failed", "/nodes/1/config/function"),
        ("binding.missing_attribute", "/nodes/2/config/function"),
    ]
    assert caught.value.problems[0].message == (
        f"node `literal`: config of `builtin:map`: `{module}:LIMIT` is a int, not a callable"
    )
    assert not marker.exists()


def test_without_static_the_binder_imports_as_before(tmp_path: Path, marker: Path) -> None:
    """``run`` binds this way: the module runs (once), and the node gets its code."""
    module = unique("declared")
    write(tmp_path, f"{module}.py", DECLARED.format(tripwire=tripwire(marker)))
    bound = bind_workflow(flow(node("plain", f"python:{module}:plain")), base_dir=tmp_path)
    assert bound.nodes["plain"].executor is not None  # type: ignore[index]
    assert marker.read_text() == f"{module}\n"
