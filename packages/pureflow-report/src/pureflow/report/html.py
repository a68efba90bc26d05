"""The report page: one self-contained HTML file.

Sections, top to bottom: summary figures; the graph (an SVG the caller drew, such as
``pureflow report``'s Graphviz drawing; a note when there is none); the timeline of node
lifetimes; queue depth over time per input port; the edges table; the errors and the
deadlock diagnostic when there are any. Charts are Plotly figures; Plotly's JavaScript
(from the ``plotly`` package, :func:`plotly.offline.get_plotlyjs`) is written into the
page once, so it opens with no network.

**The time axis.** With times (records written with ``--timestamps``, or a report made
live by ``pureflow run --report``) both charts run in seconds since the first record.
Without them they run in record numbers: a node's bar goes from its ``node_started``
record to its terminal record. That axis orders events truthfully (who started first,
who outlived whom, what overlapped), but a length counts the records written meanwhile
(mostly port operations, of every node), not seconds: a node that sleeps without touching
a port gets a short bar.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import plotly.io
from plotly.offline import get_plotlyjs
from pureflow.report.model import NodeFacts, PortFacts, RunData
from pureflow.report.style import OUTCOME_COLORS, peak_depth

MAX_TIMELINE_NODES = 400
MAX_DEPTH_PORTS = 24

_CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #212121; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 10px; color: white;
  font-size: 14px; vertical-align: middle; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.card .value { font-size: 20px; font-weight: bold; }
.card .label { font-size: 12px; color: #616161; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #616161; font-size: 13px; max-width: 900px; }
#graph svg { max-width: 100%; height: auto; }
.legend span { display: inline-block; margin-right: 14px; font-size: 13px; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px;
  vertical-align: middle; border-radius: 2px; }
pre { background: #f5f5f5; padding: 8px; overflow-x: auto; font-size: 12px; }
"""

_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _plotly_js() -> str:
    return str(get_plotlyjs())


def _figure(figure: dict[str, Any], div_id: str) -> str:
    return str(
        plotly.io.to_html(
            figure,
            include_plotlyjs=False,
            full_html=False,
            div_id=div_id,
            config=_PLOTLY_CONFIG,
            validate=True,
        )
    )


# --- sections --------------------------------------------------------------------------


def _cards(run: RunData) -> str:
    outcomes = run.outcome_counts()
    ports = list(run.ports.values())
    peak = max((p.depth.peak for p in ports if p.depth.samples), default=None)
    duration = run.duration
    cards = [
        ("nodes", f"{len(run.nodes):,}"),
        *((outcome, f"{count:,}") for outcome, count in outcomes.items()),
        ("edges with packets", f"{len(run.edges):,}"),
        ("packets moved", f"{run.moved:,}"),
        (
            "packets dropped",
            f"{sum(e.dropped for e in run.edges.values()) + run.dropped_without_edge:,}",
        ),
        ("deepest queue", "-" if peak is None else f"{peak:,}"),
        ("sends that waited (full)", f"{sum(p.waits_full for p in ports):,}"),
        ("receives that found nothing", f"{sum(p.waits_empty for p in ports):,}"),
        ("errors", f"{run.error_count:,}"),
        ("records", f"{run.records:,}"),
        ("duration", "no timestamps" if duration is None else f"{duration:.3f} s"),
    ]
    items = "".join(
        f'<div class="card"><div class="value">{_e(value)}</div>'
        f'<div class="label">{_e(label)}</div></div>'
        for label, value in cards
    )
    notes = []
    if run.unreadable:
        notes.append(f"{run.unreadable:,} lines were not metadata records and were skipped.")
    if run.truncated_line:
        notes.append(
            "The last line was cut short (the run stopped while writing it) and was skipped."
        )
    if len(run.execution_ids) > 1:
        notes.append(
            "The metadata holds several executions ("
            + ", ".join(map(_e, run.execution_ids))
            + "): their records are added together."
        )
    kinds = ", ".join(f"{_e(k)} {v:,}" for k, v in sorted(run.record_types.items()))
    notes.append(f"Records by type: {kinds}.")
    return f'<div class="cards">{items}</div>' + "".join(
        f'<p class="note">{note}</p>' for note in notes
    )


def _legend() -> str:
    return (
        '<p class="legend">'
        + "".join(
            f'<span><i style="background:{color}"></i>{_e(outcome)}</span>'
            for outcome, color in OUTCOME_COLORS.items()
        )
        + "</p>"
    )


def _graph(graph_svg: str | None, graph_note: str | None) -> str:
    parts = ['<section id="graph"><h2>Graph</h2>']
    if graph_svg is not None:
        start = graph_svg.find("<svg")
        parts.append(_legend())
        parts.append(graph_svg[start:] if start >= 0 else graph_svg)
    if graph_note:
        parts.append(f'<p class="note">{_e(graph_note)}</p>')
    parts.append("</section>")
    return "".join(parts)


def _axis(run: RunData) -> tuple[str, str]:
    if run.timed:
        return "seconds since the first record", "s"
    return "record number (no timestamps: see the note)", "record"


def _span(run: RunData, node: NodeFacts) -> tuple[float, float] | None:
    """Where a node's bar starts and ends on the axis (None: it never started)."""
    if node.started_at is None:
        return None
    if run.timed:
        first = run.first_time or 0.0
        last = run.last_time or first
        start = (node.started_time if node.started_time is not None else first) - first
        end = (node.ended_time if node.ended_time is not None else last) - first
        return start, end
    end = node.ended_at if node.ended_at is not None else run.records
    return float(node.started_at), float(end)


def _timeline(run: RunData) -> str:
    title, unit = _axis(run)
    nodes = [(node, _span(run, node)) for node in run.nodes.values()]
    started = [(n, s) for n, s in nodes if s is not None]
    shown = sorted(started, key=lambda ns: ns[1][0])
    left_out = len(shown) - MAX_TIMELINE_NODES
    shown = shown[:MAX_TIMELINE_NODES]
    total = max((s[1] for _, s in shown), default=1.0) or 1.0
    traces = []
    for outcome, color in OUTCOME_COLORS.items():
        group = [(n, s) for n, s in shown if n.outcome == outcome]
        if not group:
            continue
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": outcome,
                "y": [n.node_id for n, _ in group],
                "base": [s[0] for _, s in group],
                "x": [max(s[1] - s[0], total / 500) for _, s in group],
                "marker": {"color": color},
                "customdata": [[f"{s[0]:g}", f"{s[1]:g}", n.error or ""] for n, s in group],
                "hovertemplate": (
                    "%{y}<br>" + outcome + f"<br>{unit} %{{customdata[0]}} to "
                    "%{customdata[1]}<br>%{customdata[2]}<extra></extra>"
                ),
            }
        )
    order = [n.node_id for n, _ in shown]
    figure = {
        "data": traces,
        "layout": {
            "barmode": "overlay",
            "height": 120 + 26 * max(len(shown), 1),
            "margin": {"l": 160, "r": 20, "t": 10, "b": 50},
            "xaxis": {"title": {"text": title}, "rangemode": "tozero"},
            "yaxis": {
                "categoryorder": "array",
                "categoryarray": list(reversed(order)),
                "automargin": True,
            },
            "legend": {"orientation": "h", "y": -0.2},
        },
    }
    parts = ['<section id="timeline-section"><h2>Timeline of node lifetimes</h2>']
    if not shown:
        parts.append('<p class="note">No node started.</p>')
    else:
        parts.append(_figure(figure, "timeline"))
    if left_out > 0:
        parts.append(f'<p class="note">{left_out:,} more nodes are not drawn.</p>')
    never = [n.node_id for n, s in nodes if s is None]
    if never:
        parts.append('<p class="note">Never started: ' + ", ".join(map(_e, never[:50])) + "</p>")
    if not run.timed:
        parts.append(
            '<p class="note">These records carry no timestamps, so the axis is the record '
            "number: a bar runs from the node's <code>node_started</code> record to its "
            "terminal record. The order is true (who started first, who outlived whom, "
            "what overlapped), but a bar's length counts the records written meanwhile, "
            "mostly port operations of every node, not seconds. Run with "
            "<code>--timestamps</code>, or make the report with <code>pureflow run "
            "--report</code>, for a time axis.</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def _depth_x(run: RunData, port: PortFacts) -> list[float]:
    if run.timed:
        first = run.first_time or 0.0
        return [(b.time if b.time is not None else first) - first for b in port.depth.points]
    return [float(b.start) for b in port.depth.points]


def _depth(run: RunData) -> str:
    title, _ = _axis(run)
    ports = [p for p in run.ports.values() if p.direction == "input" and p.depth.samples]
    ports.sort(key=lambda p: (-p.depth.peak, p.name))
    left_out = len(ports) - MAX_DEPTH_PORTS
    ports = ports[:MAX_DEPTH_PORTS]
    parts = ['<section id="depth-section"><h2>Queue depth over time</h2>']
    if not ports:
        parts.append(
            '<p class="note">No queue-pressure records: the metadata tier kept none '
            "(<code>--metadata-tier control</code>), or no packet was received.</p></section>"
        )
        return "".join(parts)
    traces = []
    for port in ports:
        name = f"→ {port.name}"
        if port.edge_count > 1:
            name += f" ({port.edge_count} edges)"
        if port.capacity is not None:
            name += f", capacity {port.capacity}"
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "line": {"shape": "hv", "width": 1.5},
                "name": name,
                "x": _depth_x(run, port),
                "y": [b.peak for b in port.depth.points],
            }
        )
    figure = {
        "data": traces,
        "layout": {
            "height": 420,
            "margin": {"l": 60, "r": 20, "t": 10, "b": 50},
            "xaxis": {"title": {"text": title}, "rangemode": "tozero"},
            "yaxis": {"title": {"text": "packets waiting (peak per step)"}, "rangemode": "tozero"},
            "legend": {"orientation": "h", "y": -0.25},
        },
    }
    parts.append(_figure(figure, "depth"))
    parts.append(
        '<p class="note">Each line is an input port\'s queue (summed over its edges: one '
        "line per edge unless the port is a fan-in) as its receiver saw it, from the "
        "queue-pressure records; long runs are drawn in steps, each at its deepest.</p>"
    )
    if left_out > 0:
        parts.append(f'<p class="note">{left_out:,} quieter ports are not drawn.</p>')
    parts.append("</section>")
    return "".join(parts)


def _table(headers: Iterable[str], rows: Iterable[Iterable[tuple[object, bool]]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_e(v)}</td>' if numeric else f"<td>{_e(v)}</td>"
            for v, numeric in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _edges(run: RunData) -> str:
    rows = []
    for edge in sorted(run.edges.values(), key=lambda e: (e.source, e.target)):
        peak, shared = peak_depth(run, edge)
        port = run.input_port(edge.target)
        rows.append(
            [
                (edge.source or "(outside)", False),
                (edge.target, False),
                (f"{edge.enqueued:,}", True),
                (f"{edge.moved:,}", True),
                (f"{edge.dropped:,}", True),
                ("-" if peak is None else f"{peak}" + (" (port)" if shared else ""), True),
                ("-" if port is None or port.capacity is None else port.capacity, True),
                ("-" if port is None else f"{port.waits_empty:,}", True),
            ]
        )
    table = _table(
        ["from", "to", "entered", "moved", "dropped", "peak depth", "capacity", "empty waits"],
        rows,
    )
    return f'<section id="edges"><h2>Edges</h2>{table}</section>'


def _errors(run: RunData) -> str:
    if not run.errors:
        return ""
    rows = [
        [
            (e.position, True),
            (e.kind, False),
            (e.node_id or "(workflow)", False),
            (e.code, False),
            (e.message, False),
        ]
        for e in run.errors
    ]
    more = run.error_count - len(run.errors)
    note = f'<p class="note">{more:,} more error records are not listed.</p>' if more else ""
    table = _table(["record", "kind", "node", "code", "message"], rows)
    return f'<section id="errors"><h2>Errors</h2>{table}{note}</section>'


def _deadlock(run: RunData) -> str:
    diagnostic = run.deadlock
    if diagnostic is None:
        return ""
    scalars = [
        [(key, False), (value, False)]
        for key, value in sorted(diagnostic.items())
        if not isinstance(value, list | dict)
    ]
    parts = [
        '<section id="deadlock"><h2>Deadlock diagnostic</h2>',
        '<p class="note">The run stopped making progress; this is what the engine saw.</p>',
        _table(["field", "value"], scalars),
    ]
    blocked = diagnostic.get("blocked_nodes")
    if isinstance(blocked, list) and blocked:
        rows = [
            [
                (entry.get("node_id", ""), False),
                (", ".join(map(str, entry.get("waiting_inputs", []))), False),
                (", ".join(map(str, entry.get("waiting_outputs", []))), False),
            ]
            for entry in blocked
            if isinstance(entry, dict)
        ]
        parts.append("<h3>Blocked nodes</h3>")
        parts.append(_table(["node", "waiting to receive on", "waiting to send on"], rows))
    edges = diagnostic.get("edges")
    if isinstance(edges, list) and edges:
        rows = [
            [
                (entry.get("source", ""), False),
                (entry.get("target", ""), False),
                (entry.get("queued_count", ""), True),
                (entry.get("capacity", ""), True),
                (entry.get("moved", ""), True),
            ]
            for entry in edges
            if isinstance(entry, dict)
        ]
        parts.append("<h3>Edges when it stopped</h3>")
        parts.append(_table(["from", "to", "queued", "capacity", "moved"], rows))
    parts.append("</section>")
    return "".join(parts)


# --- the page ---------------------------------------------------------------------------


def render_html(
    run: RunData,
    *,
    title: str | None = None,
    graph_svg: str | None = None,
    graph_note: str | None = None,
) -> str:
    """The whole page as text. ``graph_svg`` is an SVG drawing of the graph (Graphviz
    output may keep its XML prolog); ``graph_note`` a sentence shown under it (or alone,
    for example why there is no drawing)."""
    workflow = ", ".join(run.workflow_ids) or "unknown workflow"
    heading = title or f"Pureflow run: {workflow}"
    status = run.status
    color = OUTCOME_COLORS.get(status, "#616161")
    body = [
        f'<h1>{_e(heading)} <span class="badge" id="status" '
        f'style="background:{color}">{_e(status)}</span></h1>',
        f'<p class="note">workflow {_e(workflow)}; execution '
        f"{_e(', '.join(run.execution_ids) or 'unknown')}</p>",
        f'<section id="summary"><h2>Summary</h2>{_cards(run)}</section>',
        _graph(graph_svg, graph_note),
        _timeline(run),
        _depth(run),
        _edges(run),
        _errors(run),
        _deadlock(run),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(heading)}</title>\n<style>{_CSS}</style>\n"
        f'<script type="text/javascript">{_plotly_js()}</script>\n'
        "</head>\n<body>\n" + "\n".join(part for part in body if part) + "\n</body>\n</html>\n"
    )


def write_html(
    run: RunData,
    path: str | Path,
    *,
    title: str | None = None,
    graph_svg: str | None = None,
    graph_note: str | None = None,
) -> Path:
    """Write :func:`render_html` to ``path`` (folders created as needed); returns it.
    Raises :class:`OSError` when it cannot be written."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render_html(run, title=title, graph_svg=graph_svg, graph_note=graph_note)
    target.write_text(text, encoding="utf-8")
    return target
