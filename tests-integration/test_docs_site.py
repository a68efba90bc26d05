"""The built documentation site works offline: its Mermaid diagrams draw from the script
the site serves itself (``docs/_ext/vendored_js.py``), with every network request refused,
and no page asks a CDN for anything."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import CHROMIUM, SKIP_REASON, DevTools
from integration_support import REPO

pytestmark = pytest.mark.timeout(300)

# Resolves, once Material has handled every diagram of the page, with how many there are
# and how many were drawn. Material replaces a diagram's `<pre class="mermaid">` with a
# `<div class="mermaid">` holding the drawing (in a closed shadow root) once Mermaid has
# drawn it; a diagram Mermaid cannot draw stays a `<pre>`, and its error is in the console.
DIAGRAMS = """
new Promise(resolve => {
  const look = (tries) => {
    const blocks = document.querySelectorAll('.mermaid');
    const drawn = Array.from(blocks).filter(b => b.tagName === 'DIV' && b.offsetHeight > 0);
    if ((blocks.length && drawn.length === blocks.length) || tries > 200) {
      resolve(JSON.stringify({blocks: blocks.length, drawn: drawn.length}));
      return;
    }
    setTimeout(() => look(tries + 1), 50);
  };
  look(0);
})
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(target)],
        cwd=REPO,
        check=True,
        timeout=240,
    )
    return target


def mermaid_pages(site: Path) -> dict[Path, int]:
    """Each built page with diagrams, and how many it has."""
    pages = {}
    for page in site.rglob("*.html"):
        found = len(re.findall(r'class="mermaid"', page.read_text(encoding="utf-8")))
        if found:
            pages[page] = found
    return pages


def test_pages_load_mermaid_from_the_site_not_a_cdn(site: Path) -> None:
    pages = mermaid_pages(site)
    assert len(pages) >= 2  # the architecture page and the first workflow at least
    assert (site / "assets" / "vendor" / "mermaid.min.js").stat().st_size > 1_000_000
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "unpkg.com" not in html, page
        assert "jsdelivr" not in html, page
        assert re.search(r'<script src="[./]*assets/vendor/mermaid\.min\.js">', html), page


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    assert CHROMIUM is not None
    tools = DevTools(CHROMIUM, tmp_path / "profile")
    yield tools
    tools.close()


@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_diagrams_draw_with_the_network_refused(site: Path, browser: DevTools) -> None:
    browser.block_network()
    for page, count in sorted(mermaid_pages(site).items()):
        browser.open(page.as_uri())
        seen = browser.evaluate(DIAGRAMS)
        assert seen == {"blocks": count, "drawn": count}, page
    errors = [line for line in browser.console if "mermaid" in line.lower()]
    assert errors == []
