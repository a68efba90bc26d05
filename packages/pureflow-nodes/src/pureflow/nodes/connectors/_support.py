"""What every connector shares: optional libraries checked at binding time, credentials
read from environment variables when the node runs, and running until cancelled."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Awaitable, Callable
from typing import Final

import anyio
from pureflow.core import CancellationError, ExecutionError, NodeContext

EXTRA_OF: Final[dict[str, str]] = {
    "sqlalchemy": "sql",
    "psycopg": "postgresql",
    "httpx": "http",
    "h11": "http",
    "tenacity": "http",
    "watchfiles": "watch",
}
"""The ``pureflow-nodes`` extra that installs each optional library."""


class MissingExtra(ImportError):
    """A connector's optional library is not installed.

    Raised by a connector's constructor, so the binder reports it (``binding.import_failed``)
    before anything runs, as one line naming the node, the component and the
    ``pip install`` to run.
    """

    def __init__(self, component: str, modules: list[str]) -> None:
        extras = sorted({EXTRA_OF.get(module, "connectors") for module in modules})
        self.component = component
        self.modules = modules
        named = ", ".join(f"`{module}`" for module in modules)
        verb = "is" if len(modules) == 1 else "are"
        super().__init__(
            f"needs {named}, which {verb} not installed: "
            f"pip install 'pureflow-nodes[{','.join(extras)}]'",
            name=modules[0],
        )


def require(component: str, *modules: str) -> None:
    """Raise :class:`MissingExtra` unless every module can be imported.

    Only looks the modules up (``importlib.util.find_spec``): nothing is imported, so
    binding stays cheap and ``import pureflow.nodes`` never pulls these libraries in.
    """
    missing = [module for module in modules if importlib.util.find_spec(module) is None]
    if missing:
        raise MissingExtra(component, missing)


def environment_value(component: str, variable: str, key: str) -> str:
    """The value of environment variable ``variable``, named by config ``key``; an
    :class:`ExecutionError` naming both when it is not set. Read when the node runs,
    so validating a workflow needs no secrets."""
    value = os.environ.get(variable)
    if value is None:
        raise ExecutionError(
            f"{component}: environment variable `{variable}` (config `{key}`) is not set"
        )
    return value


async def run_until_cancelled(ctx: NodeContext, body: Callable[[], Awaitable[None]]) -> None:
    """Run ``body`` until it returns or the run's cancellation token fires.

    For connectors that wait on the outside world (a socket, a folder) rather than on
    their ports, which wake on cancellation by themselves. When the token fires, ``body``
    is cancelled (its ``finally`` blocks run) and :class:`CancellationError` is raised
    with the token's reason, so the node ends as cancelled, not failed. An exception
    ``body`` raises propagates as it is (not wrapped in an exception group).
    """
    token = ctx.cancellation_token
    finished = False
    try:
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                await token.wait()
                group.cancel_scope.cancel()

            group.start_soon(watch)
            await body()
            finished = True
            group.cancel_scope.cancel()
    except BaseExceptionGroup as errors:
        error = single_error(errors)
        raise error from error.__cause__
    request = token.request
    if not finished and request is not None:
        raise CancellationError(request.reason)


def single_error(errors: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one error of a task group's exception group (nested groups flattened), or the
    group itself when it holds several."""
    while len(errors.exceptions) == 1:
        inner = errors.exceptions[0]
        if not isinstance(inner, BaseExceptionGroup):
            return inner
        errors = inner
    return errors
