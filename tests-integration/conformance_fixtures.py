"""Where the conformance fixtures are (``tests-integration/conformance``, see its README).

Importable from every test (``pythonpath`` in the root ``pyproject.toml`` holds this folder).
"""

from __future__ import annotations

from pathlib import Path

CONFORMANCE_ROOT = Path(__file__).resolve().parent / "conformance"
UPSTREAM_EXAMPLES = CONFORMANCE_ROOT / "upstream-examples"
"""The original's example documents and the uppercase guest's test data."""
CLI_SNAPSHOTS = CONFORMANCE_ROOT / "cli-snapshots"
"""The original CLI's two-node run: workflow, metadata JSONL and ``run --json`` summary."""
WASM_FIXTURES = CONFORMANCE_ROOT / "wasm"
"""Hand-written WAT components of the batch world."""
