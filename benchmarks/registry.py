"""What the suite measures: sizes, the registered cases, and the targets' numbers.

A throughput :class:`Case` names a system on one shape and the ``module:function`` that
``child.py`` calls; :func:`throughput_rows` expands every case over the payload sizes and
its capacities into :class:`Row` objects, whose ``id`` is what ``run.py --only`` matches.
To add a system, add its module under ``cases/`` and its :class:`Case` entries here.
"""

from __future__ import annotations

from dataclasses import dataclass

from cases.cli_run import CLI_TIERS
from cases.common import BATCH_SIZE, FAN_OUT_IN, IDENTITY, LINEAR3, LINEAR10, NATURAL, WIDE_FAN_OUT

# -- sizes -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Size:
    """How big one run is: packets per throughput measurement, rounds and the rest."""

    packets: int
    rounds: int
    memory_packets: tuple[int, int]
    static_nodes: tuple[int, ...]
    startup_reps: int
    cpu_packets: int
    timeout: float
    wasm_packets: int
    #: Whether the JavaScript and Python guest rows run (they build their guests first).
    wasm_guests: bool = True


SIZES: dict[str, Size] = {
    # CI: every case once, in well under a minute.
    "tiny": Size(2_000, 1, (1_000, 10_000), (100, 1_000), 3, 10, 120.0, 500, wasm_guests=False),
    "small": Size(20_000, 3, (10_000, 100_000), (100, 1_000, 10_000), 5, 60, 300.0, 5_000),
    # The README's table.
    "full": Size(200_000, 5, (10_000, 1_000_000), (100, 1_000, 10_000), 10, 300, 900.0, 20_000),
}

PAYLOADS = (1, 1024)
#: The capacity of the reference row, and of every row that does not say otherwise.
REFERENCE_CAPACITY = 64
#: The memory target: the large run's peak RSS within this of the small run's.
MEMORY_LIMIT_MIB = 20.0
#: The start-up target: ``pureflow validate`` within this many times ``python -c pass``.
STARTUP_LIMIT = 10.0
#: The CPU target: two process-node branches against one.
CPU_SCALING_TARGET = 1.6

# -- the registry -----------------------------------------------------------------------

ASYNCIO = "asyncio.Queue"
PUREFLOW = "pureflow"

SHAPES = (LINEAR3, LINEAR10, FAN_OUT_IN, WIDE_FAN_OUT)
#: The shapes with natural-work rows (``work`` = ``natural``: every stage upper-cases).
NATURAL_SHAPES = (LINEAR3, LINEAR10, FAN_OUT_IN)
#: Function stems in ``cases/baseline_asyncio.py``, by shape.
BASELINE_STEMS = {
    LINEAR3: "linear3",
    LINEAR10: "linear10",
    FAN_OUT_IN: "fan_out_in",
    WIDE_FAN_OUT: "wide_fan_out",
}


@dataclass(frozen=True, slots=True)
class Case:
    """One registered system on one shape: what ``child.py`` calls and how to label it.

    ``target`` is ``module:function`` under ``benchmarks/``; the function has the signature
    ``run(n_packets, payload_size, capacity) -> CaseResult``. ``work`` is ``identity``
    (stages pass packets on) or ``natural`` (stages make a new, upper-cased value per
    packet); a row's ratio is against the reference row of the same work. ``bounded`` is
    False for systems with no user-sized edge buffer (the capacity column then shows
    ``-``); ``requires`` names modules that must be importable, or the row is skipped.
    """

    system: str
    shape: str
    target: str
    api: str = "item"
    work: str = IDENTITY
    metadata: str = "-"
    capacities: tuple[int, ...] = (REFERENCE_CAPACITY,)
    bounded: bool = True
    requires: tuple[str, ...] = ()


def _baseline_cases() -> list[Case]:
    cases: list[Case] = []
    for shape in SHAPES:
        stem = f"cases.baseline_asyncio:{BASELINE_STEMS[shape]}"
        cases.append(Case(ASYNCIO, shape, f"{stem}_item", capacities=(REFERENCE_CAPACITY, 1)))
        cases.append(Case(ASYNCIO, shape, f"{stem}_batch", api="batch"))
    for shape in NATURAL_SHAPES:
        stem = f"cases.baseline_asyncio:{BASELINE_STEMS[shape]}_natural"
        cases.append(Case(ASYNCIO, shape, f"{stem}_item", work=NATURAL))
        cases.append(Case(ASYNCIO, shape, f"{stem}_batch", api="batch", work=NATURAL))
    return cases


def _peer(
    system: str,
    module: str,
    requires: tuple[str, ...] = (),
    *,
    bounded: bool = True,
    suffix: str = "",
    api: str = "item",
    work: str = IDENTITY,
) -> list[Case]:
    """The linear-3 and fan-out-in rows of one peer (functions ``linear3``, ``fan_out_in``)."""
    return [
        Case(
            system,
            shape,
            f"cases.{module}:{stem}{suffix}",
            api=api,
            work=work,
            bounded=bounded,
            requires=requires,
        )
        for shape, stem in ((LINEAR3, "linear3"), (FAN_OUT_IN, "fan_out_in"))
    ]


def _peer_cases() -> list[Case]:
    return [
        *_peer("threads+queue.Queue", "peers_threads"),
        *_peer("streamz", "peers_streamz", ("streamz",), bounded=False),
        *_peer("streamz+buffer", "peers_streamz", ("streamz",), suffix="_buffered"),
        *_peer("pypeln.task", "peers_pypeln", ("pypeln",)),
        *_peer("aiostream", "peers_aiostream", ("aiostream",), bounded=False),
        *_peer("bytewax", "peers_bytewax", ("bytewax",), bounded=False),
        *_peer(
            "bytewax", "peers_bytewax", ("bytewax",), bounded=False, suffix="_batch", api="batch"
        ),
        *_peer(
            "bytewax",
            "peers_bytewax",
            ("bytewax",),
            bounded=False,
            suffix="_natural",
            work=NATURAL,
        ),
        *_peer(
            "bytewax",
            "peers_bytewax",
            ("bytewax",),
            bounded=False,
            suffix="_natural_batch",
            api="batch",
            work=NATURAL,
        ),
        *_peer("apache-beam DirectRunner", "peers_beam", ("apache_beam",), bounded=False),
    ]


#: Pureflow's rows (``cases/pureflow_engine.py``) in every section and the target checks;
#: off leaves the baseline and peer rows only.
PUREFLOW_ROWS = True
PUREFLOW_MODULE = "cases.pureflow_engine"
PUREFLOW_REQUIRES = ("pureflow.engine",)
METADATA_TIERS = ("off", "control", "jsonl")


def _pureflow_cases() -> list[Case]:
    """Pureflow on every shape: each metadata tier per item, and the batch API."""
    if not PUREFLOW_ROWS:
        return []
    cases: list[Case] = []
    for shape in SHAPES:
        stem = f"{PUREFLOW_MODULE}:{BASELINE_STEMS[shape]}"
        cases += [
            Case(
                PUREFLOW,
                shape,
                f"{stem}_item_{tier}",
                metadata=tier,
                capacities=(REFERENCE_CAPACITY, 1),
                requires=PUREFLOW_REQUIRES,
            )
            for tier in METADATA_TIERS
        ]
        cases.append(
            Case(
                PUREFLOW,
                shape,
                f"{stem}_batch_off",
                api="batch",
                metadata="off",
                capacities=(REFERENCE_CAPACITY, 1),
                requires=PUREFLOW_REQUIRES,
            )
        )
    for shape in NATURAL_SHAPES:
        stem = f"{PUREFLOW_MODULE}:{BASELINE_STEMS[shape]}_natural"
        for api in ("item", "batch"):
            cases.append(
                Case(
                    PUREFLOW,
                    shape,
                    f"{stem}_{api}_off",
                    api=api,
                    work=NATURAL,
                    metadata="off",
                    requires=PUREFLOW_REQUIRES,
                )
            )
    return cases


THROUGHPUT_CASES: list[Case] = [*_baseline_cases(), *_pureflow_cases(), *_peer_cases()]

#: Peak RSS at a small and a large packet count, 10-node chain, 1 KiB payloads, edges of
#: 64 packets: capacity 64 on per-item rows, one batch of 64 (``capacities=(1,)``) on the
#: batch rows (a batch row's capacity counts batches), so that the small run fills every
#: edge as the large one does and any growth between them is not the edges filling up.
MEMORY_CASES: list[Case] = [
    Case(ASYNCIO, LINEAR10, "cases.baseline_asyncio:linear10_item"),
    Case(
        ASYNCIO,
        LINEAR10,
        "cases.baseline_asyncio:linear10_natural_batch",
        api="batch",
        work=NATURAL,
        capacities=(1,),
    ),
]
if PUREFLOW_ROWS:
    MEMORY_CASES += [
        Case(
            PUREFLOW, LINEAR10, f"{PUREFLOW_MODULE}:linear10_item_off", requires=PUREFLOW_REQUIRES
        ),
        Case(
            PUREFLOW,
            LINEAR10,
            f"{PUREFLOW_MODULE}:linear10_natural_batch_off",
            api="batch",
            work=NATURAL,
            capacities=(1,),
            requires=PUREFLOW_REQUIRES,
        ),
    ]
MEMORY_PAYLOAD = 1024


def memory_id(case: Case) -> str:
    """The id of a memory row: system, shape, and work and API when not the identity relay."""
    parts = ["memory", case.system, case.shape]
    if (case.work, case.api) != (IDENTITY, "item"):
        parts += [case.work, case.api]
    return "/".join(parts)


def memory_capacity_packets(case: Case) -> int:
    """A memory row's edge capacity in packets (batch rows count batches of 64)."""
    capacity = case.capacities[0]
    return capacity * BATCH_SIZE if case.api == "batch" else capacity


#: ``pureflow run`` rows (``cases/cli_run.py``): the tiers, ``none`` the reference.
CLI_REFERENCE_TIER = CLI_TIERS[0]
#: The CLI targets: ``all`` and ``stats`` as a fraction of ``none``'s speed, same round.
CLI_TARGETS = {"all": 0.3, "stats": 0.9}


@dataclass(frozen=True, slots=True)
class CpuCase:
    """CPU-bound work in worker processes: the same system with one branch and with two."""

    system: str
    one_branch: str
    two_branches: str
    requires: tuple[str, ...] = ()


CPU_CASES: list[CpuCase] = [
    CpuCase(
        "asyncio+ProcessPoolExecutor",
        "cases.cpu_scaling:one_branch",
        "cases.cpu_scaling:two_branches",
    ),
]
if PUREFLOW_ROWS:
    CPU_CASES.append(
        CpuCase(
            PUREFLOW,
            f"{PUREFLOW_MODULE}:cpu_one_process_branch",
            f"{PUREFLOW_MODULE}:cpu_two_process_branches",
            PUREFLOW_REQUIRES,
        )
    )

#: The WebAssembly node against the same node in Python (``cases/wasm_node.py``): the
#: ``upper`` node's batch sizes, what each kind needs, and the fraction of
#: ``Size.wasm_packets`` it sends (the guests in JavaScript and Python spend tens of
#: microseconds per packet in their language runtimes: fewer packets measure them as well).
WASM_BATCH_SIZES = (1, 64, 1024)
WASM_KINDS = {
    "native": ("cases.wasm_node:native", ("pureflow.engine",)),
    "wasm": ("cases.wasm_node:wasm", ("pureflow.engine", "pureflow.wasm")),
    "js": ("cases.wasm_node:js", ("pureflow.engine", "pureflow.wasm")),
    "python": ("cases.wasm_node:python", ("pureflow.engine", "pureflow.wasm")),
}
WASM_GUEST_KINDS = ("wasm", "js", "python")
WASM_PACKET_SHARE = {"native": 1.0, "wasm": 1.0, "js": 0.5, "python": 0.5}
#: The overhead targets of the WAT guest's rows: seconds per packet over native, by batch.
WASM_OVERHEAD_TARGETS = {1: 50e-6, 64: 10e-6, 1024: 5e-6}

#: A rule node against a hand-written ``if`` chain (``cases/rule_node.py``): the rule
#: counts, what each kind runs and needs, and packets per measurement by size.
RULE_COUNTS = (10, 100)
RULES_KINDS = {
    "if-chain": ("cases.rule_node:if_chain", ("pureflow.engine",)),
    "rule-node": ("cases.rule_node:rule_node", ("pureflow.engine", "pureflow.rules")),
}
RULES_PACKETS = {SIZES["tiny"]: 500, SIZES["small"]: 10_000, SIZES["full"]: 50_000}

#: Libraries whose versions go into the machine details.
VERSIONED = (
    "bytewax",
    "streamz",
    "pypeln",
    "aiostream",
    "apache-beam",
    "pureflow-core",
    "pureflow-engine",
    "pureflow-wasm",
    "wasmtime",
)


@dataclass(frozen=True, slots=True)
class Row:
    """One throughput row: a case at one payload size and one capacity."""

    case: Case
    payload: int
    capacity: int

    @property
    def id(self) -> str:
        parts = ["throughput", self.case.system, self.case.shape, self.case.work, self.case.api]
        if self.case.metadata != "-":
            parts.append(f"metadata-{self.case.metadata}")
        if self.case.bounded:
            parts.append(f"cap{self.capacity}")
        parts.append(f"{self.payload}B")
        return "/".join(parts)

    @property
    def reference_key(self) -> tuple[str, int, str]:
        """Shape, payload and work: what the reference row shares with this row."""
        return (self.case.shape, self.payload, self.case.work)

    @property
    def is_reference(self) -> bool:
        return (
            self.case.system == ASYNCIO
            and self.case.api == "item"
            and self.capacity == REFERENCE_CAPACITY
        )


def throughput_rows() -> list[Row]:
    return [
        Row(case, payload, capacity)
        for case in THROUGHPUT_CASES
        for payload in PAYLOADS
        for capacity in case.capacities
    ]
