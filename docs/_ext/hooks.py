"""MkDocs hooks (mkdocs.yml ``hooks:``): the pages generated from files outside docs/.

``changelog.md`` (from CHANGELOG.md), ``examples/index.md`` and one page per
``examples/<name>/README.md`` are generated at build time, the example pages added to the
nav under "Examples", so a new example gets its page without touching the docs and no
page can drift from the file it shows. The standard components' reference is generated
from the component declarations themselves. Mermaid's script is served by the site itself
(:mod:`vendored_js`), so the diagrams draw offline.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

sys.path.insert(0, str(Path(__file__).parent))

from docs_support import (
    COMPONENTS_MARKER,
    components_reference,
    example_pages,
    generated_pages,
)
from vendored_js import MERMAID, fetch


def on_config(config: Any) -> Any:
    config["extra_javascript"].append(MERMAID.site_path)
    for entry in config["nav"] or []:
        if isinstance(entry, dict) and "Examples" in entry:
            entry["Examples"] = ["examples/index.md"] + [
                {page.name: page.uri} for page in example_pages()
            ]
    return config


def on_files(files: Files, config: Any) -> Files:
    for uri, content in generated_pages().items():
        files.append(File.generated(config, uri, content=content))
    files.append(File.generated(config, MERMAID.site_path, content=fetch(MERMAID)))
    return files


def on_page_markdown(markdown: str, **kwargs: Any) -> str:  # noqa: ARG001 - page, config, files
    if COMPONENTS_MARKER in markdown:
        markdown = markdown.replace(COMPONENTS_MARKER, components_reference())
    return markdown


def on_page_content(html: str, **kwargs: Any) -> str:  # noqa: ARG001 - page, config, files
    # mkdocs-click shows click 8.3's "no default" sentinel as a default: show nothing.
    return html.replace("<td><code>Sentinel.UNSET</code></td>", "<td></td>")
