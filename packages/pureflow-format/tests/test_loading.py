"""Files, standard input, extensions and read errors (spec-5 §1.2, §2)."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from pureflow.format import (
    UnsupportedExtension,
    WorkflowDocumentError,
    WorkflowFileError,
    format_for_path,
    load_raw,
    load_workflow,
    read_document_text,
)
from pureflow_format_testdata import BASE_TOML, BASE_YAML, JSON, TOML, YAML, jdoc, set_at


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("flow.json", JSON),
        ("flow.JSON", JSON),
        ("flow", JSON),
        ("flow.yaml", YAML),
        ("flow.YML", YAML),
        ("flow.yml", YAML),
        ("flow.Yaml", YAML),
        ("flow.toml", TOML),
        ("flow.TOML", TOML),
        ("dir.d/flow", JSON),
        ("-", JSON),
    ],
)
def test_format_by_extension_is_case_insensitive(name: str, fmt) -> None:
    assert format_for_path(name) is fmt
    assert format_for_path(Path(name)) is fmt


def test_unsupported_extension() -> None:
    with pytest.raises(UnsupportedExtension) as caught:
        format_for_path("flow.xml")
    assert str(caught.value) == (
        "unsupported workflow file extension `.xml`; supported: .json, .toml, .yaml, .yml"
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("flow.json", jdoc()),
        ("FLOW.JSON", jdoc()),
        ("flow", jdoc()),
        ("flow.yaml", BASE_YAML),
        ("flow.yml", BASE_YAML),
        ("flow.toml", BASE_TOML),
        ("Flow.Toml", BASE_TOML),
    ],
)
def test_load_workflow_from_files(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    workflow = load_workflow(path)
    assert workflow.id == "flow"
    assert load_workflow(str(path)) == workflow


def test_explicit_format_overrides_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "flow.txt"
    path.write_text(BASE_YAML, encoding="utf-8")
    assert load_workflow(path, format=YAML).id == "flow"
    with pytest.raises(UnsupportedExtension):
        load_workflow(path)


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_stdin_is_json_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, jdoc().encode())
    assert load_workflow("-").id == "flow"


def test_stdin_with_an_explicit_format(monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, BASE_YAML.encode())
    assert load_workflow("-", format=YAML).id == "flow"


def test_stdin_errors_name_the_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, jdoc(set_at(("id",), "a b")).encode())
    with pytest.raises(WorkflowDocumentError) as caught:
        load_workflow("-")
    assert caught.value.render().splitlines()[1].startswith("  -:")


def test_missing_file() -> None:
    with pytest.raises(WorkflowFileError) as caught:
        load_workflow("no/such/flow.json")
    assert str(caught.value) == (
        "failed to read `no/such/flow.json`: No such file or directory (os error 2)"
    )


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "flow.json"
    folder.mkdir()
    with pytest.raises(WorkflowFileError) as caught:
        load_workflow(folder)
    assert str(caught.value) == f"failed to read `{folder}`: Is a directory (os error 21)"


def test_path_below_a_file(tmp_path: Path) -> None:
    parent = tmp_path / "file"
    parent.write_text("x", encoding="utf-8")
    with pytest.raises(WorkflowFileError) as caught:
        read_document_text(parent / "flow.json")
    assert str(caught.value).endswith("Not a directory (os error 20)")


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "flow.json"
    path.write_text(jdoc(), encoding="utf-8")
    real_open = os.open

    def deny(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    # (as root, file modes deny nothing: the open itself is made to fail)
    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(WorkflowFileError) as caught:
        load_workflow(path)
    assert str(caught.value) == f"failed to read `{path}`: Permission denied (os error 13)"


def test_invalid_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "flow.json"
    path.write_bytes(b'{"id": "\xff\xfe"}')
    with pytest.raises(WorkflowFileError) as caught:
        load_workflow(path)
    assert str(caught.value) == f"failed to read `{path}`: stream did not contain valid UTF-8"


def test_read_document_text_skips_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(b"\xef\xbb\xbf{}")
    assert read_document_text(path) == "{}"


def test_document_errors_remember_their_source(tmp_path: Path) -> None:
    path = tmp_path / "flow.json"
    path.write_text(jdoc(set_at(("id",), "a b")), encoding="utf-8")
    with pytest.raises(WorkflowDocumentError) as caught:
        load_workflow(path)
    assert caught.value.source == str(path)
    assert caught.value.render().splitlines()[1].startswith(f"  {path}:3:")
    path.write_text("{", encoding="utf-8")
    with pytest.raises(WorkflowDocumentError) as caught:
        load_raw(path)
    assert caught.value.source == str(path)
