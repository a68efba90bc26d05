"""The python-api example runs and prints what its README shows."""

from __future__ import annotations

import subprocess
import sys

from integration_support import REPO


def test_word_count_example_output() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "python-api" / "word_count.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    readme = (REPO / "examples" / "python-api" / "README.md").read_text()
    expected = readme.split("word_count.py\n", 1)[1].split("```", 1)[0]
    assert result.stdout == expected
