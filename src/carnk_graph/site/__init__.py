"""The browsable site: `carnk-graph site` writes dist/site/ from the release; `serve` serves it.

- graph.py: the release read once into indexes (statements by subject and by object,
  labels, types, which named graph asserted what) that every page is drawn from;
- entities.py: which IRIs get a page, where each page lives, and each entity's
  description (its statements, its qualified-fact nodes, disagreeing claims);
- rdf.py: the per-entity RDF files (a concise bounded description with the
  qualified-fact nodes) in Turtle, JSON-LD and N-Triples;
- overviews.py: the pages a researcher starts from (programmes, products, constructs,
  toxicities, sources);
- build.py: the generator itself (Jinja2 templates in templates/, static/ copied as is),
  written to a temporary folder and swapped in whole.

The generator walks the vocabulary it finds (classes, properties, the qualified-fact
classes the ontology defines) rather than a fixed list of names, so new terms and
new kinds of facts appear on the site without changes here.
"""
from __future__ import annotations

from .build import SITE_DIR, SiteResult, build_site, ensure_site

__all__ = ["SITE_DIR", "SiteResult", "build_site", "ensure_site"]
