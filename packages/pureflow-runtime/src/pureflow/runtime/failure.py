"""What a node's own exception becomes: one line a user can act on.

When node code raises something that is not a Pureflow error (a ``KeyError`` in a
transform, say), the node fails with ``CDT-EXEC-001`` and a message that names the
exception type, its message and where it was raised *in the user's code*::

    node execution failed: KeyError: 'JPY' (at flows/rates.py:12, in convert)

The frame is the innermost one that belongs neither to Pureflow nor to the standard
library or installed packages (so a ``KeyError`` raised inside ``json`` called from a
user's node points at the user's line); without one (an error raised in a worker process
comes back without its frames), the message has no location. The exception
stays attached as the error's ``__cause__``, so ``--traceback`` (and the node's logger)
can show the whole traceback.
"""

from __future__ import annotations

import os
import sysconfig
import traceback
from functools import cache
from pathlib import Path
from types import FrameType, TracebackType

from pureflow.core import ExecutionError


@cache
def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    return tuple(os.path.realpath(root) + os.sep for root in roots)


def is_user_code(frame: FrameType) -> bool:
    """Whether ``frame`` runs the user's code: not Pureflow's, not the standard library's
    or an installed package's."""
    module = frame.f_globals.get("__name__", "")
    if module == "pureflow" or module.startswith("pureflow."):
        return False
    filename = frame.f_code.co_filename
    if filename.startswith("<"):  # <string>, <frozen ...>
        return False
    return not os.path.realpath(filename).startswith(_library_roots())


def user_frame(error: BaseException) -> traceback.FrameSummary | None:
    """The innermost frame of ``error``'s traceback in the user's code, if any."""
    tb = error.__traceback__
    found: TracebackType | None = None
    while tb is not None:
        if is_user_code(tb.tb_frame):
            found = tb
        tb = tb.tb_next
    if found is None:
        return None
    code = found.tb_frame.f_code
    return traceback.FrameSummary(code.co_filename, found.tb_lineno, code.co_name, line=None)


def display_path(filename: str) -> str:
    """Relative to the working directory when it is under it, else as it is."""
    try:
        return str(Path(filename).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return filename


def code_location(filename: str, lineno: int, function: str) -> str:
    """``file:line, in function``, the file relative to the working directory when it is
    under it (how every message names a line of the user's code)."""
    return f"{display_path(filename)}:{lineno}, in {function}"


def describe(error: BaseException) -> str:
    """``Type: message (at file:line, in function)`` for ``error``."""
    text = str(error)
    kind = type(error).__qualname__
    if type(error).__module__ not in ("builtins", "__main__"):
        kind = f"{type(error).__module__}.{kind}"
    head = f"{kind}: {text}" if text else kind
    frame = user_frame(error)
    if frame is None:
        return head
    return f"{head} (at {code_location(frame.filename, frame.lineno or 0, frame.name)})"


def node_code_error(error: BaseException) -> ExecutionError:
    """The ``CDT-EXEC-001`` error a node fails with when its code raised ``error``
    (attached as ``__cause__``)."""
    failure = ExecutionError(describe(error))
    failure.__cause__ = error
    return failure
