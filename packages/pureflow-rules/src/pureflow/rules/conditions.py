"""Rule conditions: a small closed vocabulary of tests on a packet and its context.

There is deliberately no script or expression variant. The variants, by surface:

* payload: :class:`FieldEq`, :class:`FieldNeq`, :class:`FieldGt`, :class:`FieldLt`,
  :class:`FieldGte`, :class:`FieldLte`, :class:`FieldIn`, :class:`FieldExists`,
  :class:`FieldAbsent`, :class:`FieldMatches`;
* tag: :class:`TagEq`, :class:`TagExists`, :class:`TagAbsent`;
* provenance: :class:`SourceNode`, :class:`ArrivedOnPort`, :class:`HopCountGt`,
  :class:`HopCountLte`;
* execution context: :class:`WorkflowIs`, :class:`ExecutionMetadataEq`;
* combinator: :class:`And`, :class:`Or`, :class:`Not`;
* constant: :class:`Always`, :class:`Never`.

Each class name is the variant's tag in the JSON form. :meth:`Condition.describe` renders
the trace grammar used in evaluation traces (``amount >= 10000``, ``tag:k == "v"``,
``(a AND b)``); :meth:`Condition.walk` visits the tree in pre-order.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar, Final

from pureflow.rules.glob import GlobPattern
from pureflow.rules.paths import FieldPath
from pureflow.rules.scalar import ScalarValue
from pureflow.types import NodeId, PortId, WorkflowId

U32_MAX: Final = 2**32 - 1


class ConditionSurface(enum.Enum):
    """What a condition looks at; the value is the metadata-record label."""

    PAYLOAD = "payload"
    TAG = "tag"
    PROVENANCE = "provenance"
    EXECUTION_CONTEXT = "execution_context"
    COMBINATOR = "combinator"
    CONSTANT = "constant"

    @property
    def label(self) -> str:
        return self.value


def check_u32(value: object, what: str) -> int:
    """Return ``value`` if it is an ``int`` (not ``bool``) in ``0..=2**32-1``."""
    if type(value) is not int:
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    if not 0 <= value <= U32_MAX:
        raise ValueError(f"{what} must be in 0..={U32_MAX}, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class Condition:
    """Base of every condition variant. Conditions are immutable, hashable values."""

    surface: ClassVar[ConditionSurface]

    @property
    def variant(self) -> str:
        """The variant's tag in the JSON form (its class name)."""
        return type(self).__name__

    def children(self) -> tuple[Condition, ...]:
        """Direct sub-conditions: those of ``And``/``Or`` in order, ``Not``'s inner one."""
        return ()

    def walk(self) -> Iterator[Condition]:
        """Every condition in the tree, pre-order, children left to right."""
        stack: list[Condition] = [self]
        while stack:
            condition = stack.pop()
            yield condition
            stack.extend(reversed(condition.children()))

    def describe(self) -> str:
        """The trace description (``p >= v``, ``(a AND b)``, ``NOT (a)``, ``always``...)."""
        raise NotImplementedError


# --- payload -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldComparison(Condition):
    """Base of the six ``Field*`` comparisons of a payload field with a scalar."""

    path: FieldPath
    value: ScalarValue
    surface: ClassVar[ConditionSurface] = ConditionSurface.PAYLOAD
    operator: ClassVar[str]

    def describe(self) -> str:
        return f"{self.path} {self.operator} {self.value}"


@dataclass(frozen=True, slots=True)
class FieldEq(FieldComparison):
    """The field is present and equal to ``value`` (exact JSON type rules, see evaluation)."""

    operator: ClassVar[str] = "=="


@dataclass(frozen=True, slots=True)
class FieldNeq(FieldComparison):
    """The field is present and not equal to ``value``; an absent field gives false."""

    operator: ClassVar[str] = "!="


@dataclass(frozen=True, slots=True)
class FieldGt(FieldComparison):
    """The field is a number greater than the numeric ``value`` (compared as doubles)."""

    operator: ClassVar[str] = ">"


@dataclass(frozen=True, slots=True)
class FieldLt(FieldComparison):
    """The field is a number less than the numeric ``value``."""

    operator: ClassVar[str] = "<"


@dataclass(frozen=True, slots=True)
class FieldGte(FieldComparison):
    """The field is a number greater than or equal to the numeric ``value``."""

    operator: ClassVar[str] = ">="


@dataclass(frozen=True, slots=True)
class FieldLte(FieldComparison):
    """The field is a number less than or equal to the numeric ``value``."""

    operator: ClassVar[str] = "<="


@dataclass(frozen=True, slots=True)
class FieldIn(Condition):
    """The field is present and equal to one of ``values`` (an empty list never matches)."""

    path: FieldPath
    values: tuple[ScalarValue, ...]
    surface: ClassVar[ConditionSurface] = ConditionSurface.PAYLOAD

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))

    def describe(self) -> str:
        return f"{self.path} in [{', '.join(str(v) for v in self.values)}]"


@dataclass(frozen=True, slots=True)
class FieldExists(Condition):
    """The path resolves, even to JSON null."""

    path: FieldPath
    surface: ClassVar[ConditionSurface] = ConditionSurface.PAYLOAD

    def describe(self) -> str:
        return f"{self.path} exists"


@dataclass(frozen=True, slots=True)
class FieldAbsent(Condition):
    """The path does not resolve, or resolves to JSON null."""

    path: FieldPath
    surface: ClassVar[ConditionSurface] = ConditionSurface.PAYLOAD

    def describe(self) -> str:
        return f"{self.path} absent"


@dataclass(frozen=True, slots=True)
class FieldMatches(Condition):
    """The field is a string matching ``pattern``."""

    path: FieldPath
    pattern: GlobPattern
    surface: ClassVar[ConditionSurface] = ConditionSurface.PAYLOAD

    def describe(self) -> str:
        return f"{self.path} matches {self.pattern}"


# --- tags --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TagEq(Condition):
    """The context carries tag ``key`` with a scalar equal to ``value`` (same kind)."""

    key: str
    value: ScalarValue
    surface: ClassVar[ConditionSurface] = ConditionSurface.TAG

    def describe(self) -> str:
        return f"tag:{self.key} == {self.value}"


@dataclass(frozen=True, slots=True)
class TagExists(Condition):
    """The context carries tag ``key``."""

    key: str
    surface: ClassVar[ConditionSurface] = ConditionSurface.TAG

    def describe(self) -> str:
        return f"tag:{self.key} exists"


@dataclass(frozen=True, slots=True)
class TagAbsent(Condition):
    """The context does not carry tag ``key``."""

    key: str
    surface: ClassVar[ConditionSurface] = ConditionSurface.TAG

    def describe(self) -> str:
        return f"tag:{self.key} absent"


# --- provenance --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceNode(Condition):
    """The packet came from node ``node_id`` (the context's source node)."""

    node_id: NodeId
    surface: ClassVar[ConditionSurface] = ConditionSurface.PROVENANCE

    def __init__(self, node_id: str) -> None:
        object.__setattr__(self, "node_id", NodeId(node_id))

    def describe(self) -> str:
        return f"source_node == {self.node_id}"


@dataclass(frozen=True, slots=True)
class ArrivedOnPort(Condition):
    """The packet arrived on input port ``port_id``."""

    port_id: PortId
    surface: ClassVar[ConditionSurface] = ConditionSurface.PROVENANCE

    def __init__(self, port_id: str) -> None:
        object.__setattr__(self, "port_id", PortId(port_id))

    def describe(self) -> str:
        return f"arrived_on == {self.port_id}"


@dataclass(frozen=True, slots=True)
class HopCountGt(Condition):
    """The packet's hop count is greater than ``n`` (``0..=2**32-1``)."""

    n: int
    surface: ClassVar[ConditionSurface] = ConditionSurface.PROVENANCE

    def __post_init__(self) -> None:
        check_u32(self.n, "hop count bound")

    def describe(self) -> str:
        return f"hop_count > {self.n}"


@dataclass(frozen=True, slots=True)
class HopCountLte(Condition):
    """The packet's hop count is at most ``n`` (``0..=2**32-1``)."""

    n: int
    surface: ClassVar[ConditionSurface] = ConditionSurface.PROVENANCE

    def __post_init__(self) -> None:
        check_u32(self.n, "hop count bound")

    def describe(self) -> str:
        return f"hop_count <= {self.n}"


# --- execution context -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkflowIs(Condition):
    """The evaluation runs inside workflow ``workflow_id``."""

    workflow_id: WorkflowId
    surface: ClassVar[ConditionSurface] = ConditionSurface.EXECUTION_CONTEXT

    def __init__(self, workflow_id: str) -> None:
        object.__setattr__(self, "workflow_id", WorkflowId(workflow_id))

    def describe(self) -> str:
        return f"workflow == {self.workflow_id}"


@dataclass(frozen=True, slots=True)
class ExecutionMetadataEq(Condition):
    """The execution metadata holds ``key`` with a scalar equal to ``value`` (same kind)."""

    key: str
    value: ScalarValue
    surface: ClassVar[ConditionSurface] = ConditionSurface.EXECUTION_CONTEXT

    def describe(self) -> str:
        return f"exec_meta:{self.key} == {self.value}"


# --- combinators -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class And(Condition):
    """Every sub-condition holds (short-circuit; an empty ``And`` is true)."""

    conditions: tuple[Condition, ...]
    surface: ClassVar[ConditionSurface] = ConditionSurface.COMBINATOR

    def __init__(self, conditions: Iterable[Condition]) -> None:
        object.__setattr__(self, "conditions", tuple(conditions))

    def children(self) -> tuple[Condition, ...]:
        return self.conditions

    def describe(self) -> str:
        return "(" + " AND ".join(c.describe() for c in self.conditions) + ")"


@dataclass(frozen=True, slots=True)
class Or(Condition):
    """Some sub-condition holds (short-circuit; an empty ``Or`` is false)."""

    conditions: tuple[Condition, ...]
    surface: ClassVar[ConditionSurface] = ConditionSurface.COMBINATOR

    def __init__(self, conditions: Iterable[Condition]) -> None:
        object.__setattr__(self, "conditions", tuple(conditions))

    def children(self) -> tuple[Condition, ...]:
        return self.conditions

    def describe(self) -> str:
        return "(" + " OR ".join(c.describe() for c in self.conditions) + ")"


@dataclass(frozen=True, slots=True)
class Not(Condition):
    """The inner condition does not hold."""

    condition: Condition
    surface: ClassVar[ConditionSurface] = ConditionSurface.COMBINATOR

    def children(self) -> tuple[Condition, ...]:
        return (self.condition,)

    def describe(self) -> str:
        return f"NOT ({self.condition.describe()})"


# --- constants ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Always(Condition):
    """Always holds."""

    surface: ClassVar[ConditionSurface] = ConditionSurface.CONSTANT

    def describe(self) -> str:
        return "always"


@dataclass(frozen=True, slots=True)
class Never(Condition):
    """Never holds."""

    surface: ClassVar[ConditionSurface] = ConditionSurface.CONSTANT

    def describe(self) -> str:
        return "never"


CONDITION_VARIANTS: Final[dict[str, type[Condition]]] = {
    cls.__name__: cls
    for cls in (
        FieldEq,
        FieldNeq,
        FieldGt,
        FieldLt,
        FieldGte,
        FieldLte,
        FieldIn,
        FieldExists,
        FieldAbsent,
        FieldMatches,
        TagEq,
        TagExists,
        TagAbsent,
        SourceNode,
        ArrivedOnPort,
        HopCountGt,
        HopCountLte,
        WorkflowIs,
        ExecutionMetadataEq,
        And,
        Or,
        Not,
        Always,
        Never,
    )
}
"""Every condition variant by its JSON tag."""
