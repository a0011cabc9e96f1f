"""``report.html``: one self-contained page of a results document, to open in a browser.

The header, the verdict, one table per group (the terminal table's columns and marks),
the model and every plot, embedded as a ``data:`` URI: no file beside it, no external
URL and no JavaScript. Every figure comes from the functions the terminal report uses
(:mod:`.table`, :mod:`.model_report`, :mod:`.across`), so the two never disagree; a plot
that the document lists but that is not in its folder is named on the page instead.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from perfectly_bench.records.results import Results
from perfectly_bench.report import across, model_report, table

NAME = "report.html"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: What each plot shows, as its ``alt`` text and caption (see :mod:`.plots`).
ALT = {
    "threads-or-processes.png": "Speedup over serial of threads and processes at one "
    "worker per CPU, per variant and method, with 95 % intervals",
    "speedup.png": "Speedup over serial against the number of workers, one line per backend, "
    "beside the ideal line",
    "breakdown.png": "Where a run's time goes: starting workers, kernel work, the rest, "
    "stopping workers",
    "busy.png": "Each worker's busy time under static blocks and dynamic chunks",
    "model.png": "What the fitted model predicts for more workers",
    "cost.png": "Nanoseconds per number of each kernel on one thread, across magnitudes",
    "interpreters.png": "Each way's speedup over serial under each interpreter",
}
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; color: #222; background: #fff;
       max-width: 80rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 2px solid #ccd; }
h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
.meta div, .note { white-space: pre-wrap; color: #444; }
.warning, .missing { color: #a11; font-weight: 600; }
.verdict li { margin: .35rem 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: .15rem .6rem; text-align: right; white-space: nowrap;
         border-bottom: 1px solid #e2e2e8; }
th { background: #eef0f6; }
th:first-child, td:first-child { text-align: left; }
td.marks { text-align: left; color: #a50; }
pre { background: #f5f5f8; padding: .7rem; white-space: pre-wrap; font-size: 13px; }
figure { margin: 1rem 0 2rem; }
img { max-width: 100%; height: auto; border: 1px solid #e2e2e8; }
figcaption { color: #444; }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _png(folder: Path, name: str) -> bytes | str:
    """The bytes of the plot ``name`` in ``folder``, or why there are none."""
    path = folder / name
    if not path.resolve().is_relative_to(folder.resolve()):
        return f"not in the results folder ({path})"
    if not path.exists():
        return f"missing: not found at {path}"
    if not path.is_file():
        return f"not a file: {path}"
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"missing: cannot read {path} ({exc.strerror or exc})"
    return data if data.startswith(PNG_MAGIC) else f"not a PNG file: {path}"


def _alt(name: str) -> str:
    """``3.13t: Speedup over serial …`` for ``3.13t/speedup.png``."""
    folder, _, base = name.rpartition("/")
    said = ALT.get(base, base)
    return f"{folder}: {said}" if folder else said


def _header(results: Results) -> list[str]:
    lines = table.machine_line(results).splitlines()
    lines += ["ranges (a size N means [1, N]):", *(f"  {r}" for r in table.ranges(results))]
    out = ["<h1>perfectly-bench: threads or processes?</h1>", '<div class="meta">']
    out += [f"<div>{_e(line)}</div>" for line in lines]
    out.append("</div>")
    if not results.complete:
        out.append(
            '<p class="warning">This run did not finish (interrupted, or stopped by a check): '
            "the page covers what was measured.</p>"
        )
    return out


def _verdict(results: Results) -> list[str]:
    out = ["<h2>Verdict</h2>", '<ul class="verdict">']
    out += [f"<li>{_e(line)}</li>" for line in results.verdict]
    return [*out, "</ul>"]


def _grid(grid: table.Grid) -> list[str]:
    marked = any(marks for _, marks in grid.rows)
    head = [*grid.head, "marks"] if marked else list(grid.head)
    ths = "".join(f"<th>{_e(h)}</th>" for h in head)
    out = ['<div class="scroll"><table>', f"<thead><tr>{ths}</tr></thead>", "<tbody>"]
    for cells, marks in grid.rows:
        row = "".join(f"<td>{_e(c)}</td>" for c in cells)
        if marked:
            row += f'<td class="marks">{_e(" ".join(marks))}</td>'
        out.append(f"<tr>{row}</tr>")
    out.append("</tbody></table></div>")
    return out + ([f'<p class="note">{_e(grid.note)}</p>'] if grid.note else [])


def _tables(results: Results) -> list[str]:
    out = ["<h2>Tables</h2>", f'<p class="note">{_e(table.footnote(results))}.</p>']
    for part in table.parts(results):
        if part.grid is not None:
            out += _grid(part.grid)
        elif part.kind in ("section", "python"):
            out.append(f"<h2>{_e(part.text)}</h2>")
        elif part.kind == "note":
            out.append(f'<p class="note">{_e(part.text.strip())}</p>')
        else:  # a group's title, or an interpreter's label within a section
            out.append(f"<h3>{_e(part.text)}</h3>")
    return out


def _text_section(lines: list[str]) -> list[str]:
    """A section of the terminal report (blank line, title, underline, text) as a title
    and the rest preformatted."""
    if not lines:
        return []
    text = "\n".join(lines[3:]).strip("\n")
    return [f"<h2>{_e(lines[1])}</h2>", f"<pre>{_e(text)}</pre>"]


def _plots(found: dict[str, bytes | str]) -> list[str]:
    out = ["<h2>Plots</h2>"]
    if not found:
        out.append('<p class="note">This results file lists no plots.</p>')
    for name, png in found.items():
        if isinstance(png, str):
            out.append(f'<p class="missing">Plot {_e(name)}: {_e(png)}.</p>')
            continue
        uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        out += [
            "<figure>",
            f'<img src="{uri}" alt="{_e(_alt(name))}">',
            f"<figcaption>{_e(name)}: {_e(_alt(name))}</figcaption>",
            "</figure>",
        ]
    return out


def page(results: Results, folder: Path) -> str:
    """The page of ``results``, with the plots listed in it read from ``folder``."""
    found = {name: _png(folder, name) for name in results.plots}
    body = _header(results)
    if missing := [name for name, png in found.items() if isinstance(png, str)]:
        body.append(f'<p class="missing">Plots missing here: {_e(", ".join(missing))}.</p>')
    body += _verdict(results) + _tables(results)
    body += _text_section(model_report.describe(results.derived.get("model")))
    body += _text_section(across.table_lines(results))
    body += _plots(found)
    title = f"perfectly-bench report, {results.created}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )


def write(results: Results, folder: Path) -> Path:
    """Write ``report.html`` of ``results`` into ``folder`` (where its plots are, and
    its results.json); returns its path. Written whole or not at all."""
    path = folder / NAME
    tmp = path.with_suffix(".html.tmp")
    try:
        tmp.write_text(page(results, folder), encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
