"""Connectors: the standard components that reach outside the run.

==================  ===========================================  ==========================
module              components                                   extra (``pip install``)
==================  ===========================================  ==========================
``sql``             ``sql-read``, ``sql-write``                  ``pureflow-nodes[sql]``;
                                                                 PostgreSQL also
                                                                 ``[postgresql]``
``http_client``     ``http-request``                             ``pureflow-nodes[http]``
``http_source``     ``http-source``                              ``pureflow-nodes[http]``
``watch``           ``watch-folder``                             ``pureflow-nodes[watch]``
==================  ===========================================  ==========================

``pureflow-nodes[connectors]`` installs every one. The libraries are optional: these
modules import them only when a node is bound or runs, so ``import pureflow.nodes`` and
``pureflow components`` stay as fast as without them, and a workflow naming a connector
whose extra is missing fails to bind with one line naming the node, the component and the
``pip install`` to run.

Each connector keeps the engine's promises at the boundary: memory bounded by a chunk or a
batch, backpressure that reaches the outside world (a full edge stops the SQL reader, the
HTTP client's intake and the folder watcher, and makes the HTTP source answer ``429``),
failures that name the node and the remote thing, and nothing written half (a SQL batch
is one transaction). Credentials come from environment variables named in the config,
never from the document.
"""

from pureflow.nodes.connectors.http_client import HttpRequest
from pureflow.nodes.connectors.http_source import HttpSource
from pureflow.nodes.connectors.sql import SqlRead, SqlWrite
from pureflow.nodes.connectors.watch import WatchFolder

__all__ = ["HttpRequest", "HttpSource", "SqlRead", "SqlWrite", "WatchFolder"]
