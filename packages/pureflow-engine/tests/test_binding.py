"""Binding nodes to code through ``component`` and ``config``: resolution, every problem
code with its document location, python: modules next to the workflow file, runs of
bound workflows (loop, thread and process components) and entry-point discovery."""

from __future__ import annotations

import importlib.metadata
import json
import pickle
import sys
import textwrap
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pureflow.contract import EffectCapability, ExecutionMode
from pureflow.core import (
    Component,
    ComponentConfigError,
    ComponentSpec,
    ImportReferenceError,
    NodeConfig,
    NodeContext,
    PacketPayload,
    PortsIn,
    PortsOut,
    import_object,
)
from pureflow.engine import (
    BINDING_CODES,
    BindingError,
    BindingProblem,
    BoundWorkflow,
    DemoExecutor,
    MissingExecutor,
    TerminalState,
    bind_workflow,
    discover_components,
    merge_catalogs,
    run_workflow,
)
from pureflow.format import load_workflow
from pureflow.workflow import (
    EdgeDefinition,
    NodeDefinition,
    WorkflowDefinition,
    WorkflowGraph,
)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --- a small catalog -----------------------------------------------------------------------


class Numbers:
    """Emit 0..count-1 as control integers."""

    def __init__(self, config: NodeConfig) -> None:
        self.count = int(config.get("count", 3))

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        out = outputs["out"]
        for number in range(self.count):
            await out.send(out.packet(PacketPayload.control(number)))


class Gather:
    """Append every control value to the list ``sinks[config['key']]``."""

    sinks: ClassVar[dict[str, list[Any]]] = {}

    def __init__(self, config: NodeConfig) -> None:
        self.values = Gather.sinks.setdefault(str(config["key"]), [])

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        async for packet in inputs.iter("in"):
            self.values.append(packet.payload.value)


NUMBERS = Component(
    ComponentSpec(
        "numbers",
        inputs=(),
        outputs=("out",),
        config_schema={
            "type": "object",
            "properties": {"count": {"type": "integer", "minimum": 0}},
            "additionalProperties": False,
        },
    ),
    Numbers,
)
GATHER = Component(
    ComponentSpec(
        "gather",
        inputs=("in",),
        outputs=(),
        config_schema={
            "type": "object",
            "properties": {"key": {"type": "string"}},
            "required": ["key"],
        },
        effects=(EffectCapability.EXTERNAL_EFFECT,),
    ),
    Gather,
)
CATALOG: dict[str, Component] = {"numbers": NUMBERS, "gather": GATHER}


def workflow(
    nodes: Iterable[NodeDefinition], edges: Iterable[tuple[str, str, str, str]] = ()
) -> WorkflowDefinition:
    graph = WorkflowGraph(
        list(nodes), [EdgeDefinition.between((a, b), (c, d)) for a, b, c, d in edges]
    )
    return WorkflowDefinition("flow", graph)


def node(
    node_id: str,
    inputs: Iterable[str] = (),
    outputs: Iterable[str] = (),
    component: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> NodeDefinition:
    return NodeDefinition.of(node_id, inputs, outputs, component=component, config=config)


def problems_of(flow: WorkflowDefinition, **kwargs: Any) -> list[BindingProblem]:
    kwargs.setdefault("catalog", CATALOG)
    with pytest.raises(BindingError) as caught:
        bind_workflow(flow, **kwargs)
    return list(caught.value.problems)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


# --- binding that works --------------------------------------------------------------------


@pytest.mark.anyio
async def test_builtin_components_bind_and_run() -> None:
    key = unique("builtin")
    flow = workflow(
        [
            node("src", [], ["out"], "builtin:numbers", {"count": 4}),
            node("sink", ["in"], [], "builtin:gather", {"key": key}),
        ],
        [("src", "out", "sink", "in")],
    )
    bound = bind_workflow(flow, catalog=CATALOG)
    assert isinstance(bound, BoundWorkflow)
    assert bound.nodes["src"].component is NUMBERS
    assert bound.nodes["src"].reference == "builtin:numbers"
    assert bound.nodes["sink"].capabilities.effects == (EffectCapability.EXTERNAL_EFFECT,)
    summary = await run_workflow(flow, bound)
    assert summary.terminal_state is TerminalState.COMPLETED
    assert Gather.sinks[key] == [0, 1, 2, 3]


def test_nodes_without_component_use_the_default_or_nothing() -> None:
    flow = workflow([node("a", [], ["out"]), node("b", ["in"], [])], [("a", "out", "b", "in")])
    demo = DemoExecutor()
    bound = bind_workflow(flow, default=demo)
    assert bound.executor_for(flow.nodes[0]) is demo
    assert bound.nodes["a"].component is None
    assert bound.nodes["a"].contract.execution_mode is ExecutionMode.NATIVE
    unbound = bind_workflow(flow)  # enough for validation
    with pytest.raises(MissingExecutor, match="`a`"):
        unbound.executor_for(flow.nodes[0])
    assert len(unbound.contracts()) == 2
    assert len(unbound.capabilities()) == 2


def test_explicit_executors_win_over_components() -> None:
    flow = workflow([node("a", [], ["out"], "builtin:no-such-thing")])
    demo = DemoExecutor()
    bound = bind_workflow(flow, catalog=CATALOG, executors={"a": demo})
    assert bound.executor_for(flow.nodes[0]) is demo


def test_config_and_base_dir_reach_the_factory(tmp_path: Path) -> None:
    seen: list[NodeConfig] = []

    def factory(config: NodeConfig) -> Numbers:
        seen.append(config)
        return Numbers(config)

    catalog = {"spy": Component(ComponentSpec("spy", outputs=("out",)), factory)}
    flow = workflow([node("a", [], ["out"], "builtin:spy", {"count": 2, "path": "x.txt"})])
    bind_workflow(flow, catalog=catalog, base_dir=tmp_path)
    (config,) = seen
    assert dict(config) == {"count": 2, "path": "x.txt"}
    assert config.base_dir == tmp_path
    assert config.node_id == "a"
    assert config.resolve_path(config["path"]) == tmp_path / "x.txt"


# --- python: components next to the workflow file -----------------------------------------


def write_flow_folder(
    tmp_path: Path,
    module: str,
    source: str,
    nodes: list[dict[str, Any]],
    edges: list[tuple[str, str, str, str]],
) -> Path:
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
    document = {
        "pureflow_version": "1",
        "id": "python-flow",
        "nodes": nodes,
        "edges": [
            {"source": {"node": a, "port": b}, "target": {"node": c, "port": d}}
            for a, b, c, d in edges
        ],
    }
    path = tmp_path / "flow.workflow.json"
    path.write_text(json.dumps(document))
    return path


USER_NODES = """
    from pureflow.core import PacketPayload, component

    @component(inputs=[], outputs=["out"],
               config_schema={"type": "object", "required": ["words"]})
    async def words(ctx, inputs, outputs):
        out = outputs["out"]
        for word in ctx.config["words"]:
            await out.send(out.packet(PacketPayload.control(word)))

    class Shout:
        # undecorated: any ports, config through the constructor
        def __init__(self, config):
            self.suffix = config.get("suffix", "!")

        async def run(self, ctx, inputs, outputs):
            out = outputs["out"]
            async for packet in inputs.iter("in"):
                text = packet.payload.value.upper() + self.suffix
                await out.send(packet.with_payload(PacketPayload.control(text)))

    class Holder:
        class Inner:
            @staticmethod
            async def sink(ctx, inputs, outputs):
                async for packet in inputs.iter("in"):
                    RESULTS.append(packet.payload.value)

    RESULTS = []
"""


@pytest.mark.anyio
async def test_python_components_load_from_the_workflow_folder(tmp_path: Path) -> None:
    module = unique("user_nodes")
    path = write_flow_folder(
        tmp_path,
        module,
        USER_NODES,
        [
            {
                "id": "words",
                "inputs": [],
                "outputs": ["out"],
                "component": f"python:{module}:words",
                "config": {"words": ["a", "b"]},
            },
            {
                "id": "shout",
                "inputs": ["in"],
                "outputs": ["out"],
                "component": f"python:{module}:Shout",
                "config": {"suffix": "?"},
            },
            {
                "id": "sink",
                "inputs": ["in"],
                "outputs": [],
                "component": f"python:{module}:Holder.Inner.sink",
            },
        ],
        [("words", "out", "shout", "in"), ("shout", "out", "sink", "in")],
    )
    flow = load_workflow(path)
    before = list(sys.path)
    try:
        bound = bind_workflow(flow, base_dir=path.parent)
        # Searched first while importing; kept at the end afterwards, so a user's module
        # can import its neighbours while the node runs.
        assert sys.path == [*before, str(path.parent)]
    finally:
        sys.path[:] = before
    assert bound.nodes["words"].spec is not None
    assert bound.nodes["words"].spec.outputs == ("out",)
    assert bound.nodes["shout"].spec is not None
    assert bound.nodes["shout"].spec.inputs is None  # undecorated: unchecked
    summary = await run_workflow(flow, bound)
    assert summary.terminal_state is TerminalState.COMPLETED, summary.first_error
    assert sys.modules[module].RESULTS == ["A?", "B?"]


def test_python_component_config_is_checked_against_its_schema(tmp_path: Path) -> None:
    module = unique("user_nodes")
    path = write_flow_folder(
        tmp_path,
        module,
        USER_NODES,
        [{"id": "words", "inputs": [], "outputs": ["out"], "component": f"python:{module}:words"}],
        [],
    )
    (problem,) = problems_of(load_workflow(path), base_dir=path.parent)
    assert problem.code == "binding.invalid_config"
    assert problem.location == "/nodes/0/config"
    assert "'words' is a required property" in problem.message


# --- every problem code, with its location -------------------------------------------------


def test_unknown_builtin_suggests_a_close_name() -> None:
    flow = workflow([node("a", [], ["out"], "builtin:number")])
    (problem,) = problems_of(flow)
    assert problem.code == "binding.unknown_builtin"
    assert problem.location == "/nodes/0/component"
    assert problem.node_id == "a"
    assert problem.message == (
        "node `a`: unknown builtin component `number`; did you mean `builtin:numbers`?"
    )


def test_import_problems_are_told_apart(tmp_path: Path) -> None:
    boom = unique("boom")
    needs = unique("needs")
    plain = unique("plain")
    (tmp_path / f"{boom}.py").write_text("raise ValueError('broken on purpose')\n")
    (tmp_path / f"{needs}.py").write_text("import engine_binding_absent_dependency\n")
    (tmp_path / f"{plain}.py").write_text("VALUE = 3\nasync def ok(ctx, inputs, outputs): pass\n")
    flow = workflow(
        [
            node("missing", [], [], "python:engine_binding_nowhere:thing"),
            node("raises", [], [], f"python:{boom}:thing"),
            node("dependency", [], [], f"python:{needs}:thing"),
            node("attribute", [], [], f"python:{plain}:Nope.deeper"),
            node("value", [], [], f"python:{plain}:VALUE"),
            node("form", [], [], "python:no_colon_here"),
            node("fine", [], [], f"python:{plain}:ok"),
        ]
    )
    problems = problems_of(flow, base_dir=tmp_path)
    assert [(p.code, p.location, p.node_id) for p in problems] == [
        ("binding.import_failed", "/nodes/0/component", "missing"),
        ("binding.import_raised", "/nodes/1/component", "raises"),
        ("binding.import_raised", "/nodes/2/component", "dependency"),
        ("binding.missing_attribute", "/nodes/3/component", "attribute"),
        ("binding.not_a_component", "/nodes/4/component", "value"),
        ("binding.invalid_reference", "/nodes/5/component", "form"),
    ]
    messages = [p.message for p in problems]
    assert "module `engine_binding_nowhere` not found" in messages[0]
    assert "raised ValueError: broken on purpose" in messages[1]
    assert "engine_binding_absent_dependency" in messages[2]
    assert f"`{plain}` has no attribute `Nope`" in messages[3]
    assert "is a int, not a component" in messages[4]
    assert "`module:attribute`" in messages[5]


def test_port_mismatch_says_what_is_missing_and_extra() -> None:
    flow = workflow(
        [
            node("src", ["trigger"], ["rows"], "builtin:numbers"),
            node("sink", ["in"], [], "builtin:gather", {"key": "k"}),
        ]
    )
    problems = problems_of(flow)
    assert [(p.code, p.location) for p in problems] == [
        ("binding.port_mismatch", "/nodes/0/inputs"),
        ("binding.port_mismatch", "/nodes/0/outputs"),
    ]
    assert problems[0].message == (
        "node `src`: component `builtin:numbers` declares input ports none; "
        "the document has extra `trigger`"
    )
    assert problems[1].message == (
        "node `src`: component `builtin:numbers` declares output ports `out`; "
        "the document lacks `out` and has extra `rows`"
    )


def test_every_config_problem_is_reported_with_its_pointer() -> None:
    flow = workflow(
        [
            node("src", [], ["out"], "builtin:numbers", {"count": -1, "colour": "red"}),
            node("sink", ["in"], [], "builtin:gather", {"key": 5}),
        ]
    )
    problems = problems_of(flow)
    assert [(p.code, p.location) for p in problems] == [
        ("binding.invalid_config", "/nodes/0/config"),
        ("binding.invalid_config", "/nodes/0/config/count"),
        ("binding.invalid_config", "/nodes/1/config/key"),
    ]
    assert "'colour' was unexpected" in problems[0].message
    assert "-1 is less than the minimum of 0" in problems[1].message
    assert problems[2].message == (
        "node `sink`: config/key is invalid for `builtin:gather`: 5 is not of type 'string'"
    )


def test_a_broken_config_schema_is_the_component_s_fault() -> None:
    broken = Component(ComponentSpec("broken", config_schema={"type": "no-such-type"}), Numbers)
    flow = workflow([node("a", [], [], "builtin:broken")])
    (problem,) = problems_of(flow, catalog={"broken": broken})
    assert problem.code == "binding.invalid_config_schema"
    assert problem.location == "/nodes/0/component"


def test_factory_errors_become_problems() -> None:
    def rejects(config: NodeConfig) -> Any:
        raise ComponentConfigError("limit must be even", location="/limit")

    def cannot_import(config: NodeConfig) -> Any:
        try:
            import_object("engine_binding_nowhere:f")
        except ImportReferenceError as err:
            raise ComponentConfigError(str(err), location="/function") from err
        raise AssertionError("unreachable")

    def crashes(config: NodeConfig) -> Any:
        raise RuntimeError("no luck")

    def builds_junk(config: NodeConfig) -> Any:
        return 42

    catalog = {
        name: Component(ComponentSpec(name), factory)
        for name, factory in [
            ("rejects", rejects),
            ("cannot-import", cannot_import),
            ("crashes", crashes),
            ("junk", builds_junk),
        ]
    }
    flow = workflow(
        [
            node("a", [], [], "builtin:rejects", {"limit": 3}),
            node("b", [], [], "builtin:cannot-import", {"function": "x:y"}),
            node("c", [], [], "builtin:crashes"),
            node("d", [], [], "builtin:junk"),
        ]
    )
    problems = problems_of(flow, catalog=catalog)
    assert [(p.code, p.location) for p in problems] == [
        ("binding.invalid_config", "/nodes/0/config/limit"),
        ("binding.import_failed", "/nodes/1/config/function"),
        ("binding.create_failed", "/nodes/2/component"),
        ("binding.not_a_component", "/nodes/3/component"),
    ]
    assert "limit must be even" in problems[0].message
    assert "RuntimeError: no luck" in problems[2].message


def test_a_missing_library_is_an_import_problem_with_the_factory_s_words() -> None:
    def needs_a_library(config: NodeConfig) -> Any:
        raise ImportError("needs `fancylib`, which is not installed: pip install 'pkg[fancy]'")

    catalog = {"fancy": Component(ComponentSpec("fancy"), needs_a_library)}
    problems = problems_of(workflow([node("f", [], [], "builtin:fancy")]), catalog=catalog)
    assert [(p.code, p.location, p.message) for p in problems] == [
        (
            "binding.import_failed",
            "/nodes/0/component",
            "node `f`: component `builtin:fancy`: needs `fancylib`, which is not installed: "
            "pip install 'pkg[fancy]'",
        )
    ]


def test_schemes_without_a_resolver_are_unsupported() -> None:
    flow = workflow([node("w", [], [], "wasm:guest.wasm"), node("x", [], [], "ftp:thing")])
    problems = problems_of(flow)
    assert [(p.code, p.location) for p in problems] == [
        ("binding.unsupported_scheme", "/nodes/0/component"),
        ("binding.unsupported_scheme", "/nodes/1/component"),
    ]
    assert "pureflow-wasm" in problems[0].message


def test_the_wasm_resolver_is_called_and_its_results_checked(tmp_path: Path) -> None:
    calls: list[tuple[str, str, Path | None]] = []

    def resolver(definition: NodeDefinition, path: str, base_dir: Path | None) -> Any:
        calls.append((definition.id, path, base_dir))
        if path == "executor.wasm":
            return DemoExecutor()
        if path == "component.wasm":
            return NUMBERS
        if path == "problems.wasm":
            raise BindingError(
                [BindingProblem("binding.wasm_failed", "custom", "/nodes/2/component", "p")]
            )
        raise OSError("cannot read guest")

    flow = workflow(
        [
            node("e", [], [], "wasm:executor.wasm"),
            node("c", ["in"], ["out"], "wasm:component.wasm"),
            node("p", [], [], "wasm:problems.wasm"),
            node("f", [], [], "wasm:fails.wasm"),
        ]
    )
    problems = problems_of(flow, schemes={"wasm": resolver}, base_dir=tmp_path)
    assert calls[0] == ("e", "executor.wasm", tmp_path)
    assert [(p.code, p.location) for p in problems] == [
        ("binding.port_mismatch", "/nodes/1/inputs"),
        ("binding.wasm_failed", "/nodes/2/component"),
        ("binding.wasm_failed", "/nodes/3/component"),
    ]
    assert "OSError: cannot read guest" in problems[2].message


def test_binding_error_shape() -> None:
    flow = workflow(
        [node("a", [], ["out"], "builtin:nope"), node("b", [], ["out"], "builtin:nada")]
    )
    with pytest.raises(BindingError) as caught:
        bind_workflow(flow, catalog=CATALOG)
    err = caught.value
    assert str(err) == (
        "node `a`: unknown builtin component `nope` (at /nodes/0/component); "
        "and 1 more binding problem"
    )
    assert "\n" not in str(err)
    assert err.render("flow.json").splitlines()[1] == (
        "  flow.json: binding.unknown_builtin: node `a`: unknown builtin component `nope` "
        "(at /nodes/0/component)"
    )
    assert err.to_json()["problems"][1] == {
        "code": "binding.unknown_builtin",
        "message": "node `b`: unknown builtin component `nada`",
        "location": "/nodes/1/component",
        "node_id": "b",
    }
    diagnostic = err.diagnostics[0]
    assert (diagnostic.code, diagnostic.location) == (
        "binding.unknown_builtin",
        "/nodes/0/component",
    )
    clone = pickle.loads(pickle.dumps(err))
    assert clone.problems == err.problems
    assert str(clone) == str(err)
    assert set(BINDING_CODES) >= {p.code for p in err.problems}
    with pytest.raises(ValueError, match="at least one"):
        BindingError([])


# --- thread and process components ---------------------------------------------------------


THREAD_AND_PROCESS = """
    import time
    from pureflow.core import PacketPayload, component

    @component(inputs=["in"], outputs=["out"], run_in="thread")
    def slow_double(ctx, inputs, outputs):
        for packet in inputs.iter("in"):
            time.sleep(0.001)  # blocking is fine: this runs in a worker thread
            doubled = PacketPayload.control(packet.payload.value * 2)
            outputs.send("out", packet.with_payload(doubled))

    @component(run_in="process")
    def square(value):
        return value * value
"""


@pytest.mark.anyio
async def test_thread_and_process_components_run_off_the_loop(tmp_path: Path) -> None:
    module = unique("offload_nodes")
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(THREAD_AND_PROCESS))
    key = unique("offload")
    flow = workflow(
        [
            node("src", [], ["out"], "builtin:numbers", {"count": 5}),
            node("double", ["in"], ["out"], f"python:{module}:slow_double"),
            node("square", ["in"], ["out"], f"python:{module}:square"),
            node("sink", ["in"], [], "builtin:gather", {"key": key}),
        ],
        [
            ("src", "out", "double", "in"),
            ("double", "out", "square", "in"),
            ("square", "out", "sink", "in"),
        ],
    )
    saved = list(sys.path)
    try:
        bound = bind_workflow(flow, catalog=CATALOG, base_dir=tmp_path)
        # Worker processes import `square` by name, so the folder stays on sys.path.
        assert str(tmp_path) in sys.path
        assert bound.nodes["square"].contract.execution_mode is ExecutionMode.PROCESS
        summary = await run_workflow(flow, bound)
    finally:
        sys.path[:] = saved
    assert summary.terminal_state is TerminalState.COMPLETED, summary.first_error
    assert Gather.sinks[key] == [0, 4, 16, 36, 64]


# --- discovery -----------------------------------------------------------------------------


class FakeEntryPoint:
    def __init__(self, name: str, value: str, target: Any = None, error: Exception | None = None):
        self.name = name
        self.value = value
        self.dist = type("Dist", (), {"name": "thirdparty"})()
        self._target = target
        self._error = error

    def load(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._target


def fake_entry_points(monkeypatch: pytest.MonkeyPatch, entries: list[FakeEntryPoint]) -> None:
    def entry_points(*, group: str) -> list[FakeEntryPoint]:
        assert group == "pureflow.components"
        return entries

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


async def loose(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    return None


def test_discover_components_loads_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_entry_points(
        monkeypatch,
        [
            FakeEntryPoint("numbers", "thirdparty.nodes:NUMBERS", NUMBERS),
            FakeEntryPoint("loose", "thirdparty.nodes:loose", loose),
        ],
    )
    found = discover_components()
    assert list(found) == ["loose", "numbers"]
    assert found["numbers"] is NUMBERS
    assert found["loose"].spec.name == "loose"


def test_discovery_problems_are_reported_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_entry_points(
        monkeypatch,
        [
            FakeEntryPoint("broken", "thirdparty.broken:X", error=ImportError("no module")),
            FakeEntryPoint("junk", "thirdparty.nodes:JUNK", 42),
            FakeEntryPoint("twice", "a:NUMBERS", NUMBERS),
            FakeEntryPoint("twice", "b:GATHER", GATHER),
            FakeEntryPoint("ok", "thirdparty.nodes:GATHER", GATHER),
        ],
    )
    problems: list[BindingProblem] = []
    found = discover_components(problems=problems)
    assert found == {"ok": GATHER, "twice": NUMBERS}
    assert [p.code for p in problems] == [
        "binding.entry_point_failed",
        "binding.not_a_component",
        "binding.duplicate_component",
    ]
    assert "entry point `broken = thirdparty.broken:X` of `thirdparty` failed to load" in (
        problems[0].message
    )
    assert problems[0].location == ""
    with pytest.raises(BindingError, match="failed to load"):
        discover_components()


def test_merge_catalogs_reports_clashes_but_not_the_same_component() -> None:
    other = Component(ComponentSpec("other-numbers"), Numbers)
    assert merge_catalogs(CATALOG, {"numbers": NUMBERS}) == dict(sorted(CATALOG.items()))
    problems: list[BindingProblem] = []
    merged = merge_catalogs(CATALOG, {"numbers": other}, problems=problems)
    assert merged["numbers"] is NUMBERS
    (problem,) = problems
    assert problem.code == "binding.duplicate_component"
    assert "`numbers`" in problem.message
    with pytest.raises(BindingError):
        merge_catalogs(CATALOG, {"numbers": other})
