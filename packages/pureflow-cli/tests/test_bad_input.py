"""Bad input never shows a traceback: one clear `error:` line and exit code 1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from pureflow.cli import cli

VALID = (
    '{"pureflow_version": "1", "id": "flow", "nodes": ['
    '{"id": "a", "inputs": [], "outputs": ["o"]}, {"id": "b", "inputs": ["i"], "outputs": []}],'
    ' "edges": [{"source": {"node": "a", "port": "o"}, "target": {"node": "b", "port": "i"}}]}'
)


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def assert_clean_failure(code: int, stdout: str, stderr: str, first_line_start: str) -> None:
    assert code == 1
    assert stdout == ""
    assert "Traceback" not in stderr
    assert stderr.splitlines()[0].startswith(f"error: {first_line_start}"), stderr


@pytest.mark.parametrize(
    ("name", "content", "start"),
    [
        ("bad.json", "{not-json", "failed to decode workflow JSON: "),
        ("bad.toml", "not = ", "failed to decode workflow TOML: "),
        ("bad.yaml", "id: [", "failed to decode workflow YAML: "),
        ("extra.json", VALID[:-1] + ', "extra": true}', "failed to decode workflow JSON: "),
        ("float.json", VALID.replace('"i"}}', '"i"}, "capacity": 4.0}'), "failed to decode"),
        ("bool.json", VALID.replace('"i"}}', '"i"}, "capacity": true}'), "failed to decode"),
        ("list.json", "[1, 2, 3]", "failed to decode workflow JSON: "),
        ("version.json", VALID.replace('"1"', '"2"', 1), "workflow JSON is invalid: "),
        ("garbage.json", os.urandom(4096) + b"\xff\xfe", "failed to read"),
        ("deep.json", "[" * 100_000 + "]" * 100_000, "failed to decode workflow JSON: "),
        ("deep.yaml", "a: " + "[" * 50_000 + "]" * 50_000, "failed to decode workflow YAML: "),
        ("deep.toml", "a = " + "[" * 50_000 + "]" * 50_000, "failed to decode workflow TOML: "),
    ],
)
def test_malformed_documents(tmp_path: Path, name: str, content: str | bytes, start: str) -> None:
    path = write(tmp_path, name, content)
    for command in ("validate", "inspect", "explain"):
        code, out, err = run(command, path)
        if command == "explain" and start.startswith("workflow JSON is invalid: "):
            start = ""
        assert_clean_failure(code, out, err, start)


def test_ten_megabyte_identifier(tmp_path: Path) -> None:
    path = write(tmp_path, "huge.json", VALID.replace('"flow"', '"' + "x" * 10_000_000 + '"'))
    code, out, err = run("validate", path)
    assert_clean_failure(code, out, err, "workflow JSON is invalid: workflow id is invalid")
    assert len(err) < 10_000


def test_huge_document_is_handled(tmp_path: Path) -> None:
    nodes = ",".join(f'{{"id": "n{i}", "inputs": [], "outputs": []}}' for i in range(50_000))
    path = write(
        tmp_path,
        "big.json",
        f'{{"pureflow_version": "1", "id": "big", "nodes": [{nodes}], "edges": []}}',
    )
    code, out, _ = run("validate", path)
    assert code == 0
    assert out == "valid workflow `big`\nnodes: 50000\nedges: 0\n"


def test_missing_file_directory_and_unreadable_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run("validate", str(tmp_path / "missing.json"))
    assert_clean_failure(code, out, err, f"failed to read `{tmp_path / 'missing.json'}`: ")
    code, out, err = run("validate", str(tmp_path))
    assert_clean_failure(code, out, err, f"failed to read `{tmp_path}`: ")

    path = write(tmp_path, "locked.json", VALID)
    real_open = os.open

    def deny(file: object, *args: object, **kwargs: object) -> object:
        if str(file) == path:
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)  # type: ignore[arg-type]

    # (as root, file modes deny nothing: the open itself is made to fail)
    monkeypatch.setattr(os, "open", deny)
    code, out, err = run("validate", path)
    assert_clean_failure(code, out, err, f"failed to read `{path}`: ")
    assert "Permission denied" in err


def test_unsupported_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "flow.xml", VALID)
    code, out, err = run("validate", path)
    assert_clean_failure(
        code,
        out,
        err,
        "unsupported workflow file extension `.xml`; supported: .json, .toml, .yaml, .yml",
    )


def test_every_problem_is_listed_after_the_first_line(tmp_path: Path) -> None:
    doc = VALID.replace('"id": "a"', '"id": "bad a"').replace('"port": "i"', '"port": "nope"')
    code, _, err = run("validate", write(tmp_path, "many.json", doc))
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == (
        "error: workflow JSON is invalid: node 0 id is invalid: node id must not contain whitespace"
    )
    assert len(lines) >= 3
    assert any("/nodes/0/id" in line for line in lines[1:])
