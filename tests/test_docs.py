"""`carnk-graph docs`: the HTML page documents every term under a stable anchor, its links resolve,
the diagrams are drawn from the graph, and the README's committed figure is the current one."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from rdflib import OWL, RDF, RDFS, Literal, URIRef

from carnk_graph.cli import main
from carnk_graph.constructs import DEFAULT_CONSTRUCT, find_construct
from carnk_graph.diagrams import find_renderer, overview_dot, overview_edges
from carnk_graph.docs import README_FIGURE_DIR, build_docs, overview_files
from carnk_graph.namespaces import CARNK, PREFIXES
from carnk_graph.ontology_terms import anchor, curie
from carnk_graph.project import find_project
from carnk_graph.sources import load_sources

from spine_helpers import MINIMAL, copy_project

SKOS = PREFIXES["skos"]
PROPERTY_TYPES = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
needs_renderer = pytest.mark.skipif(find_renderer() is None, reason="no Graphviz renderer (pip install graphviz-pure)")


class Page(HTMLParser):
    """The parts of the page the tests look at: ids, term sections, links, image sources, text per section."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.sections: dict[str, str] = {}    # data-iri -> id
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.text: dict[str, list[str]] = {}  # data-iri -> text inside its section
        self._current: str | None = None
        self._depth = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])
        if tag == "section" and "data-iri" in a:
            self.sections[a["data-iri"]] = a.get("id", "")
            self._current, self._depth = a["data-iri"], 0
            self.text[self._current] = []
        elif tag == "section" and self._current:
            self._depth += 1

    def handle_endtag(self, tag):
        if tag == "section" and self._current:
            if self._depth == 0:
                self._current = None
            else:
                self._depth -= 1

    def handle_data(self, data):
        if self._current:
            self.text[self._current].append(data)

    def section_text(self, iri: str) -> str:
        return " ".join("".join(self.text.get(iri, [])).split())


@pytest.fixture(scope="module")
def sources(project_root):
    return load_sources(find_project(project_root))


@pytest.fixture(scope="module")
def docs(project_root, tmp_path_factory):
    return build_docs(project_root, tmp_path_factory.mktemp("docs") / "dist")


@pytest.fixture(scope="module")
def page(docs) -> Page:
    return Page((docs.directory / "index.html").read_text(encoding="utf-8"))


def declared(graph, types) -> list[str]:
    return sorted({str(s) for t in types for s in graph.subjects(RDF.type, t) if isinstance(s, URIRef)})


def test_every_class_of_the_ontology_has_an_entry_under_its_anchor(sources, page):
    for iri in declared(sources.ontology, [OWL.Class]):
        assert page.sections.get(iri) == anchor(iri), iri


def test_every_property_of_the_ontology_has_an_entry_under_its_anchor(sources, page):
    for iri in declared(sources.ontology, PROPERTY_TYPES):
        assert page.sections.get(iri) == anchor(iri), iri


def test_every_internal_link_resolves(page):
    targets = set(page.ids)
    internal = [h[1:] for h in page.hrefs if h.startswith("#")]
    assert internal, "the page has no internal links"
    assert sorted({h for h in internal if h not in targets}) == []


def test_no_two_elements_share_an_id(page):
    assert len(page.ids) == len(set(page.ids))


def test_anchors_of_our_terms_are_their_local_names():
    assert anchor(CARNK + "NKCell") == "NKCell"
    assert anchor(CARNK + "hasDomainAt") == "hasDomainAt"
    assert anchor(PREFIXES["obo"] + "CL_0000623") == "obo_CL_0000623"


def test_each_entry_shows_the_label_and_definition(sources, page):
    g = sources.ontology
    for iri in declared(g, [OWL.Class, *PROPERTY_TYPES]):
        text = page.section_text(iri)
        for p in (RDFS.label, URIRef(SKOS + "definition")):
            values = [str(o) for o in g.objects(URIRef(iri), p) if isinstance(o, Literal) and o.language in ("en", None)]
            if values:
                assert any(" ".join(v.split()) in text for v in values), (iri, p)


def test_each_class_entry_names_its_named_superclasses(sources, page):
    g = sources.ontology
    for s, o in g.subject_objects(RDFS.subClassOf):
        if isinstance(s, URIRef) and isinstance(o, URIRef):
            label = g.value(o, RDFS.label)
            assert label is not None and str(label) in page.section_text(str(s)), (s, o)


def test_each_property_entry_names_its_domain_and_range(sources, page):
    g = sources.ontology
    for p in (RDFS.domain, RDFS.range):
        for s, o in g.subject_objects(p):
            if isinstance(s, URIRef) and isinstance(o, URIRef) and str(o).startswith(CARNK):
                assert str(g.value(o, RDFS.label)) in page.section_text(str(s)), (s, p, o)


def test_each_external_mapping_of_a_term_is_shown(sources, page):
    g = sources.ontology
    preds = [URIRef(SKOS + m) for m in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")]
    preds.append(URIRef(PREFIXES["oboInOwl"] + "hasDbXref"))
    checked = 0
    for iri in declared(g, [OWL.Class, *PROPERTY_TYPES, OWL.NamedIndividual]):
        for p in preds:
            for o in g.objects(URIRef(iri), p):
                local = str(o).rsplit("/", 1)[-1]
                assert local in page.section_text(iri), (iri, p, o)
                checked += 1
    for s, o in g.subject_objects(RDFS.subClassOf):
        if isinstance(s, URIRef) and isinstance(o, URIRef) and not str(o).startswith(CARNK):
            assert "rdfs:subClassOf" in page.section_text(str(s)), (s, o)
            checked += 1
    assert checked > 0


def test_the_page_loads_nothing_from_the_network(page):
    assert page.srcs and all(not re.match(r"^[a-z]+:", s) for s in page.srcs)


def test_the_page_is_the_same_bytes_every_time(project_root, docs, tmp_path):
    again = build_docs(project_root, tmp_path / "dist")
    for name in docs.files:
        assert (again.directory / name).read_bytes() == (docs.directory / name).read_bytes(), name


def test_text_from_the_ontology_is_escaped(tmp_path):
    project = copy_project(MINIMAL, tmp_path / "p")
    onto = project / "ontology" / "carnk.ttl"
    onto.write_text(onto.read_text(encoding="utf-8").replace(
        '"receptor"@en', '"receptor <script>alert(1)</script> & co"@en'), encoding="utf-8")
    result = build_docs(project, project / "dist", renderer=None)
    text = (result.directory / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in text
    assert "receptor &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in text


# -- diagrams ----------------------------------------------------------------------------------------

def test_the_overview_draws_every_object_property_with_a_domain_and_a_range(sources):
    dot = overview_dot(sources.ontology)
    edges = overview_edges(sources.ontology)
    assert edges
    for d, p, r in edges:
        label = str(sources.ontology.value(URIRef(p), RDFS.label))
        assert f'"{curie(d)}" -> "{curie(r)}" [label="{label}"' in dot, (d, p, r)


def test_the_construct_diagram_lists_the_liu_2020_domains_in_order(sources, docs):
    construct = find_construct(sources.kg, sources.ontology)
    assert construct is not None and construct.iri == DEFAULT_CONSTRUCT
    records = sources.kg.objects(URIRef(DEFAULT_CONSTRUCT), URIRef(CARNK + "hasDomainAt"))
    expected = sorted((int(sources.kg.value(r, URIRef(CARNK + "position"))),
                       str(sources.kg.value(r, URIRef(CARNK + "domain")))) for r in records)
    assert [(d.position, d.domain) for d in construct.domains] == expected
    dot = (docs.directory / "construct.dot").read_text(encoding="utf-8")
    positions = [int(m) for m in re.findall(r'label="(\d+)\. ', dot)]
    assert positions == [p for p, _ in expected] and len(positions) >= 3


@needs_renderer
@pytest.mark.parametrize("stem", ["overview", "construct"])
def test_each_diagram_is_written_as_svg_and_png(docs, stem):
    svg = (docs.directory / f"{stem}.svg").read_bytes()
    png = (docs.directory / f"{stem}.png").read_bytes()
    assert b"<svg" in svg and b"Generated by graphviz" not in svg
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


@needs_renderer
@pytest.mark.parametrize("stem", ["overview", "construct"])
def test_every_text_of_a_diagram_names_a_font_fallback_list(docs, stem):
    """Laid out with Arimo; a viewer without it must fall back to a sans-serif face, not a wider serif."""
    families = set(re.findall(rb'font-family="([^"]*)"', (docs.directory / f"{stem}.svg").read_bytes()))
    assert families and all(b"Arimo," in f and f.endswith(b"sans-serif") for f in families), families


def test_without_a_renderer_the_page_and_dot_files_are_still_written_with_one_warning(tmp_path, capsys, monkeypatch):
    project = copy_project(MINIMAL, tmp_path / "p")
    monkeypatch.setenv("CARNK_NO_GRAPHVIZ", "1")
    assert main(["docs", "--root", str(project), "--dist", str(project / "dist")]) == 0
    written = sorted(p.name for p in (project / "dist" / "docs").iterdir())
    assert written == ["index.html", "overview.dot"]
    warnings = [line for line in capsys.readouterr().err.splitlines() if "Graphviz" in line]
    assert len(warnings) == 1 and "pip install" in warnings[0]


def test_a_project_without_a_construct_gets_the_page_without_that_diagram(tmp_path, capsys):
    project = copy_project(MINIMAL, tmp_path / "p")
    assert main(["docs", "--root", str(project), "--dist", str(project / "dist")]) == 0
    assert not (project / "dist" / "docs" / "construct.dot").exists()
    assert "construct" in capsys.readouterr().err


# -- the README's figure -----------------------------------------------------------------------------

def test_the_readme_figure_source_is_current(project_root, sources):
    committed = project_root / README_FIGURE_DIR / "overview.dot"
    assert committed.read_text(encoding="utf-8") == overview_dot(sources.ontology), (
        "docs/overview.dot is stale: run `carnk-graph docs --update-readme-figure` and commit docs/")


@needs_renderer
@pytest.mark.parametrize("name", ["overview.svg", "overview.png"])
def test_the_readme_figure_pictures_are_current(project_root, sources, name):
    renderer = find_renderer()
    if renderer.name != "graphviz-pure":
        pytest.skip(f"the committed figure is drawn by graphviz-pure; {renderer.name} draws other bytes")
    fresh = overview_files(sources.ontology, renderer)[name]
    assert (project_root / README_FIGURE_DIR / name).read_bytes() == fresh, (
        f"docs/{name} is stale: run `carnk-graph docs --update-readme-figure` and commit docs/")


@needs_renderer
def test_update_readme_figure_rewrites_the_clone_copy(tmp_path):
    project = copy_project(MINIMAL, tmp_path / "p")
    assert main(["docs", "--root", str(project), "--dist", str(project / "dist"), "--update-readme-figure", "-q"]) == 0
    assert sorted(p.name for p in (project / README_FIGURE_DIR).iterdir()) == [
        "overview.dot", "overview.png", "overview.svg"]
    assert (project / README_FIGURE_DIR / "overview.svg").read_bytes() == (
        project / "dist" / "docs" / "overview.svg").read_bytes()


def test_the_readme_shows_the_overview_figure(project_root):
    readme = (project_root / "README.md").read_text(encoding="utf-8")
    # relative, or absolute under the project's base IRI (so it shows on a package index page too)
    assert re.search(r"!\[[^\]]*\]\((https://w3id\.org/carnk/)?docs/overview\.(svg|png)\)", readme), (
        "README.md should show docs/overview.svg")


def test_a_construct_named_by_prefixed_name_is_drawn(project_root, tmp_path):
    result = build_docs(project_root, tmp_path / "dist", construct="carnkkg:liu2020-car", renderer=None)
    assert result.construct == DEFAULT_CONSTRUCT


def test_an_unknown_construct_is_bad_input_with_one_line(project_root, tmp_path, capsys):
    code = main(["docs", "--root", str(project_root), "--dist", str(tmp_path / "dist"), "--construct", "carnkkg:nope"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "carnkkg:nope" in err[0]
