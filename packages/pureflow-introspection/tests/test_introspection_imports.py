"""pureflow.introspection must import without the runtime, WebAssembly or CLI stacks."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("anyio", "click", "wasmtime", "trio", "pydantic")


def test_import_pulls_in_no_runtime_packages() -> None:
    code = (
        "import json, sys\n"
        "import pureflow.introspection\n"
        f"print(json.dumps(sorted(m for m in {FORBIDDEN!r} "
        "if any(k == m or k.startswith(m + '.') for k in sys.modules))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout) == []


def test_import_time_trace_shows_no_runtime_packages() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import pureflow.introspection"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "pureflow.introspection" in imported
    for name in FORBIDDEN:
        assert not any(m == name or m.startswith(name + ".") for m in imported), name
