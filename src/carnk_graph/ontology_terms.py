"""The ontology's terms as people read them: labels, prefixed names, stable anchors, and the list
of every class, property and named individual the documentation shows.

Shared by the documentation page (ontology_page.py), the diagrams (diagrams.py),
the construct figures (constructs.py) and the site's templates (the `curie` filter).
"""
from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .namespaces import CARNK, OWL, PREFIXES, RDF, SKOS, prefixed_name
from .terms import label_in

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

KIND_ORDER = ("class", "object property", "datatype property", "annotation property", "named individual")
KIND_TYPES = {
    OWL + "Class": "class", OWL + "ObjectProperty": "object property",
    OWL + "DatatypeProperty": "datatype property", OWL + "AnnotationProperty": "annotation property",
    OWL + "NamedIndividual": "named individual",
}


def curie(iri: str) -> str:
    """A prefixed name for an IRI in a project namespace (longest namespace first), else the IRI.

    Only ASCII local names: an anchor is derived from this name, and anchors stay what they were."""
    short = prefixed_name(iri)
    return short if short is not None and short.isascii() else iri


def expand_curie(text: str) -> str:
    """A prefixed name (carnkkg:liu2020-car) or <IRI> or IRI as a full IRI."""
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        return text[1:-1]
    prefix, sep, local = text.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    return text


def anchor(iri: str) -> str:
    """A stable HTML id for a term: its local name in carnk:, prefix_local elsewhere.

    Derived from the IRI alone, so an anchor never changes while the IRI stays.
    """
    if iri.startswith(CARNK) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]*", iri[len(CARNK):]):
        return iri[len(CARNK):]
    short = curie(iri)
    if short != iri:
        return re.sub(r"[^A-Za-z0-9_\-]", "_", short.replace(":", "_"))
    return "iri-" + hashlib.sha1(iri.encode("utf-8")).hexdigest()[:12]


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


@dataclass
class Term:
    """One documented entity and everything its entry shows."""

    iri: str
    kind: str
    label: str
    definition: str = ""
    alt_labels: list[str] = field(default_factory=list)
    external: bool = False

    @property
    def anchor(self) -> str:
        return anchor(self.iri)


def uriref(iri: str):
    """An rdflib IRI node (rdflib imported only when the documentation is made)."""
    from rdflib import URIRef
    return URIRef(iri)


def label_of(graph: "Graph", node: "Node", fallback: bool = True) -> str:
    """The rdfs:label by terms.py's label rule (else the prefixed name, or "" without `fallback`)."""
    return label_in(graph, node) or (curie(str(node)) if fallback else "")


def text_values(graph: "Graph", node: "Node", predicate: str) -> list[str]:
    """Literal values of a predicate, English first, sorted for stable output."""
    from rdflib import Literal

    vals = [o for o in graph.objects(node, uriref(predicate)) if isinstance(o, Literal)]
    return [str(o) for o in sorted(vals, key=lambda o: (o.language not in ("en", None), str(o)))]


def collect_terms(ontology: "Graph") -> list[Term]:
    """Every class, property and named individual the ontology declares, by kind then label.

    Classes outside the carnk: namespace (reused OBO/EFO classes) form their own kind,
    'external class', so the page says plainly which terms are ours.
    """
    from rdflib import URIRef

    seen: dict[str, Term] = {}
    for type_iri, kind in KIND_TYPES.items():
        for s in ontology.subjects(uriref(RDF + "type"), uriref(type_iri)):
            if not isinstance(s, URIRef) or str(s) in seen:
                continue
            iri = str(s)
            external = kind == "class" and not iri.startswith(CARNK)
            seen[iri] = Term(
                iri=iri, kind="external class" if external else kind, label=label_of(ontology, s),
                definition=" ".join(text_values(ontology, s, SKOS + "definition")[:1]),
                alt_labels=text_values(ontology, s, SKOS + "altLabel"), external=external)
    order = {k: i for i, k in enumerate((*KIND_ORDER, "external class"))}
    return sorted(seen.values(), key=lambda t: (order[t.kind], t.label.lower(), t.iri))
