"""``pureflow run``: run a workflow, stream its metadata, print its summary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pureflow.cli import exit_codes
from pureflow.cli.errors import CliError
from pureflow.cli.loading import load
from pureflow.cli.output import echo_text, pretty_json
from pureflow.cli.paths import DOCUMENT, INPUT_FILE, OUTPUT_FILE

if TYPE_CHECKING:
    from pureflow.engine import RunSummary
    from pureflow.workflow import WorkflowDefinition


@click.command(
    "run",
    help=(
        "Run a workflow and write metadata JSONL. METADATA is a file path, `-` for stdout, "
        "or omitted for none. Exit codes: 0 completed, 1 error before the run (or metadata "
        "that could not be written), 3 failed, 4 cancelled, 130 interrupted by SIGINT, 143 "
        "by SIGTERM."
    ),
)
@click.option("--json", "as_json", is_flag=True, help="Emit a machine-facing JSON summary.")
@click.option(
    "--wasm-components",
    "manifest_path",
    metavar="COMPONENTS",
    type=INPUT_FILE,
    help="Path to a WASM component manifest JSON file.",
)
@click.option(
    "--execution-id", default="cli-run-1", show_default=True, help="Execution id of this run."
)
@click.option(
    "--watchdog",
    "watchdog_seconds",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Fail the run when no packet moves and no node finishes for this long.",
)
@click.option(
    "--on-error",
    type=click.Choice(["fail-fast", "continue"]),
    default="fail-fast",
    show_default=True,
    help="Cancel every node on the first error, or let the others run on.",
)
@click.option(
    "--metadata-tier",
    default="all",
    show_default=True,
    metavar="all|control|sample:N|stats[:S]",
    help="Which records to keep: all, lifecycle and errors only, every Nth data record, or "
    "per-edge statistics every S seconds instead of records per packet (large runs).",
)
@click.option("--timestamps", is_flag=True, help="Add a sequence number and wall-clock timestamp.")
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help=(
        "No live progress. (Progress is shown on stderr only when it is a terminal, "
        "then replaced by a table of per-node states, packet counts and durations.)"
    ),
)
@click.option(
    "--traceback",
    "show_traceback",
    is_flag=True,
    help="Print the full traceback of every node whose own code raised.",
)
@click.option(
    "--otel",
    is_flag=True,
    help="Also send the run to OpenTelemetry (a span per node, per-edge metrics), set up by "
    "the standard OTEL_* variables. Needs `pureflow-cli[otel]`.",
)
@click.option(
    "--report",
    "report_path",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the run report (one HTML file) to FILE when the run ends. Needs "
    "`pureflow-cli[report]`.",
)
@click.option(
    "--backend",
    "backend_name",
    default="inprocess",
    show_default=True,
    metavar="NAME",
    help="Where the nodes run: inprocess, or ray (on a Ray cluster; needs `pureflow-cli[ray]`).",
)
@click.option(
    "--address",
    metavar="ADDR|auto",
    help="With --backend ray: the Ray cluster to join and leave running (default: start a "
    "local Ray for this run and stop it after).",
)
@click.argument("workflow", metavar="WORKFLOW", type=DOCUMENT)
@click.argument("metadata", metavar="METADATA", required=False, type=OUTPUT_FILE)
def command(
    *,
    workflow: str,
    metadata: str | None,
    as_json: bool,
    manifest_path: str | None,
    execution_id: str,
    watchdog_seconds: float | None,
    on_error: str,
    metadata_tier: str,
    timestamps: bool,
    quiet: bool,
    show_traceback: bool,
    otel: bool,
    report_path: Path | None,
    backend_name: str,
    address: str | None,
) -> None:
    """Run WORKFLOW; nodes without a ``component`` run the original's demo executor."""
    from pureflow.cli.binding import bind, input_files
    from pureflow.cli.interrupts import INTERRUPTS
    from pureflow.cli.metadata_output import MetadataOutput, parse_tier, refuse_overwriting
    from pureflow.cli.progress import RunProgress, live_progress_wanted
    from pureflow.cli.supervise import run_interruptibly
    from pureflow.core import ExecutionMetadata
    from pureflow.engine import FailurePolicy, RunPolicy
    from pureflow.types import IdentifierError

    if as_json and metadata == "-":
        raise click.UsageError("--json and METADATA `-` would both write to stdout")
    try:
        execution = ExecutionMetadata.first_attempt(execution_id)
    except IdentifierError as err:
        raise click.BadParameter(str(err), param_hint="--execution-id") from None
    tier = parse_tier(metadata_tier)
    backend = _backend(backend_name, address)
    definition = load(workflow)
    registry = bind(definition, workflow, manifest_path=manifest_path)
    inputs = input_files(registry, workflow, manifest_path)
    refuse_overwriting(metadata, inputs, "metadata")
    refuse_overwriting(report_path, inputs, "the report")
    policy = RunPolicy(
        watchdog_seconds=watchdog_seconds,
        failure=FailurePolicy.FAIL_FAST
        if on_error == "fail-fast"
        else FailurePolicy.CONTINUE_ON_ERROR,
    )
    from pureflow.cli.observers import run_observers

    observers, live_report = run_observers(otel=otel, report=report_path is not None)
    output = MetadataOutput(metadata, tier, timestamps=timestamps, observers=observers)
    wanted = live_progress_wanted(quiet=quiet, metadata=metadata)
    progress = RunProgress.on_stderr() if wanted else None
    from pureflow.engine import BackendError

    try:
        outcome = run_interruptibly(
            definition, registry, execution, policy, output.sink, progress=progress, backend=backend
        )
    except BackendError as err:
        raise CliError(str(err)) from None
    finally:
        with INTERRUPTS.deferred():
            output.close()
    with INTERRUPTS.deferred():
        summary = outcome.summary
        if as_json:
            report = _json_report(definition, summary, output.label, output.record_count)
            echo_text(pretty_json(report))
        else:
            text = _text_report(definition, summary, output.label, output.record_count)
            click.echo(text, nl=False, err=metadata == "-")
            _report_errors(summary, output.failure_line(), show_traceback=show_traceback)
        for warning in [*summary.warnings, *output.warnings]:
            click.echo(f"warning: {warning}", err=True)
        if live_report is not None and report_path is not None:
            from pureflow.cli.run_report import write_report

            write_report(live_report.run, definition, report_path)
    raise SystemExit(
        _exit_code(
            summary,
            signal_exit=None if outcome.signum is None else 128 + outcome.signum,
            metadata_failed=output.failure is not None,
        )
    )


def _backend(name: str, address: str | None) -> Any:
    """The execution backend ``--backend`` names (its package imported only now)."""
    from pureflow.engine import BackendNotFound, load_backend

    if address is not None and name == "inprocess":
        raise click.UsageError("--address needs a backend that joins a cluster (--backend ray)")
    try:
        return load_backend(name, **({} if address is None else {"address": address}))
    except BackendNotFound as err:
        raise CliError(str(err)) from None


def _report_errors(
    summary: RunSummary, metadata_failure: str | None, *, show_traceback: bool
) -> None:
    """``error: node `x`: ...`` on stderr, then either every traceback of node code that
    raised (``--traceback``) or one line saying how to get them. When the metadata could
    not be written, that is the error line (the nodes failed because of it)."""
    import traceback

    from pureflow.core import MetadataError

    error = summary.first_error
    if metadata_failure is not None:
        click.echo(f"error: {metadata_failure}", err=True)
        if error is None or isinstance(error, MetadataError):
            return
    if error is None:
        return
    where = f"node `{summary.first_error_node}`: " if summary.first_error_node else ""
    click.echo(f"error: {where}{error}", err=True)
    raised = {
        node: err.__cause__
        for node, err in summary.node_errors.items()
        if err.__cause__ is not None and err.__cause__.__traceback__ is not None
    }
    if not raised:
        return
    if not show_traceback:
        click.echo(
            "hint: run with --traceback (or set PUREFLOW_TRACE=error) for the full traceback",
            err=True,
        )
        return
    for node, cause in raised.items():
        click.echo(f"\ntraceback of node `{node}`:", err=True)
        click.echo("".join(traceback.format_exception(cause)).rstrip("\n"), err=True)


def _exit_code(summary: RunSummary, *, signal_exit: int | None, metadata_failed: bool) -> int:
    from pureflow.engine import TerminalState

    if signal_exit is not None:
        return signal_exit
    if metadata_failed:
        return exit_codes.ERROR
    state = summary.terminal_state
    if state is TerminalState.COMPLETED:
        return exit_codes.OK
    return exit_codes.RUN_CANCELLED if state is TerminalState.CANCELLED else exit_codes.RUN_FAILED


def _text_report(
    definition: WorkflowDefinition, summary: RunSummary, metadata: str, records: int
) -> str:
    """The original's five lines, plus the status line it lacked, and a ``fuel`` line when
    WebAssembly nodes ran (the fuel each one's guest used)."""
    fuel = {node: usage["fuel"] for node, usage in summary.node_usage.items() if "fuel" in usage}
    fuel_line = (
        "fuel: " + ", ".join(f"{node} {used:,}" for node, used in fuel.items()) + "\n"
        if fuel
        else ""
    )
    return (
        f"ran workflow `{definition.id}`\n"
        f"nodes: {len(definition.nodes)}\n"
        f"edges: {len(definition.edges)}\n"
        f"metadata: {metadata}\n"
        f"records: {records}\n"
        f"{fuel_line}"
        f"status: {summary.terminal_state.label}\n"
    )


def _json_report(
    definition: WorkflowDefinition, summary: RunSummary, metadata: str, records: int
) -> dict[str, Any]:
    """The original's ``run --json`` object (keys are sorted when printed)."""
    first_error = None if summary.first_error is None else summary.first_error.to_json()
    return {
        "status": summary.terminal_state.label,
        "error": first_error,
        "workflow": {
            "id": str(definition.id),
            "node_count": len(definition.nodes),
            "edge_count": len(definition.edges),
        },
        "metadata": {"path": metadata, "record_count": records},
        "summary": summary.to_json(),
    }


__all__ = ["CliError", "command"]
