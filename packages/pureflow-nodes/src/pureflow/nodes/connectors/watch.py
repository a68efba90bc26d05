"""``watch-folder``: a packet per file created or changed in a folder, with watchfiles
(extra ``watch``), until the run is cancelled."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any, Final

import anyio
import anyio.to_thread
from pureflow.contract import EffectCapability, RetryDisposition
from pureflow.core import (
    CancellationToken,
    ExecutionError,
    NodeConfig,
    NodeContext,
    PacketPayload,
    PortsIn,
    PortsOut,
    component,
)
from pureflow.nodes._common import object_schema, send_or_stop
from pureflow.nodes.connectors._support import require, run_until_cancelled

WAKE_MS: Final = 500
"""The watcher's thread returns at least this often (milliseconds), so that cancelling the
node's task (not only the run's token) ends it promptly."""


class _Stop:
    """What watchfiles polls between waits: set once the run's token is cancelled (the
    thread then returns within its step) or watchfiles itself sets it."""

    def __init__(self, token: CancellationToken) -> None:
        self.token = token
        self.stopped = False

    def is_set(self) -> bool:
        return self.stopped or self.token.is_cancelled()

    def set(self) -> None:
        self.stopped = True


@component(
    name="watch-folder",
    inputs=[],
    outputs=["out"],
    effects=[EffectCapability.FILESYSTEM_READ],
    retry=RetryDisposition.SAFE,
    config_schema=object_schema(
        {
            "path": {
                "type": "string",
                "minLength": 1,
                "description": "The folder to watch; relative to the workflow file's folder.",
            },
            "glob": {
                "type": "string",
                "minLength": 1,
                "default": "*",
                "description": "Which files count, matched against the path relative to "
                "the folder from the right (`*.csv` matches in every subfolder, "
                "`in/*.csv` only in `in`).",
            },
            "recursive": {
                "type": "boolean",
                "default": True,
                "description": "Watch subfolders too.",
            },
            "initial_scan": {
                "type": "boolean",
                "default": False,
                "description": "First emit every matching file already there "
                '(`"change": "existing"`), sorted by path.',
            },
            "debounce_ms": {
                "type": "integer",
                "minimum": 1,
                "default": 200,
                "description": "Changes within this many milliseconds are gathered, so a "
                "file written in several steps is reported once.",
            },
            "limit": {
                "type": "integer",
                "minimum": 1,
                "description": "Stop after this many packets. Without it, the node runs "
                "until the run is cancelled.",
            },
        },
        required=["path"],
    ),
)
class WatchFolder:
    """Emit `{"path", "relative", "change"}` for each file created (`added`) or changed
    (`modified`) in the folder whose relative path matches `glob`.

    Changes are debounced (`debounce_ms`): a burst of writes to one file is one packet,
    and a file created and then written in the same burst is `added`. Deleted files and
    folders are not reported. With `initial_scan` the files already there come first.
    A full edge holds the watcher back (changes gather meanwhile). Runs until the run is
    cancelled (or `limit` packets were sent); a missing folder fails the node.
    """

    def __init__(self, config: NodeConfig) -> None:
        require("watch-folder", "watchfiles")
        self.folder = config.resolve_path(config["path"])
        self.glob = str(config.get("glob", "*"))
        self.recursive = bool(config.get("recursive", True))
        self.initial_scan = bool(config.get("initial_scan", False))
        self.debounce_ms = int(config.get("debounce_ms", 200))
        limit = config.get("limit")
        self.limit = None if limit is None else int(limit)

    def _relative(self, path: str | Path) -> str | None:
        """``path`` relative to the folder when it is a file that matches, else None."""
        try:
            relative = PurePosixPath(Path(path).relative_to(self.folder).as_posix())
        except ValueError:
            return None
        if not self.recursive and len(relative.parts) != 1:
            return None
        if not relative.match(self.glob) or not os.path.isfile(path):
            return None
        return str(relative)

    def _existing(self) -> list[tuple[str, str]]:
        """Worker-thread side of the initial scan: (path, relative) of matching files."""
        found = []
        walker = self.folder.rglob("*") if self.recursive else self.folder.glob("*")
        for path in walker:
            relative = self._relative(path)
            if relative is not None:
                found.append((str(path), relative))
        return sorted(found, key=lambda item: item[1])

    async def run(self, ctx: NodeContext, inputs: PortsIn, outputs: PortsOut) -> None:  # noqa: ARG002
        import watchfiles

        out = outputs["out"]
        if not await anyio.to_thread.run_sync(self.folder.is_dir):
            raise ExecutionError(f"watch-folder: `{self.folder}` is not a folder")
        sent = 0

        async def emit(path: str, relative: str, change: str) -> bool:
            """Send one packet; False when the node should stop."""
            nonlocal sent
            record: dict[str, Any] = {"path": path, "relative": relative, "change": change}
            if not await send_or_stop(out, out.packet(PacketPayload.control(record))):
                return False
            sent += 1
            return self.limit is None or sent < self.limit

        async def watch() -> None:
            if self.initial_scan:
                for path, relative in await anyio.to_thread.run_sync(self._existing):
                    if not await emit(path, relative, "existing"):
                        return
            ctx.logger.info("watch-folder: watching `%s` for `%s`", self.folder, self.glob)
            async for changes in watchfiles.awatch(
                self.folder,
                debounce=self.debounce_ms,
                recursive=self.recursive,
                stop_event=_Stop(ctx.cancellation_token),  # type: ignore[arg-type]  # it only calls is_set() and set()
                rust_timeout=WAKE_MS,
            ):
                batch = await anyio.to_thread.run_sync(self._batch, changes)
                for path, relative, change in batch:
                    if not await emit(path, relative, change):
                        return

        await run_until_cancelled(ctx, watch)

    def _batch(self, changes: set[tuple[Any, str]]) -> list[tuple[str, str, str]]:
        """Worker-thread side of one debounced batch: each matching file once (``added`` wins over
        ``modified``), deletions left out, sorted by relative path."""
        import watchfiles

        kinds: dict[str, str] = {}
        for change, path in changes:
            if change == watchfiles.Change.deleted:
                continue
            label = "added" if change == watchfiles.Change.added else "modified"
            if kinds.get(path) != "added":
                kinds[path] = label
        batch = []
        for path, label in kinds.items():
            relative = self._relative(path)
            if relative is not None:
                batch.append((path, relative, label))
        return sorted(batch, key=lambda item: item[1])
