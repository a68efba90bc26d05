"""What the docs build and the docs tests share: where things are, and the example pages.

The changelog page is the repository's CHANGELOG.md, and every
``examples/<name>/README.md`` becomes the page ``examples/<name>.md`` at build time
(so a page never drifts from its example), with its relative links rewritten: a link to
a page under ``docs/`` points at that page of the site, a link to another file of the
repository points at the file in the source repository, and a link outside the
repository keeps only its text.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
SOURCE_URL = "https://github.com/pureflow-python/pureflow-python/blob/main"

_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)")
_SNIPPET = re.compile(r'^--8<-- "([^"]+)"\s*$', re.MULTILINE)


@dataclass(frozen=True)
class ExamplePage:
    """One example's generated page."""

    name: str
    readme: Path
    title: str
    summary: str

    @property
    def uri(self) -> str:
        return f"examples/{self.name}.md"

    def markdown(self) -> str:
        return rewrite_links(self.readme.read_text(encoding="utf-8"), self.readme, self.uri)


def _title_and_summary(text: str) -> tuple[str, str]:
    title, summary, paragraph = "", "", []
    for line in text.splitlines():
        if not title and line.startswith("# "):
            title = line[2:].strip()
            continue
        if title and line.strip() and not line.startswith(("```", "#")):
            paragraph.append(line.strip())
        elif paragraph:
            break
    summary = " ".join(paragraph)
    first = re.split(r"(?<=[.:])\s", summary, maxsplit=1)[0]
    return title, first.rstrip(":.") + "."


def example_pages() -> list[ExamplePage]:
    """Every example with a README, by folder name."""
    pages = []
    for readme in sorted(EXAMPLES.glob("*/README.md")):
        title, summary = _title_and_summary(readme.read_text(encoding="utf-8"))
        pages.append(ExamplePage(readme.parent.name, readme, title or readme.parent.name, summary))
    return pages


def examples_index() -> str:
    """The generated ``examples/index.md``."""
    lines = [
        "# Examples",
        "",
        "Each folder of `examples/` in the repository is a runnable workflow with a README;",
        "its page here is that README. Every command on these pages is run by the docs tests,",
        "so the output shown is the output you get (run them from the repository root).",
        "",
        "| example | what it shows |",
        "|---|---|",
    ]
    for page in example_pages():
        summary = rewrite_links(page.summary, page.readme, "examples/index.md")
        summary = summary.replace("|", "\\|")
        lines.append(f"| [{page.name}]({page.name}.md) | {summary} |")
    return "\n".join(lines) + "\n"


def rewrite_links(text: str, source: Path, page_uri: str) -> str:
    """Relative links of a file outside ``docs/`` rewritten for the page ``page_uri``."""
    page_dir = (DOCS / page_uri).parent

    def replace(match: re.Match[str]) -> str:
        label, target = match.groups()
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            return match.group(0)
        path, _, anchor = target.partition("#")
        resolved = (source.parent / path).resolve()
        suffix = f"#{anchor}" if anchor else ""
        if resolved.is_relative_to(DOCS):
            return f"[{label}]({os.path.relpath(resolved, page_dir)}{suffix})"
        if resolved.is_relative_to(ROOT):
            return f"[{label}]({SOURCE_URL}/{resolved.relative_to(ROOT).as_posix()}{suffix})"
        return label

    return _LINK.sub(replace, text)


def expand_snippets(text: str) -> str:
    """``--8<-- "path"`` lines replaced by the file (path from the repository root)."""
    return _SNIPPET.sub(lambda m: (ROOT / m.group(1)).read_text(encoding="utf-8"), text)


def changelog_page() -> str:
    """The generated ``changelog.md``: the repository's CHANGELOG.md, links rewritten."""
    source = ROOT / "CHANGELOG.md"
    return rewrite_links(source.read_text(encoding="utf-8"), source, "changelog.md")


def generated_pages() -> dict[str, str]:
    """The pages generated at build time, by their path under docs/."""
    pages = {"changelog.md": changelog_page(), "examples/index.md": examples_index()}
    for example in example_pages():
        pages[example.uri] = example.markdown()
    return pages


def page_sources() -> dict[str, str]:
    """Every page of the site as Markdown source, by its path under docs/.

    Hand-written pages (with snippets expanded) and the generated example pages.
    """
    pages = {
        path.relative_to(DOCS).as_posix(): expand_snippets(path.read_text(encoding="utf-8"))
        for path in sorted(DOCS.rglob("*.md"))
        if "_ext" not in path.parts
    }
    pages.update(generated_pages())
    return pages


COMPONENTS_MARKER = "<!-- components: generated from pureflow.nodes.catalog() -->"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _schema_type(schema: dict[str, object]) -> str:
    if "enum" in schema:
        return " or ".join(f"`{json.dumps(v)}`" for v in schema["enum"])  # type: ignore[union-attr]
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(map(str, kind))
    if kind is None and "anyOf" in schema:
        return " or ".join(_schema_type(s) for s in schema["anyOf"])  # type: ignore[union-attr]
    return str(kind or "any")


def components_reference() -> str:
    """One section per standard component: ports, effects and every config key."""
    import pureflow.nodes  # noqa: PLC0415 - the build's own environment has it

    out: list[str] = []
    for name, item in pureflow.nodes.catalog().items():
        spec = item.spec
        ports_in = "any" if spec.inputs is None else ", ".join(f"`{p}`" for p in spec.inputs)
        ports_out = "any" if spec.outputs is None else ", ".join(f"`{p}`" for p in spec.outputs)
        effects = ", ".join(f"`{e.value}`" for e in spec.effects) or "none"
        out += [f"### `{name}`", "", spec.description, ""]
        out += [
            f"`builtin:{name}` · inputs: {ports_in or 'none'} · outputs: "
            f"{ports_out or 'none'} · effects: {effects}",
            "",
        ]
        schema = spec.config_schema or {}
        properties: dict[str, dict[str, object]] = schema.get("properties", {})  # type: ignore[assignment]
        required = set(schema.get("required", []))  # type: ignore[arg-type]
        if properties:
            out += ["| config | type | default | meaning |", "|---|---|---|---|"]
            for key, prop in properties.items():
                label = f"`{key}`" + (" (required)" if key in required else "")
                default = f"`{json.dumps(prop['default'])}`" if "default" in prop else ""
                out.append(
                    f"| {label} | {_cell(_schema_type(prop))} | {_cell(default)} | "
                    f"{_cell(prop.get('description', ''))} |"
                )
            for combinator in ("anyOf", "oneOf"):
                if combinator in schema:
                    options = [
                        " and ".join(f"`{k}`" for k in option.get("required", []))
                        for option in schema[combinator]  # type: ignore[union-attr]
                    ]
                    out += ["", "One of these is required: " + "; ".join(options) + "."]
        else:
            out.append("No config.")
        out.append("")
    return "\n".join(out)
