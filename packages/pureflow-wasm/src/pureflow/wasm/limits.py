"""The resource limits applied to every guest invocation.

Each invocation gets a fresh wasmtime ``Store``; the limits are set on that store, so they
hold per invocation, not per component or per run:

- ``fuel``: wasmtime fuel units (roughly one per executed instruction). Running out traps
  the guest with ``WASM-FUEL-001``. ``0`` lets nothing run.
- ``memory_limit_bytes``: the most linear memory (all memories of the instance together)
  the store may hold. ``memory.grow`` past it returns ``-1`` inside the guest; a guest
  that cannot go on without the memory fails with ``WASM-MEMORY-001``.
- ``deadline``: wall-clock seconds for one invocation (instantiation and call), or
  ``None``. The guest is interrupted at the next epoch tick after it passes
  (``WASM-DEADLINE-001``).
- ``epoch_tick``: how often the shared epoch ticker wakes running guests to check their
  cancellation flag and deadline. Cancellation latency and deadline precision are both
  about one tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final

__all__ = [
    "DEFAULT_EPOCH_TICK",
    "DEFAULT_FUEL",
    "DEFAULT_MEMORY_LIMIT_BYTES",
    "WasmLimits",
]

DEFAULT_FUEL: Final = 100_000_000
"""Fuel per invocation, as in the original (``WasmtimeExecutionLimits::default``)."""
DEFAULT_MEMORY_LIMIT_BYTES: Final = 256 * 1024 * 1024
"""256 MiB of linear memory per store."""
DEFAULT_EPOCH_TICK: Final = 0.005
"""5 ms between epoch ticks while a guest runs."""
_MAX_FUEL: Final = 2**64 - 1


@dataclass(frozen=True, slots=True)
class WasmLimits:
    """Immutable per-invocation limits; see the module docstring for each field."""

    fuel: int = DEFAULT_FUEL
    memory_limit_bytes: int = DEFAULT_MEMORY_LIMIT_BYTES
    deadline: float | None = None
    epoch_tick: float = DEFAULT_EPOCH_TICK

    def __post_init__(self) -> None:
        if isinstance(self.fuel, bool) or not isinstance(self.fuel, int):
            raise TypeError("fuel must be an integer")
        if not 0 <= self.fuel <= _MAX_FUEL:
            raise ValueError(f"fuel must be between 0 and {_MAX_FUEL}")
        if isinstance(self.memory_limit_bytes, bool) or not isinstance(
            self.memory_limit_bytes, int
        ):
            raise TypeError("memory_limit_bytes must be an integer")
        if self.memory_limit_bytes < 0:
            raise ValueError("memory_limit_bytes must not be negative")
        if self.deadline is not None and not (math.isfinite(self.deadline) and self.deadline > 0):
            raise ValueError("deadline must be a positive number of seconds or None")
        if not (math.isfinite(self.epoch_tick) and self.epoch_tick > 0):
            raise ValueError("epoch_tick must be a positive number of seconds")

    def with_fuel(self, fuel: int) -> WasmLimits:
        """A copy with another fuel budget."""
        return replace(self, fuel=fuel)

    def with_memory_limit(self, memory_limit_bytes: int) -> WasmLimits:
        """A copy with another memory limit."""
        return replace(self, memory_limit_bytes=memory_limit_bytes)

    def with_deadline(self, deadline: float | None) -> WasmLimits:
        """A copy with another wall-clock deadline (seconds per invocation)."""
        return replace(self, deadline=deadline)
