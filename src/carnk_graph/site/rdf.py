"""Per-entity RDF: the concise bounded description of an entity, with its qualified facts.

What a program gets for one IRI (the files next to each page, and what `serve`
answers by content negotiation): every statement about the entity, the blank
nodes those statements reach (class expressions, lists), and the qualified-fact
nodes that belong to it (an outcome of a study, a domain position of a
construct) with their own statements, so that a client reading one entity gets
the figures and their sources, not only a pointer to them.
"""
from __future__ import annotations

from ..namespaces import PREFIXES
from ..terms import to_oxigraph
from .entities import REFERENCE_PREDICATES, Describer
from .graph import Node, SiteGraph

#: Media type and file suffix of each per-entity format.
FORMATS = {
    "ttl": ("text/turtle", "TURTLE"),
    "jsonld": ("application/ld+json", "JSON_LD"),
    "nt": ("application/n-triples", "N_TRIPLES"),
}


def description(describer: Describer, iri: str) -> list[tuple[Node, str, Node]]:
    """The CBD of `iri` plus its qualified-fact nodes (and their CBDs), sorted, each triple once."""
    g: SiteGraph = describer.g
    root = Node("iri", iri)
    starts = [root]
    for st in g.statements(root):
        if st.object.is_iri and st.object != root and describer.is_fact(st.object):
            starts.append(st.object)
    for st in g.referrers(root):
        if (st.subject.is_iri and st.subject != root and st.predicate not in REFERENCE_PREDICATES
                and describer.is_fact(st.subject)):
            starts.append(st.subject)
    seen: set[Node] = set()
    triples: set[tuple[Node, str, Node]] = set()
    todo = list(dict.fromkeys(starts))
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for st in g.statements(node):
            triples.add((st.subject, st.predicate, st.object))
            if st.object.kind == "bnode":
                todo.append(st.object)
    return sorted(triples)


_BY_NAMESPACE = {ns: p for p, ns in PREFIXES.items()}


def _used_prefixes(triples: list[tuple[Node, str, Node]]) -> dict[str, str]:
    """The project prefixes whose namespace an IRI of these triples is in (so each file declares only
    what it uses), in the project's order; one dictionary look-up per IRI."""
    seen: set[str] = set()
    for s, p, o in triples:
        for iri in (s.value if s.kind == "iri" else "", p, o.value if o.kind == "iri" else o.datatype):
            if iri:
                for cut in (iri.rfind("/"), iri.rfind("#")):
                    ns = iri[:cut + 1]
                    if ns in _BY_NAMESPACE:
                        seen.add(ns)
                ns = iri[:iri.rfind("/", 0, iri.rfind("/")) + 1]  # carnk: for https://w3id.org/carnk/kg/x
                if ns in _BY_NAMESPACE:
                    seen.add(ns)
    return {p: ns for p, ns in PREFIXES.items() if ns in seen}


def _parts(node: Node) -> tuple[str, str, str, str]:
    return node.kind, node.value, node.datatype, node.lang


def serialize(triples: list[tuple[Node, str, Node]], fmt: str) -> bytes:
    """Turtle (with the project prefixes), expanded JSON-LD or N-Triples; same triples, same bytes."""
    import pyoxigraph as ox

    _media, name = FORMATS[fmt]
    data = [ox.Triple(to_oxigraph(*_parts(s)), ox.NamedNode(p), to_oxigraph(*_parts(o))) for s, p, o in triples]
    if fmt == "ttl":
        return ox.serialize(data, format=ox.RdfFormat.TURTLE, prefixes=_used_prefixes(triples))
    return ox.serialize(data, format=getattr(ox.RdfFormat, name))
