"""The Jinja2 environment of the site and the documentation page: templates/ of this package.

Autoescaping is on for every template, so text from the graph is always escaped;
the few HTML fragments made in Python (class expressions on the ontology page, the
construct figures) are built from escaped parts and passed as Markup.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def environment():
    """One shared environment (templates compiled once per process)."""
    import jinja2

    from ..ontology_terms import curie

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=False, lstrip_blocks=False,
                             keep_trailing_newline=True)
    env.filters["curie"] = curie
    return env
