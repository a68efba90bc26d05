"""Coverage-guided fuzzing of one document decoder with atheris (libFuzzer for Python).

    python fuzz_decoders.py json|yaml|toml [libFuzzer options] [corpus folders]

Every input must end in a value or in clean diagnostics: the decoder returns a
``Decoded`` whose problems carry documented codes, and the whole front end (decode, shape,
graph, rule sets) returns a workflow or raises ``WorkflowDocumentError`` listing known
codes. Any other exception is a finding: atheris prints it, saves the input and exits
non-zero. A slow input is a finding too (libFuzzer's ``-timeout``), and so is memory
growth past ``-rss_limit_mb``.

``tests/test_fuzz_decoders.py`` runs this for a bounded time per decoder; the seed corpus
is ``corpus/<format>/`` beside this file, the mutation dictionary ``document.dict``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import atheris

# Everything the front end runs is imported here, so that it is instrumented: the format
# package's modules (the decoders are otherwise imported on first use), the rest of
# pureflow, and tomllib (the TOML parser is pure Python).
with atheris.instrument_imports(include=["pureflow", "tomllib"]):
    import tomllib  # noqa: F401

    import pureflow.format

    for module in pkgutil.iter_modules(pureflow.format.__path__):
        importlib.import_module(f"pureflow.format.{module.name}")
    from pureflow.format import (
        DIAGNOSTIC_CODES,
        DocumentFormat,
        WorkflowDocumentError,
        parse_workflow,
        plain_value,
    )
    from pureflow.format.decoded import Decoded
    from pureflow.format.decoding import TextDecodeError, decode_value, document_text
    from pureflow.format.rule_sources import RuleFileNotFound, RuleSetSource, SourceRegistry
    from pureflow.rules import RuleSet

KNOWN = frozenset(DIAGNOSTIC_CODES)


class NoRuleFiles(SourceRegistry):
    """Rule-set references resolve to nothing: a fuzzed path must not read this machine's
    files."""

    def load(self, uri: str) -> RuleSet:
        raise RuleFileNotFound(uri)

    def source_for(self, scheme: str) -> RuleSetSource | None:
        return None


class Finding(AssertionError):
    """An input that did not end in a value or clean diagnostics."""


def require(condition: bool, message: str) -> None:
    if not condition:
        raise Finding(message)


def check_diagnostics(diagnostics: object) -> None:
    require(isinstance(diagnostics, list | tuple), "diagnostics are not a list")
    assert isinstance(diagnostics, list | tuple)
    require(len(diagnostics) > 0, "an error without a diagnostic")
    for diagnostic in diagnostics:
        require(diagnostic.code in KNOWN, f"undocumented code {diagnostic.code!r}")
        require(isinstance(diagnostic.message, str), "a message that is not text")
        require(bool(diagnostic.message), "an empty message")


def one_input(data: bytes, format: DocumentFormat) -> None:
    try:
        text = document_text(data)
    except TextDecodeError as err:
        check_diagnostics([err.diagnostic])
        return
    decoded = decode_value(text, format)
    require(isinstance(decoded, Decoded), "the decoder returned something else")
    if not decoded.ok or decoded.problems:
        check_diagnostics(decoded.problems)
    try:
        parse_workflow(data, format, rule_sources=NoRuleFiles())
    except WorkflowDocumentError as err:
        check_diagnostics(err.diagnostics)
        require("\n" not in str(err), "a headline on several lines")
        err.render("document")
    try:
        plain_value(data, format)
    except WorkflowDocumentError as err:
        check_diagnostics(err.diagnostics)


def main() -> None:
    format = DocumentFormat[sys.argv[1].upper()]
    atheris.Setup(
        [sys.argv[0], *sys.argv[2:]],
        lambda data: one_input(data, format),
    )
    atheris.Fuzz()


if __name__ == "__main__":
    main()
