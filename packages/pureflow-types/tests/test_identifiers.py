"""Identifier rules: the original's order of checks, code-point sets and byte cap."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pureflow.types import (
    MAX_IDENTIFIER_LEN,
    ExecutionId,
    IdentifierError,
    IdentifierErrorKind,
    IdentifierKind,
    MessageId,
    NodeId,
    PortId,
    WorkflowId,
)
from pureflow.types.identifiers import CONTROL, WHITE_SPACE

ALL_KINDS = (WorkflowId, ExecutionId, MessageId, NodeId, PortId)


def error_of(cls: type, value: str) -> IdentifierError:
    with pytest.raises(IdentifierError) as info:
        cls(value)
    return info.value


@pytest.mark.parametrize(
    ("cls", "value", "expected"),
    [
        (WorkflowId, "", IdentifierErrorKind.EMPTY),
        (ExecutionId, " ", IdentifierErrorKind.EMPTY),
        (NodeId, "\u2028", IdentifierErrorKind.EMPTY),
        (NodeId, "node one", IdentifierErrorKind.WHITESPACE),
        (MessageId, "msg\u001fone", IdentifierErrorKind.CONTROL),
        (WorkflowId, "flow\u0007one", IdentifierErrorKind.CONTROL),
        (PortId, "a" * 257, IdentifierErrorKind.TOO_LONG),
        (NodeId, " " * 300, IdentifierErrorKind.TOO_LONG),
        (NodeId, "\x01 a", IdentifierErrorKind.WHITESPACE),
        (NodeId, "a\u0085b", IdentifierErrorKind.WHITESPACE),
        (NodeId, "a\u00a0b", IdentifierErrorKind.WHITESPACE),
        (NodeId, "a\tb", IdentifierErrorKind.WHITESPACE),
        (NodeId, "\u00e9" * 129, IdentifierErrorKind.TOO_LONG),
    ],
)
def test_invalid_identifiers_report_the_first_broken_rule(
    cls: type, value: str, expected: IdentifierErrorKind
) -> None:
    assert error_of(cls, value).error is expected


@pytest.mark.parametrize("value", ["\u200b", "\ufeff", "\u00e9" * 128, "a" * 256, "x.y/z-1_2"])
def test_accepted_edge_cases(value: str) -> None:
    assert NodeId(value) == value


def test_messages_use_the_kind_label() -> None:
    assert str(error_of(WorkflowId, "")) == "workflow id must not be empty"
    assert str(error_of(PortId, "a b")) == "port id must not contain whitespace"
    assert str(error_of(MessageId, "a\x00")) == "message id must not contain control characters"
    assert str(error_of(ExecutionId, "e" * 300)) == "execution id must not exceed 256 bytes"


def test_code_point_sets_match_unicode_not_str_isspace() -> None:
    # U+001C..U+001F are control characters, not White_Space, unlike str.isspace().
    for ch in "\u001c\u001d\u001e\u001f":
        assert ch.isspace()
        assert ch not in WHITE_SPACE
        assert ch in CONTROL
    assert len(WHITE_SPACE) == 25
    assert len(CONTROL) == 65


def test_identifiers_behave_as_their_text() -> None:
    port = PortId("out-1")
    assert str(port) == "out-1"
    assert port.as_str() == "out-1"
    assert type(port.as_str()) is str
    assert repr(port) == "PortId('out-1')"
    assert {port: 1}["out-1"] == 1
    assert sorted([NodeId("b"), NodeId("a")]) == ["a", "b"]
    assert PortId(port) is port
    assert pickle.loads(pickle.dumps(port)) == port


def test_non_strings_are_rejected() -> None:
    with pytest.raises(TypeError, match="node id must be a string"):
        NodeId(5)  # type: ignore[arg-type]


def test_errors_compare_and_pickle() -> None:
    err = error_of(NodeId, "")
    assert err == IdentifierError(IdentifierKind.NODE, IdentifierErrorKind.EMPTY)
    assert pickle.loads(pickle.dumps(err)) == err
    assert MAX_IDENTIFIER_LEN == 256


VALID_CHARS = st.characters(
    blacklist_characters=sorted(WHITE_SPACE | CONTROL), blacklist_categories=("Cs",)
)


@given(st.text(VALID_CHARS, min_size=1, max_size=15))
def test_any_short_text_without_whitespace_or_control_is_valid(value: str) -> None:
    for cls in ALL_KINDS:
        assert cls(value) == value
        assert cls(str(cls(value))) == value
        assert error_of(cls, value + " ").error is IdentifierErrorKind.WHITESPACE
