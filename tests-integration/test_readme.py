"""The README's Python example runs as the README says: saved as a file, with `python`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from integration_support import REPO


def test_the_python_example_runs_as_a_script(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## From Python") :]
    (code,) = re.findall(r"```python\n(.*?)\n```", section.split("\n## ")[0], re.DOTALL)
    assert "run_sync" in code
    assert "Flow(" in code
    (tmp_path / "shout.py").write_text(code + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "shout.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["FLOW!", "BASED!", "PROGRAMMING!", "completed 6"]
    records = [
        json.loads(line)
        for line in (tmp_path / "shout.metadata.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert sum(r["kind"] == "enqueued" for r in records) == 6
    assert "It prints `FLOW!`, `BASED!`, `PROGRAMMING!` and `completed 6`" in readme
