"""Fairness: how often a port operation that need not wait still yields to the scheduler.

A port operation that need not wait completes without suspending (that is what makes
ports cheap), so a node that never has to wait could keep the event loop to itself. A
:class:`YieldBudget` counts the operations completed without yielding; once
:data:`CHECKPOINT_INTERVAL` have, the next one yields first. The count restarts whenever
an operation suspends (a task that suspended let the others run), so a balanced pipeline
rarely pays for a checkpoint.

A budget is state of a run: every port of a run shares one (the edges are wired with
it), which is what keeps the run's nodes fair to each other. Ports built by hand, outside
a run, share the budget of their thread (:meth:`YieldBudget.for_thread`).
"""

from __future__ import annotations

import threading
from typing import Final

CHECKPOINT_INTERVAL: Final = 128
"""Port operations that may complete in a row without yielding to the scheduler."""


class YieldBudget:
    """How many port operations of a run completed since the last yield (``spent``).

    Ports add one per operation that did not wait and reset it to 0 when they yield or
    suspend; an operation that finds ``spent >= CHECKPOINT_INTERVAL`` yields first.
    """

    __slots__ = ("spent",)

    _local: Final = threading.local()

    def __init__(self) -> None:
        self.spent = 0

    @classmethod
    def for_thread(cls) -> YieldBudget:
        """The budget ports built outside a run share on this thread."""
        budget: YieldBudget | None = getattr(cls._local, "budget", None)
        if budget is None:
            budget = cls._local.budget = cls()
        return budget

    @property
    def exhausted(self) -> bool:
        return self.spent >= CHECKPOINT_INTERVAL

    def __repr__(self) -> str:
        return f"YieldBudget(spent={self.spent})"
