"""Components: the decorator, the declaration, NodeConfig, import_object, contracts."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pureflow.contract import (
    Determinism,
    EffectCapability,
    ExecutionMode,
    PortCapabilityDirection,
    RetryDisposition,
)
from pureflow.core import (
    Component,
    ComponentSpec,
    FunctionNodeExecutor,
    ImportReferenceError,
    NodeConfig,
    NodeContext,
    NodeExecutor,
    PacketPayload,
    PortsIn,
    PortsOut,
    as_component,
    component,
    component_of,
    import_object,
    node_capabilities_for,
    node_contract_for,
)
from pureflow.workflow import NodeDefinition, PortDirection

SCHEMA = {"type": "object", "properties": {"suffix": {"type": "string"}}}


@component(
    inputs=["in"],
    outputs=["out"],
    config_schema=SCHEMA,
    effects=["clock"],
    determinism=Determinism.DETERMINISTIC,
)
async def shout(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    """Upper-case every string.

    More detail that is not part of the description.
    """
    suffix = ctx.config.get("suffix", "!")
    out = outputs["out"]
    async for packet in inputs.iter("in"):
        text = str(packet.payload.as_control()).upper() + suffix
        await out.send(packet.with_payload(PacketPayload.control(text)))


@component(name="saver", inputs=["in"], outputs=[], effects=[EffectCapability.FILESYSTEM_WRITE])
class Saver:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        return None


@component
class NoArgs:
    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        return None


# --- the decorator -------------------------------------------------------------------------


def test_decorated_function_keeps_working_and_carries_its_component() -> None:
    found = component_of(shout)
    assert isinstance(found, Component)
    spec = found.spec
    assert spec.name == f"{__name__}:shout"
    assert spec.description == "Upper-case every string."
    assert spec.inputs == ("in",)
    assert spec.outputs == ("out",)
    assert spec.config_schema == SCHEMA
    assert spec.effects == (EffectCapability.CLOCK,)
    assert spec.determinism is Determinism.DETERMINISTIC
    assert spec.retry is RetryDisposition.UNKNOWN
    assert spec.run_in == "loop"
    executor = found.create({"suffix": "?"})
    assert isinstance(executor, FunctionNodeExecutor)
    assert executor.function is shout
    assert isinstance(executor, NodeExecutor)


@pytest.mark.anyio
async def test_decorated_function_runs_as_a_node(kit: Any) -> None:
    executor = component_of(shout).create({})  # type: ignore[union-attr]
    up_out, up_in = kit.edge(4, "out", "in")
    down_out, down_in = kit.edge(4, "out", "in")
    ctx = NodeContext("flow", "shout", kit.execution, config={"suffix": "?"})
    inputs = PortsIn(["in"], [up_in], context=ctx)
    outputs = PortsOut(["out"], [down_out], context=ctx)
    upstream = PortsOut(["out"], [up_out])
    await upstream.send("out", kit.packet("m1", PacketPayload.control("hi")))
    upstream.close()
    await executor.run(ctx, inputs, outputs)
    outputs.close()
    received = PortsIn(["in"], [down_in])
    packet = await received.recv("in")
    assert packet is not None
    assert packet.payload.as_control() == "HI?"
    assert packet.message_id == "m1"


def test_decorated_class_is_built_per_node_with_its_config() -> None:
    found = component_of(Saver)
    assert found is not None
    assert found.name == "saver"
    assert found.spec.outputs == ()
    first = found.create(NodeConfig({"path": "a"}, base_dir="/flows"))
    second = found.create({"path": "b"})
    assert isinstance(first, Saver)
    assert first is not second
    assert first.config["path"] == "a"
    assert isinstance(first.config, NodeConfig)
    assert first.config.base_dir == Path("/flows")


def test_bare_decorator_and_no_argument_class() -> None:
    found = component_of(NoArgs)
    assert found is not None
    assert found.spec.inputs is None
    assert found.spec.outputs is None
    assert found.spec.config_schema is None
    assert isinstance(found.create({"ignored": 1}), NoArgs)


def test_subclass_of_a_decorated_class_is_not_a_component() -> None:
    class Child(NoArgs):
        pass

    assert component_of(Child) is None
    # ... but as an undecorated class with async run it is still accepted, unchecked.
    loose = as_component(Child, name="child")
    assert loose is not None
    assert loose.spec.inputs is None


def test_shape_errors_are_raised_at_decoration() -> None:
    def blocking(ctx: Any, inputs: Any, outputs: Any) -> None:
        return None

    async def asynchronous(ctx: Any, inputs: Any, outputs: Any) -> None:
        return None

    with pytest.raises(TypeError, match="must be `async def`"):
        component(blocking)
    with pytest.raises(TypeError, match="must not be async"):
        component(run_in="thread")(asynchronous)

    class NoRun:
        pass

    with pytest.raises(TypeError, match="needs `async def run"):
        component(NoRun)
    with pytest.raises(TypeError, match="function or a class"):
        component(42)


def test_thread_and_process_components() -> None:
    def blocking(ctx: Any, inputs: Any, outputs: Any) -> None:
        return None

    def double(value: int) -> int:
        return value * 2

    threaded = component_of(component(run_in="thread")(blocking))
    assert threaded is not None
    assert threaded.spec.run_in == "thread"
    assert threaded.create({}) is blocking
    process = component_of(component(run_in="process")(double))
    assert process is not None
    assert process.spec.inputs == ("in",)
    assert process.spec.outputs == ("out",)
    assert process.spec.execution_mode is ExecutionMode.PROCESS
    assert process.create({}) is double
    with pytest.raises(ValueError, match="exactly one input and one output"):
        component(run_in="process", inputs=["a", "b"])(double)


def test_spec_validation_and_json() -> None:
    spec = ComponentSpec(
        "x",
        inputs=["a", "b"],
        outputs=[],
        effects=["filesystem_read"],  # type: ignore[arg-type]
    )
    assert spec.inputs == ("a", "b")
    assert spec.effects == (EffectCapability.FILESYSTEM_READ,)
    assert spec.to_json() == {
        "name": "x",
        "description": "",
        "inputs": ["a", "b"],
        "outputs": [],
        "config_schema": None,
        "effects": ["filesystem_read"],
        "effects_known": True,
        "calls": [],
        "determinism": "unknown",
        "retry": "unknown",
        "run_in": "loop",
    }
    with pytest.raises(ValueError, match="twice"):
        ComponentSpec("x", inputs=("a", "a"))
    with pytest.raises(ValueError, match="effect twice"):
        ComponentSpec("x", effects=(EffectCapability.CLOCK, EffectCapability.CLOCK))
    with pytest.raises(ValueError, match="run_in"):
        ComponentSpec("x", run_in="elsewhere")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a string"):
        ComponentSpec("x", inputs="in")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a valid"):
        EffectCapability("teleport")
    with pytest.raises(ValueError, match="config key twice"):
        ComponentSpec("x", calls=("function", "function"))
    with pytest.raises(TypeError, match="not a string"):
        ComponentSpec("x", calls="function")  # type: ignore[arg-type]


def test_a_component_that_calls_configured_code_has_unknown_effects() -> None:
    """Effects of a callable named in the config are nobody's declaration: "unknown",
    never "none"; declared effects stay listed as what is known."""
    spec = ComponentSpec("x", effects=["clock"], calls=["function"])  # type: ignore[list-item]
    assert spec.calls == ("function",)
    assert spec.effects_are_known is False
    assert spec.to_json()["effects_known"] is False
    node = NodeDefinition.of("n", ["in"], ["out"])
    capabilities = node_capabilities_for(spec, node)
    assert capabilities.effects == (EffectCapability.CLOCK,)
    assert capabilities.effects_known is False
    assert node_capabilities_for(ComponentSpec("y"), node).effects_known is True
    assert node_capabilities_for(None, node).effects_known is True
    unread = ComponentSpec("z", effects_known=False)
    assert node_capabilities_for(unread, node).effects_known is False

    @component(inputs=["in"], outputs=["out"], calls=["key"])
    async def keyed(ctx: object, inputs: object, outputs: object) -> None: ...

    declared = component_of(keyed)
    assert declared is not None
    assert declared.spec.calls == ("key",)


# --- as_component ------------------------------------------------------------------------------


async def loose_node(ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
    """A node nobody decorated."""


class LooseExecutor:
    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:
        return None


def test_as_component_accepts_undecorated_node_code() -> None:
    found = as_component(loose_node, name="python:m:loose_node")
    assert found is not None
    assert found.spec.name == "python:m:loose_node"
    assert found.spec.description == "A node nobody decorated."
    assert found.spec.inputs is None
    assert isinstance(found.create({}), FunctionNodeExecutor)

    by_class = as_component(LooseExecutor, name="c")
    assert by_class is not None
    assert isinstance(by_class.create({}), LooseExecutor)

    instance = LooseExecutor()
    shared = as_component(instance, name="i")
    assert shared is not None
    assert shared.create({}) is instance

    assert as_component(shout, name="ignored") is component_of(shout)


def test_as_component_reads_the_in_process_mark() -> None:
    def transform(value: Any) -> Any:
        return value

    transform.__pureflow_process__ = {  # type: ignore[attr-defined]
        "input_port": "rows",
        "output_port": "done",
        "batch_size": 8,
    }
    found = as_component(transform, name="p")
    assert found is not None
    assert found.spec.run_in == "process"
    assert found.spec.inputs == ("rows",)
    assert found.spec.outputs == ("done",)
    assert found.create({}) is transform


def test_a_blocking_node_function_is_a_thread_component() -> None:
    def blocking(ctx: Any, inputs: Any, outputs: Any) -> None:
        return None

    found = as_component(blocking, name="x")
    assert found is not None
    assert found.spec.run_in == "thread"
    assert found.create({}) is blocking


def test_as_component_rejects_what_cannot_run_a_node() -> None:
    def one_argument(value: Any) -> None:
        return None

    class NotANode:
        pass

    assert as_component(one_argument, name="x") is None
    assert as_component(NotANode, name="x") is None
    assert as_component("text", name="x") is None
    assert as_component(len, name="x") is None


# --- NodeConfig ------------------------------------------------------------------------------


def test_node_config_is_a_read_only_mapping_that_resolves_paths(tmp_path: Path) -> None:
    config = NodeConfig({"path": "data/in.txt", "n": 3}, base_dir=tmp_path, node_id="reader")
    assert dict(config) == {"path": "data/in.txt", "n": 3}
    assert len(config) == 2
    assert config["n"] == 3
    assert config.get("missing", 7) == 7
    assert config.node_id == "reader"
    with pytest.raises(TypeError):
        config["n"] = 4  # type: ignore[index]
    assert config.resolve_path(config["path"]) == tmp_path / "data" / "in.txt"
    assert config.resolve_path("/abs/file") == Path("/abs/file")
    assert config.resolve_path("~/x") == Path.home() / "x"
    assert NodeConfig({}).resolve_path("rel") == Path("rel")
    assert "base_dir" in repr(config)


# --- import_object ---------------------------------------------------------------------------


def test_import_object_resolves_dotted_attributes() -> None:
    assert import_object("builtins:str.upper") is str.upper
    assert import_object("os.path:join") is __import__("os").path.join


@pytest.mark.parametrize("text", ["nocolon", ":attr", "module:", ""])
def test_import_object_rejects_malformed_references(text: str) -> None:
    with pytest.raises(ImportReferenceError) as caught:
        import_object(text)
    assert caught.value.kind == "invalid"
    assert "module:attribute" in str(caught.value)


def test_import_object_reports_each_failure_kind(tmp_path: Path) -> None:
    (tmp_path / "core_comp_boom.py").write_text("raise RuntimeError('kaboom')\n")
    (tmp_path / "core_comp_needs.py").write_text("import core_comp_absent_dependency\n")
    (tmp_path / "core_comp_ok.py").write_text("VALUE = 1\n")
    before = list(sys.path)

    with pytest.raises(ImportReferenceError) as missing:
        import_object("core_comp_nowhere.sub:thing", base_dir=tmp_path)
    assert missing.value.kind == "not_found"
    assert "module `core_comp_nowhere.sub` not found" in str(missing.value)
    assert "no module named `core_comp_nowhere`" in str(missing.value)

    with pytest.raises(ImportReferenceError) as boom:
        import_object("core_comp_boom:x", base_dir=tmp_path)
    assert boom.value.kind == "raised"
    assert "raised RuntimeError: kaboom" in str(boom.value)
    assert isinstance(boom.value.cause, RuntimeError)

    with pytest.raises(ImportReferenceError) as needs:
        import_object("core_comp_needs:x", base_dir=tmp_path)
    assert needs.value.kind == "raised"  # the module exists; its own import failed
    assert "core_comp_absent_dependency" in str(needs.value)

    with pytest.raises(ImportReferenceError) as attr:
        import_object("core_comp_ok:Outer.inner", base_dir=tmp_path)
    assert attr.value.kind == "missing_attribute"
    assert "`core_comp_ok` has no attribute `Outer`" in str(attr.value)

    assert import_object("core_comp_ok:VALUE", base_dir=tmp_path) == 1
    assert sys.path == before  # the workflow folder was on the path only while importing


def test_import_object_finds_packages_in_the_base_dir(tmp_path: Path) -> None:
    package = tmp_path / "core_comp_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "nodes.py").write_text(
        textwrap.dedent(
            """
            class Outer:
                class Inner:
                    value = "deep"
            """
        )
    )
    found = import_object("core_comp_pkg.nodes:Outer.Inner.value", base_dir=tmp_path)
    assert found == "deep"


# --- contracts -----------------------------------------------------------------------------


def test_contract_and_capabilities_follow_the_spec() -> None:
    node = NodeDefinition.of("save", ["in"], ["log"])
    spec = ComponentSpec(
        "s",
        effects=(EffectCapability.FILESYSTEM_WRITE,),
        determinism=Determinism.DETERMINISTIC,
        retry=RetryDisposition.SAFE,
    )
    contract = node_contract_for(spec, node)
    assert [(p.port_id, p.direction) for p in contract.ports] == [
        ("in", PortDirection.INPUT),
        ("log", PortDirection.OUTPUT),
    ]
    assert contract.execution_mode is ExecutionMode.NATIVE
    assert contract.determinism is Determinism.DETERMINISTIC
    assert contract.retry is RetryDisposition.SAFE
    capabilities = node_capabilities_for(spec, node)
    assert capabilities.effects == (EffectCapability.FILESYSTEM_WRITE,)
    assert capabilities.claim_for("in") is PortCapabilityDirection.RECEIVE
    assert capabilities.claim_for("log") is PortCapabilityDirection.EMIT

    process = ComponentSpec("p", run_in="process")
    assert node_contract_for(process, node).execution_mode is ExecutionMode.PROCESS
    passive = node_contract_for(None, node)
    assert passive.determinism is Determinism.UNKNOWN
    assert node_capabilities_for(None, node).effects == ()
