"""The sinks ``pureflow run`` can put beside its metadata file: OpenTelemetry (``--otel``,
from ``pureflow-otel``) and the live run report (``--report``, from ``pureflow-report``).
Each comes from an optional distribution; asking for one that is not installed is a
one-line error naming the extra to install."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pureflow.cli.errors import CliError

if TYPE_CHECKING:
    from pureflow.core import MetadataSink
    from pureflow.report import ReportSink

MISSING_OTEL = "--otel needs the pureflow-otel package: install `pureflow-cli[otel]`"


def otel_sink() -> MetadataSink:
    """A sink configured from the ``OTEL_*`` variables (see :mod:`pureflow.otel`)."""
    try:
        from pureflow.otel import OpenTelemetryConfigError, sink_from_environment
    except ImportError:
        raise CliError(MISSING_OTEL) from None
    try:
        return sink_from_environment()
    except OpenTelemetryConfigError as err:
        raise CliError(f"--otel: {err}") from None


def report_sink() -> ReportSink:
    """A sink that builds the run report live."""
    from pureflow.cli.run_report import require_report

    require_report()
    from pureflow.report import ReportSink

    return ReportSink()


def run_observers(*, otel: bool, report: bool) -> tuple[list[MetadataSink], ReportSink | None]:
    """The sinks asked for, and the report sink among them (None without ``--report``)."""
    observers: list[MetadataSink] = []
    live = report_sink() if report else None
    if live is not None:
        observers.append(live)
    if otel:
        observers.append(otel_sink())
    return observers, live
