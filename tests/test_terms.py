"""terms.py: one conversion of terms between the neutral forms, pyoxigraph and rdflib.

A term converted any way round means the same RDF term; a simple literal and an xsd:string literal
are one term (RDF 1.1), which rdflib writes without a datatype, as its own parser does.
"""
from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef

from carnk_graph.errors import BadInputError
from carnk_graph.results import RDF_LANGSTRING, XSD_STRING, Term
from carnk_graph.terms import ox_to_rdflib, rdflib_to_ox, to_oxigraph, to_rdflib

XSD_INT = "http://www.w3.org/2001/XMLSchema#integer"
NEUTRAL = [
    (Term.iri("https://w3id.org/carnk/NKCell"), URIRef("https://w3id.org/carnk/NKCell")),
    (Term("bnode", "b0"), BNode("b0")),
    (Term.literal("NK cell"), Literal("NK cell")),
    (Term.literal("NK cell", XSD_STRING), Literal("NK cell")),
    (Term("literal", "NK cell"), Literal("NK cell")),
    (Term.literal("cellule NK", lang="fr"), Literal("cellule NK", lang="fr")),
    (Term.literal("42", XSD_INT), Literal("42", datatype=URIRef(XSD_INT))),
]


@pytest.mark.parametrize("term, expected", NEUTRAL, ids=lambda v: repr(v)[:40])
def test_a_neutral_term_becomes_the_rdflib_term_that_means_the_same(term, expected):
    got = to_rdflib(*term)
    assert got == expected and type(got) is type(expected)
    assert ox_to_rdflib(to_oxigraph(*term)) == expected  # the same term whichever way it is converted


def test_a_string_literal_matches_what_rdflib_parses():
    g = Graph().parse(data='<urn:s> <urn:p> "x" .', format="nt")
    assert to_rdflib(*Term.literal("x")) in set(g.objects())


def test_the_site_s_iri_kind_is_an_iri_too():
    assert to_rdflib("iri", "urn:x") == URIRef("urn:x")
    assert to_oxigraph("iri", "urn:x") == ox.NamedNode("urn:x")


@pytest.mark.parametrize("term", [ox.NamedNode("urn:x"), ox.BlankNode("b1"), ox.Literal("x"),
                                  ox.Literal("x", language="en"), ox.Literal("1", datatype=ox.NamedNode(XSD_INT))],
                         ids=repr)
def test_pyoxigraph_and_rdflib_terms_convert_both_ways(term):
    assert rdflib_to_ox(ox_to_rdflib(term)) == term


def test_a_language_tagged_literal_keeps_its_tag_and_datatype():
    assert to_oxigraph(*Term.literal("x", lang="en")).datatype.value == RDF_LANGSTRING


def test_a_triple_term_is_bad_input_and_a_non_term_a_type_error():
    triple = ox.Triple(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.NamedNode("urn:o"))
    with pytest.raises(BadInputError, match="RDF-star"):
        ox_to_rdflib(triple)
    with pytest.raises(TypeError):
        rdflib_to_ox("urn:x")
