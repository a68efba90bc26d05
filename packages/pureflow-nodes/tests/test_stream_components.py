"""The stream components: sequence, map, filter, split, merge, tee, batch, rate-limit,
delay, dedupe, count and print."""

from __future__ import annotations

import textwrap
import time
import uuid
from pathlib import Path

import pytest
from nodes_flow_support import Flow
from pureflow.core import PayloadKind
from pureflow.engine import BindingError

pytestmark = pytest.mark.anyio


# --- sequence ------------------------------------------------------------------------------


async def test_sequence_counts_like_range() -> None:
    flow = Flow().add("seq", "builtin:sequence", [], ["out"], {"start": 10, "stop": 0, "step": -3})
    got = flow.capture("sink")
    await flow.connect("seq.out", "sink.in").run()
    assert got.values() == [10, 7, 4, 1]


async def test_sequence_formats_text() -> None:
    flow = Flow().add("seq", "builtin:sequence", [], ["out"], {"stop": 3, "format": "row-{:03d}"})
    got = flow.capture("sink")
    await flow.connect("seq.out", "sink.in").run()
    assert got.values() == ["row-000", "row-001", "row-002"]


def test_sequence_config_problems_are_found_before_the_run() -> None:
    flow = Flow().add("seq", "builtin:sequence", [], ["out"], {"step": 0, "format": "{name}"})
    with pytest.raises(BindingError) as caught:
        flow.bind_only()
    assert [(p.code, p.location) for p in caught.value.problems] == [
        ("binding.invalid_config", "/nodes/0/config"),
        ("binding.invalid_config", "/nodes/0/config/step"),
    ]
    flow = Flow().add("seq", "builtin:sequence", [], ["out"], {"stop": 1, "format": "{name}"})
    with pytest.raises(BindingError) as caught:
        flow.bind_only()
    (problem,) = caught.value.problems
    assert (problem.code, problem.location) == ("binding.invalid_config", "/nodes/0/config/format")


# --- map and filter --------------------------------------------------------------------------


def write_module(folder: Path, source: str) -> str:
    name = f"nodes_user_{uuid.uuid4().hex[:8]}"
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    return name


async def test_map_applies_a_callable_from_the_workflow_folder(tmp_path: Path) -> None:
    module = write_module(
        tmp_path,
        """
        def describe(value):
            return {"value": value, "double": value * 2}

        async def later(value):
            return None if value == 2 else str(value)
        """,
    )
    flow = Flow().feed("feed", [1, 2, 3])
    flow.add("map", "builtin:map", ["in"], ["out"], {"function": f"{module}:describe"})
    flow.add("skip", "builtin:map", ["in"], ["out"], {"function": f"{module}:later"})
    flow.add(
        "async", "builtin:map", ["in"], ["out"], {"function": f"{module}:later", "drop_none": True}
    )
    flow.add("tee", "builtin:tee", ["in"], ["a", "b"])
    mapped, kept, dropped = flow.capture("mapped"), flow.capture("kept"), flow.capture("dropped")
    flow.connect("feed.out", "tee.in").connect("tee.a", "map.in").connect("map.out", "mapped.in")
    flow.add("tee2", "builtin:tee", ["in"], ["a", "b"]).connect("tee.b", "tee2.in")
    flow.connect("tee2.a", "skip.in").connect("skip.out", "kept.in")
    flow.connect("tee2.b", "async.in").connect("async.out", "dropped.in")
    await flow.run(tmp_path)
    assert mapped.values() == [{"value": n, "double": 2 * n} for n in (1, 2, 3)]
    assert kept.values() == ["1", None, "3"]
    assert dropped.values() == ["1", "3"]
    # A mapped packet keeps its message id.
    assert [str(p.message_id) for p in mapped.packets["in"]] == [
        "feed-out-0",
        "feed-out-1",
        "feed-out-2",
    ]


async def test_map_result_kinds() -> None:
    flow = Flow().feed("feed", [b"abc"], bytes=True)
    flow.add("upper", "builtin:map", ["in"], ["out"], {"function": "builtins:bytes.upper"})
    flow.add("obj", "builtin:map", ["in"], ["out"], {"function": "builtins:set"})
    got = flow.capture("sink")
    flow.connect("feed.out", "upper.in").connect("upper.out", "obj.in").connect(
        "obj.out", "sink.in"
    )
    await flow.run()
    (packet,) = got.packets["in"]
    assert packet.payload.kind is PayloadKind.STRUCTURED
    assert packet.payload.value == {ord("A"), ord("B"), ord("C")}


async def test_map_callable_errors_fail_the_node() -> None:
    flow = Flow().feed("feed", ["x"])
    flow.add("map", "builtin:map", ["in"], ["out"], {"function": "builtins:int"})
    flow.capture("sink")
    summary = (
        await flow.connect("feed.out", "map.in")
        .connect("map.out", "sink.in")
        .run(expect_success=False)
    )
    assert "invalid literal for int()" in str(summary.first_error)


def test_bad_callables_are_binding_problems(tmp_path: Path) -> None:
    module = write_module(tmp_path, "NOT_CALLABLE = 3\n")
    flow = Flow()
    flow.add("a", "builtin:map", ["in"], ["out"], {"function": "nodes_nowhere_mod:f"})
    flow.add("b", "builtin:filter", ["in"], ["out"], {"function": f"{module}:missing"})
    flow.add(
        "c",
        "builtin:split",
        ["in"],
        ["matched", "unmatched"],
        {"function": f"{module}:NOT_CALLABLE"},
    )
    flow.add("d", "builtin:map", ["in"], ["out"], {"function": "no colon"})
    with pytest.raises(BindingError) as caught:
        flow.bind_only(tmp_path)
    assert [(p.code, p.location) for p in caught.value.problems] == [
        ("binding.import_failed", "/nodes/0/config/function"),
        ("binding.missing_attribute", "/nodes/1/config/function"),
        ("binding.invalid_config", "/nodes/2/config/function"),
        ("binding.invalid_config", "/nodes/3/config/function"),
    ]
    assert "is a int, not a callable" in caught.value.problems[2].message


async def test_filter_keeps_truthy_values_or_the_rest() -> None:
    flow = Flow().feed("feed", ["a", "", "b", ""])
    flow.add("tee", "builtin:tee", ["in"], ["x", "y"])
    flow.add("keep", "builtin:filter", ["in"], ["out"], {"function": "builtins:len"})
    flow.add(
        "drop", "builtin:filter", ["in"], ["out"], {"function": "builtins:len", "invert": True}
    )
    kept, dropped = flow.capture("kept"), flow.capture("dropped")
    flow.connect("feed.out", "tee.in").connect("tee.x", "keep.in").connect("tee.y", "drop.in")
    flow.connect("keep.out", "kept.in").connect("drop.out", "dropped.in")
    await flow.run()
    assert kept.values() == ["a", "b"]
    assert dropped.values() == ["", ""]


# --- routing -------------------------------------------------------------------------------


async def test_split_routes_by_predicate() -> None:
    flow = Flow().feed("feed", ["x", "", "y"])
    flow.add(
        "split",
        "builtin:split",
        ["in"],
        ["matched", "unmatched"],
        {"function": "builtins:str.strip"},
    )
    got = flow.capture("sink", ["yes", "no"])
    flow.connect("feed.out", "split.in")
    flow.connect("split.matched", "sink.yes").connect("split.unmatched", "sink.no")
    await flow.run()
    assert got.values("yes") == ["x", "y"]
    assert got.values("no") == [""]


async def test_split_port_mismatch_is_reported() -> None:
    flow = Flow().add(
        "split", "builtin:split", ["in"], ["yes", "no"], {"function": "builtins:bool"}
    )
    with pytest.raises(BindingError) as caught:
        flow.bind_only()
    (problem,) = caught.value.problems
    assert problem.code == "binding.port_mismatch"
    assert problem.location == "/nodes/0/outputs"
    assert "lacks `matched`, `unmatched` and has extra `yes`, `no`" in problem.message


async def test_merge_takes_every_input_fairly() -> None:
    flow = Flow()
    for name in ("a", "b", "c"):
        flow.add(name, "builtin:sequence", [], ["out"], {"stop": 50, "format": name + "{}"})
    flow.add("merge", "builtin:merge", ["one", "two", "three"], ["out"])
    got = flow.capture("sink")
    flow.connect("a.out", "merge.one", 1).connect("b.out", "merge.two", 1)
    flow.connect("c.out", "merge.three", 1).connect("merge.out", "sink.in")
    await flow.run()
    values = got.values()
    assert sorted(values) == sorted(f"{n}{i}" for n in "abc" for i in range(50))
    for name in "abc":  # each input's order is kept
        assert [v for v in values if v.startswith(name)] == [f"{name}{i}" for i in range(50)]
    # Fair: no input waits for another to finish (the first 30 hold all three).
    assert {v[0] for v in values[:30]} == {"a", "b", "c"}


async def test_tee_copies_to_every_output() -> None:
    flow = Flow().feed("feed", [{"n": 1}, {"n": 2}])
    flow.add("tee", "builtin:tee", ["in"], ["x", "y", "unwired"])
    got = flow.capture("sink", ["x", "y"])
    flow.connect("feed.out", "tee.in").connect("tee.x", "sink.x").connect("tee.y", "sink.y")
    await flow.run()
    assert got.values("x") == got.values("y") == [{"n": 1}, {"n": 2}]
    assert got.values("x")[0] is not got.values("y")[0]  # no shared mutable JSON


# --- windows and time ----------------------------------------------------------------------


async def test_batch_by_count() -> None:
    flow = Flow().feed("feed", list(range(7)))
    flow.add("batch", "builtin:batch", ["in"], ["out"], {"size": 3})
    got = flow.capture("sink")
    await flow.connect("feed.out", "batch.in").connect("batch.out", "sink.in").run()
    assert got.values() == [[0, 1, 2], [3, 4, 5], [6]]
    assert got.packets["in"][0].payload.kind is PayloadKind.CONTROL


async def test_batch_by_time() -> None:
    flow = Flow().feed("feed", list(range(6)))
    flow.add("slow", "builtin:delay", ["in"], ["out"], {"seconds": 0.03})
    flow.add("batch", "builtin:batch", ["in"], ["out"], {"seconds": 0.07, "size": 100})
    got = flow.capture("sink")
    flow.connect("feed.out", "slow.in").connect("slow.out", "batch.in")
    await flow.connect("batch.out", "sink.in").run()
    batches = got.values()
    assert [n for batch in batches for n in batch] == list(range(6))
    assert len(batches) >= 2  # the size (100) never filled: time closed the windows
    assert all(batches)


async def test_batch_of_bytes_is_structured() -> None:
    flow = Flow().feed("feed", [b"a", b"b"], bytes=True)
    flow.add("batch", "builtin:batch", ["in"], ["out"], {"size": 5})
    got = flow.capture("sink")
    await flow.connect("feed.out", "batch.in").connect("batch.out", "sink.in").run()
    (packet,) = got.packets["in"]
    assert packet.payload.kind is PayloadKind.STRUCTURED
    assert packet.payload.value == [b"a", b"b"]


def test_batch_needs_a_size_or_a_time() -> None:
    flow = Flow().add("batch", "builtin:batch", ["in"], ["out"], {})
    with pytest.raises(BindingError, match="config is invalid"):
        flow.bind_only()


async def test_rate_limit_spaces_packets() -> None:
    flow = Flow().feed("feed", list(range(6)))
    flow.add("limit", "builtin:rate-limit", ["in"], ["out"], {"per_second": 50, "burst": 2})
    got = flow.capture("sink")
    flow.connect("feed.out", "limit.in").connect("limit.out", "sink.in")
    started = time.monotonic()
    await flow.run()
    elapsed = time.monotonic() - started
    assert got.values() == list(range(6))
    assert elapsed >= 0.07  # 2 at once, then 4 more at 50/s = 0.08 s


async def test_delay_holds_each_packet() -> None:
    flow = Flow().feed("feed", ["a", "b"])
    flow.add("delay", "builtin:delay", ["in"], ["out"], {"seconds": 0.02})
    got = flow.capture("sink")
    started = time.monotonic()
    await flow.connect("feed.out", "delay.in").connect("delay.out", "sink.in").run()
    assert time.monotonic() - started >= 0.04
    assert got.values() == ["a", "b"]


# --- dedupe, count, print ------------------------------------------------------------------


async def test_dedupe_whole_values_and_by_key() -> None:
    records = [
        {"user": {"id": 1}, "n": 1},
        {"user": {"id": 2}, "n": 2},
        {"user": {"id": 1}, "n": 3},
        {"n": 4},
        {"other": 5},
    ]
    flow = Flow().feed("feed", records + records[:1])
    flow.add("tee", "builtin:tee", ["in"], ["x", "y"])
    flow.add("whole", "builtin:dedupe", ["in"], ["out"])
    flow.add("keyed", "builtin:dedupe", ["in"], ["out"], {"key": "user.id"})
    whole, keyed = flow.capture("whole_sink"), flow.capture("keyed_sink")
    flow.connect("feed.out", "tee.in").connect("tee.x", "whole.in").connect("tee.y", "keyed.in")
    flow.connect("whole.out", "whole_sink.in").connect("keyed.out", "keyed_sink.in")
    await flow.run()
    assert whole.values() == records
    # Missing keys count as null: {"n": 4} and {"other": 5} share it.
    assert [r["n"] for r in keyed.values()] == [1, 2, 4]


async def test_dedupe_with_bounded_memory_forgets_old_keys() -> None:
    flow = Flow().feed("feed", ["a", "b", "a", "c", "a", "b"])
    flow.add("dedupe", "builtin:dedupe", ["in"], ["out"], {"max_keys": 2})
    got = flow.capture("sink")
    await flow.connect("feed.out", "dedupe.in").connect("dedupe.out", "sink.in").run()
    # a b (a seen, refreshed) c -> forgets b; a seen; b forgotten -> passes again.
    assert got.values() == ["a", "b", "c", "b"]


async def test_dedupe_key_path_with_indexes() -> None:
    flow = Flow().feed("feed", [[1, "x"], [2, "x"], [3, "y"]])
    flow.add("dedupe", "builtin:dedupe", ["in"], ["out"], {"key": [1]})
    got = flow.capture("sink")
    await flow.connect("feed.out", "dedupe.in").connect("dedupe.out", "sink.in").run()
    assert got.values() == [[1, "x"], [3, "y"]]


async def test_count_emits_the_total() -> None:
    flow = Flow().add("seq", "builtin:sequence", [], ["out"], {"stop": 2500})
    flow.add("count", "builtin:count", ["in"], ["out"])
    got = flow.capture("sink")
    await flow.connect("seq.out", "count.in").connect("count.out", "sink.in").run()
    assert got.values() == [{"count": 2500}]


async def test_print_writes_lines(capsys: pytest.CaptureFixture[str]) -> None:
    flow = Flow().feed("feed", ["text", {"k": 1}, 3])
    flow.add("print", "builtin:print", ["in"], [], {"prefix": "> "})
    flow.feed("raw", [b"\xffok"], bytes=True)
    flow.add("err", "builtin:print", ["in"], [], {"stream": "stderr"})
    flow.connect("feed.out", "print.in").connect("raw.out", "err.in")
    await flow.run()
    out, err = capsys.readouterr()
    assert out == '> text\n> {"k":1}\n> 3\n'
    assert err == "\ufffdok\n"


async def test_sources_stop_quietly_when_consumers_leave() -> None:
    flow = Flow().add("seq", "builtin:sequence", [], ["out"], {"stop": 10**9})
    flow.add("keep", "builtin:filter", ["in"], ["out"], {"function": "builtins:bool"})
    leaver = Leaver(3)
    flow.use("sink", leaver, ["in"])
    await flow.connect("seq.out", "keep.in").connect("keep.out", "sink.in").run()
    assert leaver.taken == [1, 2, 3]


class Leaver:
    """Takes ``limit`` packets, then returns (closing its input)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.taken: list[object] = []

    async def run(self, ctx: object, inputs: object, outputs: object) -> None:
        port = inputs["in"]  # type: ignore[index]
        while len(self.taken) < self.limit:
            packet = await port.recv()
            if packet is None:
                return
            self.taken.append(packet.payload.value)
