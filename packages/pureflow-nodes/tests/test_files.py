"""The file components: lines, JSON Lines and CSV, read and written through the engine."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from nodes_flow_support import Flow
from pureflow.engine import TerminalState

pytestmark = pytest.mark.anyio


# --- lines -----------------------------------------------------------------------------------


async def test_read_lines_streams_each_line_without_its_ending(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_bytes(b"alpha\r\nbeta\n\n  \ngamma")
    flow = Flow().add("read", "builtin:read-lines", [], ["out"], {"path": "in.txt"})
    got = flow.capture("sink")
    await flow.connect("read.out", "sink.in", 2).run(tmp_path)
    assert got.values() == ["alpha", "beta", "", "  ", "gamma"]
    assert [str(p.message_id) for p in got.packets["in"][:2]] == ["read-out-0", "read-out-1"]


async def test_read_lines_options(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("é one\n\n two\n", encoding="latin-1")
    config = {"path": "in.txt", "encoding": "latin-1", "skip_blank": True, "keep_newlines": True}
    flow = Flow().add("read", "builtin:read-lines", [], ["out"], config)
    got = flow.capture("sink")
    await flow.connect("read.out", "sink.in").run(tmp_path)
    assert got.values() == ["é one\n", " two\n"]


async def test_read_lines_missing_file_fails_the_node(tmp_path: Path) -> None:
    flow = Flow().add("read", "builtin:read-lines", [], ["out"], {"path": "absent.txt"})
    flow.capture("sink")
    summary = await flow.connect("read.out", "sink.in").run(tmp_path, expect_success=False)
    assert summary.terminal_state is TerminalState.FAILED
    assert summary.first_error is not None
    message = str(summary.first_error)
    assert "read-lines: cannot open" in message
    assert str(tmp_path / "absent.txt") in message


async def test_read_lines_rejects_undecodable_text(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_bytes(b"ok\n\xff\xfe\n")
    flow = Flow().add("read", "builtin:read-lines", [], ["out"], {"path": "in.txt"})
    flow.capture("sink")
    summary = await flow.connect("read.out", "sink.in").run(tmp_path, expect_success=False)
    assert "is not utf-8 text" in str(summary.first_error)


async def test_write_lines_replaces_the_file_atomically(tmp_path: Path) -> None:
    target = tmp_path / "out" / "result.txt"
    flow = Flow().feed("feed", ["one", 2, {"k": [1, None]}, "é"])
    flow.add("write", "builtin:write-lines", ["in"], [], {"path": "out/result.txt"})
    await flow.connect("feed.out", "write.in").run(tmp_path)
    assert target.read_text(encoding="utf-8") == 'one\n2\n{"k":[1,null]}\né\n'
    assert os.listdir(target.parent) == ["result.txt"]  # no temporary file left behind
    assert (target.stat().st_mode & 0o777) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


async def test_write_lines_decodes_bytes_and_appends(tmp_path: Path) -> None:
    target = tmp_path / "log.txt"
    target.write_text("old\n")
    flow = Flow().feed("feed", [b"raw", b"bytes"], bytes=True)
    config = {"path": str(target), "append": True, "line_ending": "\r\n"}
    flow.add("write", "builtin:write-lines", ["in"], [], config)
    await flow.connect("feed.out", "write.in").run()
    assert target.read_bytes() == b"old\nraw\r\nbytes\r\n"


async def test_a_failed_run_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("precious\n")
    (tmp_path / "bad.jsonl").write_text('{"a": 1}\nnot json\n')
    flow = Flow().add("read", "builtin:read-jsonl", [], ["out"], {"path": "bad.jsonl"})
    flow.add("write", "builtin:write-lines", ["in"], [], {"path": "keep.txt"})
    summary = await flow.connect("read.out", "write.in").run(tmp_path, expect_success=False)
    assert summary.terminal_state is not TerminalState.COMPLETED
    assert target.read_text() == "precious\n"
    assert sorted(os.listdir(tmp_path)) == ["bad.jsonl", "keep.txt"]


# --- JSON Lines --------------------------------------------------------------------------


async def test_jsonl_round_trip(tmp_path: Path) -> None:
    records = [{"id": 1, "name": "ä"}, {"id": 2, "tags": ["x"]}, [1, 2], "text", None]
    (tmp_path / "in.jsonl").write_text(
        "\n".join(json.dumps(record) for record in records) + "\n\n", encoding="utf-8"
    )
    flow = Flow().add("read", "builtin:read-jsonl", [], ["out"], {"path": "in.jsonl"})
    flow.add("write", "builtin:write-jsonl", ["in"], [], {"path": "out.jsonl", "sort_keys": True})
    await flow.connect("read.out", "write.in").run(tmp_path)
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == records
    assert lines[0] == '{"id":1,"name":"ä"}'


async def test_read_jsonl_names_the_bad_line(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text('{"a": 1}\n\n{"b": NaN}\n')
    flow = Flow().add("read", "builtin:read-jsonl", [], ["out"], {"path": "in.jsonl"})
    got = flow.capture("sink")
    summary = await flow.connect("read.out", "sink.in").run(tmp_path, expect_success=False)
    assert "line 3: invalid JSON" in str(summary.first_error)
    assert got.values() == []  # the chunk is parsed before anything of it is sent


async def test_write_jsonl_writes_bytes_as_strings_and_rejects_objects(tmp_path: Path) -> None:
    flow = Flow().feed("feed", [b"line"], bytes=True)
    flow.add("write", "builtin:write-jsonl", ["in"], [], {"path": "a.jsonl", "ensure_ascii": True})
    await flow.connect("feed.out", "write.in").run(tmp_path)
    assert (tmp_path / "a.jsonl").read_text() == '"line"\n'

    flow = Flow().feed("feed", objects=[object()])
    flow.add("write", "builtin:write-jsonl", ["in"], [], {"path": "b.jsonl"})
    summary = await flow.connect("feed.out", "write.in").run(tmp_path, expect_success=False)
    assert "is not JSON data" in str(summary.first_error)
    assert not (tmp_path / "b.jsonl").exists()


# --- CSV -------------------------------------------------------------------------------------


async def test_read_csv_with_a_header_gives_objects(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text('id,name\n1,"Smith, J"\n\n   \n2,"say ""hi"""\n')
    flow = Flow().add("read", "builtin:read-csv", [], ["out"], {"path": "in.csv"})
    got = flow.capture("sink")
    await flow.connect("read.out", "sink.in").run(tmp_path)
    assert got.values() == [{"id": "1", "name": "Smith, J"}, {"id": "2", "name": 'say "hi"'}]


async def test_read_csv_without_header_and_with_fieldnames(tmp_path: Path) -> None:
    (tmp_path / "in.tsv").write_text("a\tb\n1\t2\n")
    flow = Flow()
    flow.add(
        "plain",
        "builtin:read-csv",
        [],
        ["out"],
        {"path": "in.tsv", "delimiter": "\t", "header": False},
    )
    flow.add(
        "named",
        "builtin:read-csv",
        [],
        ["out"],
        {"path": "in.tsv", "delimiter": "\t", "fieldnames": ["x", "y"]},
    )
    plain, named = flow.capture("plain_sink"), flow.capture("named_sink")
    flow.connect("plain.out", "plain_sink.in").connect("named.out", "named_sink.in")
    await flow.run(tmp_path)
    assert plain.values() == [["a", "b"], ["1", "2"]]
    assert named.values() == [{"x": "1", "y": "2"}]  # the file's header row is skipped


async def test_read_csv_rejects_ragged_rows(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("a,b\n1,2,3\n")
    flow = Flow().add("read", "builtin:read-csv", [], ["out"], {"path": "in.csv"})
    flow.capture("sink")
    summary = await flow.connect("read.out", "sink.in").run(tmp_path, expect_success=False)
    assert "line 2: the row has 3 fields, the header 2" in str(summary.first_error)


async def test_write_csv_objects_and_arrays(tmp_path: Path) -> None:
    rows = [{"id": 1, "name": "a,b"}, {"name": None, "id": 2}, {"id": 3, "extra": {"k": 1}}]
    flow = Flow().feed("feed", rows[:2])
    flow.add("write", "builtin:write-csv", ["in"], [], {"path": "out.csv"})
    await flow.connect("feed.out", "write.in").run(tmp_path)
    assert (tmp_path / "out.csv").read_text() == 'id,name\n1,"a,b"\n2,\n'

    flow = Flow().feed("feed", [["x", [1, 2]], ["y", None]])
    flow.add(
        "write",
        "builtin:write-csv",
        ["in"],
        [],
        {"path": "arrays.csv", "delimiter": ";", "line_ending": "\r\n"},
    )
    await flow.connect("feed.out", "write.in").run(tmp_path)
    assert (tmp_path / "arrays.csv").read_bytes() == b"x;[1,2]\r\ny;\r\n"

    flow = Flow().feed("feed", rows)
    flow.add("write", "builtin:write-csv", ["in"], [], {"path": "bad.csv"})
    summary = await flow.connect("feed.out", "write.in").run(tmp_path, expect_success=False)
    assert "fields not in the header: `extra`" in str(summary.first_error)


async def test_csv_round_trip_with_fieldnames(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("b,a\n2,1\n4,3\n")
    flow = Flow().add("read", "builtin:read-csv", [], ["out"], {"path": "in.csv"})
    flow.add(
        "write", "builtin:write-csv", ["in"], [], {"path": "out.csv", "fieldnames": ["a", "b"]}
    )
    await flow.connect("read.out", "write.in").run(tmp_path)
    assert (tmp_path / "out.csv").read_text() == "a,b\n1,2\n3,4\n"


async def test_collect_writes_one_json_array(tmp_path: Path) -> None:
    flow = Flow().feed("feed", [1, "two", {"three": 3}])
    flow.add("collect", "builtin:collect", ["in"], [], {"path": "all.json"})
    await flow.connect("feed.out", "collect.in").run(tmp_path)
    assert json.loads((tmp_path / "all.json").read_text()) == [1, "two", {"three": 3}]

    flow = Flow().feed("feed", [1, 2])
    flow.add("collect", "builtin:collect", ["in"], [], {"path": "pretty.json", "indent": 2})
    await flow.connect("feed.out", "collect.in").run(tmp_path)
    assert (tmp_path / "pretty.json").read_text() == "[\n  1,\n  2\n]\n"

    flow = Flow().feed("feed", [])
    flow.add("collect", "builtin:collect", ["in"], [], {"path": "empty.json", "indent": 2})
    await flow.connect("feed.out", "collect.in").run(tmp_path)
    assert json.loads((tmp_path / "empty.json").read_text()) == []
