"""``pureflow report`` and ``pureflow run --report/--otel`` from the command line."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pureflow.cli import cli

WORKFLOW = (
    '{"pureflow_version": "1", "id": "flow", "nodes": ['
    '{"id": "source", "inputs": [], "outputs": ["out"]}, '
    '{"id": "sink", "inputs": ["in"], "outputs": []}],'
    ' "edges": [{"source": {"node": "source", "port": "out"}, '
    '"target": {"node": "sink", "port": "in"}, "capacity": 8}]}'
)


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args], prog_name="pureflow")
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def ran(tmp_path: Path) -> Path:
    (tmp_path / "flow.workflow.json").write_text(WORKFLOW)
    code, _, err = invoke("run", "-q", tmp_path / "flow.workflow.json", tmp_path / "m.jsonl")
    assert code == 0, err
    return tmp_path


def svg_of(page: str) -> str:
    match = re.search(r'<section id="graph">.*?</section>', page, re.DOTALL)
    assert match
    return match.group(0)


def test_report_with_the_workflow(ran: Path) -> None:
    code, out, _ = invoke(
        "report", ran / "m.jsonl", "--workflow", ran / "flow.workflow.json", "-o", ran / "r.html"
    )
    assert code == 0
    assert out == f"wrote `{ran / 'r.html'}`: 15 records, status completed\n"
    page = (ran / "r.html").read_text()
    graph = svg_of(page)
    assert "<svg" in graph
    assert "1 moved, peak 1" in graph
    assert "#c8e6c9" in graph  # completed nodes' fill
    assert 'id="timeline"' in page
    assert 'id="depth"' in page


def test_report_rebuilds_the_graph_and_names_its_file_after_the_metadata(ran: Path) -> None:
    code, _, _ = invoke("report", ran / "m.jsonl")
    assert code == 0
    graph = svg_of((ran / "m.html").read_text())
    assert "Drawn from the records" in graph
    assert ">source<" in graph
    assert ">sink<" in graph


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.jsonl", "error: failed to read `{dir}/missing.jsonl`: No such file or directory"),
        ("empty.jsonl", "error: `{dir}/empty.jsonl` is empty"),
    ],
)
def test_bad_metadata_is_one_line(tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / "empty.jsonl").write_text("")
    code, _, err = invoke("report", tmp_path / name, "-o", tmp_path / "r.html")
    assert code == 1
    assert err == message.format(dir=tmp_path) + "\n"
    assert not (tmp_path / "r.html").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are POSIX")
@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "pipe.jsonl",
            "error: failed to read `{dir}/pipe.jsonl`: not a regular file but a named pipe "
            "(FIFO) (only regular files are read)",
        ),
        ("folder", "error: failed to read `{dir}/folder`: Is a directory"),
    ],
)
def test_metadata_that_is_not_a_regular_file_is_one_line(
    tmp_path: Path, name: str, message: str
) -> None:
    os.mkfifo(tmp_path / "pipe.jsonl")  # no writer: reading it would block forever
    (tmp_path / "folder").mkdir()
    code, _, err = invoke("report", tmp_path / name, "-o", tmp_path / "r.html")
    assert code == 1
    assert err == message.format(dir=tmp_path) + "\n"


def test_a_last_line_cut_short_is_a_warning(ran: Path) -> None:
    metadata = ran / "m.jsonl"
    lines = metadata.read_text().splitlines(keepends=True)
    metadata.write_text("".join(lines[:-1]) + lines[-1][:20])  # killed while writing
    code, out, err = invoke("report", metadata, "-o", ran / "r.html")
    assert code == 0
    assert out == f"wrote `{ran / 'r.html'}`: 14 records, status incomplete\n"
    assert err == (
        f"warning: the last line of `{metadata}` was cut short (the run stopped while "
        "writing it) and was skipped\n"
    )
    assert "The last line was cut short" in (ran / "r.html").read_text()


def test_run_report_writes_a_live_report(tmp_path: Path) -> None:
    (tmp_path / "flow.workflow.json").write_text(WORKFLOW)
    code, out, err = invoke(
        "run", "-q", tmp_path / "flow.workflow.json", "--report", tmp_path / "out" / "run.html"
    )
    assert code == 0, err
    assert "metadata: none" in out
    page = (tmp_path / "out" / "run.html").read_text()
    assert "seconds since the first record" in page  # a live report is timed
    assert "1 moved, peak 1" in svg_of(page)


def test_run_otel_with_an_unknown_exporter_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "flow.workflow.json").write_text(WORKFLOW)
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "nonesuch")
    code, _, err = invoke("run", "--otel", tmp_path / "flow.workflow.json")
    assert code == 1
    assert (
        err
        == "error: --otel: OTEL_TRACES_EXPORTER names exporter `nonesuch`, which is not installed\n"
    )


def test_run_otel_exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "flow.workflow.json").write_text(WORKFLOW)
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "none")
    code, out, err = invoke("run", "--otel", tmp_path / "flow.workflow.json", tmp_path / "m.jsonl")
    assert code == 0, err
    assert "records: 15" in out  # the file is complete beside the OpenTelemetry sink
