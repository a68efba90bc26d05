"""The exit codes of ``pureflow``, one meaning each.

==== =====================================================================
code meaning
==== =====================================================================
0    success (for ``run``: the workflow completed)
1    an error before or around the run: bad input, unreadable file, bad binding,
     metadata that could not be written (the file ends on its last complete line)
2    usage error (unknown option, missing argument)
3    ``run``: the workflow ran and failed (a node failed, or the watchdog fired)
4    ``run``: the workflow was cancelled (every error was a cancellation)
130  interrupted by Ctrl-C (SIGINT), at any moment; a metadata file ends on a complete line
143  interrupted by SIGTERM, likewise
==== =====================================================================
"""

from __future__ import annotations

from typing import Final

OK: Final = 0
ERROR: Final = 1
USAGE: Final = 2
RUN_FAILED: Final = 3
RUN_CANCELLED: Final = 4
INTERRUPTED: Final = 130
TERMINATED: Final = 143
