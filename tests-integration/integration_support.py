"""Helpers for the full-stack tests: repository paths, and running the real CLI."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from conformance_fixtures import UPSTREAM_EXAMPLES


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str


def pureflow(*args: str | Path, stdin: bytes | None = None, cwd: Path | None = None) -> Result:
    """Run ``pureflow ARGS`` with this interpreter and capture its output."""
    completed = subprocess.run(
        [sys.executable, "-m", "pureflow.cli", *map(str, args)],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    return Result(
        completed.returncode,
        completed.stdout.decode("utf-8"),
        completed.stderr.decode("utf-8"),
    )


REPO = Path(__file__).resolve().parents[1]
CONFORMANCE = UPSTREAM_EXAMPLES
