"""Diagnostic logging, switched on by environment variables before arguments are parsed.

The first of ``PUREFLOW_TRACE``, ``CONDUIT_TRACE`` (the original's legacy name) and
``RUST_LOG`` that is *set* decides, even if its value switches logging off:

* ``""``, ``0``, ``false``, ``off``: off (the default when none is set);
* ``1``, ``true``, ``yes``: ``info`` for every ``pureflow`` logger;
* otherwise a comma-separated list of ``level`` or ``target=level`` directives, e.g.
  ``pureflow.runtime=debug,warn`` (Rust-style ``::`` separators are accepted).

Levels: ``trace``/``debug``, ``info``, ``warn``/``warning``, ``error``. Log lines go to
stderr and are not a stable interface; metadata JSONL never contains them.

``-v`` on the command line (:func:`raise_verbosity`) shows ``info`` of every ``pureflow``
logger, ``-vv`` ``debug``, on top of whatever the variables set (never less).
"""

from __future__ import annotations

import logging
import os
import sys

VARIABLES = ("PUREFLOW_TRACE", "CONDUIT_TRACE", "RUST_LOG")
_LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_OFF = {"", "0", "false", "off"}
_ON = {"1", "true", "yes"}


class TracingFilterError(ValueError):
    """A tracing variable holds a filter that cannot be parsed."""

    def __init__(self, variable: str, raw: str, reason: str) -> None:
        super().__init__(f"{variable} has invalid tracing filter `{raw}`: {reason}")


def parse_filter(variable: str, raw: str) -> dict[str, int] | None:
    """Logger name -> level for a variable's value; None means logging is off."""
    value = raw.strip().lower()
    if value in _OFF:
        return None
    if value in _ON:
        return {"pureflow": logging.INFO}
    directives: dict[str, int] = {}
    for part in value.split(","):
        directive = part.strip()
        if not directive:
            continue
        target, sep, level_name = directive.rpartition("=")
        if not sep:
            target, level_name = "pureflow", directive
        level = _LEVELS.get(level_name.strip())
        if level is None:
            raise TracingFilterError(variable, raw, f"unknown level `{level_name.strip()}`")
        name = target.strip().replace("::", ".").replace("_", "-") or "pureflow"
        directives[name.replace("-", "_")] = level
    if not directives:
        raise TracingFilterError(variable, raw, "no directive")
    return directives


def configure_from_environment(environ: dict[str, str] | None = None) -> None:
    """Set up logging from the first tracing variable that is set (see module doc)."""
    env = os.environ if environ is None else environ
    root = logging.getLogger("pureflow")
    for variable in VARIABLES:
        if variable in env:
            directives = parse_filter(variable, env[variable])
            break
    else:
        directives = None
    if directives is None:
        root.addHandler(logging.NullHandler())
        root.propagate = False
        return
    _log_to_stderr(root)
    root.setLevel(logging.WARNING)
    for name, level in directives.items():
        logging.getLogger(name).setLevel(level)


def _log_to_stderr(root: logging.Logger) -> None:
    """Replace ``root``'s handlers with one that writes log lines to stderr."""
    for old in list(root.handlers):
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.propagate = False


def raise_verbosity(count: int) -> None:
    """``-v`` (``count`` 1): ``info`` for every ``pureflow`` logger; ``-vv`` and more:
    ``debug``. A level the tracing variables set lower stays; 0 changes nothing."""
    if count <= 0:
        return
    root = logging.getLogger("pureflow")
    level = logging.INFO if count == 1 else logging.DEBUG
    if not any(not isinstance(h, logging.NullHandler) for h in root.handlers):
        _log_to_stderr(root)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    for logger in logging.Logger.manager.loggerDict.values():
        if (
            isinstance(logger, logging.Logger)
            and logger.name.startswith("pureflow.")
            and logger.level > level
        ):
            logger.setLevel(level)
