"""The static half at scale: parse, validate, order and inspect documents of n nodes.

:func:`write_document` generates a workflow of ``n_nodes``: a chain ``n00000 -> n00001 ->
...`` (port ``out`` to port ``in``, capacity 64) plus some fan-out: every tenth node also
sends on a port ``side`` to the node five places further down, which takes it on a port
``side`` (default capacity). So there are about ``1.1 n`` edges and the topological order
has real choices to make.

:func:`measure` times one phase on one size in this process (``run.py`` calls it in a fresh
subprocess per measurement) and returns ``{"seconds": median, "reps": count}``:

* ``workflow``: ``json.loads`` the document and build a validated
  ``pureflow.workflow.WorkflowDefinition`` from its parts, then its topological order. This
  is the graph model alone, available before the format layer;
* ``format``: ``pureflow.format.load_workflow(path)`` (read, parse, validate) and the
  topological order: what ``pureflow validate`` does;
* ``inspect``: ``pureflow.introspection`` on the loaded workflow: passive contracts, the
  introspection projection and its JSON text: what ``pureflow inspect`` does after loading;
* ``engine-start``: the engine running the loaded graph with nodes that return at once,
  timed from the ``run_workflow`` call until the last node's body starts (pre-flight,
  wiring every edge, ``node_scheduled`` records, one task per node;
  :func:`cases.pureflow_engine.engine_start_seconds`). Each repetition runs on a fresh
  event loop, which is outside the time.

Every Pureflow import is lazy: a phase whose package is missing or not written yet raises
:class:`~cases.common.CaseSkipped` with the import error, and the table says so.
:func:`growth` fits how the times grow with n (``run.py`` reports it per phase).
"""

from __future__ import annotations

import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cases.common import CaseSkipped

#: Every tenth node fans out to the node this many places further down.
SIDE_STEP = 5
#: Each phase repeats until it has run about this long (``MIN_REPS`` to ``MAX_REPS`` times).
TARGET_SECONDS = 0.25
MIN_REPS = 3
MAX_REPS = 50


def node_id(index: int) -> str:
    return f"n{index:05d}"


def document(n_nodes: int) -> dict[str, Any]:
    """The workflow document of ``n_nodes`` described in the module docstring."""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for i in range(n_nodes):
        inputs = [] if i == 0 else ["in"]
        outputs = [] if i == n_nodes - 1 else ["out"]
        if i >= SIDE_STEP and (i - SIDE_STEP) % 10 == 0:
            inputs.append("side")
        if i % 10 == 0 and i + SIDE_STEP < n_nodes:
            outputs.append("side")
            edges.append(
                {
                    "source": {"node": node_id(i), "port": "side"},
                    "target": {"node": node_id(i + SIDE_STEP), "port": "side"},
                }
            )
        if i + 1 < n_nodes:
            edges.append(
                {
                    "source": {"node": node_id(i), "port": "out"},
                    "target": {"node": node_id(i + 1), "port": "in"},
                    "capacity": 64,
                }
            )
        nodes.append({"id": node_id(i), "inputs": inputs, "outputs": outputs})
    return {"pureflow_version": "1", "id": f"scale-{n_nodes}", "nodes": nodes, "edges": edges}


def write_document(n_nodes: int, directory: Path) -> Path:
    """Write :func:`document` as JSON into ``directory``; return its path."""
    path = directory / f"scale-{n_nodes}.workflow.json"
    path.write_text(json.dumps(document(n_nodes)), encoding="utf-8")
    return path


class SelfTimed:
    """An action that times itself: calling it returns the seconds to count."""

    def __init__(self, action: Callable[[], float]) -> None:
        self.action = action

    def __call__(self) -> float:
        return self.action()


def _time(action: Callable[[], object]) -> dict[str, float]:
    """Median wall time of ``action`` over enough repetitions to fill TARGET_SECONDS.

    A :class:`SelfTimed` action reports its own seconds (the wall time around it includes
    set-up that is not part of the phase, such as a fresh event loop)."""

    def once() -> float:
        start = time.perf_counter()
        result = action()
        wall = time.perf_counter() - start
        return float(result) if isinstance(action, SelfTimed) else wall  # type: ignore[arg-type]

    first = once()
    reps = max(MIN_REPS, min(MAX_REPS, int(TARGET_SECONDS / max(first, 1e-9))))
    samples = [first, *(once() for _ in range(reps - 1))]
    return {"seconds": statistics.median(samples), "reps": len(samples)}


def _import_failure(package: str, err: ImportError) -> CaseSkipped:
    if isinstance(err, ModuleNotFoundError) and err.name == "pureflow":
        return CaseSkipped(f"{package}: Pureflow is not installed here (use the bench environment)")
    return CaseSkipped(f"{package} cannot be imported yet ({type(err).__name__}: {err})")


def _phase_workflow(path: Path) -> Callable[[], object]:
    try:
        from pureflow.workflow import EdgeDefinition, NodeDefinition, WorkflowDefinition
    except ImportError as err:
        raise _import_failure("pureflow.workflow", err) from err

    text = path.read_text(encoding="utf-8")

    def action() -> object:
        doc = json.loads(text)
        nodes = [NodeDefinition.of(n["id"], n["inputs"], n["outputs"]) for n in doc["nodes"]]
        edges = [
            EdgeDefinition.between(
                (e["source"]["node"], e["source"]["port"]),
                (e["target"]["node"], e["target"]["port"]),
                e.get("capacity"),
            )
            for e in doc["edges"]
        ]
        return WorkflowDefinition.from_parts(doc["id"], nodes, edges).topological_order()

    return action


def _phase_format(path: Path) -> Callable[[], object]:
    try:
        from pureflow.format import load_workflow
    except ImportError as err:
        raise _import_failure("pureflow.format", err) from err
    return lambda: load_workflow(str(path)).topological_order()


def _phase_inspect(path: Path) -> Callable[[], object]:
    try:
        from pureflow.format import load_workflow
        from pureflow.introspection import (
            introspect_workflow,
            introspection_to_json_text,
            passive_contracts,
        )
    except ImportError as err:
        raise _import_failure("pureflow.format / pureflow.introspection", err) from err
    definition = load_workflow(str(path))

    def action() -> object:
        contracts, capabilities = passive_contracts(definition)
        return introspection_to_json_text(introspect_workflow(definition, contracts, capabilities))

    return action


def _phase_engine_start(path: Path) -> Callable[[], object]:
    try:
        import pureflow.engine  # noqa: F401 - only to skip early when it is missing
        from pureflow.format import load_workflow
    except ImportError as err:
        raise _import_failure("pureflow.engine / pureflow.format", err) from err
    from cases.pureflow_engine import engine_start_seconds

    definition = load_workflow(str(path))
    return SelfTimed(lambda: engine_start_seconds(definition))


PHASES: dict[str, Callable[[Path], Callable[[], object]]] = {
    "workflow": _phase_workflow,
    "format": _phase_format,
    "inspect": _phase_inspect,
    "engine-start": _phase_engine_start,
}


def measure(n_nodes: int, phase: str) -> dict[str, float]:
    """Time ``phase`` (a key of :data:`PHASES`) on a generated document of ``n_nodes``."""
    with tempfile.TemporaryDirectory(prefix="pureflow-bench-") as tmp:
        action = PHASES[phase](write_document(n_nodes, Path(tmp)))
        return _time(action)


@dataclass(frozen=True, slots=True)
class Growth:
    """How a phase's time grows with n.

    * ``exponent``: the least-squares slope of log(time) against log(n) over every size;
    * ``last_exponent``: the slope between the two largest sizes (least disturbed by fixed
      costs), and ``nlogn_exponent`` the slope that n log n itself has between them;
    * ``per_nlogn``: time / (n log2 n) at each size, divided by its value at the smallest,
      so a bounded column means growth no worse than n log n;
    * ``within_nlogn``: ``last_exponent <= nlogn_exponent + TOLERANCE``.
    """

    exponent: float
    last_exponent: float
    nlogn_exponent: float
    per_nlogn: list[float]
    within_nlogn: bool


#: Slack on the exponent for timing noise (0.1 is 26% over a 10x step in n).
TOLERANCE = 0.1


def growth(sizes: list[int], seconds: list[float]) -> Growth:
    """Fit the growth of ``seconds`` over ``sizes`` (at least two, ascending)."""
    if len(sizes) < 2 or len(sizes) != len(seconds):
        raise ValueError("growth needs at least two sizes, each with its time")
    xs = [math.log(n) for n in sizes]
    ys = [math.log(max(t, 1e-12)) for t in seconds]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    exponent = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    n1, n2 = sizes[-2], sizes[-1]
    last = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    nlogn = 1 + math.log(math.log2(n2) / math.log2(n1)) / math.log(n2 / n1)
    ratios = [t / (n * math.log2(n)) for n, t in zip(sizes, seconds, strict=True)]
    return Growth(
        exponent=exponent,
        last_exponent=last,
        nlogn_exponent=nlogn,
        per_nlogn=[r / ratios[0] for r in ratios],
        within_nlogn=last <= nlogn + TOLERANCE,
    )
