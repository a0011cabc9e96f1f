"""Sphinx configuration of perfectly's documentation (docs/README: how to build it)."""

import perfectly

project = "perfectly"
author = "perfectly developers"
copyright = "2026, perfectly developers"
release = version = perfectly.__version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "examples/GALLERY_HEADER.rst", "**/*.ipynb", "**/*.md5"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# Every reference must resolve (sphinx -n): types in signatures are left out (the
# Parameters sections give them), and there is no network for intersphinx.
nitpicky = True
# References to the standard library and other projects' names stay plain text: there is
# no network here for their inventories (intersphinx).
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(threading|_thread|multiprocessing|queue|concurrent|asyncio|os|sys|time"
        r"|pickle|sqlite3|numpy|dask|distributed|interpreters)(\..*)?",
    ),
]
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autosummary_generate = False

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# Every public function, class and method: a summary, every parameter documented, what
# it returns, and an example (the examples run as doctests in tests/test_docs.py).
numpydoc_validation_checks = {"GL08", "SS01", "PR01", "PR02", "RT01", "EX01"}
# The constants are data: their entries in api/*.rst say what they hold, with an example.
numpydoc_validation_exclude = {
    r"\.__init__$",
    r"\.__.*__$",
    r"^perfectly\.(BACKENDS|KERNELS|MAX_WORKERS|METHODS|PROCESS_BACKENDS|SCHEDULES|START_METHODS)$",
    r"^perfectly\.parallel\.EXECUTORS$",
}

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "tutorial",
    "filename_pattern": r"/\d\d_",  # run every numbered step when the docs are built
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 10**6,  # the scripts print their own timings, machine named
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "furo"
html_title = "perfectly"
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"
html_show_sourcelink = False
