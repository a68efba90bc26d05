"""A Pureflow run as one self-contained HTML report.

* :func:`read_metadata` / :func:`read_stream`: a metadata JSONL file (or binary stream)
  into a :class:`RunData`, streamed in bounded memory (:mod:`pureflow.report.jsonl`);
* :class:`ReportSink`: the same :class:`RunData`, built live as a metadata sink during a
  run (:mod:`pureflow.report.live`);
* :func:`write_html` / :func:`render_html`: the page (:mod:`pureflow.report.html`):
  summary figures, the graph (an SVG drawing you pass in), the timeline of node
  lifetimes, queue depth over time, edges, errors and the deadlock diagnostic;
* :func:`edge_label`, :func:`node_fill`: how edges and nodes are labelled and coloured,
  for whoever draws the graph (``pureflow report`` draws it with Graphviz).

Every record goes through the handlers of :mod:`pureflow.report.records`.
"""

from pureflow.report.html import render_html, write_html
from pureflow.report.jsonl import MetadataReadError, read_metadata, read_stream
from pureflow.report.live import ReportSink
from pureflow.report.model import EdgeFacts, ErrorFacts, NodeFacts, PortFacts, RunData
from pureflow.report.series import DepthSeries
from pureflow.report.style import OUTCOME_COLORS, OUTCOME_FILLS, edge_label, node_fill

__all__ = [
    "OUTCOME_COLORS",
    "OUTCOME_FILLS",
    "DepthSeries",
    "EdgeFacts",
    "ErrorFacts",
    "MetadataReadError",
    "NodeFacts",
    "PortFacts",
    "ReportSink",
    "RunData",
    "edge_label",
    "node_fill",
    "read_metadata",
    "read_stream",
    "render_html",
    "write_html",
]
