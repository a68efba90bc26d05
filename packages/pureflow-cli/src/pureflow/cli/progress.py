"""Live progress for ``pureflow run`` on a terminal, and the final per-node table.

While a run goes on, :class:`RunProgress` redraws (on stderr, a few times a second) each
node's state, packets in and out and duration, and each edge's packets moved and queue
depth. It is the run's ``on_progress`` callback (:func:`pureflow.engine.run`): it reads the
run's live :class:`~pureflow.engine.RunView` on the run's own event loop, so it needs no
locks and no thread. The display is transient: when the run ends it is replaced by one
final table of per-node states, counts and durations.

:func:`live_progress_wanted` decides whether to show it at all: only when stderr is a
terminal, ``--quiet`` was not given, the metadata stream is not being written to the same
terminal, and no diagnostic logging writes to stderr. Rendering uses `rich
<https://rich.readthedocs.io/>`_; ids are always passed as :class:`rich.text.Text`, so
brackets in them are never read as markup.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pureflow.engine import RunView
    from rich.console import Console, RenderableType
    from rich.live import Live
    from rich.table import Table

_log = logging.getLogger("pureflow.cli")

REFRESH_PER_SECOND = 4.0
STATE_STYLES = {
    "scheduled": "dim",
    "running": "bold cyan",
    "completed": "green",
    "failed": "bold red",
    "cancelled": "yellow",
}
# Which rows to keep when a table does not fit the terminal: the lowest rank first.
_STATE_RANK = {"failed": 0, "running": 1, "cancelled": 2, "scheduled": 3, "completed": 4}
_FIXED_LINES = 8  # header, blank lines, two heading lines per table, a spare line


def _is_terminal(stream: IO[Any] | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def _logs_to_stderr() -> bool:
    """True when ``PUREFLOW_TRACE`` (or the like) switched diagnostic logging on."""
    handlers = logging.getLogger("pureflow").handlers
    return any(not isinstance(handler, logging.NullHandler) for handler in handlers)


def live_progress_wanted(
    *,
    quiet: bool,
    metadata: str | None,
    stderr: IO[Any] | None = None,
    stdout: IO[Any] | None = None,
) -> bool:
    """Whether ``pureflow run`` shows live progress (``stderr``/``stdout`` default to the
    process's own)."""
    if quiet or os.environ.get("TERM") == "dumb":
        return False
    if not _is_terminal(sys.stderr if stderr is None else stderr):
        return False
    if metadata == "-" and _is_terminal(sys.stdout if stdout is None else stdout):
        return False  # the JSONL stream shares the screen
    return not _logs_to_stderr()


def format_duration(seconds: float | None) -> str:
    """``0.42s``, ``12.3s``, ``2m05s``, ``1h02m``; ``-`` when the node has not started."""
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def node_counts(view: RunView) -> dict[str, tuple[int, int]]:
    """Node id -> (packets received on its input edges, packets sent on its outputs)."""
    counts = {str(node.id): [0, 0] for node in view.workflow.nodes}
    if view.edges is not None:
        definitions = view.workflow.edges
        for depth in view.edges.edge_depths():
            edge = definitions[_int(depth["edge_index"])]
            counts[str(edge.target.node_id)][0] += _int(depth.get("received", 0))
            counts[str(edge.source.node_id)][1] += _int(depth.get("moved", 0))
    return {node: (received, sent) for node, (received, sent) in counts.items()}


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def _keep(ranks: Sequence[int], budget: int) -> tuple[list[int], int]:
    """The row positions to show when only ``budget`` rows fit (lowest rank first, then
    declaration order; shown in declaration order), and how many are left out."""
    if len(ranks) <= budget:
        return list(range(len(ranks))), 0
    shown = max(budget - 1, 1)  # one line says how many are left out
    kept = sorted(sorted(range(len(ranks)), key=lambda i: (ranks[i], i))[:shown])
    return kept, len(ranks) - len(kept)


class RunProgress:
    """The live display of one run, and its final report, on ``console``."""

    def __init__(
        self,
        console: Console,
        *,
        refresh_per_second: float = REFRESH_PER_SECOND,
        redirect_stdout: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console
        self.refresh_per_second = refresh_per_second
        self.redirect_stdout = redirect_stdout
        self.clock = clock
        self.started_at: float | None = None
        self.shown = False
        self._live: Live | None = None

    @classmethod
    def on_stderr(cls) -> RunProgress:
        """A display on this process's stderr; what nodes print to stdout goes above it
        when stdout is the same terminal."""
        from rich.console import Console

        return cls(
            Console(stderr=True, highlight=False),
            redirect_stdout=_is_terminal(sys.stdout),
        )

    # --- the live display ------------------------------------------------------------

    @property
    def interval(self) -> float:
        """Seconds between two redraws (read by the run that calls this display)."""
        return 1 / self.refresh_per_second

    def __call__(self, view: RunView) -> None:
        """The run's ``on_progress`` callback: start the live display on the first call,
        redraw on every call, and replace it with the final report on the last one
        (``view.finished``). A display problem is logged, never raised: it must not end
        the run."""
        try:
            if view.finished:
                self.finish(view)
                return
            if self._live is None:
                self._start(view)
            else:
                self._live.update(self.renderable(view), refresh=True)
        except Exception:
            _log.warning("live progress display failed", exc_info=True)
            self._stop()

    def _start(self, view: RunView) -> None:
        from rich.live import Live

        self.started_at = self.clock()
        self._live = Live(
            self.renderable(view),
            console=self.console,
            auto_refresh=False,  # redrawn from the run's loop: no thread reads its state
            transient=True,
            redirect_stdout=self.redirect_stdout,
            redirect_stderr=True,
            vertical_overflow="crop",
        )
        self._live.start(refresh=True)
        self.shown = True

    def _stop(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.stop()

    def renderable(self, view: RunView) -> RenderableType:
        """One frame: a header line, the nodes table and the edges table, cut to fit."""
        from rich.console import Group
        from rich.text import Text

        height = self.console.size.height
        nodes, edges = len(view.workflow.nodes), len(view.workflow.edges)
        budget = max(height - _FIXED_LINES, 2)
        if nodes + edges <= budget:
            node_budget, edge_budget = nodes, edges
        else:  # share the lines, half each at least when both need more
            node_budget = min(nodes, max(budget // 2, budget - edges))
            edge_budget = max(budget - node_budget, 1)
        return Group(
            self._header(view),
            Text(""),
            self.nodes_table(view, budget=node_budget),
            Text(""),
            self.edges_table(view, budget=edge_budget),
        )

    def _header(self, view: RunView) -> RenderableType:
        from rich.text import Text

        states = [status.state.value for status in view.statuses.values()]
        elapsed = 0.0 if self.started_at is None else self.clock() - self.started_at
        moved = 0 if view.edges is None else view.edges.messages_moved()
        header = Text()
        header.append(str(view.workflow.id), style="bold")
        header.append(f"  {format_duration(elapsed)}  ")
        parts = [
            Text(f"{states.count(state)} {state}", style=STATE_STYLES[state])
            for state in STATE_STYLES
            if states.count(state)
        ]
        header.append_text(Text(", ").join(parts))
        header.append(f"  {moved} packets moved")
        return header

    def nodes_table(self, view: RunView, *, budget: int | None = None) -> Table:
        """Node, state, packets in and out, duration (``budget`` rows at most)."""
        from rich import box
        from rich.table import Table
        from rich.text import Text

        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("node", overflow="fold")
        table.add_column("state")
        table.add_column("in", justify="right")
        table.add_column("out", justify="right")
        table.add_column("duration", justify="right")
        statuses = list(view.statuses.values())
        counts = node_counts(view)
        ranks = [_STATE_RANK[status.state.value] for status in statuses]
        kept, left_out = _keep(ranks, len(ranks) if budget is None else budget)
        for index in kept:
            status = statuses[index]
            state = status.state.value
            received, sent = counts[status.node_id]
            table.add_row(
                Text(status.node_id),
                Text(state, style=STATE_STYLES[state]),
                str(received),
                str(sent),
                format_duration(status.duration),
            )
        if left_out:
            table.add_row(Text(f"... {left_out} more nodes", style="dim"), "", "", "", "")
        return table

    def edges_table(self, view: RunView, *, budget: int | None = None) -> Table:
        """Edge, packets moved, queued/capacity (``budget`` rows at most)."""
        from rich import box
        from rich.table import Table
        from rich.text import Text

        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("edge", overflow="fold")
        table.add_column("moved", justify="right")
        table.add_column("queued", justify="right")
        depths = [] if view.edges is None else view.edges.edge_depths()
        # Busy edges first: full ones, then any with packets waiting, then the rest.
        ranks = [
            0
            if _int(d["queued_count"]) >= _int(d["capacity"])
            else (1 if _int(d["queued_count"]) else 2)
            for d in depths
        ]
        kept, left_out = _keep(ranks, len(ranks) if budget is None else budget)
        for index in kept:
            depth = depths[index]
            queued, capacity = _int(depth["queued_count"]), _int(depth["capacity"])
            style = "bold yellow" if queued >= capacity else ("" if queued else "dim")
            table.add_row(
                Text(f"{depth['source']} → {depth['target']}"),
                str(_int(depth.get("moved", 0))),
                Text(f"{queued}/{capacity}", style=style),
            )
        if left_out:
            table.add_row(Text(f"... {left_out} more edges", style="dim"), "", "")
        return table

    # --- the end -------------------------------------------------------------------------

    def final_report(self, view: RunView) -> RenderableType:
        """The workflow's terminal state, every node's final state, packets in and out
        and duration, and the totals."""
        from rich.console import Group
        from rich.text import Text

        moved = 0 if view.edges is None else view.edges.messages_moved()
        elapsed = None if self.started_at is None else self.clock() - self.started_at
        state = view.summary.terminal_state.label
        title = Text()
        title.append(str(view.workflow.id), style="bold")
        title.append(": ")
        title.append(state, style=STATE_STYLES.get(state, ""))
        totals = Text(
            f"{len(view.workflow.nodes)} nodes, {len(view.workflow.edges)} edges, "
            f"{moved} packets moved, {format_duration(elapsed)}"
        )
        return Group(title, self.nodes_table(view), totals, Text(""))

    def finish(self, view: RunView) -> None:
        """Close the live display and print the final report, if the display was shown."""
        self._stop()
        if self.shown:
            self.console.print(self.final_report(view))
