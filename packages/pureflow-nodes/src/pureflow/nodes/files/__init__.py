"""File components: read and write text lines, JSON Lines and CSV, streaming.

Readers emit one control payload per line, record or row, reading a chunk at a time in
a worker thread; writers buffer and write in worker threads, replacing the target
atomically when their input ends (or appending). Paths in config are relative to the
workflow file's folder. Every reader declares ``filesystem_read``, every writer
``filesystem_write``.
"""

from pureflow.nodes.files.delimited import ReadCsv, WriteCsv
from pureflow.nodes.files.jsonl import ReadJsonl, WriteJsonl
from pureflow.nodes.files.lines import ReadLines, WriteLines

__all__ = ["ReadCsv", "ReadJsonl", "ReadLines", "WriteCsv", "WriteJsonl", "WriteLines"]
