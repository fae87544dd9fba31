"""The shipped JSON-LD context (ontology/context.jsonld): inline, in step with the project's prefixes and
properties, and lossless: a JSON-LD export compacted with it parses back to the same graphs."""
from __future__ import annotations

import json

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from carnk_graph.namespaces import CARNK, GRAPHS, KG, PREFIXES
from carnk_graph.release import FORMATS, parse_release_bytes, serialize
from carnk_graph.project import find_project
from carnk_graph.sources import parse_graph, parse_quads


@pytest.fixture(scope="module")
def context_file(project_root):
    path = find_project(project_root).context
    assert path.is_file(), "ontology/context.jsonld is missing"
    return path


@pytest.fixture(scope="module")
def context(context_file) -> dict:
    doc = json.loads(context_file.read_text(encoding="utf-8"))
    assert isinstance(doc, dict) and isinstance(doc.get("@context"), dict)
    return doc["@context"]


def expand(value: str, context: dict) -> str:
    prefix, _, local = value.partition(":")
    if prefix in context and isinstance(context[prefix], str) and not local.startswith("//"):
        return context[prefix] + local
    return value


def references(node):
    """Every value under an @context or @import key, anywhere in a JSON document."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("@context", "@import"):
                yield v
            yield from references(v)
    elif isinstance(node, list):
        for v in node:
            yield from references(v)


def test_the_context_imports_nothing(context):
    assert "@import" not in context
    assert not [r for r in references(context)], "a context inside the context"


def test_the_context_defines_every_project_prefix_as_the_namespaces_module_does(context):
    for prefix, iri in PREFIXES.items():
        assert context.get(prefix) == iri, prefix


def test_every_alias_names_a_property_the_ontology_declares(context, project_root):
    ontology = parse_graph(find_project(project_root).ontology)
    aliases = {k: v for k, v in context.items() if isinstance(v, dict)}
    assert aliases, "the context has no readable aliases"
    declared = {str(s) for s in ontology.subjects(None, None)}
    w3c = tuple(PREFIXES[p] for p in ("rdf", "rdfs", "owl", "xsd"))
    for name, definition in aliases.items():
        iri = expand(definition["@id"], context)
        assert iri.startswith("http"), (name, iri)
        assert iri.startswith(w3c) or iri in declared, f"alias {name!r} -> {iri} is not declared in ontology/carnk.ttl"


def test_no_alias_coerced_to_an_iri_has_a_blank_node_value_in_the_release(context, release_graphs):
    """rdflib's JSON-LD writer drops a blank node's own statements when it is the value of a term
    with "@type": "@id"; such aliases are kept for properties whose values are always named."""
    coerced = {expand(d["@id"], context): name for name, d in context.items()
               if isinstance(d, dict) and d.get("@type") == "@id"}
    for graph_name, g in release_graphs.items():
        for s, p, o in g:
            if str(p) in coerced:
                assert not isinstance(o, BNode), (graph_name, s, coerced[str(p)])


def test_coerced_aliases_use_known_datatypes_or_ids(context):
    for name, definition in context.items():
        if isinstance(definition, dict) and "@type" in definition:
            t = definition["@type"]
            assert t in ("@id", "@vocab") or expand(t, context).startswith(PREFIXES["xsd"]), name


def awkward_graph() -> Graph:
    """Values an alias's coercion must not swallow: other languages, no language, wrong datatypes, literals
    where IRIs are expected, blank nodes, and a list."""
    from rdflib.collection import Collection

    rdfs, skos, dct = PREFIXES["rdfs"], PREFIXES["skos"], PREFIXES["dcterms"]
    s, g = URIRef(KG + "awkward"), Graph()
    g.add((s, URIRef(rdfs + "label"), Literal("awkward", lang="en")))
    g.add((s, URIRef(rdfs + "label"), Literal("unbeholfen", lang="de")))
    g.add((s, URIRef(rdfs + "label"), Literal("no language")))
    g.add((s, URIRef(skos + "definition"), Literal("typed", datatype=URIRef(PREFIXES["xsd"] + "token"))))
    g.add((s, URIRef(CARNK + "position"), Literal("1")))
    g.add((s, URIRef(CARNK + "position"), Literal("2.5", datatype=URIRef(PREFIXES["xsd"] + "decimal"))))
    g.add((s, URIRef(CARNK + "position"), Literal(3)))
    g.add((s, URIRef(dct + "source"), Literal("a literal, not a source IRI")))
    g.add((s, URIRef(dct + "source"), URIRef(KG + "domain-overview")))
    g.add((s, URIRef(PREFIXES["skos"] + "exactMatch"), URIRef(PREFIXES["obo"] + "CL_0000623")))
    b = BNode("x1")
    g.add((s, URIRef(PREFIXES["rdfs"] + "subClassOf"), b))
    g.add((b, URIRef(PREFIXES["rdfs"] + "label"), Literal("blank", lang="en")))
    head = BNode("l1")
    Collection(g, head, [URIRef(KG + "b"), URIRef(KG + "a"), Literal(7)])
    g.add((s, URIRef(CARNK + "hasDomainAt"), head))
    return g


def test_an_awkward_graph_round_trips_through_the_context(context_file):
    g = awkward_graph()
    data = serialize({"kg": g}, "jsonld", ("kg",), context_file)
    back = Graph()
    for t in parse_release_bytes(data, "jsonld").graph(URIRef(GRAPHS["kg"])):
        back.add(t)
    assert isomorphic(back, g)


def test_the_release_jsonld_never_refers_to_a_remote_context(built):
    path = built.dist / FORMATS["jsonld"]
    doc = json.loads(path.read_text(encoding="utf-8"))
    refs = list(references(doc))
    assert refs and all(isinstance(r, dict) for r in refs), "every @context is inline, never a URL"
    assert parse_quads(path), "the strict parser (which refuses remote contexts) reads it"


def test_the_release_jsonld_uses_the_readable_aliases(built, context):
    doc = json.loads((built.dist / FORMATS["jsonld"]).read_text(encoding="utf-8"))
    assert doc["@context"] == context
    text = json.dumps(doc["@graph"])
    assert '"label": ' in text and '"source": ' in text
    assert PREFIXES["rdfs"] + "label" not in text
