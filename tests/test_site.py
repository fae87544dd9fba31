"""`carnk-graph site`: a page for every class, property and individual, every link resolves, every
fact shows its source, inferred statements are marked, and the same release gives the same bytes."""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pyoxigraph as ox
import pytest

from carnk_graph.cli import main
from carnk_graph.namespaces import BASE, GRAPHS
from carnk_graph.site import build_site
from carnk_graph.site.build import SITE_DIR, render_site
from carnk_graph.site.entities import path_of

from spine_helpers import MINIMAL, copy_project

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STUDY = "https://w3id.org/carnk/kg/nct03056339"
CARNK = "https://w3id.org/carnk/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
OWL = "http://www.w3.org/2002/07/owl#"


class Page(HTMLParser):
    """What the tests read from a page: ids, links, sources of embedded files, and the text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.embeds: list[tuple[str, str]] = []  # (tag, url) of what the page loads
        self.words: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in ("img", "script", "iframe", "audio", "video", "source") and a.get("src"):
            self.embeds.append((tag, a["src"]))
        if tag == "link" and a.get("href"):
            self.embeds.append((tag, a["href"]))

    def handle_data(self, data):
        self.words.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.words).split())


@pytest.fixture(scope="module")
def site_build(built, project_root) -> tuple[Path, float]:
    """The shipped site, built once for the module, and the seconds its build took."""
    start = time.perf_counter()
    result = build_site(project_root, built.dist)
    return result.directory, time.perf_counter() - start


@pytest.fixture(scope="module")
def site(site_build) -> Path:
    return site_build[0]


@pytest.fixture(scope="module")
def pages(site) -> dict[str, Page]:
    return {p.relative_to(site).as_posix(): Page(p.read_text(encoding="utf-8")) for p in sorted(site.rglob("*.html"))}


@pytest.fixture(scope="module")
def release(built):
    quads = list(ox.parse(path=str(built.dist / "carnk.nq"), format=ox.RdfFormat.N_QUADS))
    return quads


def described_iris(quads, types=None) -> set[str]:
    """IRIs of our namespace that the release says something about (optionally: of these rdf:types)."""
    out = set()
    for q in quads:
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(BASE):
            if types is None or (q.predicate.value == RDF_TYPE and q.object.value in types):
                out.add(q.subject.value)
    return out


# -- every entity has a page ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind, types", [
    ("class", {OWL + "Class"}),
    ("property", {OWL + "ObjectProperty", OWL + "DatatypeProperty", OWL + "AnnotationProperty"}),
    ("individual", None),
])
def test_every_class_property_and_individual_has_its_page_and_data_files(site, release, kind, types):
    iris = described_iris(release, types)
    assert iris
    for iri in sorted(iris):
        base = site / path_of(iri)
        for suffix in (".html", ".ttl", ".jsonld", ".nt"):
            assert base.with_name(base.name + suffix).is_file(), (iri, suffix)


def test_an_entity_page_lives_at_its_iri_path(site):
    assert (site / "kg" / "nct03056339.html").is_file()
    assert (site / "NKCell.html").is_file()
    assert path_of(CARNK + "ontology") == "ontology"


# -- links and what pages load ------------------------------------------------------------------------

#: Addresses only the server answers (the SPARQL endpoint, saved questions): checked in test_serve.py.
SERVER_ROUTES = ("sparql", "saved/")


def test_every_link_on_every_page_resolves(site, pages):
    broken = []
    root = site.resolve()  # once, not twice per link: resolving is most of this test's time
    resolved: dict[Path, Path] = {}  # pages share most links (the header, the footer)
    for rel, page in pages.items():
        here = (site / rel).parent
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc:
                continue  # a DOI, PubMed or registry record: outside, not fetched here
            link = here / unquote(parts.path) if parts.path else site / rel
            if link not in resolved:
                resolved[link] = link.resolve()
            target = resolved[link]
            inside = target.relative_to(root).as_posix() if target.is_relative_to(root) else None
            if inside is None:
                broken.append((rel, href, "outside the site"))
                continue
            if inside.startswith(SERVER_ROUTES):
                continue
            if not target.is_file():
                broken.append((rel, href, "no such file"))
            elif parts.fragment and target.suffix == ".html":
                if parts.fragment not in pages[inside].ids:
                    broken.append((rel, href, "no such anchor"))
    assert broken == []
    assert sum(len(p.links) for p in pages.values()) > 1000


def test_no_page_loads_anything_from_the_network(site, pages):
    for rel, page in pages.items():
        for tag, url in page.embeds:
            assert not re.match(r"^([a-z]+:|//)", url), (rel, tag, url)
    for css in site.rglob("*.css"):
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", css.read_text(encoding="utf-8")), css
        assert "@import" not in css.read_text(encoding="utf-8")
    for js in site.rglob("*.js"):
        text = js.read_text(encoding="utf-8")
        assert not re.search(r"""fetch\(\s*['"]https?:""", text) and "XMLHttpRequest" not in text, js


def test_pages_are_readable_without_javascript(pages):
    """The facts are in the HTML itself: no page builds its content with a script."""
    study = pages["kg/nct03056339.html"].text
    assert "complete response" in study and "Liu et al. 2020" in study
    assert "CD19" in pages["browse/programmes.html"].text


# -- what a page shows ------------------------------------------------------------------------------

def test_the_study_page_shows_its_outcomes_with_sources_and_evidence(site, pages):
    html = (site / "kg" / "nct03056339.html").read_text(encoding="utf-8")
    text = pages["kg/nct03056339.html"].text
    facts = html[html.index('<section class="facts">'):]
    for outcome in ("liu2020-outcome-complete-response-paper", "liu2020-outcome-complete-response-overview"):
        assert f'/{outcome}.html"' in facts  # each outcome is a row of a fact table on the page
    for figure in ("8/11", "7/11"):
        assert figure in text  # the programme summary quotes the figures
    assert "DOI 10.1056/NEJMoa1910607" in text and 'href="https://doi.org/10.1056/NEJMoa1910607"' in html
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/32023374/"' in html
    assert "evidence:" in text


def test_disagreeing_claims_are_set_side_by_side(site):
    html = (site / "kg" / "nct03056339.html").read_text(encoding="utf-8")
    block = html[html.index('class="disagreement"'):]
    block = block[: block.index("</div>\n</div>") if "</div>\n</div>" in block else len(block)]
    assert "Sources disagree" in block
    assert "liu2020-outcome-complete-response-overview.html" in block
    assert "liu2020-outcome-complete-response-paper.html" in block


def test_inferred_statements_are_marked_inferred(site, release):
    asserted = {(q.subject, q.predicate, q.object) for q in release if q.graph_name.value != GRAPHS["inferred"]}
    only_inferred = sorted((q.subject.value, q.predicate.value, q.object.value) for q in release
                           if q.graph_name.value == GRAPHS["inferred"] and isinstance(q.subject, ox.NamedNode)
                           and q.subject.value.startswith(BASE) and q.predicate.value == RDF_TYPE
                           and (q.subject, q.predicate, q.object) not in asserted)
    assert only_inferred
    for s, _p, o in only_inferred[:20]:
        html = (site / (path_of(s) + ".html")).read_text(encoding="utf-8")
        row = html[html.index('<p class="types">'):].split("</p>", 1)[0]
        href = "../" * path_of(s).count("/") + path_of(o) + ".html"
        link = row[row.index(f'href="{href}"'):]
        assert link.split("</a>", 1)[1].lstrip().startswith('<span class="badge inferred"'), (s, o)


def test_each_curated_statement_names_its_source(site):
    html = (site / "kg" / "liu2020-product.html").read_text(encoding="utf-8")
    table = html[html.index('<table class="statements">'):html.index("</table>", html.index('<table class="statements">'))]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.DOTALL)[1:]
    assert rows
    for row in rows:
        assert 'class="refs"' in row and ("source:" in row or "inferred" in row or "ontology axiom" in row), row


def test_the_construct_page_draws_its_domains_in_order(site):
    html = (site / "kg" / "liu2020-car.html").read_text(encoding="utf-8")
    assert 'id="construct-diagram"' in html and "<svg" in html
    positions = [int(p) for p in re.findall(r'data-position="(\d+)"', html)]
    assert positions == sorted(positions) and len(positions) >= 3


def test_the_programmes_table_lists_every_clinical_study(site, release, pages):
    studies = sorted({q.subject.value for q in release if q.predicate.value == RDF_TYPE
                      and q.object.value == CARNK + "ClinicalStudy"})
    assert studies
    text = (site / "browse" / "programmes.html").read_text(encoding="utf-8")
    for s in studies:
        assert f'href="../{path_of(s)}.html"' in text, s
    head = pages["browse/programmes.html"].text
    for column in ("product", "NK cell source", "target", "disease", "phase", "patients", "responses", "CRS", "GvHD"):
        assert column in head


@pytest.mark.parametrize("page, word", [("browse/products.html", "anti-CD19 CAR-NK product"),
                                        ("browse/constructs.html", "<svg"),
                                        ("browse/toxicities.html", "cytokine release syndrome"),
                                        ("browse/sources.html", "PubMed 32023374"),
                                        ("ontology.html", 'id="sec-classes"'),
                                        ("index.html", "static/overview.svg")])
def test_each_overview_page_shows_its_subject(site, page, word):
    assert word in (site / page).read_text(encoding="utf-8")


# -- per-entity data ------------------------------------------------------------------------------------

@pytest.mark.parametrize("iri", [STUDY, CARNK + "NKCell", "https://w3id.org/carnk/kg/liu2020-car",
                                 CARNK + "hasDomainAt"])
def test_the_turtle_json_ld_and_n_triples_files_say_the_same(site, iri):
    base = site / path_of(iri)
    graphs = [set(ox.parse(path=str(base.with_name(base.name + "." + suffix)), format=fmt))
              for suffix, fmt in (("ttl", ox.RdfFormat.TURTLE), ("jsonld", ox.RdfFormat.JSON_LD),
                                  ("nt", ox.RdfFormat.N_TRIPLES))]
    assert graphs[0] == graphs[1] == graphs[2]
    assert any(t.subject.value == iri for t in graphs[0])


def test_the_description_includes_the_qualified_fact_nodes(site):
    triples = list(ox.parse(path=str(site / "kg" / "liu2020-car.ttl"), format=ox.RdfFormat.TURTLE))
    positions = {t.object.value for t in triples if t.predicate.value == CARNK + "hasDomainAt"}
    assert positions
    for p in positions:
        assert any(t.subject.value == p and t.predicate.value == CARNK + "position" for t in triples)


# -- search ---------------------------------------------------------------------------------------------

def test_the_search_index_holds_every_entity_with_its_label_and_synonyms(site, pages):
    index = json.loads((site / "static" / "search-index.json").read_text(encoding="utf-8"))
    by_iri = {row[0]: row for row in index}
    assert len(by_iri) == len(index)
    for row in index:
        assert (site / row[4]).is_file()
    assert "GvHD" in by_iri["https://w3id.org/carnk/kg/graft-versus-host-disease"][2]
    js = (site / "static" / "search-index.js").read_text(encoding="utf-8")
    assert js.startswith("window.CARNK_SEARCH=") and json.loads(js[len("window.CARNK_SEARCH="):].rstrip(";\n")) == index


def test_the_search_page_lists_every_entity_without_javascript(site, pages):
    index = json.loads((site / "static" / "search-index.json").read_text(encoding="utf-8"))
    links = set(pages["browse/search.html"].links)
    for row in index:
        assert "../" + row[4] in links


# -- determinism, speed, the command --------------------------------------------------------------------

@pytest.mark.slow  # renders the whole site three times, twice in a fresh process
def test_two_builds_of_one_release_are_the_same_bytes(built, project_root, tmp_path):
    """Also across processes with another hash seed: no set or dict order leaks into a page."""
    import os

    figure = project_root / "docs" / "overview.svg"
    first = render_site(built.dist, project_root / "queries", figure)
    script = ("import hashlib, json, sys; from pathlib import Path; from carnk_graph.site.build import render_site; "
              "f = render_site(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])); "
              "print(json.dumps({k: hashlib.sha256(v).hexdigest() for k, v in f.items()}))")
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", script, str(built.dist), str(project_root / "queries"), str(figure)],
                             capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed})
        digests = json.loads(out.stdout)
        assert sorted(digests) == sorted(first)
        assert [k for k in first if hashlib.sha256(first[k]).hexdigest() != digests[k]] == []


def minimal_built(tmp_path) -> Path:
    """A copy of the minimal project, built without the reasoner (no JVM in the fast lane)."""
    from carnk_graph.build import build

    project = copy_project(MINIMAL, tmp_path / "p")
    build(project, project / "dist", no_reason=True)
    return project


def test_text_from_the_graph_is_escaped(tmp_path):
    project = copy_project(MINIMAL, tmp_path / "p")
    onto = project / "ontology" / "carnk.ttl"
    onto.write_text(onto.read_text(encoding="utf-8").replace(
        '"receptor"@en', '"receptor <script>alert(1)</script> & co"@en'), encoding="utf-8")
    from carnk_graph.build import build

    build(project, project / "dist", no_reason=True)
    result = build_site(project, project / "dist")
    for page in result.directory.rglob("*.html"):
        assert "<script>alert" not in page.read_text(encoding="utf-8"), page
    assert any("receptor &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in p.read_text(encoding="utf-8")
               for p in result.directory.rglob("*.html"))


def test_the_site_command_writes_dist_site_and_says_so(tmp_path, capsys):
    project = minimal_built(tmp_path)
    assert main(["site", "--root", str(project), "--dist", str(project / "dist"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "pages" in out and (project / "dist" / SITE_DIR / "index.html").is_file()
    assert not list((project / "dist").glob(".site.*"))  # no temporary folder left behind


def test_a_killed_site_build_leaves_nothing_behind_after_the_next(tmp_path):
    project = minimal_built(tmp_path)
    build_site(project, project / "dist")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = project / "dist" / f".site.new-{dead.stdout.strip()}"
    (leftover / "kg").mkdir(parents=True)
    (project / "dist" / "build.json").write_text((project / "dist" / "build.json").read_text() + " ")
    build_site(project, project / "dist")
    assert not leftover.exists()


def test_a_failed_site_build_leaves_the_previous_site(tmp_path, monkeypatch):
    import carnk_graph.site.build as site_build

    project = minimal_built(tmp_path)
    first = build_site(project, project / "dist")
    before = {p: p.read_bytes() for p in first.directory.rglob("*") if p.is_file()}

    def broken(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(site_build.Path, "write_bytes", broken)
    (project / "dist" / "build.json").write_text((project / "dist" / "build.json").read_text() + " ")
    with pytest.raises(Exception):
        build_site(project, project / "dist")
    monkeypatch.undo()
    assert {p: p.read_bytes() for p in first.directory.rglob("*") if p.is_file()} == before
    assert not list((project / "dist").glob(".site.*"))


def test_the_shipped_site_builds_quickly_enough_to_be_rebuilt_on_every_serve(site_build):
    """Not a benchmark (benchmarks/site.py measures): a guard that the generator stays interactive.
    The module's one build of the shipped site is timed (rendering and writing), not a second one."""
    assert site_build[1] < 30


# -- the w3id redirects ---------------------------------------------------------------------------------

def rewrite(htaccess: str, path: str, accept: str) -> str | None:
    """Where w3id.org's Apache would send `path` (below /carnk/): RewriteCond/RewriteRule evaluated in
    order, as mod_rewrite does for the rules this file uses (conditions on the Accept header, [L])."""
    env: dict[str, str] = {}
    conds: list[tuple[str, bool]] = []
    for line in htaccess.splitlines():
        line = line.strip()
        if line.startswith("RewriteCond"):
            _, var, pattern = line.split(None, 2)
            assert var == "%{HTTP_ACCEPT}", line
            conds.append((pattern.lstrip("!"), pattern.startswith("!")))
        elif line.startswith("RewriteRule"):
            _, pattern, target, flags = line.split(None, 3)
            m = re.search(pattern, path)
            ok = m is not None and all(bool(re.search(p, accept)) != negated for p, negated in conds)
            conds = []
            if not ok:
                continue
            if flags.startswith("[E="):
                name, value = flags[3:-1].split(":", 1)
                env[name] = value
                continue
            out = re.sub(r"%\{ENV:(\w+)\}", lambda e: env[e.group(1)], target)
            return re.sub(r"\$(\d)", lambda g: m.group(int(g.group(1))) or "", out)
    return None


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.mark.parametrize("path, accept, suffix", [
    ("kg/liu2020", BROWSER, ".html"), ("kg/liu2020", "text/turtle", ".ttl"),
    ("kg/liu2020", "application/ld+json", ".jsonld"), ("kg/liu2020", "application/n-triples", ".nt"),
    ("NKCell", BROWSER, ".html"), ("NKCell", "text/turtle;q=1.0, */*;q=0.1", ".ttl"),
    ("hasDomainAt", "application/ld+json", ".jsonld"),
])
def test_w3id_sends_browsers_to_pages_and_rdf_clients_to_data(project_root, site, path, accept, suffix):
    htaccess = (project_root / "w3id" / ".htaccess").read_text(encoding="utf-8")
    target = rewrite(htaccess, path, accept)
    prefix = re.search(r"E=CARNK_SITE:([^\]]+)\]", htaccess).group(1)
    assert target == f"{prefix}/{path}{suffix}"
    assert (site / (path + suffix)).is_file()  # the published site has that file


@pytest.mark.parametrize("path, accept, release_file", [
    ("ontology", "text/turtle", "carnk.ttl"), ("ontology", "application/rdf+xml", "carnk.owl"),
    ("", "application/ld+json", "carnk.jsonld"), ("kg/liu2020", "application/rdf+xml", "carnk.owl"),
])
def test_w3id_sends_rdf_clients_of_the_ontology_to_the_release_files(project_root, built, path, accept,
                                                                       release_file):
    htaccess = (project_root / "w3id" / ".htaccess").read_text(encoding="utf-8")
    assert rewrite(htaccess, path, accept).endswith("/release/" + release_file)
    assert (built.dist / release_file).is_file()


@pytest.mark.parametrize("path", ["docs/overview.svg", "CHANGELOG.md", "benchmarks/README.md", "kg/liu2020.ttl",
                                  "browse/programmes.html"])
def test_w3id_sends_a_file_path_to_the_same_file_on_the_host(project_root, path):
    """The README links its figure and files under https://w3id.org/carnk/: they must resolve too."""
    htaccess = (project_root / "w3id" / ".htaccess").read_text(encoding="utf-8")
    prefix = re.search(r"E=CARNK_SITE:([^\]]+)\]", htaccess).group(1)
    for accept in (BROWSER, "text/turtle"):
        assert rewrite(htaccess, path, accept) == f"{prefix}/{path}"
    readme = (project_root / "README.md").read_text(encoding="utf-8")
    for linked in re.findall(r"\(https://w3id\.org/carnk/([^)\s]+\.\w+)\)", readme):
        assert (project_root / linked).is_file(), linked  # what the README links exists to be published


def test_w3id_sends_browsers_at_the_namespace_and_ontology_to_the_site(project_root, site):
    htaccess = (project_root / "w3id" / ".htaccess").read_text(encoding="utf-8")
    assert rewrite(htaccess, "", BROWSER).endswith("/index.html")
    assert rewrite(htaccess, "ontology", BROWSER).endswith("/ontology.html")
    assert (site / "ontology.html").is_file()


@pytest.mark.parametrize("lo, hi, text", [("1", "5", ""), ("", "", ""), ("3", "5", "grade ≥3"), ("3", "", "grade ≥3"),
                                          ("1", "2", "grade ≤2"), ("3", "3", "grade 3"), ("2", "3", "grade 2-3")])
def test_toxicity_grades_read_as_a_clinician_writes_them(lo, hi, text):
    from carnk_graph.site.overviews import grade_text

    assert grade_text(lo, hi) == text


@pytest.mark.parametrize("iri", [STUDY, CARNK + "NKCell"])
def test_the_json_ld_files_read_in_a_json_ld_1_0_processor(site, iri):
    """pyld in JSON-LD 1.0 mode (what Jena's and older tools read) gets the same triples as the N-Triples file."""
    jsonld = pytest.importorskip("pyld.jsonld", reason="pyld is in the test extra")
    base = site / path_of(iri)
    doc = json.loads(base.with_name(base.name + ".jsonld").read_text(encoding="utf-8"))
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "processingMode": "json-ld-1.0"})
    from_pyld = set(ox.parse(nquads.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES))
    expected = set(ox.parse(path=str(base.with_name(base.name + ".nt")), format=ox.RdfFormat.N_TRIPLES))
    assert from_pyld == expected and expected


@pytest.mark.slow  # builds a copy of the real project
def test_facts_about_the_same_things_with_different_levels_disagree(tmp_path):
    """Two sources on one study and one toxicity, one 'not observed' and one 'common', are set side by side."""
    project = copy_project(PROJECT_ROOT, tmp_path / "p")
    (project / "ontology" / "kg" / "zz-disagree.ttl").write_text("""
@prefix carnk: <https://w3id.org/carnk/> .
@prefix carnkkg: <https://w3id.org/carnk/kg/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
carnkkg:zz-tox-a a carnk:ToxicityAssociation , <http://www.w3.org/2002/07/owl#NamedIndividual> ; rdfs:label "zz finding A"@en ;
    carnk:study carnkkg:nct03056339 ; carnk:therapyType carnkkg:car-nk-cell-therapy ;
    carnk:toxicity carnkkg:cytokine-release-syndrome ; carnk:frequencyLevel carnk:NotObserved ;
    carnk:source carnkkg:domain-overview ; carnk:statement "S23" .
carnkkg:zz-tox-b a carnk:ToxicityAssociation , <http://www.w3.org/2002/07/owl#NamedIndividual> ; rdfs:label "zz finding B"@en ;
    carnk:study carnkkg:nct03056339 ; carnk:therapyType carnkkg:car-nk-cell-therapy ;
    carnk:toxicity carnkkg:cytokine-release-syndrome ; carnk:frequencyLevel carnk:Common ;
    carnk:source carnkkg:domain-overview ; carnk:statement "S23" .
""", encoding="utf-8")
    from carnk_graph.build import build

    build(project, project / "dist", no_reason=True)
    files = render_site(project / "dist", project / "queries", None)
    html = files["kg/cytokine-release-syndrome.html"].decode("utf-8")
    blocks = html.split('class="disagreement"')[1:]
    assert any("zz-tox-a.html" in b.split("</table>")[0] and "zz-tox-b.html" in b.split("</table>")[0] for b in blocks)
