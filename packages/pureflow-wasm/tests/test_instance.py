"""Instance reuse: state survives between calls on one instance, and never past a failure.

The counter guest (``guests/counter.wat``) keeps a global counter, incremented once per
call, and writes it into the first byte of every bytes payload; a payload starting with
``t`` traps, ``s`` spins forever, ``g`` grows memory until the limit, ``w`` busy-waits and
then answers. A fresh instance answers 1.
"""

from __future__ import annotations

import threading
from types import ModuleType

import pytest
from pureflow.wasm import (
    WasmCancelledError,
    WasmComponent,
    WasmDeadlineError,
    WasmFuelError,
    WasmGuestError,
    WasmLimits,
    WasmMemoryError,
    WasmTrapError,
)
from pureflow.wasm.abi import RowBatch
from pureflow.wasm.instance import BudgetExceeded, GuestInstance


@pytest.fixture(scope="module")
def counter(guests: ModuleType) -> WasmComponent:
    return WasmComponent.load(guests.guest_wasm("counter"), cache=False, name="counter")


def rows(*payloads: bytes) -> list[RowBatch]:
    return [
        (
            "in",
            [
                (f"m-{i}", "flow", "run-1", 1, ("source", "out"), ("counter", "in"), payload)
                for i, payload in enumerate(payloads)
            ],
        )
    ]


def count(component: WasmComponent, instance: GuestInstance, payload: bytes = b"c") -> int:
    ((port, (row,)),) = component.invoke_rows(rows(payload), instance).value
    assert port == "out"
    data = row[6]
    assert isinstance(data, bytes)
    return data[0]


def test_state_survives_between_calls_on_one_instance(counter: WasmComponent) -> None:
    with counter.new_instance() as instance:
        assert [count(counter, instance) for _ in range(3)] == [1, 2, 3]
        assert instance.calls == 3
        assert not instance.broken
    with counter.new_instance() as fresh:
        assert count(counter, fresh) == 1


def test_invoke_is_a_fresh_instance_every_time(counter: WasmComponent) -> None:
    from pureflow.wasm.abi import port_batches_from_rows

    batches = port_batches_from_rows(rows(b"c"))
    assert [counter.invoke(batches)[0].packets[0].payload.data for _ in range(2)] == [  # type: ignore[union-attr]
        b"\x01",
        b"\x01",
    ]


@pytest.mark.parametrize(
    ("payload", "limits", "error"),
    [
        (b"t", WasmLimits(), WasmTrapError),
        (b"s", WasmLimits(fuel=2_000_000), WasmFuelError),
        (b"g", WasmLimits(memory_limit_bytes=4 * 1024 * 1024), WasmMemoryError),
        (b"s", WasmLimits(deadline=0.05, epoch_tick=0.005), WasmDeadlineError),
    ],
    ids=["trap", "fuel", "memory", "deadline"],
)
def test_a_failure_closes_the_instance_and_the_next_one_starts_fresh(
    counter: WasmComponent, payload: bytes, limits: WasmLimits, error: type[Exception]
) -> None:
    component = counter.with_limits(limits)
    instance = component.new_instance()
    assert count(component, instance) == 1
    assert count(component, instance) == 2
    with pytest.raises(error):
        count(component, instance, payload)
    assert instance.broken
    with pytest.raises(RuntimeError, match="is closed"):
        count(component, instance)
    # What the caller does next: a new instance, which has none of the old state.
    with component.new_instance() as fresh:
        assert count(component, fresh) == 1


def test_cancellation_closes_the_instance(counter: WasmComponent) -> None:
    stop = threading.Event()
    instance = counter.with_limits(WasmLimits(epoch_tick=0.002)).new_instance()
    assert count(counter, instance) == 1
    result: list[BaseException] = []

    def spin() -> None:
        try:
            counter.invoke_rows(rows(b"s"), instance, stop)
        except BaseException as err:
            result.append(err)

    worker = threading.Thread(target=spin)
    worker.start()
    stop.set()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert isinstance(result[0], WasmCancelledError)
    assert instance.broken


def test_a_fuel_budget_stops_a_call_and_closes_the_instance(counter: WasmComponent) -> None:
    instance = counter.new_instance()
    assert count(counter, instance) == 1
    # Below the limit, the budget is enough for a quick call...
    done = counter.invoke_rows(rows(b"c"), instance, fuel_budget=1_000_000)
    assert done.fuel_consumed < 1_000_000
    # ...and stops a long one with BudgetExceeded, not a fuel error.
    with pytest.raises(BudgetExceeded):
        counter.invoke_rows(rows(b"w"), instance, fuel_budget=1_000_000)
    assert instance.broken
    # A budget at or above the limit is just the limit.
    small = counter.with_limits(WasmLimits(fuel=1_000_000))
    with small.new_instance() as other, pytest.raises(WasmFuelError):
        small.invoke_rows(rows(b"w"), other, fuel_budget=5_000_000)


def test_a_guest_error_keeps_the_instance(guests: ModuleType) -> None:
    failing = WasmComponent.load(guests.guest_wasm("failing"), cache=False)
    instance = failing.new_instance()
    for _ in range(2):
        with pytest.raises(WasmGuestError):
            failing.invoke_rows(rows(b"c"), instance)
    assert not instance.broken
    assert instance.calls == 2


def test_fuel_is_reset_per_call_and_counted(counter: WasmComponent) -> None:
    with counter.new_instance() as probe:
        one = counter.invoke_rows(rows(b"c"), probe).fuel_consumed
    component = counter.with_limits(WasmLimits(fuel=one * 3 // 2))
    instance = component.new_instance()
    used = [component.invoke_rows(rows(b"c"), instance).fuel_consumed for _ in range(5)]
    # Five calls use more than one call's limit in total: each call had the full amount.
    assert used == [one] * 5
    assert sum(used) > component.limits.fuel
    assert instance.fuel_consumed == sum(used)


def test_memory_is_freed_between_calls_by_post_return(counter: WasmComponent) -> None:
    """A reused instance does not grow: the guests' allocator resets in post-return."""
    component = counter.with_limits(WasmLimits(memory_limit_bytes=128 * 1024))
    instance = component.new_instance()
    many = rows(*[b"c" * 16 for _ in range(64)])
    for _ in range(300):  # about 20 KiB per call: 6 MiB without the reset
        component.invoke_rows(many, instance)
    assert not instance.broken
