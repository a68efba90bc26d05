"""The WASM component manifest: which component file runs which node, with limits.

A manifest is JSON only: ``{"components": [{"node", "component", "fuel"?,
"memory_limit_bytes"?, "batch_size"?}]}``. Unknown fields are rejected; ``fuel`` is a
u64; ``memory_limit_bytes`` and ``batch_size`` (extensions) are integers >= 1; ``null``
means absent for the optional fields. Unlike the original, an empty ``component`` is
rejected by the parser too (the schema always said ``minLength`` 1).

:func:`parse_wasm_manifest` decodes the text, validates node ids and resolves component
paths against the manifest's directory. Checks that need the file system or a workflow
(duplicate nodes, missing files, unknown nodes) belong to the caller (the CLI's
``validate-manifest``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final

from pureflow.format.decoding import TextDecodeError, document_text, validate_model
from pureflow.format.diagnostics import ManifestError
from pureflow.format.documents import IDENTIFIER_SCHEMA, U64_MAX
from pureflow.format.json_decoder import decode_json
from pureflow.types import IdentifierError, NodeId
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

_CONFIG: Final = ConfigDict(extra="forbid", strict=True, frozen=True)


def _optional_int(minimum: int) -> Any:
    return WithJsonSchema({"type": ["integer", "null"], "minimum": minimum, "maximum": U64_MAX})


class RawWasmManifestEntry(BaseModel):
    """One manifest entry as written."""

    model_config = _CONFIG

    node: Annotated[str, WithJsonSchema(IDENTIFIER_SCHEMA)] = Field(
        description="Workflow node served by this component."
    )
    component: str = Field(
        min_length=1,
        description="Path to the component file. Relative paths resolve from the manifest "
        "directory.",
    )
    fuel: Annotated[int | None, _optional_int(0)] = Field(
        default=None,
        ge=0,
        le=U64_MAX,
        description="Optional Wasmtime fuel limit. Omit to use the runtime default.",
    )
    memory_limit_bytes: Annotated[int | None, _optional_int(1)] = Field(
        default=None,
        ge=1,
        le=U64_MAX,
        description="Extension: optional cap on the guest's linear memory, in bytes.",
    )
    batch_size: Annotated[int | None, _optional_int(1)] = Field(
        default=None,
        ge=1,
        le=U64_MAX,
        description="Extension: optional number of packets per guest invocation.",
    )


class RawWasmManifest(BaseModel):
    """A manifest as written: its list of entries."""

    model_config = _CONFIG

    components: list[RawWasmManifestEntry] = Field(
        description="WASM component entries keyed by workflow node."
    )


@dataclass(frozen=True, slots=True)
class WasmManifestEntry:
    """A validated entry: the node, the resolved component path and its limits."""

    node: NodeId
    component: Path
    fuel: int | None = None
    memory_limit_bytes: int | None = None
    batch_size: int | None = None


@dataclass(frozen=True, slots=True)
class WasmManifest:
    """A validated manifest: its entries in document order."""

    entries: tuple[WasmManifestEntry, ...]

    def entry(self, node: str) -> WasmManifestEntry | None:
        """The first entry for ``node``, or None."""
        return next((entry for entry in self.entries if entry.node == node), None)


def parse_wasm_manifest(text: str | bytes, manifest_path: str | os.PathLike[str]) -> WasmManifest:
    """Decode and validate a manifest; relative component paths join the manifest's folder.

    Raises :class:`~pureflow.format.ManifestError`:
    ``failed to decode WASM component manifest `{path}`: {problem}`` for a decode problem
    (its ``diagnostics`` list every one), and
    ``CDT-VAL-001: identifier validation failed: {reason}`` for a bad node id.
    """
    path_text = os.fspath(manifest_path)
    try:
        decoded = decode_json(document_text(text))
    except TextDecodeError as problem:
        raise _decode_error(path_text, [problem.diagnostic]) from None
    raw, problems = validate_model(RawWasmManifest, decoded)
    if raw is None:
        raise _decode_error(path_text, problems)
    base = Path(path_text).parent
    entries = []
    for item in raw.components:
        try:
            node = NodeId(item.node)
        except IdentifierError as err:
            raise ManifestError(f"CDT-VAL-001: identifier validation failed: {err}") from None
        component = Path(item.component)
        if not component.is_absolute():
            component = base / component
        entries.append(
            WasmManifestEntry(node, component, item.fuel, item.memory_limit_bytes, item.batch_size)
        )
    return WasmManifest(tuple(entries))


def _decode_error(path: str, problems: list[Any]) -> ManifestError:
    first = problems[0]
    position = f" {first.position_text}" if first.position_text else ""
    return ManifestError(
        f"failed to decode WASM component manifest `{path}`: {first.message}{position}", problems
    )
