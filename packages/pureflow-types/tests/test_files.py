"""Reading a named file: regular files only, never past the limit, never blocking."""

from __future__ import annotations

import io
import os
import socket
import sys
from pathlib import Path

import pytest
from pureflow.types import (
    DOCUMENT_LIMIT,
    InputFileRefused,
    ReadLimit,
    check_input_file,
    open_input_file,
    read_input_file,
    read_input_stream,
)
from pureflow.types.files import size_text

TINY = ReadLimit("test", "PUREFLOW_TEST_LIMIT_BYTES", 10)

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev are POSIX")


def refusal(path: str | Path, limit: ReadLimit = DOCUMENT_LIMIT) -> str:
    with pytest.raises(InputFileRefused) as caught:
        read_input_file(path, limit)
    assert caught.value.path == str(path)
    return caught.value.reason


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_bytes(b"0123456789")
    assert read_input_file(path, TINY) == b"0123456789"
    check_input_file(path, TINY)


def test_an_empty_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    assert read_input_file(path, TINY) == b""


def test_a_file_over_the_limit_is_refused_with_the_limit_and_its_variable(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b"x" * 11)
    reason = refusal(path, TINY)
    assert reason == (
        "larger than the test size limit of 10 bytes (set PUREFLOW_TEST_LIMIT_BYTES to change it)"
    )
    with pytest.raises(InputFileRefused):
        check_input_file(path, TINY)


@posix_only
def test_a_character_device_is_refused_before_reading() -> None:
    assert refusal("/dev/zero") == (
        "not a regular file but a character device (only regular files are read)"
    )


@posix_only
def test_a_symlink_is_judged_by_its_target(tmp_path: Path) -> None:
    link = tmp_path / "flow.json"
    link.symlink_to("/dev/zero")
    assert refusal(link).startswith("not a regular file but a character device")


@posix_only
def test_a_fifo_without_a_writer_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "x.json"
    os.mkfifo(fifo)
    assert refusal(fifo) == (
        "not a regular file but a named pipe (FIFO) (only regular files are read)"
    )
    with pytest.raises(InputFileRefused):
        check_input_file(fifo, DOCUMENT_LIMIT)


@posix_only
def test_a_socket_is_not_read(tmp_path: Path) -> None:
    """Opening a Unix socket fails (ENXIO on Linux) or is refused: either way, no read."""
    path = tmp_path / "s.json"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        with pytest.raises((InputFileRefused, OSError)) as caught:
            read_input_file(path, DOCUMENT_LIMIT)
        if isinstance(caught.value, InputFileRefused):
            assert caught.value.reason.startswith("not a regular file but a socket")
    finally:
        server.close()


def test_a_folder_fails_as_the_os_says(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        read_input_file(tmp_path, DOCUMENT_LIMIT)


def test_a_missing_file_is_the_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_input_file(tmp_path / "missing.json", DOCUMENT_LIMIT)


@posix_only
def test_a_file_whose_size_says_nothing_is_still_bounded() -> None:
    """/proc files report size 0: the read itself stops at the limit."""
    path = "/proc/self/maps"
    if not os.path.exists(path):  # pragma: no cover - Linux has it
        pytest.skip("no /proc")
    small = ReadLimit("test", "PUREFLOW_TEST_LIMIT_BYTES", 16)
    assert refusal(path, small).startswith("larger than the test size limit of 16 bytes")


def test_the_limit_comes_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for text, expected in [
        ("100", 100),
        ("4K", 4096),
        ("4KiB", 4096),
        ("2m", 2 * 1024 * 1024),
        ("1G", 1024**3),
        (" 7 ", 7),
        ("", 10),
    ]:
        monkeypatch.setenv(TINY.variable, text)
        assert TINY.value() == expected, text
    monkeypatch.delenv(TINY.variable)
    assert TINY.value() == 10
    assert DOCUMENT_LIMIT.value({}) == 16 * 1024 * 1024


@pytest.mark.parametrize("text", ["abc", "0", "-5", "1.5M", "M", "10T"])
def test_a_malformed_limit_is_refused_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    path = tmp_path / "doc.json"
    path.write_bytes(b"{}")
    monkeypatch.setenv(TINY.variable, text)
    assert refusal(path, TINY) == (
        "PUREFLOW_TEST_LIMIT_BYTES must be a whole number of bytes >= 1, optionally with a "
        f"K, M or G suffix; got `{text}`"
    )


def test_a_stream_is_read_to_its_end_within_the_limit() -> None:
    assert read_input_stream(io.BytesIO(b"0123456789"), TINY) == b"0123456789"


def test_a_stream_over_the_limit_is_refused_without_reading_it_all() -> None:
    class Endless(io.RawIOBase):
        reads = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            self.reads += 1
            buffer[:] = b"\0" * len(buffer)
            return len(buffer)

    endless = Endless()
    with pytest.raises(InputFileRefused) as caught:
        read_input_stream(io.BufferedReader(endless), TINY, "standard input")
    assert caught.value.path == "standard input"
    assert caught.value.reason.startswith("larger than the test size limit of 10 bytes")
    assert endless.reads <= 2


def test_a_regular_file_redirected_in_is_refused_from_its_size(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b"x" * 100)
    with path.open("rb") as stream:
        with pytest.raises(InputFileRefused):
            read_input_stream(stream, TINY)
        assert stream.tell() == 0  # refused before reading


def test_size_text() -> None:
    assert size_text(16 * 1024 * 1024) == "16 MiB"
    assert size_text(512 * 1024) == "512 KiB"
    assert size_text(1024**3) == "1 GiB"
    assert size_text(1000) == "1000 bytes"
    assert size_text(1) == "1 byte"


def test_a_stream_is_opened_on_a_regular_file_of_any_size(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"x" * 1000)
    with open_input_file(path) as stream:
        assert stream.read() == b"x" * 1000
    with open_input_file(path, buffered=False) as stream:
        assert stream.read(10) == b"x" * 10


@posix_only
def test_a_stream_is_not_opened_on_a_fifo_a_device_or_a_folder(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputFileRefused, match=r"not a regular file but a named pipe"):
        open_input_file(fifo)
    with pytest.raises(InputFileRefused, match=r"a character device"):
        open_input_file(os.devnull)
    with pytest.raises(IsADirectoryError):
        open_input_file(tmp_path)
