"""`carnk-graph docs`: an HTML documentation page of the ontology, with diagrams.

The page follows the usual ontology-documentation layout (the one LODE and
pyLODE made familiar): the ontology's metadata, a table of contents, then one
entry per class, property and named individual with its label, definition,
superclasses, domain and range, external mappings and source, each under a
stable anchor derived from its IRI so that links into the page keep working
from release to release.

It is generated here rather than with pyLODE: pyLODE 3.6 needs Python 3.12
(this package supports 3.10), brings httpx, dominate, markdown, html5lib and
tqdm, and can fetch remote vocabularies; these modules need nothing beyond
rdflib and html.escape, never touches the network, and writes the same bytes
for the same ontology, which is what lets a test keep the committed README
figure honest.

Diagrams are written as Graphviz DOT and rendered to SVG and PNG by the
`graphviz-pure` command (the `docs` extra: a self-contained binary from PyPI
that gives the same bytes on every platform) or, failing that, a system `dot`.
Without either, the HTML and the .dot files are still written and one warning
says how to get the pictures.

This module is the command; the page is ontology_page.py (the terms it reads,
ontology_terms.py), the diagrams diagrams.py, the CAR construct figures constructs.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .constructs import Construct, find_construct, read_construct
from .diagrams import RENDERER_HINT, Diagram, Renderer, construct_dot, find_renderer, overview_dot, overview_edges
from .errors import BadInputError
from .namespaces import OWL, RDF
from .ontology_page import render_html
from .ontology_terms import collect_terms, expand_curie, uriref

if TYPE_CHECKING:
    from rdflib import Graph

#: Files the README shows; `carnk-graph docs --update-readme-figure` rewrites them in the clone.
README_FIGURE_DIR = "docs"
README_FIGURE_STEM = "overview"


# -- the command -------------------------------------------------------------------------------------

@dataclass
class DocsResult:
    """What `docs` wrote and anything the user should know."""

    directory: Path
    files: list[str]
    terms: int
    construct: str | None
    renderer: str | None
    figure_dir: Path | None = None
    warnings: list[str] = field(default_factory=list)


def diagrams_for(ontology: "Graph", kg: "Graph", renderer: Renderer | None,
                 construct_iri: str | None = None) -> tuple[list[Diagram], Construct | None]:
    """The overview and (when the graph has one) the construct diagram, rendered if possible."""
    drawn = {p for _d, p, _r in overview_edges(ontology)}
    total = len(set(ontology.subjects(uriref(RDF + "type"), uriref(OWL + "ObjectProperty"))))
    diagrams = [Diagram("overview", "Schema overview: classes and the object properties between them "
                        "(solid arrows, from domain to range) and subclass links (dashed); "
                        f"{len(drawn)} of the {total} object properties have both a domain and a range "
                        "and are drawn", overview_dot(ontology))]
    if construct_iri is None:
        construct = find_construct(kg, ontology)
    else:
        iri = expand_curie(construct_iri)
        construct = read_construct(kg, ontology, iri)
        if construct is None:
            raise BadInputError(f"--construct {construct_iri}: the knowledge graph has no CAR construct "
                                "with carnk:hasDomainAt records under that IRI")
    if construct is not None:
        diagrams.append(Diagram("construct", f"A CAR construct with its domains in order, outside to inside: "
                                f"{construct.label}", construct_dot(construct)))
    if renderer is not None:
        for d in diagrams:
            d.svg, d.png = renderer.render(d.dot, "svg"), renderer.render(d.dot, "png")
    return diagrams, construct


def overview_files(ontology: "Graph", renderer: Renderer | None) -> dict[str, bytes]:
    """The README figure: overview.dot always, .svg and .png when a renderer is available."""
    dot = overview_dot(ontology)
    files = {f"{README_FIGURE_STEM}.dot": dot.encode("utf-8")}
    if renderer is not None:
        files[f"{README_FIGURE_STEM}.svg"] = renderer.render(dot, "svg")
        files[f"{README_FIGURE_STEM}.png"] = renderer.render(dot, "png")
    return files


def build_docs(root: str | Path | None = None, dist: str | Path | None = None, *,
               update_readme_figure: bool = False, construct: str | None = None,
               renderer: Renderer | None | Callable[[], Renderer | None] = find_renderer) -> DocsResult:
    """Write <dist>/docs/: index.html, overview.{dot,svg,png}, construct.{dot,svg,png}.

    Reads the sources (strictly), not a build: the documentation describes what the
    curators wrote, and needs neither the reasoner nor the store.
    """
    from .atomic import write_files
    from .project import find_project
    from .sources import load_sources

    paths = find_project(root)
    out = (Path(dist) if dist is not None else paths.default_dist()) / "docs"
    src = load_sources(paths)
    gv = renderer() if callable(renderer) else renderer
    warnings = [] if gv is not None else [RENDERER_HINT]
    terms = collect_terms(src.ontology)
    diagrams, found = diagrams_for(src.ontology, src.kg, gv, construct)
    if found is None:
        warnings.append("no CAR construct with carnk:hasDomainAt records in the knowledge graph: "
                        "the construct diagram is left out")
    files = {"index.html": render_html(src.ontology, terms, diagrams).encode("utf-8")}
    for d in diagrams:
        files[f"{d.stem}.dot"] = d.dot.encode("utf-8")
        if d.svg is not None and d.png is not None:
            files[f"{d.stem}.svg"], files[f"{d.stem}.png"] = d.svg, d.png
    write_files(out, files)
    figure_dir = None
    if update_readme_figure:
        if paths.packaged:
            raise BadInputError("--update-readme-figure needs a clone (the packaged sources are read-only)")
        if gv is None:
            raise BadInputError("--update-readme-figure needs a Graphviz renderer: " + RENDERER_HINT.split(";")[1].strip())
        figure_dir = paths.root / README_FIGURE_DIR
        write_files(figure_dir, overview_files(src.ontology, gv))
    return DocsResult(out, sorted(files), len(terms), found.iri if found else None,
                      gv.name if gv else None, figure_dir, warnings)
