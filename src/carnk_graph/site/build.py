"""`carnk-graph site`: write dist/site/ from the built release.

Everything is drawn from the release (dist/carnk.nq) and the saved queries; the
pages are rendered by the Jinja2 templates of this package, in sorted order and
with no clock or random input, so two builds of the same release are the same
bytes. The site is written to a temporary folder beside dist/site and swapped
in with one rename, so a reader (or `serve`) never sees half a site, and a
failed build leaves the previous site as it was. site.json records which
release a site was built from, so `serve` can tell when it is stale.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import __version__
from ..errors import BadInputError
from ..layout import Release, replace_directory
from ..namespaces import CARNK, DCTERMS, ONTOLOGY_IRI
from .entities import KIND_ORDER, Describer, collect_entities
from .graph import SiteGraph
from .overviews import Overviews
from .rdf import FORMATS, description, serialize
from .templating import environment

SITE_DIR = "site"
STAMP = "site.json"
STATIC = Path(__file__).resolve().parent / "static"
SITE_TITLE = "CAR-NK knowledge graph"

#: The overview counts on the home page: label, class (local name), overview page.
FEATURED = (("clinical programmes", "ClinicalStudy", "browse/programmes.html"),
            ("cell therapy products", "CellTherapyProduct", "browse/products.html"),
            ("CAR constructs", "CARConstruct", "browse/constructs.html"),
            ("toxicities", "Toxicity", "browse/toxicities.html"),
            ("information sources", "InformationSource", "browse/sources.html"))


@dataclass
class SiteResult:
    directory: Path
    pages: int
    files: int
    entities: int
    seconds: float
    rebuilt: bool = True
    warnings: list[str] = field(default_factory=list)


def release_id(dist: Path) -> str:
    """What identifies a release: the digest of its build stamp (which lists every file's digest)."""
    stamp = Release(Path(dist)).stamp_path
    try:
        return hashlib.sha256(stamp.read_bytes()).hexdigest()
    except OSError:
        raise BadInputError("no built release: run `carnk-graph build` first", path=stamp) from None


def site_is_current(dist: Path) -> bool:
    try:
        stamp = json.loads((Path(dist) / SITE_DIR / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    try:
        return stamp.get("release") == release_id(dist) and stamp.get("generator") == __version__
    except BadInputError:
        return False


def _root(path: str) -> str:
    """The relative way back to the site root from a page at `path` (pages use relative links only,
    so the site works from disk, from `serve` and from any web server folder)."""
    return "../" * path.count("/")


def render_site(dist: Path, queries_dir: Path | None, figure: Path | None,
                progress: Callable[[str], None] | None = None) -> dict[str, bytes]:
    """Every file of the site, by relative path (the whole site in memory; it is small beside the release)."""
    from ..catalogue import catalogue
    from ..constructs import construct_svg
    from ..diagrams import Diagram
    from ..ontology_page import docs_context, figure_data
    from ..ontology_terms import collect_terms

    say = progress or (lambda _m: None)
    g = SiteGraph.from_nquads(Release(Path(dist)).nquads)
    say(f"site: {sum(g.triples_per_graph.values())} statements read")
    entities = collect_entities(g)
    d = Describer(g, entities)
    ov = Overviews(d)
    env = environment()
    files: dict[str, bytes] = {}
    onto_node = entities.get(ONTOLOGY_IRI)
    title_of_graph = (g.texts(onto_node.node, DCTERMS + "title")[:1] if onto_node else []) or [SITE_TITLE]
    base = {"site_title": SITE_TITLE, "version": __version__}

    def page(path: str, template: str, **ctx) -> None:
        html = env.get_template(template).render(root=_root(path), **base, **ctx)
        files[path] = html.encode("utf-8")

    # entity pages and their RDF
    programmes = {s.value: s for s in ov.studies()}
    table_heads = ov.programmes().columns if programmes else []
    constructs = {}
    for e in entities.values():
        if e.iri == ONTOLOGY_IRI:
            continue
        ctx = d.describe(e)
        programme = None
        if e.iri in programmes:
            programme = list(zip(table_heads, ov.programme_row(programmes[e.iri])))[1:]
        c = ov.construct(e.node)
        svg = construct_svg(c) if c is not None else ""
        if svg:
            constructs[e.iri] = svg
        page(e.path + ".html", "entity.html.j2", title=e.label, e=e, programme=programme, diagram=svg, **{
            k: v for k, v in ctx.items() if k != "entity"})
        triples = description(d, e.iri)
        for fmt in FORMATS:
            files[f"{e.path}.{fmt}"] = serialize(triples, fmt)
    say(f"site: {len(entities)} entity pages")

    # the ontology page: the documentation page of the ontology, inside the site
    if onto_node is not None:
        onto_graph = _ontology_rdflib(Path(dist))
        terms = collect_terms(onto_graph)
        fig = [figure_data(Diagram("overview", "Schema overview: classes and the object properties "
                                             "between them (solid arrows, from domain to range) and subclass links "
                                             "(dashed)", "", svg=b"" if figure else None), "static/", ("svg",))] if figure else []
        page("ontology.html", "ontology.html.j2", title=onto_node.label, **docs_context(onto_graph, terms, fig))
        files["ontology.ttl"] = serialize(description(d, ONTOLOGY_IRI), "ttl")
        files["ontology.jsonld"] = serialize(description(d, ONTOLOGY_IRI), "jsonld")
        files["ontology.nt"] = serialize(description(d, ONTOLOGY_IRI), "nt")

    # overviews
    kinds = {k: sum(1 for e in entities.values() if e.kind == k) for k in KIND_ORDER}
    featured = [(label, len(g.instances(d_cls)), href) for label, d_cls, href in
                ((lab, CARNK + local, href) for lab, local, href in FEATURED)]
    page("index.html", "index.html.j2", title="Home", ontology_title=title_of_graph[0],
         description=" ".join(g.texts(onto_node.node, DCTERMS + "description")[:1]) if onto_node else "",
         total_triples=sum(g.triples_per_graph.values()), triples=list(g.triples_per_graph.items()),
         kinds=kinds, featured=featured, figure=bool(figure))
    for name, title, intro, table in (
            ("programmes", "Clinical programmes",
             "Every clinical study in the graph: its product, NK cell source, target, disease and phase, the patients "
             "and responses reported, and what was found about cytokine release syndrome, neurotoxicity and "
             "graft-versus-host disease. Each figure links to the fact that records it, with its source.",
             ov.programmes()),
            ("products", "Cell therapy products",
             "Every product with its cells, their source, the donor setting, its CAR construct and target, and the "
             "studies that evaluated it. Classes marked inferred were derived by the reasoner.", ov.products()),
            ("sources", "Sources",
             "Every source the facts cite, with its records elsewhere (DOI, PubMed, trial registry) and how many "
             "facts cite it.", ov.sources())):
        page(f"browse/{name}.html", "table.html.j2", title=title, intro=intro, table=table, table_id=name,
             sort_keys=table.sort_keys())
    page("browse/constructs.html", "constructs.html.j2", title="CAR constructs",
         constructs=[dict(c, svg=constructs.get(_iri(c), "")) for c in ov.constructs()])
    page("browse/toxicities.html", "toxicities.html.j2", title="Toxicities", toxicities=ov.toxicities())
    groups = [(k, {"class": "Classes", "property": "Properties", "individual": "Individuals",
                   "ontology": "Ontology"}[k], [e for e in entities.values() if e.kind == k]) for k in KIND_ORDER]
    page("browse/search.html", "search.html.j2", title="All entries", groups=[x for x in groups if x[2]])
    saved = list(catalogue(queries_dir).values()) if queries_dir is not None and Path(queries_dir).is_dir() else []
    page("browse/query.html", "query.html.j2", title="Saved questions", queries=saved)
    page("404.html", "404.html.j2", title="Not found", missing="")

    # assets
    # [IRI, label, synonyms, what it is, page, 1 for a qualified fact]: facts (an outcome, a finding) are
    # listed after the things they are about, so "cord blood" shows the trial before its figures
    index = [[e.iri, e.label, " · ".join(e.synonyms), d.kind_label(e), e.path + ".html", int(d.is_fact(e.node))]
             for e in entities.values()]
    data = json.dumps(index, ensure_ascii=False, separators=(",", ":"))
    files["static/search-index.json"] = (data + "\n").encode("utf-8")
    files["static/search-index.js"] = f"window.CARNK_SEARCH={data};\n".encode("utf-8")
    for asset in sorted(STATIC.iterdir()):
        if asset.is_file():
            files[f"static/{asset.name}"] = asset.read_bytes()
    if figure:
        files["static/overview.svg"] = figure.read_bytes()
    files[STAMP] = (json.dumps({"generator": __version__, "release": release_id(dist), "entities": len(entities),
                                "pages": sum(1 for p in files if p.endswith(".html"))}, indent=1, sort_keys=True)
                    + "\n").encode("utf-8")
    return files


def _iri(c: dict) -> str:
    return c["construct"].iri if c["construct"] is not None else ""


def _ontology_rdflib(dist: Path):
    """The ontology graph of the release as an rdflib Graph (the documentation code reads rdflib)."""
    from rdflib import Graph

    from ..namespaces import GRAPHS

    g = Graph()
    prefix = f"<{GRAPHS['ontology']}> .".encode("utf-8")
    lines = [line[: -len(prefix)] + b"." for line in Release(Path(dist)).nquads.read_bytes().splitlines()
             if line.endswith(prefix)]
    g.parse(data=b"\n".join(lines).decode("utf-8"), format="nt")
    return g


def write_site(out: Path, files: dict[str, bytes]) -> None:
    """Write into a fresh folder beside `out`, then swap it in with renames (no half-written site)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(out)

    def fill(folder: Path) -> None:
        for rel, data in sorted(files.items()):
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    replace_directory(out, fill, "the site")


def _clean_leftovers(out: Path) -> None:
    """Remove the temporary folders of site builds that were killed (their process is gone)."""
    for entry in out.parent.glob(f".{out.name}.*-*"):
        pid = entry.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still running: another build's folder
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue


def build_site(root: str | Path | None = None, dist: str | Path | None = None, *,
               progress: Callable[[str], None] | None = None) -> SiteResult:
    """Build the release if the sources changed, then write <dist>/site/."""
    from ..api import ensure_built

    release = ensure_built(root, dist, progress=progress)
    return _write(release.paths, release.dist, progress)


def ensure_site(paths, dist: Path, progress: Callable[[str], None] | None = None) -> SiteResult:
    """The site of this release: rebuilt only when it was built from another release (or not at all)."""
    if site_is_current(dist):
        stamp = json.loads((Path(dist) / SITE_DIR / STAMP).read_text(encoding="utf-8"))
        return SiteResult(Path(dist) / SITE_DIR, stamp.get("pages", 0), 0, stamp.get("entities", 0), 0.0, rebuilt=False)
    return _write(paths, Path(dist), progress)


def _write(paths, dist: Path, progress) -> SiteResult:
    start = time.perf_counter()
    figure = None if paths.packaged else paths.root / "docs" / "overview.svg"
    warnings = []
    if figure is not None and not figure.is_file():
        figure = None
    if figure is None:
        warnings.append("no schema figure (docs/overview.svg) in this project: the home page shows none")
    files = render_site(dist, paths.queries, figure, progress)
    write_site(Path(dist) / SITE_DIR, files)
    return SiteResult(Path(dist) / SITE_DIR, sum(1 for p in files if p.endswith(".html")), len(files),
                      json.loads(files[STAMP])["entities"], time.perf_counter() - start, warnings=warnings)
