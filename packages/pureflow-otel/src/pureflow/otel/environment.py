"""An OpenTelemetry sink configured the standard way: from the ``OTEL_*`` variables.

:func:`sink_from_environment` uses the global providers when an SDK has already set them
(for example under ``opentelemetry-instrument``); otherwise it builds SDK providers
itself, which needs ``opentelemetry-sdk`` installed:

* ``OTEL_SDK_DISABLED=true``: nothing is exported (a sink on the no-op providers);
* ``OTEL_TRACES_EXPORTER`` / ``OTEL_METRICS_EXPORTER``: comma-separated exporter names
  (default ``otlp``; ``none`` for no exporter), found by the entry points the exporter
  packages register (``console`` comes with the SDK, ``otlp`` with
  ``opentelemetry-exporter-otlp``), each configured by its own variables
  (``OTEL_EXPORTER_OTLP_ENDPOINT`` and friends);
* ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES``: the resource (the service name
  defaults to ``pureflow``).

The sink then owns those providers: closing it exports what they hold and shuts them down.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from typing import Any

from opentelemetry import metrics, trace
from pureflow.otel.sink import OpenTelemetryMetadataSink

DEFAULT_SERVICE_NAME = "pureflow"


class OpenTelemetryConfigError(RuntimeError):
    """The ``OTEL_*`` configuration cannot be honoured (no SDK, an unknown exporter)."""


def _configured_globally() -> bool:
    """Whether an SDK (not the API's default proxy) provides the global tracer."""
    provider = trace.get_tracer_provider()
    return type(provider).__name__ not in {"ProxyTracerProvider", "NoOpTracerProvider"}


def _exporters(variable: str, group: str) -> list[Any]:
    names = [n.strip() for n in os.environ.get(variable, "otlp").split(",") if n.strip()]
    found = []
    for name in names:
        if name == "none":
            continue
        matches = entry_points(group=group, name=name)
        if not matches:
            hint = " (install opentelemetry-exporter-otlp)" if name.startswith("otlp") else ""
            raise OpenTelemetryConfigError(
                f"{variable} names exporter `{name}`, which is not installed{hint}"
            )
        found.append(next(iter(matches)).load()())
    return found


def sink_from_environment() -> OpenTelemetryMetadataSink:
    """A sink on the global providers if an SDK set them, else on providers built from
    the ``OTEL_*`` variables (see the module docstring). Raises
    :class:`OpenTelemetryConfigError` when the SDK or a named exporter is missing."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return OpenTelemetryMetadataSink(
            tracer_provider=trace.NoOpTracerProvider(), meter_provider=metrics.NoOpMeterProvider()
        )
    if _configured_globally():
        return OpenTelemetryMetadataSink(
            tracer_provider=trace.get_tracer_provider(), meter_provider=metrics.get_meter_provider()
        )
    try:  # the SDK is the user's choice, not a dependency: imported only here
        from opentelemetry.sdk.metrics import MeterProvider  # noqa: PLC0415
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader  # noqa: PLC0415
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource  # noqa: PLC0415
        from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
        from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415
    except ImportError:
        raise OpenTelemetryConfigError(
            "OpenTelemetry export needs the SDK: install opentelemetry-sdk "
            "(and an exporter, such as opentelemetry-exporter-otlp)"
        ) from None
    defaults = {} if "OTEL_SERVICE_NAME" in os.environ else {SERVICE_NAME: DEFAULT_SERVICE_NAME}
    resource = Resource.create(defaults)
    tracer_provider = TracerProvider(resource=resource)
    for exporter in _exporters("OTEL_TRACES_EXPORTER", "opentelemetry_traces_exporter"):
        tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    readers = [
        PeriodicExportingMetricReader(exporter)
        for exporter in _exporters("OTEL_METRICS_EXPORTER", "opentelemetry_metrics_exporter")
    ]
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    return OpenTelemetryMetadataSink(
        tracer_provider=tracer_provider, meter_provider=meter_provider, owns_providers=True
    )
