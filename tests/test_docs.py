"""The documentation's promises that need no Sphinx: every public name of ``perfectly`` and
``perfectly.parallel`` has a docstring with an example, and every example runs and gives
the output shown (the API reference shows these docstrings; ``.ci/run`` builds the site)."""

from __future__ import annotations

import doctest
import inspect
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import perfectly
import perfectly.parallel

PUBLIC = [(perfectly, name) for name in perfectly.__all__] + [
    (perfectly.parallel, name) for name in perfectly.parallel.__all__
]


def _documented(mod: object, name: str) -> Iterator[tuple[str, object]]:
    """The public callables behind one exported name: the function or class itself, and a
    class's own public methods and properties (those the API reference shows)."""
    obj = getattr(mod, name)
    if not callable(obj):
        return
    yield f"{mod.__name__}.{name}", obj  # type: ignore[attr-defined]
    if inspect.isclass(obj) and not issubclass(obj, BaseException):
        for attr, value in vars(obj).items():
            if attr.startswith("_") or not (
                inspect.isfunction(value) or isinstance(value, (property, classmethod))
            ):
                continue
            yield f"{mod.__name__}.{name}.{attr}", getattr(obj, attr)  # type: ignore[attr-defined]


EXAMPLES = sorted(
    {path: obj for mod, name in PUBLIC for path, obj in _documented(mod, name)}.items()
)


@pytest.mark.parametrize(("path", "obj"), EXAMPLES, ids=[p for p, _ in EXAMPLES])
def test_public_docstring_has_an_example_that_runs(path, obj):
    doc = inspect.getdoc(obj.fget if isinstance(obj, property) else obj)
    assert doc, f"{path} has no docstring"
    test = doctest.DocTestParser().get_doctest(
        doc, {"perfectly": perfectly, "np": pytest.importorskip("numpy")}, path, None, 0
    )
    assert test.examples, f"{path} has no example (a '>>>' line) in its docstring"
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    result = runner.run(test, out=report.write)
    assert result.failed == 0, report.getvalue()


DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(
    page
    for page in (DOCS.rglob("*.md") if DOCS.is_dir() else ())
    if re.search(r"```python\n>>> ", page.read_text(encoding="utf-8"))
)


@pytest.mark.skipif(
    perfectly.build_info()["core"] != "compiled",
    reason="the guides' ranges are sized for the compiled kernel (as the README's are)",
)
@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_docs_page_python_examples_are_true(page):
    """Every ``>>>`` example of a page of the docs gives the output shown (timings are shown
    as checks, never as values), as the README's do (tests/test_package.py)."""
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    test = doctest.DocTestParser().get_doctest("\n".join(blocks), {}, page.name, None, 0)
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    result = runner.run(test, out=report.write)
    assert result.failed == 0, report.getvalue()
