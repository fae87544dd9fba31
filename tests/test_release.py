"""Release files: every format round-trips to the built graph; quad formats keep the named graphs."""
from __future__ import annotations

import functools

import pytest
from rdflib import Graph

from carnk_graph.namespaces import GRAPH_NAMES
from carnk_graph.release import FORMATS, QUAD_FORMATS, parse_release_bytes

from lanes import few_fast
from spine_helpers import named_graph, same_graph

TRIPLE_FORMATS = [f for f in FORMATS if f not in QUAD_FORMATS]


@functools.lru_cache(maxsize=None)
def read_back(dist, fmt: str):
    """A release file parsed once per session (each format is read back by several tests)."""
    return parse_release_bytes((dist / FORMATS[fmt]).read_bytes(), fmt)


def union(graphs) -> Graph:
    out = Graph()
    for name in GRAPH_NAMES:
        out += graphs[name]
    return out


@pytest.fixture(scope="module")
def release_union(release_graphs) -> Graph:
    """The union of the release's graphs, made once for the module (each union copies every triple)."""
    return union(release_graphs)


# each format re-reads the whole release: the fast lane reads back Turtle and JSON-LD (the one written
# by the project's own code); test_every_release_file_parses_again_with_every_statement reads them all
@pytest.mark.parametrize("fmt", few_fast(TRIPLE_FORMATS, lambda fmt: fmt == "ttl"))
def test_triple_format_parses_back_to_the_union_of_the_graphs(built, release_union, fmt):
    ds = parse_release_bytes((built.dist / FORMATS[fmt]).read_bytes(), fmt)
    parsed = Graph()
    for t in ds.triples((None, None, None)):
        parsed.add(t)
    expected = release_union
    assert len(parsed) == len(expected)
    assert same_graph(parsed, expected)


@pytest.mark.parametrize("fmt", few_fast(QUAD_FORMATS, lambda fmt: fmt == "jsonld"))
@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_quad_format_keeps_each_named_graph(built, release_graphs, fmt, name):
    ds = read_back(built.dist, fmt)
    assert same_graph(named_graph(ds, name), release_graphs[name])


def test_the_release_has_triples_in_the_ontology_and_kg_graphs(release_graphs):
    assert len(release_graphs["ontology"]) > 0 and len(release_graphs["kg"]) > 0


def test_jsonld_uses_an_inline_context_never_a_remote_one(built):
    import json

    doc = json.loads((built.dist / FORMATS["jsonld"]).read_text(encoding="utf-8"))
    assert isinstance(doc["@context"], dict)
    assert "carnk" in doc["@context"]


def test_rdfxml_declares_the_ontology_for_protege(built):
    text = (built.dist / FORMATS["owl"]).read_text(encoding="utf-8")
    assert text.startswith("<?xml")
    assert 'rdf:about="https://w3id.org/carnk/ontology"' in text


# -- every reader takes the release (issue 14.1, 14.2) and every file parses again (17.8) -------------

import re  # noqa: E402

from carnk_graph.errors import BadInputError  # noqa: E402
from carnk_graph.release import serialize  # noqa: E402

#: A string literal (skipped) or a prefixed name with a backslash escape in its local part.
ESCAPED_NAME = re.compile(r'"(?:[^"\\\n]|\\.)*"|<[^>\n]*>|(?<![\w:])[A-Za-z][\w.-]*:\S*\\\S*')


@pytest.mark.parametrize("fmt", ["ttl", "trig"])
def test_turtle_and_trig_have_no_escaped_local_names(built, fmt):
    """carnk:graph\\/kg is legal Turtle, but Virtuoso keeps the backslash and the OWL API 3.4 refuses it."""
    text = (built.dist / FORMATS[fmt]).read_text(encoding="utf-8")
    names = [m.group() for m in ESCAPED_NAME.finditer(text) if not m.group().startswith(('"', "<"))]
    assert names == []
    assert "<https://w3id.org/carnk/graph/kg>" in text if fmt == "trig" else True


def test_escaped_local_names_become_full_iris_and_strings_stay_as_they_are():
    import pyoxigraph as ox
    from rdflib import Graph, Literal, URIRef

    g = Graph()
    odd = URIRef("https://w3id.org/carnk/a/b~c(d)!e,f;g=h")
    g.add((odd, URIRef("https://w3id.org/carnk/p"), Literal('carnk:not\\/a name "quoted" <x>')))
    g.add((URIRef("https://w3id.org/carnk/kg/x"), URIRef("https://w3id.org/carnk/q/r"), odd))
    for fmt in ("ttl", "trig"):
        data = serialize({"kg": g}, fmt, ("kg",))
        assert b"\\/" not in data.replace(b'carnk:not\\\\/a', b"")
        parsed = {(q.subject, q.predicate, q.object) for q in
                  ox.parse(data, format=ox.RdfFormat.TURTLE if fmt == "ttl" else ox.RdfFormat.TRIG)}
        assert parsed == {(q.subject, q.predicate, q.object) for q in ox.parse(
            serialize({"kg": g}, "nt", ("kg",)), format=ox.RdfFormat.N_TRIPLES)}


def test_jsonld_is_read_by_a_json_ld_1_0_processor(built):
    """No "@version": 1.1 (which 1.0 processors such as jsonld-java and pyld in 1.0 mode refuse)."""
    import json

    pyld = pytest.importorskip("pyld.jsonld")
    import pyoxigraph as ox

    doc = json.loads((built.dist / FORMATS["jsonld"]).read_text(encoding="utf-8"))
    assert "@version" not in doc["@context"]
    nquads = pyld.to_rdf(doc, {"format": "application/n-quads", "processingMode": "json-ld-1.0"})
    ours = set(ox.parse(path=str(built.dist / FORMATS["nq"]), format=ox.RdfFormat.N_QUADS))
    theirs = set(ox.parse(nquads.encode("utf-8"), format=ox.RdfFormat.N_QUADS))
    assert len(theirs) == len(ours)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_release_file_parses_again_with_every_statement(built, release_union, fmt):
    import pyoxigraph as ox

    from carnk_graph.sources import _ox_format, format_of

    path = built.dist / FORMATS[fmt]
    quads = list(ox.parse(path=str(path), format=_ox_format(format_of(path))))
    triples = {(q.subject, q.predicate, q.object) for q in quads}
    assert len(triples) == len(release_union)


def test_rdfxml_refuses_a_control_character_that_xml_cannot_carry():
    """XML 1.0 cannot hold U+0001 even as &#1;: RDF/XML is refused; every other format carries it."""
    import pyoxigraph as ox
    from rdflib import Literal, URIRef

    g = Graph()
    g.add((URIRef("https://w3id.org/carnk/kg/a"), URIRef("https://w3id.org/carnk/p"), Literal("x\x01y\x1fz")))
    with pytest.raises(BadInputError, match="U\\+0001"):
        serialize({"kg": g}, "owl", ("kg",))
    for fmt, oxfmt in [("ttl", "TURTLE"), ("nt", "N_TRIPLES"), ("nq", "N_QUADS"), ("trig", "TRIG"), ("jsonld", "JSON_LD")]:
        (q,) = list(ox.parse(serialize({"kg": g}, fmt, ("kg",)), format=getattr(ox.RdfFormat, oxfmt)))
        assert q.object.value == "x\x01y\x1fz", fmt


def test_owl_imports_are_never_copied_into_the_release(tmp_path, capsys):
    """Not even file:///etc/passwd: the next OWL tool would follow it. Each import is one warning line."""
    import shutil

    from carnk_graph.build import build

    from spine_helpers import MINIMAL, copy_project

    project = copy_project(MINIMAL, tmp_path / "p")
    onto = project / "ontology" / "carnk.ttl"
    onto.write_text(onto.read_text() + "\n<https://w3id.org/carnk/ontology> "
                    "<http://www.w3.org/2002/07/owl#imports> <file:///etc/passwd> .\n")
    (project / "ontology" / "kg" / "imp.ttl").write_text(
        "<https://w3id.org/carnk/kg/x> <http://www.w3.org/2002/07/owl#imports> <http://example.org/o.owl> .\n")
    summary = build(project, project / "dist", no_reason=True)
    assert len([m for m in summary.messages if "owl:imports" in m]) == 2
    for name in [*FORMATS.values()]:
        data = (project / "dist" / name).read_bytes()
        assert b"owl#imports" not in data and b"owl:imports" not in data and b"etc/passwd" not in data, name
    shutil.rmtree(project)


# -- ODK-style artefacts and several graphs in one export (issue 14.10) --------------------------------

@pytest.mark.parametrize("kind", ["base", "full"])
def test_each_artefact_is_an_ontology_with_its_own_iri_and_version_iri(built, release_graphs, kind):
    from rdflib import OWL, RDF, URIRef

    from carnk_graph import __version__
    from carnk_graph.layout import ARTEFACTS, Release
    from carnk_graph.namespaces import ONTOLOGY_IRI, artefact_iri, artefact_version_iri

    file_name, names = ARTEFACTS[kind]
    g = Graph()
    for t in parse_release_bytes(Release(built.dist).artefact(kind).read_bytes(), "owl").triples((None, None, None)):
        g.add(t)
    assert list(g.subjects(RDF.type, OWL.Ontology)) == [URIRef(artefact_iri(file_name))]
    assert list(g.objects(URIRef(artefact_iri(file_name)), OWL.versionIRI)) == [
        URIRef(artefact_version_iri(__version__, file_name))]
    assert (URIRef(ONTOLOGY_IRI), None, None) not in g  # the header is renamed, not duplicated
    expected = sum(len(release_graphs[n]) for n in names)
    assert len(g) == expected


def test_the_base_artefact_holds_no_knowledge_graph_statement(built, release_graphs):
    from rdflib import URIRef

    from carnk_graph.layout import Release

    text = Release(built.dist).artefact("base").read_text(encoding="utf-8")
    kg_only = ({str(s) for s in release_graphs["kg"].subjects() if isinstance(s, URIRef)}
               - {str(s) for s in release_graphs["ontology"].subjects()})
    assert kg_only and [s for s in kg_only if f'"{s}"' in text] == []


def test_export_takes_several_graphs_instead_of_keeping_the_last(built, release_graphs, tmp_path):
    import pyoxigraph as ox

    from carnk_graph.cli import main

    out = tmp_path / "two.nq"
    assert main(["export", "--format", "nq", "--graph", "ontology", "--graph", "kg", "--dist", str(built.dist),
                 "-o", str(out)]) == 0
    graphs = {getattr(q.graph_name, "value", None) for q in ox.parse(path=str(out), format=ox.RdfFormat.N_QUADS)}
    from carnk_graph.namespaces import GRAPHS
    assert graphs == {GRAPHS["ontology"], GRAPHS["kg"]}
    assert sum(1 for _ in ox.parse(path=str(out), format=ox.RdfFormat.N_QUADS)) == (
        len(release_graphs["ontology"]) + len(release_graphs["kg"]))


def test_a_release_is_read_with_each_statement_named_by_its_graph(tmp_path):
    from carnk_graph.namespaces import GRAPHS
    from carnk_graph.release import release_quads

    nq = tmp_path / "carnk.nq"
    nq.write_text(f"<urn:x:a> <urn:x:p> <urn:x:b> <{GRAPHS['kg']}> .\n"
                  f"<urn:x:a> <urn:x:p> \"c\" <{GRAPHS['inferred']}> .\n"
                  "<urn:x:a> <urn:x:p> <urn:x:d> <urn:x:elsewhere> .\n", encoding="utf-8")
    assert sorted((name or "-", q.object.value) for name, q in release_quads(nq)) == [
        ("-", "urn:x:d"), ("inferred", "c"), ("kg", "urn:x:b")]


@pytest.mark.parametrize("content, message", [(None, "no built release: run `carnk-graph build` first"),
                                              ("<urn:x:a> <urn:x:p> .\n", "cannot read the release")])
def test_a_missing_or_broken_release_file_is_one_error_naming_it(tmp_path, content, message):
    from carnk_graph.errors import BadInputError
    from carnk_graph.release import release_quads

    nq = tmp_path / "carnk.nq"
    if content is not None:
        nq.write_text(content, encoding="utf-8")
    with pytest.raises(BadInputError) as err:
        list(release_quads(nq))
    assert str(err.value).startswith(f"{nq}") and message in str(err.value)


@pytest.mark.parametrize("content, message", [(None, "no built release: run `carnk-graph build` first"),
                                              ("<urn:x:a> <urn:x:p> .\n", "cannot read the release")])
def test_the_rdflib_engine_reads_the_release_the_same_one_way(tmp_path, content, message):
    """open_engine("rdflib") and RdflibEngine.from_nquads read carnk.nq through release_quads: the same
    one-line error (exit 2) for a missing or a broken file."""
    from carnk_graph.engines import RdflibEngine, open_engine
    from carnk_graph.errors import BadInputError

    nq = tmp_path / "carnk.nq"
    if content is not None:
        nq.write_text(content, encoding="utf-8")
    for read in (lambda: open_engine("rdflib", tmp_path), lambda: RdflibEngine.from_nquads(nq)):
        with pytest.raises(BadInputError) as err:
            read()
        assert str(err.value).startswith(f"{nq}") and message in str(err.value) and err.value.exit_code == 2
