"""How fast this machine's file system takes a stream of JSONL-sized writes.

    python benchmarks/write_throughput.py [--mb 812 3600] [--dir DIR]

The ceiling of the ``metadata-jsonl`` rows: for each amount, writes that many megabytes
(10**6 bytes) in 64 KiB chunks, the size ``JsonlMetadataSink`` writes per flush, to a new
file in a temporary directory (where the JSONL rows write theirs), closes it, deletes it
and prints the time and MB/s. Nothing else happens per chunk, so a recorder that cost
nothing but its writes could not go faster. The defaults are what one 200,000-packet
JSONL row writes: about 812 MB on ``linear-3`` (14 records of about 290 bytes per packet)
and 3,600 MB on ``linear-10`` (63 records per packet).

Once dirty pages pass the kernel's writeback thresholds (``/proc/sys/vm/dirty_*``), a
writer is throttled to what the disk sustains, so large amounts can be much slower per
megabyte than small ones.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

CHUNK = 64 * 1024


def write_seconds(directory: str, megabytes: int) -> float:
    """Seconds to write ``megabytes`` MB in :data:`CHUNK`-byte writes and close the file."""
    chunk = b"x" * CHUNK
    path = os.path.join(directory, "write-throughput.bin")
    try:
        start = time.perf_counter()
        with open(path, "wb") as stream:
            for _ in range(megabytes * 1_000_000 // CHUNK):
                stream.write(chunk)
        return time.perf_counter() - start
    finally:
        os.unlink(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, nargs="+", default=[812, 3600], help="amounts in MB")
    parser.add_argument("--dir", default=None, help="where to write (default: a temporary dir)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=options.dir, prefix="pureflow-write-") as directory:
        for megabytes in options.mb:
            seconds = write_seconds(directory, megabytes)
            print(f"{megabytes:>6,} MB in {seconds:6.2f} s: {megabytes / seconds:>7,.0f} MB/s")


if __name__ == "__main__":
    main()
