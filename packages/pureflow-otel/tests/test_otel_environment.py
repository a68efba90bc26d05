"""``sink_from_environment``: the ``OTEL_*`` variables choose the exporters."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pureflow.core import ExecutionMetadata, LifecycleEventKind, LifecycleRecord, NodeContext
from pureflow.otel import OpenTelemetryConfigError, sink_from_environment

CONSOLE_RUN = """
from pureflow.core import ExecutionMetadata, LifecycleEventKind, LifecycleRecord, NodeContext
from pureflow.otel import sink_from_environment
sink = sink_from_environment()
context = NodeContext("flow", "node", ExecutionMetadata.first_attempt("run-1"))
sink.record(LifecycleRecord(LifecycleEventKind.NODE_STARTED, context))
sink.record(LifecycleRecord(LifecycleEventKind.NODE_COMPLETED, context))
sink.close()  # shuts the providers down: the batch processor exports
"""


def test_the_console_exporter_prints_the_run() -> None:
    # A child process: the console exporter binds the process's stdout when imported.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(OTEL_TRACES_EXPORTER="console", OTEL_METRICS_EXPORTER="console")
    done = subprocess.run(
        [sys.executable, "-c", CONSOLE_RUN],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert '"name": "pureflow node node"' in done.stdout
    assert '"name": "pureflow run flow"' in done.stdout
    assert '"service.name": "pureflow"' in done.stdout
    assert '"name": "pureflow.node.duration"' in done.stdout  # the metrics exporter too


def test_an_exporter_that_is_not_installed_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "nonesuch")
    with pytest.raises(
        OpenTelemetryConfigError, match="OTEL_TRACES_EXPORTER names exporter `nonesuch`"
    ):
        sink_from_environment()


def test_sdk_disabled_exports_nothing(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    sink = sink_from_environment()
    context = NodeContext("flow", "node", ExecutionMetadata.first_attempt("run-1"))
    sink.record(LifecycleRecord(LifecycleEventKind.NODE_STARTED, context))
    sink.close()
    assert capfd.readouterr().out == ""
