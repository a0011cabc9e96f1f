"""report.html: the page each run writes beside results.json, and ``report FILE --html``.

A small real run makes the page; it must hold the verdict, every group, every plot as
an embedded PNG and nothing from the network, and open in a real browser (Debian's
``chromium``, headless, driven by the library tests' ``tests/browser.py``) with every
image loaded, no console error and a screenshot that is not blank.
"""

from __future__ import annotations

import base64
import contextlib
import html as stdlib_html
import io
import json
import multiprocessing
import re
import shutil
import sys
from pathlib import Path

import pytest
from perfectly_bench import main
from perfectly_bench.records import results
from perfectly_bench.report import html, model_report, table

ROOT = Path(__file__).resolve().parents[2]  # the checkout of perfectly
LIBRARY_TESTS = ROOT / "tests"  # where browser.py, the DevTools driver, lives
START = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TINY = "sieve=20000,trial=3000,python-sieve=400,python-trial=300"
IMG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)">')
# Python 3.12+ warns when a process with threads forks; the harness forks on purpose.
FORK_WARNING = "ignore:This process .* is multi-threaded:DeprecationWarning"

pytestmark = pytest.mark.filterwarnings(FORK_WARNING)


def run_main(*argv: str) -> tuple[int, str, str]:
    """``main(argv)`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(argv))
        except SystemExit as exc:  # a bad command line: argparse exits
            status = int(exc.code or 0)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One small real run, with its plots: (results path, stdout)."""
    out = tmp_path_factory.mktemp("bench")
    argv = ["--quick", "--size", TINY, "--repeat", "2", "--warmup", "0", "--workers", "1,2"]
    argv += ["--backends", "serial,threads,processes", "--methods", "sieve,trial"]
    argv += ["--output", str(out), "--no-progress"]
    if START:
        argv += ["--start-methods", START]
    status, text, err = run_main(*argv)
    assert status == 0, text + err
    (path,) = out.glob("*/results.json")
    return path, text


def _images(page: str) -> list[tuple[bytes, str]]:
    """(PNG bytes, alt text) of each embedded image of ``page``."""
    return [(base64.b64decode(data, validate=True), alt) for data, alt in IMG.findall(page)]


def test_every_run_writes_the_page_beside_its_results(run):
    path, text = run
    page_path = path.parent / html.NAME
    assert f"report:  {page_path}" in text.splitlines()
    page = page_path.read_text(encoding="utf-8")
    doc = json.loads(path.read_text())
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert set(doc) == set(results.TOP_FIELDS)  # nothing new in the results file
    for line in doc["verdict"]:
        assert f"<li>{stdlib_html.escape(line)}</li>" in page
    for group in {s["group"] for s in doc["scenarios"] if s["section"] != "crossover"}:
        assert f"<h3>{stdlib_html.escape(group)}</h3>" in page
    assert stdlib_html.escape(table.SECTION_TITLES["crossover"]) in page
    for s in doc["scenarios"]:
        assert stdlib_html.escape(s["label"]) in page
    assert stdlib_html.escape(table.footnote(results.load(path))) in page


def test_the_tables_hold_the_terminal_tables_cells(run):
    path, _ = run
    done = results.load(path)
    page = (path.parent / html.NAME).read_text(encoding="utf-8")
    grids = [part.grid for part in table.parts(done) if part.grid is not None]
    assert page.count("<table>") == len(grids) > 3
    for grid in grids:
        assert "".join(f"<th>{stdlib_html.escape(h)}</th>" for h in grid.head) in page
        for cells, marks in grid.rows:
            row = "".join(f"<td>{stdlib_html.escape(c)}</td>" for c in cells)
            assert row in page
            if marks:
                assert f'<td class="marks">{stdlib_html.escape(" ".join(marks))}</td>' in page
    assert "speedup [95 % interval]" in page and "mean ± std dev" in page
    model = model_report.describe(done.derived.get("model"))
    if model:
        assert stdlib_html.escape(model[1]) in page


def test_every_plot_is_embedded_and_nothing_comes_from_the_network(run):
    path, _ = run
    doc = json.loads(path.read_text())
    page = (path.parent / html.NAME).read_text(encoding="utf-8")
    assert len(doc["plots"]) >= 3
    images = _images(page)
    assert len(images) == page.count("<img") == len(doc["plots"])
    for (data, alt), name in zip(images, doc["plots"], strict=True):
        assert data[:8] == PNG_MAGIC and data == (path.parent / name).read_bytes()
        assert alt.strip() and name not in alt  # words, not a file name
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page and "<link" not in page
    assert all(
        src.startswith("data:image/png;base64,") for src in re.findall(r'src="([^"]*)"', page)
    )


def test_report_html_writes_the_page_next_to_the_file(run, tmp_path):
    path, _ = run
    copy = tmp_path / "copy"
    shutil.copytree(path.parent, copy)
    (copy / html.NAME).unlink()
    doc = json.loads(path.read_text())
    gone = doc["plots"][1]
    (copy / gone).unlink()
    status, text, err = run_main("report", str(copy / "results.json"), "--html")
    assert status == 0, err
    assert "Verdict" in text and text.rstrip().endswith(f"report:  {copy / html.NAME}")
    page = (copy / html.NAME).read_text(encoding="utf-8")
    assert f"Plots missing here: {gone}." in page
    assert f"Plot {gone}: missing: not found at {copy / gone}." in page
    assert len(_images(page)) == len(doc["plots"]) - 1
    status, again, _ = run_main("report", str(copy / "results.json"))
    assert status == 0 and again.strip() == text.split("\nreport:  ")[0].strip()


def test_a_file_without_its_plots_still_gets_a_page(run, tmp_path):
    path, _ = run
    shutil.copy(path, tmp_path / "results.json")
    status, _, err = run_main("report", str(tmp_path / "results.json"), "--html")
    assert status == 0, err
    page = (tmp_path / html.NAME).read_text(encoding="utf-8")
    assert "<img" not in page and "Verdict" in page
    for name in json.loads(path.read_text())["plots"]:
        assert f"Plot {name}: missing" in page


def test_report_html_that_cannot_be_written_is_one_line(run, tmp_path):
    path, _ = run
    shutil.copy(path, tmp_path / "results.json")
    (tmp_path / html.NAME).mkdir()  # in the way, even for root
    status, text, err = run_main("report", str(tmp_path / "results.json"), "--html")
    assert status == 2 and text == ""
    assert len(err.strip().splitlines()) == 1 and "cannot be written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [html.NAME, "results.json"]


def test_a_run_across_interpreters_embeds_each_ones_plots(tmp_path):
    """``--python`` with this interpreter alone: one merged file, plots in a folder per
    interpreter, and the page beside them."""
    out = tmp_path / "out"
    argv = [f"--python={sys.executable}", "--quick", "--size", TINY, "--repeat", "2"]
    argv += ["--warmup", "0", "--workers", "2", "--variants", "python", "--methods", "sieve"]
    argv += ["--sections", "scaling", "--backends", "serial,threads", "--output", str(out)]
    status, text, err = run_main(*argv, "--no-progress")
    assert status == 0, err
    (path,) = out.glob("*/results.json")
    doc = json.loads(path.read_text())
    assert doc["plots"] and all("/" in name for name in doc["plots"])
    assert f"report:  {path.parent / html.NAME}" in text.splitlines()
    page = (path.parent / html.NAME).read_text(encoding="utf-8")
    assert len(_images(page)) == len(doc["plots"]) and "Plots missing" not in page
    label = doc["pythons"][0]["label"]
    assert all(alt.startswith(f"{label}: ") for _, alt in _images(page))


@pytest.fixture(scope="module")
def browser():
    if not (LIBRARY_TESTS / "browser.py").is_file():
        pytest.skip(f"no DevTools driver at {LIBRARY_TESTS / 'browser.py'} (a checkout's tests)")
    if str(LIBRARY_TESTS) not in sys.path:
        sys.path.insert(0, str(LIBRARY_TESTS))
    from browser import Browser, find_chromium

    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")
    with Browser(chromium) as b:
        yield b


def _not_blank(png: Path) -> bool:
    """More than 2 % of the pixels differ from the top-left one."""
    pixels = pytest.importorskip("matplotlib.image").imread(png)[..., :3]
    differs = (abs(pixels - pixels[0, 0]).sum(axis=-1) > 0.1).mean()
    return bool(differs > 0.02)


def _check_loaded(browser, page: Path, images: int) -> None:
    browser.load(page.as_uri())
    assert browser.evaluate("document.readyState === 'complete'")
    assert browser.evaluate("document.images.length") == images
    broken = browser.evaluate(
        "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
        ".map(i => i.alt)"
    )
    assert broken == []
    assert browser.errors() == []


def test_the_page_renders_in_a_browser(run, browser, tmp_path):
    path, _ = run
    plots = json.loads(path.read_text())["plots"]
    _check_loaded(browser, path.parent / html.NAME, len(plots))
    assert "Verdict" in browser.evaluate("document.body.innerText")
    assert browser.evaluate("document.title").startswith("perfectly-bench report")
    shot = tmp_path / "report.png"
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == PNG_MAGIC and _not_blank(shot)


def test_a_page_with_a_missing_plot_has_no_broken_image(run, browser, tmp_path):
    path, _ = run
    shutil.copytree(path.parent, tmp_path / "copy")
    plots = json.loads(path.read_text())["plots"]
    (tmp_path / "copy" / plots[0]).unlink()
    status, _, err = run_main("report", str(tmp_path / "copy" / "results.json"), "--html")
    assert status == 0, err
    _check_loaded(browser, tmp_path / "copy" / html.NAME, len(plots) - 1)
