"""The Pureflow standard component library.

Every component here is a class declared with :func:`pureflow.core.component`: ports,
a config JSON Schema, effects and a description. Bind one from a workflow document with
``"component": "builtin:<name>"`` (names below) and its settings in ``"config"``.
:func:`catalog` returns them all by name; they are also published under the
``pureflow.components`` entry point group.

Payload conventions: a text line, a JSON Lines record and a CSV row each travel as one
*control* payload (a JSON value: a string for a line, an object for a record or a row
with a header, an array of strings for a row without one). Callables (``map``,
``filter``, ``split``) see a payload's value: the JSON value of a control payload, the
``bytes`` of a byte payload, the object of a structured payload.

============  =================================================================
module        components
============  =================================================================
``files``     ``read-lines``, ``write-lines``, ``read-jsonl``, ``write-jsonl``,
              ``read-csv``, ``write-csv``
``generate``  ``sequence``
``transform`` ``map``, ``filter``
``routing``   ``split``, ``merge``, ``tee``
``windowing`` ``batch``
``flow_control`` ``rate-limit``, ``delay``
``dedupe``    ``dedupe``
``count``     ``count``
``collect``   ``collect``
``printing``  ``print``
``connectors`` ``sql-read``, ``sql-write``, ``http-request``, ``http-source``,
              ``watch-folder`` (each needs an extra: see :mod:`pureflow.nodes.connectors`)
============  =================================================================
"""

from __future__ import annotations

from pureflow.core import Component, component_of
from pureflow.nodes.collect import Collect
from pureflow.nodes.connectors import HttpRequest, HttpSource, SqlRead, SqlWrite, WatchFolder
from pureflow.nodes.count import Count
from pureflow.nodes.dedupe import Dedupe
from pureflow.nodes.files import ReadCsv, ReadJsonl, ReadLines, WriteCsv, WriteJsonl, WriteLines
from pureflow.nodes.flow_control import Delay, RateLimit
from pureflow.nodes.generate import Sequence
from pureflow.nodes.printing import Print
from pureflow.nodes.routing import Merge, Split, Tee
from pureflow.nodes.transform import Filter, Map
from pureflow.nodes.windowing import Batch

COMPONENT_CLASSES: tuple[type, ...] = (
    ReadLines,
    WriteLines,
    ReadJsonl,
    WriteJsonl,
    ReadCsv,
    WriteCsv,
    Sequence,
    Map,
    Filter,
    Split,
    Merge,
    Tee,
    Batch,
    RateLimit,
    Delay,
    Dedupe,
    Count,
    Collect,
    Print,
    SqlRead,
    SqlWrite,
    HttpRequest,
    HttpSource,
    WatchFolder,
)
"""Every standard component class, in documentation order."""


def catalog() -> dict[str, Component]:
    """Every standard component by name (``"read-lines"``, ``"map"``, ...), sorted.

    The same :class:`~pureflow.core.Component` objects the entry points publish, so
    merging this with discovered components reports no clash.
    """
    found: dict[str, Component] = {}
    for cls in COMPONENT_CLASSES:
        item = component_of(cls)
        assert item is not None, cls
        found[item.name] = item
    return dict(sorted(found.items()))


__all__ = [
    "COMPONENT_CLASSES",
    "Batch",
    "Collect",
    "Count",
    "Dedupe",
    "Delay",
    "Filter",
    "HttpRequest",
    "HttpSource",
    "Map",
    "Merge",
    "Print",
    "RateLimit",
    "ReadCsv",
    "ReadJsonl",
    "ReadLines",
    "Sequence",
    "Split",
    "SqlRead",
    "SqlWrite",
    "Tee",
    "WatchFolder",
    "WriteCsv",
    "WriteJsonl",
    "WriteLines",
    "catalog",
]
