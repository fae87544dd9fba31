"""RDF chores on single terms, each written once: converting a term between pyoxigraph, rdflib and
the package's neutral forms, and the label rule.

The package keeps terms in neutral forms (`results.Term` for answers, the site's
`Node`), both made of a kind, a value, a datatype and a language; `to_oxigraph`
and `to_rdflib` turn either into pyoxigraph's or rdflib's term. `ox_to_rdflib`
and `rdflib_to_ox` convert between the two libraries (parsing goes through
pyoxigraph, SHACL and diffs through rdflib). One rule for all four: a simple
literal and an xsd:string literal are the same term (RDF 1.1), which rdflib
writes without a datatype (as its parsers do), so terms from either side compare
equal. The label rule says which of a
term's rdfs:label values people see: English first, then untagged, then any,
ties alphabetically; query tables, the documentation page, the site, release
diffs and the reasoner's messages all pick by it.

Imported on the cold query path (the table's labels): nothing but namespaces.py
at module level, not even typing; pyoxigraph and rdflib are imported where used.
"""
from __future__ import annotations

from .namespaces import OWL, RDF, RDFS

TYPE_CHECKING = False  # typing's flag without importing typing (the cold query path)
if TYPE_CHECKING:
    from typing import Iterable

    from rdflib import Graph
    from rdflib.term import Node

RDFS_LABEL = RDFS + "label"
#: What makes a subject a class, or a property, when the release's entities are listed (site, diff).
CLASS_TYPES = frozenset({OWL + "Class", RDFS + "Class"})
PROPERTY_TYPES = frozenset({OWL + "ObjectProperty", OWL + "DatatypeProperty", OWL + "AnnotationProperty",
                            RDF + "Property"})


def to_oxigraph(kind: str, value: str, datatype: str | None = None, lang: str | None = None):
    """A pyoxigraph term from its parts: `kind` "uri" (results.Term) or "iri" (the site's Node), "bnode"
    or "literal"; a literal with neither language nor datatype is an xsd:string."""
    import pyoxigraph as ox

    if kind in ("uri", "iri"):
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(value)
    if lang:
        return ox.Literal(value, language=lang)
    return ox.Literal(value, datatype=ox.NamedNode(datatype) if datatype else None)


def to_rdflib(kind: str, value: str, datatype: str | None = None, lang: str | None = None):
    """An rdflib term from its parts (as `to_oxigraph`); an xsd:string literal is rdflib's plain
    Literal, the form its parsers and `ox_to_rdflib` give, so it matches the graph's own terms."""
    from rdflib import BNode, Literal, URIRef

    from .results import XSD_STRING

    if kind in ("uri", "iri"):
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if lang:
        return Literal(value, lang=lang)
    if datatype in (None, XSD_STRING):
        return Literal(value)
    return Literal(value, datatype=URIRef(datatype))


def ox_to_rdflib(term):
    """One pyoxigraph term as the rdflib term that means the same (an RDF 1.2 triple term: exit 2)."""
    import pyoxigraph as ox
    from rdflib import BNode, Literal, URIRef

    from .results import XSD_STRING

    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        dt = term.datatype.value
        return Literal(term.value) if dt == XSD_STRING else Literal(term.value, datatype=URIRef(dt))
    from .errors import BadInputError

    raise BadInputError(f"unsupported RDF term {term!r} (RDF-star is not supported)")


def rdflib_to_ox(term):
    """One rdflib term as a pyoxigraph term."""
    import pyoxigraph as ox
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def label_key(text: str, lang: str | None) -> tuple:
    """The label rule as a sort key: English (a language tag starting "en") first, then untagged,
    then any other language; ties alphabetically."""
    return (0 if (lang or "").lower().startswith("en") else 1 if not lang else 2, text)


def best_labels(found: Iterable[tuple[str, str, str | None]]) -> dict[str, str]:
    """One label per IRI from (IRI, text, language) triples, by the label rule."""
    best: dict[str, tuple] = {}
    for iri, text, lang in found:
        key = label_key(text, lang)
        if iri not in best or key < best[iri]:
            best[iri] = key
    return {iri: key[1] for iri, key in best.items()}


def label_in(graph: "Graph", node: "Node") -> str | None:
    """The rdfs:label of a node in an rdflib graph by the label rule, or None when it has none."""
    from rdflib import Literal, URIRef

    keys = [label_key(str(o), o.language) for o in graph.objects(node, URIRef(RDFS_LABEL)) if isinstance(o, Literal)]
    return min(keys)[1] if keys else None
