"""The exit codes of ``pureflow``, one meaning each.

==== =====================================================================
code meaning
==== =====================================================================
0    success (for ``run``: the workflow completed)
1    an error before or around the run: bad input, unreadable file, bad binding
2    usage error (unknown option, missing argument)
3    ``run``: the workflow ran and failed (a node failed, or the watchdog fired)
4    ``run``: the workflow was cancelled (every error was a cancellation)
130  ``run``: interrupted by Ctrl-C (SIGINT) or SIGTERM; the metadata file is complete
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
