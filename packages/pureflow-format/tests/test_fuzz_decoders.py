"""Coverage-guided fuzzing of the three document front ends, for a bounded time each.

``fuzz/fuzz_decoders.py`` (atheris, libFuzzer for Python) mutates the seed corpus in
``fuzz/corpus/<format>/`` with the dictionary ``fuzz/document.dict``, and requires every
input to end in a value or in clean diagnostics with documented codes. It runs in a
subprocess (libFuzzer ends its process) for ``PUREFLOW_FUZZ_SECONDS`` seconds per
decoder (default 20), with a 10-second limit per input (a slower one is a hang) and a
2 GiB memory limit. A finding fails the test and prints the input and the traceback; the
input is saved under pytest's temporary folder (``crash-*``/``timeout-*``/``oom-*``), to
be replayed with ``python fuzz/fuzz_decoders.py FORMAT FILE``.

atheris ships wheels for Linux on x86-64 only (the test environment installs it there);
elsewhere these tests are skipped.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).parent / "fuzz"
SECONDS = int(os.environ.get("PUREFLOW_FUZZ_SECONDS", "20"))

pytestmark = [
    pytest.mark.skipif(
        not (sys.platform == "linux" and platform.machine() == "x86_64"),
        reason="atheris ships wheels for Linux on x86-64 only",
    ),
    pytest.mark.timeout(SECONDS + 120),
]


@pytest.mark.parametrize("format", ["json", "yaml", "toml"])
def test_every_input_ends_in_a_value_or_a_clean_diagnostic(tmp_path: Path, format: str) -> None:
    import atheris  # noqa: F401  (the test environment installs it here: missing is a failure)

    found = tmp_path / "found"  # new inputs go here; the seed corpus is only read
    found.mkdir()
    completed = subprocess.run(
        [
            sys.executable,
            str(FUZZ / "fuzz_decoders.py"),
            format,
            f"-max_total_time={SECONDS}",
            "-timeout=10",
            "-rss_limit_mb=2048",
            "-max_len=4096",
            f"-dict={FUZZ / 'document.dict'}",
            f"-artifact_prefix={tmp_path}/",
            "-print_final_stats=1",
            str(found),
            str(FUZZ / "corpus" / format),
        ],
        capture_output=True,
        text=True,
        timeout=SECONDS + 90,
        check=False,
    )
    log = completed.stderr
    findings = sorted(p.name for p in tmp_path.iterdir() if p.name != "found")
    assert not findings, f"fuzzing the {format} front end found {findings}:\n{log[-6000:]}"
    assert completed.returncode == 0, log[-6000:]
    done = re.search(r"^Done (\d+) runs in (\d+) second", log, re.MULTILINE)
    assert done is not None, log[-3000:]
    runs = int(done.group(1))
    assert runs > 1000, f"only {runs} inputs in {SECONDS} s:\n{log[-3000:]}"
    coverage = re.findall(r"cov: (\d+)", log)  # the last one: at the end of the run
    assert coverage, log[-3000:]
    assert int(coverage[-1]) > 100, log[-3000:]
    print(f"{format}: {runs} inputs in {done.group(2)} s, coverage {coverage[-1]} edges")
