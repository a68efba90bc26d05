"""Scripts the site serves itself, taken from the npm registry when the site is built.

The site's Mermaid diagrams must draw without a network connection (a reader offline, an
intranet copy of the site), so ``mermaid.min.js`` is served from the site instead of a CDN:
the hooks add it to every page, and Material for MkDocs, finding ``mermaid`` defined,
loads nothing from the network.

The script comes from the ``mermaid`` package's tarball on the npm registry, at a pinned
version whose integrity hash (the registry's own ``dist.integrity``) is checked before
anything is used. It is downloaded once and kept in a cache folder
(``$PUREFLOW_DOCS_CACHE``, else ``$XDG_CACHE_HOME/pureflow-docs``, else
``~/.cache/pureflow-docs``); ``$NPM_CONFIG_REGISTRY`` points at a mirror. Nothing of it is
committed to the repository.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NpmFile:
    """One file of a pinned npm package version."""

    package: str
    version: str
    integrity: str  # the registry's ``dist.integrity`` (sha512, base64)
    member: str  # the file's path inside the tarball
    site_path: str  # where the site serves it

    @property
    def tarball(self) -> str:
        name = self.package.rsplit("/", 1)[-1]
        return f"{self.package}/-/{name}-{self.version}.tgz"


MERMAID = NpmFile(
    package="mermaid",
    # Material for MkDocs 9 is written against Mermaid 11.
    version="11.17.2",
    integrity="sha512-V6K3C8EBdEsPFZXSKMJe6ppQOENxuHARr9GvHX4hh47lAbhMRD9qf4oEK7LoaRQxULMa80/qt5gHO73aCleBBg==",
    member="package/dist/mermaid.min.js",
    site_path="assets/vendor/mermaid.min.js",
)


class VendoringError(RuntimeError):
    """A vendored script could not be had (offline with an empty cache, a bad hash)."""


def cache_dir() -> Path:
    if explicit := os.environ.get("PUREFLOW_DOCS_CACHE"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pureflow-docs"


def _registry() -> str:
    return (os.environ.get("NPM_CONFIG_REGISTRY") or "https://registry.npmjs.org").rstrip("/")


def _check(data: bytes, integrity: str, what: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise VendoringError(f"{what}: {algorithm} hash {digest} is not the pinned {expected}")


def fetch(item: NpmFile) -> bytes:
    """The file's bytes, from the cache or the registry (checked against the pin)."""
    cached = cache_dir() / f"{item.package.replace('/', '_')}-{item.version}.tgz"
    if cached.is_file():
        tarball = cached.read_bytes()
    else:
        url = f"{_registry()}/{item.tarball}"
        try:
            with urllib.request.urlopen(url, timeout=120) as reply:
                tarball = reply.read()
        except OSError as err:
            raise VendoringError(
                f"cannot download {url} ({err}); the docs build needs it once, then keeps it "
                f"in {cached.parent}"
            ) from err
    _check(tarball, item.integrity, f"{item.package}@{item.version}")
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(tarball)
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        member = archive.extractfile(item.member)
        if member is None:
            raise VendoringError(f"{item.package}@{item.version} has no {item.member}")
        return member.read()
