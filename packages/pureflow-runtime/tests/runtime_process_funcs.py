"""Module-level functions for the worker-process tests (they must pickle by name)."""

from __future__ import annotations

import os


def square(value: int) -> int:
    """A CPU-bound stand-in: the square of an integer (control payloads)."""
    return value * value


def shout(value: bytes) -> bytes:
    """Upper-case a byte payload."""
    return value.upper() + b"!"


def worker_pid(value: object) -> int:
    """The id of the process that ran the call (proves the work left this process)."""
    del value
    return os.getpid()


def reject_negative(value: int) -> int:
    """Fails in the worker for negative input."""
    if value < 0:
        raise ValueError(f"negative input {value}")
    return value
