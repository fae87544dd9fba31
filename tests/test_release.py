"""Release files: every format round-trips to the built graph; quad formats keep the named graphs."""
from __future__ import annotations

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from carnk_graph.namespaces import GRAPH_NAMES
from carnk_graph.release import FORMATS, QUAD_FORMATS, parse_release_bytes

from spine_helpers import named_graph

TRIPLE_FORMATS = [f for f in FORMATS if f not in QUAD_FORMATS]


def union(graphs) -> Graph:
    out = Graph()
    for name in GRAPH_NAMES:
        out += graphs[name]
    return out


@pytest.mark.parametrize("fmt", TRIPLE_FORMATS)
def test_triple_format_parses_back_to_the_union_of_the_graphs(built, release_graphs, fmt):
    ds = parse_release_bytes((built.dist / FORMATS[fmt]).read_bytes(), fmt)
    parsed = Graph()
    for t in ds.triples((None, None, None)):
        parsed.add(t)
    assert len(parsed) == len(union(release_graphs))
    assert isomorphic(parsed, union(release_graphs))


@pytest.mark.parametrize("fmt", QUAD_FORMATS)
@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_quad_format_keeps_each_named_graph(built, release_graphs, fmt, name):
    ds = parse_release_bytes((built.dist / FORMATS[fmt]).read_bytes(), fmt)
    assert isomorphic(named_graph(ds, name), release_graphs[name])


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
