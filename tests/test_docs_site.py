"""The documentation site, built by the README's command and checked in a real browser
(Debian's ``chromium``, headless, driven by tests/browser.py): the front page, the
tutorial, the API pages and a guide with plots load with no error and no broken image,
their screenshots are not blank, and the search page finds ``search``.

The site is the one at ``$PERFECTLY_DOCS_HTML`` (``.ci/run`` builds it with the README's
command first), else this test builds it with that command. Screenshots are kept beside
the site, in ``screenshots/`` next to its ``html`` folder."""

from __future__ import annotations

import functools
import http.server
import os
import re
import shlex
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from browser import Browser, find_chromium

import perfectly
import perfectly.parallel

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _docs_command() -> list[str]:
    """The README's docs build command (section "Documentation"), without its install
    step, as arguments; run by this Python."""
    body = README.read_text(encoding="utf-8").split("\n## Documentation\n", 1)[1]
    command = re.findall(r"```console\n(.*?)```", body, re.S)[0].strip()
    install, build = command.split(" && ")
    assert install == 'python -m pip install ".[docs]"'
    args = shlex.split(build)
    assert args[:3] == ["python", "-m", "sphinx"]
    return [sys.executable, *args[1:]]


@pytest.fixture(scope="module")
def site() -> Path:
    given = os.environ.get("PERFECTLY_DOCS_HTML")
    if given:
        return Path(given).resolve()
    if not (ROOT / "docs" / "conf.py").exists():
        pytest.skip("not a checkout: no docs/")
    for name in ("sphinx", "furo", "numpydoc", "myst_parser", "sphinx_gallery"):
        pytest.importorskip(name, reason='the docs need python -m pip install ".[docs]"')
    args = _docs_command()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return (ROOT / args[-1]).resolve()


@pytest.fixture(scope="module")
def served(site):
    """The site over HTTP on loopback, as a reader's browser gets it (from file:// URLs,
    the search page may not fetch the pages it summarises): its base URL."""
    handler = functools.partial(QuietHandler, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_address[1]}"
        server.shutdown()
        thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def browser():
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    with Browser(chromium) as b:
        yield b


def _screenshots(site: Path) -> Path:
    folder = site.parent / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder


def _not_blank(png: Path) -> bool:
    """More than one colour over at least 2 % of the picture."""
    image = pytest.importorskip("matplotlib.image").imread(png)[..., :3]
    background = image[0, 0]
    differs = (abs(image - background).sum(axis=-1) > 0.1).mean()
    return bool(differs > 0.02)


def _tutorial_step(site: Path) -> str:
    steps = sorted(p.name for p in (site / "tutorial").glob("[0-9][0-9]_*.html"))
    assert steps, "the tutorial has no steps"
    return f"tutorial/{steps[0]}"


PAGES = ["index.html", "tutorial/index.html", "STEP", "api/perfectly.html", "api/parallel.html",
         "howto/benchmark.html", "explanation/sieve.html"]  # fmt: skip


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_in_a_browser(site, served, browser, page):
    page = _tutorial_step(site) if page == "STEP" else page
    assert (site / page).exists(), f"{page} was not built"
    browser.load(f"{served}/{page}")
    assert browser.evaluate("document.title").strip()
    assert browser.evaluate("document.body.innerText.length") > 200
    broken = browser.evaluate(
        "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    assert broken == [], f"broken images on {page}: {broken}"
    assert browser.errors() == []
    shot = _screenshots(site) / (page.replace("/", "-").removesuffix(".html") + ".png")
    browser.screenshot(shot)
    assert _not_blank(shot), f"{shot} is blank"
    print(f"screenshot: {shot}")


def test_plots_of_the_guides_are_shown(served, browser):
    browser.load(f"{served}/howto/benchmark.html")
    assert browser.evaluate("document.images.length") >= 2


def test_search_page_finds_search(site, served, browser):
    browser.load(f"{served}/search.html?q=search")
    browser.wait_for("document.querySelectorAll('ul.search li').length > 0", timeout=30)
    links = browser.evaluate("[...document.querySelectorAll('ul.search li a')].map(a => a.href)")
    assert any(link.endswith("api/perfectly.html#perfectly.search") for link in links), links
    assert browser.errors() == []
    browser.screenshot(_screenshots(site) / "search.png")


def test_every_public_name_has_an_entry_with_an_example(site):
    """Each name of both ``__all__`` lists has its anchor in the API pages, followed by an
    example (a ``>>>`` block) before the next entry; a class that ``perfectly.parallel``
    shares with ``perfectly`` (its errors) is documented once, under ``perfectly``."""
    pages = {
        m: (site / "api" / f"{m}.html").read_text(encoding="utf-8")
        for m in ("perfectly", "parallel")
    }
    for module in (perfectly, perfectly.parallel):
        for name in module.__all__:
            owner = perfectly if getattr(perfectly, name, None) is getattr(module, name) else module
            page = "perfectly" if owner is perfectly else "parallel"
            anchor = f'id="{owner.__name__}.{name}"'
            assert anchor in pages[page], f"{owner.__name__}.{name}: no entry in api/{page}.html"
            entry = (
                pages[page].split(anchor, 1)[1].split('<dt class="sig sig-object py" id="', 1)[0]
            )
            assert "&gt;&gt;&gt;" in entry, f"{owner.__name__}.{name}: no example in its entry"
