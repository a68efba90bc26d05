"""Pureflow runs as OpenTelemetry traces and metrics.

:class:`OpenTelemetryMetadataSink` is a metadata sink: give it to a run (alone, or beside
a JSONL sink in a :class:`~pureflow.core.CompositeMetadataSink`) and it reports a span per
run and per node and per-edge metrics through ``opentelemetry-api``, to whatever SDK and
exporters the application configured (:mod:`pureflow.otel.sink`).
:func:`sink_from_environment` configures one the standard way, from the ``OTEL_*``
variables (:mod:`pureflow.otel.environment`); ``pureflow run --otel`` uses it.
"""

from pureflow.otel.environment import OpenTelemetryConfigError, sink_from_environment
from pureflow.otel.sink import INSTRUMENTATION_NAME, OpenTelemetryMetadataSink

__all__ = [
    "INSTRUMENTATION_NAME",
    "OpenTelemetryConfigError",
    "OpenTelemetryMetadataSink",
    "sink_from_environment",
]
