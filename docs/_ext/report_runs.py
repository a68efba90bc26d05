"""Three runs for the run report: completed, failed and deadlocked.

    python docs/_ext/report_runs.py [--out docs/images/report]

:func:`make_runs` writes three workflow documents into a folder, runs each with the
``pureflow`` CLI of this Python and makes its report three ways: ``completed`` with
``pureflow report`` (no timestamps: the record-number axis), ``failed`` with
``--timestamps`` then ``pureflow report`` (a time axis from the records), ``deadlocked``
with ``pureflow run --report`` (a live report). The browser tests
(``tests-integration/test_report_browser.py``) use the same runs. Run as a script, it
also takes a headless Chromium screenshot of each report into ``--out``: the pictures of
the documentation's report page were made by exactly that command.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def _node(
    node_id: str, inputs: list[str], outputs: list[str], component: str, **config: object
) -> dict[str, object]:
    node: dict[str, object] = {
        "id": node_id,
        "inputs": inputs,
        "outputs": outputs,
        "component": component,
    }
    if config:
        node["config"] = config
    return node


def _edge(source: str, target: str, capacity: int) -> dict[str, object]:
    (sn, sp), (tn, tp) = source.split("."), target.split(".")
    return {
        "source": {"node": sn, "port": sp},
        "target": {"node": tn, "port": tp},
        "capacity": capacity,
    }


WORKFLOWS: dict[str, dict[str, object]] = {
    # numbers -> negate -> nonzero -> count: the filter drops the one zero; count's result
    # goes nowhere (an output without edges: one dropped packet).
    "completed": {
        "pureflow_version": "1",
        "id": "numbers",
        "nodes": [
            _node("numbers", [], ["out"], "builtin:sequence", stop=3000),
            _node("negate", ["in"], ["out"], "builtin:map", function="operator:neg"),
            _node("nonzero", ["in"], ["out"], "builtin:filter", function="builtins:bool"),
            _node("count", ["in"], ["out"], "builtin:count"),
        ],
        "edges": [
            _edge("numbers.out", "negate.in", 64),
            _edge("negate.out", "nonzero.in", 4),
            _edge("nonzero.out", "count.in", 16),
        ],
    },
    # `parse` cannot read "row 0" as an integer: it fails, and the others are cancelled.
    "failed": {
        "pureflow_version": "1",
        "id": "parse-rows",
        "nodes": [
            _node("rows", [], ["out"], "builtin:sequence", stop=500, format="row {}"),
            _node("upper", ["in"], ["out"], "builtin:map", function="builtins:str.upper"),
            _node("parse", ["in"], ["out"], "builtin:map", function="builtins:int"),
            _node("count", ["in"], ["out"], "builtin:count"),
        ],
        "edges": [
            _edge("rows.out", "upper.in", 8),
            _edge("upper.out", "parse.in", 8),
            _edge("parse.out", "count.in", 8),
        ],
    },
    # A loop over one-packet edges: `ping` and `pong` each wait to send to the other.
    "deadlocked": {
        "pureflow_version": "1",
        "id": "ping-pong",
        "cycles": "allow",
        "nodes": [
            _node("serve", [], ["out"], "builtin:sequence", stop=100),
            _node("ping", ["serve", "back"], ["out"], "builtin:merge"),
            _node("pong", ["in"], ["out"], "builtin:map", function="builtins:abs"),
        ],
        "edges": [
            _edge("serve.out", "ping.serve", 1),
            _edge("ping.out", "pong.in", 1),
            _edge("pong.out", "ping.back", 1),
        ],
    },
}


def pureflow(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pureflow.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def make_runs(folder: Path) -> dict[str, Path]:
    """Run the three workflows in ``folder``; the report of each, by name."""
    folder.mkdir(parents=True, exist_ok=True)
    reports = {}
    for name, document in WORKFLOWS.items():
        workflow = folder / f"{name}.workflow.json"
        workflow.write_text(json.dumps(document, indent=2), encoding="utf-8")
        metadata = folder / f"{name}.metadata.jsonl"
        report = folder / f"{name}.html"
        if name == "completed":
            run = pureflow("run", "-q", workflow, metadata, cwd=folder)
            made = pureflow("report", metadata, "--workflow", workflow, "-o", report, cwd=folder)
        elif name == "failed":
            run = pureflow("run", "-q", "--timestamps", workflow, metadata, cwd=folder)
            made = pureflow("report", metadata, "--workflow", workflow, "-o", report, cwd=folder)
        else:
            run = made = pureflow(
                "run", "-q", "--watchdog", "0.5", "--report", report, workflow, metadata, cwd=folder
            )
        expected = {"completed": 0, "failed": 3, "deadlocked": 3}[name]
        if run.returncode != expected or made.returncode not in (0, expected):
            raise RuntimeError(f"{name}: {run.stdout}{run.stderr}{made.stdout}{made.stderr}")
        reports[name] = report
    return reports


def screenshot(chromium: str, page: Path, picture: Path, profile: Path) -> None:
    """A 1280-pixel-wide screenshot of ``page`` once its scripts have run."""
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--window-size=1280,2200",
            "--hide-scrollbars",
            "--virtual-time-budget=10000",
            f"--screenshot={picture}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "images" / "report")
    options = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("needs Chromium (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory() as temp:
        reports = make_runs(Path(temp) / "runs")
        options.out.mkdir(parents=True, exist_ok=True)
        for name, report in reports.items():
            screenshot(
                chromium, report, options.out / f"{name}.png", Path(temp) / f"profile-{name}"
            )
            sys.stdout.write(f"{options.out / name}.png\n")


if __name__ == "__main__":
    main()
