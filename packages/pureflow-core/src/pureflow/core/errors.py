"""The error taxonomy: :class:`PureflowError` and the port errors.

Every error a node, port or observer reports is a :class:`PureflowError` subclass with a
stable code, a visibility and an (advisory) retry disposition:

=====================  ==================  ==========  =======  ===========================
class                  code                visibility  retry    body of ``str(err)``
=====================  ==================  ==========  =======  ===========================
ValidationError        ``CDT-VAL-001``/    user        never    identifier (capability)
                       ``CDT-VAL-002``                          validation failed: ...
ExecutionError         ``CDT-EXEC-001``    internal    unknown  node execution failed: ...
CancellationError      ``CDT-CANCEL-001``  user        safe     execution cancelled: ...
LifecycleError         ``CDT-LIFE-001``    internal    unknown  lifecycle observation failed:
MetadataError          ``CDT-META-001``    internal    unknown  metadata collection failed:
=====================  ==================  ==========  =======  ===========================

``str(err)`` is ``"{code}: {body}"`` exactly as the original prints it, and
:meth:`PureflowError.to_json` gives the ``{code, message, retry_disposition, visibility}``
object that error records and run summaries carry.

Port operations raise :class:`PortSendError` / :class:`PortRecvError`, whose ``str()`` is
the original's port message (``output port `out` is full``); ``to_pureflow_error()``
turns one into the :class:`PureflowError` a node would report (``Cancelled`` becomes a
:class:`CancellationError`, every other kind an :class:`ExecutionError`).

Nothing in Pureflow retries: the retry disposition is advice for callers.
"""

from __future__ import annotations

import enum
from typing import Any, Final

from pureflow.contract import RetryDisposition

__all__ = ["RetryDisposition"]  # re-exported: the shared enum lives in pureflow.contract
from pureflow.types import IdentifierError


class ErrorCode(enum.Enum):
    """The stable, category-prefixed error codes."""

    INVALID_IDENTIFIER = "CDT-VAL-001"
    INVALID_CAPABILITIES = "CDT-VAL-002"
    NODE_EXECUTION_FAILED = "CDT-EXEC-001"
    EXECUTION_CANCELLED = "CDT-CANCEL-001"
    LIFECYCLE_OBSERVATION_FAILED = "CDT-LIFE-001"
    METADATA_COLLECTION_FAILED = "CDT-META-001"

    def as_str(self) -> str:
        """The code text, for example ``"CDT-EXEC-001"``."""
        return self.value


class ErrorVisibility(enum.Enum):
    """Who an error message is meant for."""

    USER = "user"
    INTERNAL = "internal"


class PureflowError(Exception):
    """Base of every Pureflow error. ``str(err)`` is ``"{code}: {body}"``.

    Build one through a subclass or the shortcuts :meth:`execution`, :meth:`cancelled`,
    :meth:`lifecycle` and :meth:`metadata`. Two errors are equal when their class, code and
    body are equal.
    """

    code: ErrorCode
    visibility: ErrorVisibility
    retry_disposition: RetryDisposition
    _prefix: str

    def __init__(self, message: str) -> None:
        self.detail = str(message)
        super().__init__(self.display)

    @property
    def body(self) -> str:
        """The display text after the code, for example ``node execution failed: boom``."""
        return f"{self._prefix}{self.detail}"

    @property
    def display(self) -> str:
        """The full display string, ``"{code}: {body}"``; the same as ``str(err)``."""
        return f"{self.code.value}: {self.body}"

    @property
    def message(self) -> str:
        """The inner message (the reason, for a cancellation)."""
        return self.detail

    def __str__(self) -> str:
        return self.display

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.detail!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PureflowError):
            return NotImplemented
        return type(self) is type(other) and (self.code, self.body) == (other.code, other.body)

    def __hash__(self) -> int:
        return hash((type(self), self.code, self.body))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.detail,))

    def to_json(self) -> dict[str, str]:
        """The error object of records and summaries."""
        return {
            "code": self.code.value,
            "message": self.display,
            "retry_disposition": self.retry_disposition.value,
            "visibility": self.visibility.value,
        }

    @staticmethod
    def execution(message: str) -> ExecutionError:
        return ExecutionError(message)

    @staticmethod
    def cancelled(reason: str) -> CancellationError:
        return CancellationError(reason)

    @staticmethod
    def lifecycle(message: str) -> LifecycleError:
        return LifecycleError(message)

    @staticmethod
    def metadata(message: str) -> MetadataError:
        return MetadataError(message)


class ValidationErrorKind(enum.Enum):
    """What a :class:`ValidationError` is about."""

    IDENTIFIER = "identifier"
    CAPABILITY = "capability"


class ValidationError(PureflowError):
    """An identifier or a capability declaration is invalid (user-visible, never retry).

    ``ValidationError.identifier(err)`` gives ``CDT-VAL-001``,
    ``ValidationError.capability(err)`` gives ``CDT-VAL-002``; ``cause`` keeps the inner
    error object when one was given.
    """

    visibility = ErrorVisibility.USER
    retry_disposition = RetryDisposition.NEVER
    _PREFIXES: Final = {
        ValidationErrorKind.IDENTIFIER: "identifier validation failed: ",
        ValidationErrorKind.CAPABILITY: "capability validation failed: ",
    }
    _CODES: Final = {
        ValidationErrorKind.IDENTIFIER: ErrorCode.INVALID_IDENTIFIER,
        ValidationErrorKind.CAPABILITY: ErrorCode.INVALID_CAPABILITIES,
    }

    def __init__(
        self,
        message: str | BaseException,
        kind: ValidationErrorKind = ValidationErrorKind.IDENTIFIER,
    ) -> None:
        self.kind = kind
        self.cause: BaseException | None = message if isinstance(message, BaseException) else None
        self.code = self._CODES[kind]
        self._prefix = self._PREFIXES[kind]
        super().__init__(str(message))

    @classmethod
    def identifier(cls, error: str | BaseException) -> ValidationError:
        return cls(error, ValidationErrorKind.IDENTIFIER)

    @classmethod
    def capability(cls, error: str | BaseException) -> ValidationError:
        return cls(error, ValidationErrorKind.CAPABILITY)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.detail, self.kind))


class ExecutionError(PureflowError):
    """A node failed: ``CDT-EXEC-001: node execution failed: {message}``."""

    code = ErrorCode.NODE_EXECUTION_FAILED
    visibility = ErrorVisibility.INTERNAL
    retry_disposition = RetryDisposition.UNKNOWN
    _prefix = "node execution failed: "


class CancellationError(PureflowError):
    """Work was cancelled: ``CDT-CANCEL-001: execution cancelled: {reason}`` (safe to retry)."""

    code = ErrorCode.EXECUTION_CANCELLED
    visibility = ErrorVisibility.USER
    retry_disposition = RetryDisposition.SAFE
    _prefix = "execution cancelled: "

    @property
    def reason(self) -> str:
        return self.detail


class LifecycleError(PureflowError):
    """A lifecycle hook failed: ``CDT-LIFE-001: lifecycle observation failed: {message}``."""

    code = ErrorCode.LIFECYCLE_OBSERVATION_FAILED
    visibility = ErrorVisibility.INTERNAL
    retry_disposition = RetryDisposition.UNKNOWN
    _prefix = "lifecycle observation failed: "


class MetadataError(PureflowError):
    """A metadata sink failed: ``CDT-META-001: metadata collection failed: {message}``."""

    code = ErrorCode.METADATA_COLLECTION_FAILED
    visibility = ErrorVisibility.INTERNAL
    retry_disposition = RetryDisposition.UNKNOWN
    _prefix = "metadata collection failed: "


# --- port errors ---------------------------------------------------------------------------


class PortSendErrorKind(enum.Enum):
    """Why an output port operation failed."""

    UNKNOWN_PORT = "unknown_port"
    DISCONNECTED = "disconnected"
    FULL = "full"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class PortRecvErrorKind(enum.Enum):
    """Why an input port operation failed."""

    UNKNOWN_PORT = "unknown_port"
    DISCONNECTED = "disconnected"
    CANCELLED = "cancelled"


class PortError(Exception):
    """Base of :class:`PortSendError` and :class:`PortRecvError`."""

    port_id: str

    def to_pureflow_error(self) -> PureflowError:
        """``Cancelled`` becomes a :class:`CancellationError`, anything else an
        :class:`ExecutionError`; the message is ``str(self)``."""
        if self.is_cancelled:
            return CancellationError(str(self))
        return ExecutionError(str(self))

    @property
    def is_cancelled(self) -> bool:
        raise NotImplementedError


class PortSendError(PortError):
    """An output port operation failed; ``str(err)`` is the original's message:

    * ``UNKNOWN_PORT``: ``output port `p` is not declared``
    * ``DISCONNECTED``: ``output port `p` is disconnected``
    * ``FULL``: ``output port `p` is full``
    * ``CANCELLED``: ``output port `p` send cancelled``
    * ``REJECTED``: ``output port `p` rejected packet: {reason}``
    """

    def __init__(self, kind: PortSendErrorKind, port_id: str, reason: str | None = None) -> None:
        self.kind = kind
        self.port_id = port_id
        self.reason = reason
        super().__init__(self.message)

    @property
    def message(self) -> str:
        p = self.port_id
        kind = self.kind
        if kind is PortSendErrorKind.UNKNOWN_PORT:
            return f"output port `{p}` is not declared"
        if kind is PortSendErrorKind.DISCONNECTED:
            return f"output port `{p}` is disconnected"
        if kind is PortSendErrorKind.FULL:
            return f"output port `{p}` is full"
        if kind is PortSendErrorKind.CANCELLED:
            return f"output port `{p}` send cancelled"
        return f"output port `{p}` rejected packet: {self.reason}"

    @property
    def is_cancelled(self) -> bool:
        return self.kind is PortSendErrorKind.CANCELLED

    @classmethod
    def unknown_port(cls, port_id: str) -> PortSendError:
        return cls(PortSendErrorKind.UNKNOWN_PORT, port_id)

    @classmethod
    def disconnected(cls, port_id: str) -> PortSendError:
        return cls(PortSendErrorKind.DISCONNECTED, port_id)

    @classmethod
    def full(cls, port_id: str) -> PortSendError:
        return cls(PortSendErrorKind.FULL, port_id)

    @classmethod
    def cancelled(cls, port_id: str) -> PortSendError:
        return cls(PortSendErrorKind.CANCELLED, port_id)

    @classmethod
    def rejected(cls, port_id: str, reason: str) -> PortSendError:
        return cls(PortSendErrorKind.REJECTED, port_id, reason)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PortSendError):
            return NotImplemented
        return (self.kind, self.port_id, self.reason) == (other.kind, other.port_id, other.reason)

    def __hash__(self) -> int:
        return hash((self.kind, self.port_id, self.reason))

    def __repr__(self) -> str:
        return f"PortSendError({self.kind.name}, {self.port_id!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (PortSendError, (self.kind, self.port_id, self.reason))


class PortRecvError(PortError):
    """An input port operation failed; ``str(err)`` is the original's message:

    * ``UNKNOWN_PORT``: ``input port `p` is not declared``
    * ``DISCONNECTED``: ``input port `p` is disconnected`` (kept for adapters; ``recv``
      reports end of stream as ``None``, never as this error)
    * ``CANCELLED``: ``input port `p` receive cancelled``
    """

    def __init__(self, kind: PortRecvErrorKind, port_id: str) -> None:
        self.kind = kind
        self.port_id = port_id
        super().__init__(self.message)

    @property
    def message(self) -> str:
        p = self.port_id
        if self.kind is PortRecvErrorKind.UNKNOWN_PORT:
            return f"input port `{p}` is not declared"
        if self.kind is PortRecvErrorKind.DISCONNECTED:
            return f"input port `{p}` is disconnected"
        return f"input port `{p}` receive cancelled"

    @property
    def is_cancelled(self) -> bool:
        return self.kind is PortRecvErrorKind.CANCELLED

    @classmethod
    def unknown_port(cls, port_id: str) -> PortRecvError:
        return cls(PortRecvErrorKind.UNKNOWN_PORT, port_id)

    @classmethod
    def disconnected(cls, port_id: str) -> PortRecvError:
        return cls(PortRecvErrorKind.DISCONNECTED, port_id)

    @classmethod
    def cancelled(cls, port_id: str) -> PortRecvError:
        return cls(PortRecvErrorKind.CANCELLED, port_id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PortRecvError):
            return NotImplemented
        return (self.kind, self.port_id) == (other.kind, other.port_id)

    def __hash__(self) -> int:
        return hash((self.kind, self.port_id))

    def __repr__(self) -> str:
        return f"PortRecvError({self.kind.name}, {self.port_id!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (PortRecvError, (self.kind, self.port_id))


def as_pureflow_error(error: BaseException) -> PureflowError:
    """Map any exception a node raised to the :class:`PureflowError` it stands for.

    PureflowErrors pass unchanged, port errors go through ``to_pureflow_error()``, an
    :class:`~pureflow.types.IdentifierError` becomes ``CDT-VAL-001``, anything else an
    :class:`ExecutionError` with ``str(error)`` (or the class name when that is empty).
    """
    if isinstance(error, PureflowError):
        return error
    if isinstance(error, PortError):
        return error.to_pureflow_error()
    if isinstance(error, IdentifierError):
        return ValidationError.identifier(error)
    text = str(error) or type(error).__name__
    return ExecutionError(text)
