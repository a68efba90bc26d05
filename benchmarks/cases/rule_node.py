"""Rule evaluation throughput: a rule node against a hand-written ``if`` chain.

A workflow ``source -> router -> p0 | p1 | p2 | rest`` run by
:func:`pureflow.engine.run_workflow` (asyncio backend, metadata off, every edge
:data:`EDGE_CAPACITY` packets). ``router`` sends each payment to one of four output ports
by its ``amount``, and is one of:

* ``rule-node``: the node carries a rule set of ``n_rules`` rules (``FirstMatch``; rule
  ``i`` is ``amount < (i + 1) * STEP`` routing to ``p{i % 3}``; the default routes to
  ``rest``) and no executor: the engine runs it as :class:`pureflow.core.RuleNode`, the
  native evaluator, exactly as a document's rule node runs. It also keeps the rule
  node's bookkeeping: a hop count and the tags travel with each forwarded packet;
* ``if-chain``: a Python node doing the same routing with an ``if``/``elif`` chain of
  ``n_rules`` comparisons, generated as source text (what one would write by hand), then
  ``send`` on the chosen port.

The source sends ``n_packets`` packets around :data:`DISTINCT` pre-built control payloads
(``{"id", "amount", "country"}``; amounts spread over every rule and the default, so a
packet is decided after about ``n_rules / 2`` rules), in ``send_many`` batches of
:data:`~cases.common.BATCH_SIZE`. The four sinks count with ``recv_many``; the case checks
that every packet arrived and that each sink got the packets the ``if`` chain sends it.
The clock covers ``run_workflow`` only.
"""

from __future__ import annotations

import time
from typing import Any

from cases.common import BATCH_SIZE, CaseResult, CaseSkipped, batch_sizes

#: Every edge's capacity in packets.
EDGE_CAPACITY = 64
#: The width of each rule's amount band.
STEP = 10
#: Distinct payloads the source cycles through.
DISTINCT = 256
#: The router's output ports.
PORTS = ("p0", "p1", "p2", "rest")


def _amounts(n_rules: int) -> list[int]:
    # Every band, and about one in eleven past the last rule (the default action).
    top = n_rules * STEP + n_rules
    return [(k * 37) % top for k in range(DISTINCT)]


def _rule_set(n_rules: int) -> Any:
    from pureflow.rules import (
        EvaluationStrategy,
        FieldLt,
        FieldPath,
        Route,
        Rule,
        RuleSet,
        ScalarValue,
    )

    amount = FieldPath("amount")
    rules = [
        Rule(
            f"band-{i}",
            FieldLt(amount, ScalarValue.integer((i + 1) * STEP)),
            Route(PORTS[i % 3]),
            i,
        )
        for i in range(n_rules)
    ]
    return RuleSet.new("bands", EvaluationStrategy.FIRST_MATCH, rules, Route("rest"))


def _if_chain(n_rules: int) -> Any:
    """``route(value) -> port``: an ``if``/``elif`` chain as one would write it by hand."""
    lines = ["def route(value):", '    amount = value["amount"]']
    for i in range(n_rules):
        keyword = "if" if i == 0 else "elif"
        lines.append(f"    {keyword} amount < {(i + 1) * STEP}:")
        lines.append(f'        return "{PORTS[i % 3]}"')
    lines.append('    return "rest"')
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), namespace)  # our own generated source
    return namespace["route"]


def _run(kind: str, n_packets: int, n_rules: int) -> CaseResult:
    try:
        from pureflow import engine
        from pureflow.core import RuleNode  # noqa: F401 - the rule node must exist
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise CaseSkipped(f"pureflow rule nodes cannot be imported ({err})") from err
    import anyio
    from pureflow.core import FunctionNodeExecutor, NullMetadataSink, PacketPayload
    from pureflow.engine import TerminalState
    from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition

    route = _if_chain(n_rules)
    payloads = [
        PacketPayload.control({"id": k, "amount": amount, "country": "DE"})
        for k, amount in enumerate(_amounts(n_rules))
    ]
    expected = dict.fromkeys(PORTS, 0)
    for k in range(n_packets):
        expected[route(payloads[k % DISTINCT].value)] += 1
    counts: dict[str, int] = {}

    async def source(_ctx: Any, _inputs: Any, outputs: Any) -> None:
        out = outputs.port("out")
        make, send_many = out.packet, out.send_many
        sent = 0
        for size in batch_sizes(n_packets):
            await send_many([make(payloads[(sent + i) % DISTINCT]) for i in range(size)])
            sent += size

    async def if_chain(_ctx: Any, inputs: Any, outputs: Any) -> None:
        ports = {port: outputs.port(port).send for port in PORTS}
        async for packet in inputs.port("in"):
            await ports[route(packet.payload.value)](packet)

    async def sink(ctx: Any, inputs: Any, _outputs: Any) -> None:
        recv_many = inputs.port("in").recv_many
        count = 0
        while batch := await recv_many(EDGE_CAPACITY):
            count += len(batch)
        counts[str(ctx.node_id)] = count

    rule_set = _rule_set(n_rules) if kind == "rule-node" else None
    nodes = [
        NodeDefinition.of("source", [], ["out"]),
        NodeDefinition.of("router", ["in"], PORTS, rule_set=rule_set),
        *(NodeDefinition.of(port, ["in"], []) for port in PORTS),
    ]
    edges = [
        EdgeDefinition.between(("source", "out"), ("router", "in"), EDGE_CAPACITY),
        *(EdgeDefinition.between(("router", p), (p, "in"), EDGE_CAPACITY) for p in PORTS),
    ]
    workflow = WorkflowDefinition.from_parts(f"bench-rules-{kind}-{n_rules}", nodes, edges)
    executors: dict[str, Any] = {"source": FunctionNodeExecutor(source)}
    executors |= {port: FunctionNodeExecutor(sink) for port in PORTS}
    if kind == "if-chain":
        executors["router"] = FunctionNodeExecutor(if_chain)
    # The rule node gets no executor: the engine runs the node's rule set.

    async def main() -> tuple[float, Any]:
        start = time.perf_counter()
        summary = await engine.run_workflow(
            workflow, executors, execution="bench", metadata=NullMetadataSink()
        )
        return time.perf_counter() - start, summary

    seconds, summary = anyio.run(main, backend="asyncio")
    if summary.terminal_state is not TerminalState.COMPLETED:
        raise RuntimeError(f"run ended {summary.terminal_state}: {summary.first_error}")
    assert counts == expected, (counts, expected)
    return CaseResult(n_packets, seconds)


def rule_node(n_packets: int, n_rules: int) -> CaseResult:
    """source -> rule node (``n_rules`` rules, native evaluator) -> four sinks."""
    return _run("rule-node", n_packets, n_rules)


def if_chain(n_packets: int, n_rules: int) -> CaseResult:
    """source -> Python node with an ``n_rules``-branch ``if`` chain -> four sinks."""
    return _run("if-chain", n_packets, n_rules)


assert BATCH_SIZE <= EDGE_CAPACITY
