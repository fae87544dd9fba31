"""What counts as "inferred": the one filter both reasoners' conclusions pass through.

Only rdf:type and rdfs:subClassOf triples between named terms, entailed and not
already stated, with every named superclass materialised: HermiT reports direct
types and parents only, OWL 2 RL a full closure, and walking the entailed
hierarchy makes the two comparable. No owl:Thing, no owl:Nothing, no reflexive
links, no blank-node subjects, no datatype noise.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .namespaces import OWL, RDF, RDFS, XSD

if TYPE_CHECKING:
    from rdflib import Graph

_W3C = (RDF, RDFS, OWL, XSD)


def is_term(node) -> bool:
    """A named term of the project (or a reused vocabulary), not an RDF/RDFS/OWL/XSD built-in."""
    from rdflib import URIRef
    return isinstance(node, URIRef) and not str(node).startswith(_W3C)


def hierarchy(g: "Graph") -> dict:
    """Direct superclass edges between named classes: rdfs:subClassOf, and owl:equivalentClass both ways."""
    from rdflib import OWL, RDFS

    edges: dict = {}
    for a, b in g.subject_objects(RDFS.subClassOf):
        if is_term(a) and is_term(b):
            edges.setdefault(a, set()).add(b)
    for a, b in g.subject_objects(OWL.equivalentClass):
        if is_term(a) and is_term(b):
            edges.setdefault(a, set()).add(b)
            edges.setdefault(b, set()).add(a)
    return edges


def ancestors_of(edges: dict) -> dict:
    """Every class's strict ancestors (itself excluded, even inside an equivalence cycle)."""
    out: dict = {}
    for start in edges:
        seen: set = set()
        stack = list(edges[start])
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(edges.get(node, ()))
        seen.discard(start)
        out[start] = seen
    return out


def _types(g: "Graph", ancestors: dict) -> dict:
    """Named individual -> every named class it belongs to under the given hierarchy."""
    from rdflib import RDF

    out: dict = {}
    for s, c in g.subject_objects(RDF.type):
        if is_term(s) and is_term(c):
            out.setdefault(s, set()).update({c} | ancestors.get(c, set()))
    return out


def new_entailments(stated: "Graph", entailed: "Graph") -> "Graph":
    """The rdf:type and rdfs:subClassOf triples between named terms that follow
    from `entailed` and are not already written in `stated`.

    This is the one definition of "inferred" for every reasoner. HermiT reports
    direct types and parents only, OWL 2 RL a full closure; walking the
    entailed hierarchy makes the two comparable, and materialising every named
    superclass lets a plain query (`?x a carnk:Immunotherapy`) find what the
    reasoner concluded without a property path. A stated owl:equivalentClass
    between two named classes is not repeated as two subclass links.
    """
    from rdflib import OWL, RDF, RDFS, Graph

    ancestors = ancestors_of(hierarchy(entailed))
    out = Graph()
    for ind, classes in _types(entailed, ancestors).items():
        for c in classes:
            if (ind, RDF.type, c) not in stated:
                out.add((ind, RDF.type, c))
    for cls, sups in ancestors.items():
        for sup in sups - {cls}:
            if not ((cls, RDFS.subClassOf, sup) in stated or (cls, OWL.equivalentClass, sup) in stated
                    or (sup, OWL.equivalentClass, cls) in stated):
                out.add((cls, RDFS.subClassOf, sup))
    return out
