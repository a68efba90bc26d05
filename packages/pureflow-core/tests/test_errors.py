"""Error codes, display strings, JSON form and port error conversion (spec-2 §5, §4.8)."""

from __future__ import annotations

import pickle

import pytest
from pureflow.core import (
    CancellationError,
    ErrorCode,
    ErrorVisibility,
    ExecutionError,
    LifecycleError,
    MetadataError,
    PortRecvError,
    PortRecvErrorKind,
    PortSendError,
    PortSendErrorKind,
    PureflowError,
    RetryDisposition,
    ValidationError,
    as_pureflow_error,
)
from pureflow.types import IdentifierError, WorkflowId


def test_codes_are_unique_and_category_prefixed() -> None:
    codes = [code.as_str() for code in ErrorCode]
    assert len(set(codes)) == len(codes)
    prefixes = ("CDT-VAL-", "CDT-EXEC-", "CDT-CANCEL-", "CDT-LIFE-", "CDT-META-")
    assert all(code and code.startswith(prefixes) for code in codes)


@pytest.mark.parametrize(
    ("error", "code", "visibility", "retry", "display"),
    [
        (
            ExecutionError("boom"),
            "CDT-EXEC-001",
            ErrorVisibility.INTERNAL,
            RetryDisposition.UNKNOWN,
            "CDT-EXEC-001: node execution failed: boom",
        ),
        (
            CancellationError("shutdown"),
            "CDT-CANCEL-001",
            ErrorVisibility.USER,
            RetryDisposition.SAFE,
            "CDT-CANCEL-001: execution cancelled: shutdown",
        ),
        (
            LifecycleError("hook failed"),
            "CDT-LIFE-001",
            ErrorVisibility.INTERNAL,
            RetryDisposition.UNKNOWN,
            "CDT-LIFE-001: lifecycle observation failed: hook failed",
        ),
        (
            MetadataError("sink failed"),
            "CDT-META-001",
            ErrorVisibility.INTERNAL,
            RetryDisposition.UNKNOWN,
            "CDT-META-001: metadata collection failed: sink failed",
        ),
        (
            ValidationError.capability("bad capability"),
            "CDT-VAL-002",
            ErrorVisibility.USER,
            RetryDisposition.NEVER,
            "CDT-VAL-002: capability validation failed: bad capability",
        ),
    ],
)
def test_taxonomy_rows(
    error: PureflowError,
    code: str,
    visibility: ErrorVisibility,
    retry: RetryDisposition,
    display: str,
) -> None:
    assert error.code.as_str() == code
    assert error.visibility is visibility
    assert error.retry_disposition is retry
    assert str(error) == display
    assert error.to_json() == {
        "code": code,
        "message": display,
        "retry_disposition": retry.value,
        "visibility": visibility.value,
    }
    assert isinstance(error, PureflowError)


def test_identifier_validation_error_display() -> None:
    with pytest.raises(IdentifierError) as caught:
        WorkflowId("has space")
    error = ValidationError.identifier(caught.value)
    assert str(error) == (
        "CDT-VAL-001: identifier validation failed: workflow id must not contain whitespace"
    )
    assert error.cause is caught.value
    assert as_pureflow_error(caught.value) == error


def test_shortcuts_equality_and_pickling() -> None:
    assert PureflowError.execution("x") == ExecutionError("x")
    assert PureflowError.cancelled("r") == CancellationError("r")
    assert PureflowError.lifecycle("l") == LifecycleError("l")
    assert PureflowError.metadata("m") == MetadataError("m")
    assert ExecutionError("x") != CancellationError("x")
    assert CancellationError("r").reason == "r"
    for error in (ExecutionError("x"), ValidationError.capability("c")):
        assert pickle.loads(pickle.dumps(error)) == error


def test_port_error_messages() -> None:
    assert str(PortSendError.unknown_port("missing")) == "output port `missing` is not declared"
    assert str(PortSendError.disconnected("out")) == "output port `out` is disconnected"
    assert str(PortSendError.full("out")) == "output port `out` is full"
    assert str(PortSendError.cancelled("out")) == "output port `out` send cancelled"
    assert (
        str(PortSendError.rejected("out", "contract mismatch"))
        == "output port `out` rejected packet: contract mismatch"
    )
    assert str(PortRecvError.unknown_port("missing")) == "input port `missing` is not declared"
    assert str(PortRecvError.disconnected("in")) == "input port `in` is disconnected"
    assert str(PortRecvError.cancelled("in")) == "input port `in` receive cancelled"
    assert PortSendError.full("out").kind is PortSendErrorKind.FULL
    assert PortRecvError.cancelled("in").kind is PortRecvErrorKind.CANCELLED


def test_port_error_conversion() -> None:
    full = PortSendError.full("out").to_pureflow_error()
    assert isinstance(full, ExecutionError)
    assert str(full) == "CDT-EXEC-001: node execution failed: output port `out` is full"
    cancelled = PortSendError.cancelled("out").to_pureflow_error()
    assert isinstance(cancelled, CancellationError)
    assert str(cancelled) == "CDT-CANCEL-001: execution cancelled: output port `out` send cancelled"
    recv = as_pureflow_error(PortRecvError.cancelled("in"))
    assert str(recv) == "CDT-CANCEL-001: execution cancelled: input port `in` receive cancelled"
    assert as_pureflow_error(ValueError("bad")) == ExecutionError("bad")
    assert as_pureflow_error(KeyError()) == ExecutionError("KeyError")
    for error in (PortSendError.rejected("out", "r"), PortRecvError.unknown_port("x")):
        assert pickle.loads(pickle.dumps(error)) == error
