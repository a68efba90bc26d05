"""A workflow naming a connector whose optional library is missing fails `pureflow
validate` and `run` before anything starts: an `error:` line per problem (the first one,
then each in the list) naming the node, the component and the `pip install` to run, and
no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

WORKFLOW = """{
  "pureflow_version": "1",
  "id": "copy",
  "nodes": [
    {"id": "read", "inputs": [], "outputs": ["out"], "component": "builtin:sql-read",
     "config": {"path": "shop.db", "query": "SELECT 1"}},
    {"id": "fetch", "inputs": ["in"], "outputs": ["out", "error"],
     "component": "builtin:http-request", "config": {"url": "http://127.0.0.1:9/x"}}
  ],
  "edges": [{"source": {"node": "read", "port": "out"}, "target": {"node": "fetch", "port": "in"}}]
}
"""


def _pureflow_without(
    modules: list[str], *args: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """`pureflow ARGS` in a child where importing ``modules`` is impossible (a ``None``
    entry in ``sys.modules`` is how Python marks a module as absent)."""
    hide = "; ".join(f"sys.modules[{name!r}] = None" for name in modules)
    code = (
        f"import runpy, sys; {hide}; sys.argv = ['pureflow', *{list(args)!r}]; "
        "runpy.run_module('pureflow.cli', run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_missing_extra_names_the_pip_install(tmp_path: Path, command: str) -> None:
    (tmp_path / "copy.json").write_text(WORKFLOW)
    done = _pureflow_without(["sqlalchemy", "httpx"], command, "copy.json", cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == (
        "error: node `read`: component `builtin:sql-read`: needs `sqlalchemy`, which is not "
        "installed: pip install 'pureflow-nodes[sql]' (at /nodes/0/component); "
        "and 1 more binding problem"
    )
    assert any(
        "binding.import_failed: node `fetch`: component `builtin:http-request`: needs `httpx`, "
        "which is not installed: pip install 'pureflow-nodes[http]'" in line
        for line in lines[1:]
    ), done.stderr
    assert not (tmp_path / "shop.db").exists()
