"""CAR constructs: a construct's domains in order, read from the knowledge graph, and its SVG figure.

A construct lists its domains with carnk:hasDomainAt records (carnk:position,
carnk:domain); each domain is coloured by its family (antigen recognition,
hinge, transmembrane, costimulatory, activation). The figure is drawn here, not
by Graphviz, so the site can draw every construct of a large graph quickly and
identically on every machine; diagrams.py draws the DOT version for `docs`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .namespaces import CARNK, DCTERMS, KG, RDF, RDFS
from .ontology_terms import esc, label_of, uriref

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

#: The construct drawn by default: Liu et al. 2020's anti-CD19 CAR-NK construct.
DEFAULT_CONSTRUCT = KG + "liu2020-car"

#: Fill colours of the CAR domain families, outermost first.
DOMAIN_COLOURS = (
    ("AntigenRecognitionDomain", "#cfe3f7"), ("HingeDomain", "#e6e6e6"),
    ("TransmembraneDomain", "#f7e7b4"), ("CostimulatoryDomain", "#d4efd0"),
    ("ActivationDomain", "#f8d3c0"), ("SignallingDomain", "#e3d7f2"), ("CARDomain", "#ffffff"),
)


@dataclass
class ConstructDomain:
    position: int
    domain: str
    label: str
    kind: str          # label of the domain's most specific carnk: class
    family: str        # local name of the CAR domain family (for the colour)
    protein: str = ""  # label of the protein it is derived from, if recorded


@dataclass
class Construct:
    iri: str
    label: str
    domains: list[ConstructDomain]
    source: str = ""


def _superclasses(ontology: "Graph", cls: "Node") -> set[str]:
    """Named superclasses of a class, itself included (transitive over rdfs:subClassOf)."""
    from rdflib import URIRef

    out, todo = set(), [cls]
    while todo:
        c = todo.pop()
        if str(c) in out:
            continue
        out.add(str(c))
        todo.extend(o for o in ontology.objects(c, uriref(RDFS + "subClassOf")) if isinstance(o, URIRef))
    return out


def read_construct(kg: "Graph", ontology: "Graph", iri: str) -> Construct | None:
    """A CAR construct's domains in order, from its carnk:hasDomainAt / carnk:position / carnk:domain nodes."""
    from rdflib import Literal

    schema = ontology + kg
    node = uriref(iri)
    domains = []
    for rec in kg.objects(node, uriref(CARNK + "hasDomainAt")):
        pos, dom = kg.value(rec, uriref(CARNK + "position")), kg.value(rec, uriref(CARNK + "domain"))
        if not isinstance(pos, Literal) or dom is None:
            continue
        types = [t for t in kg.objects(dom, uriref(RDF + "type")) if str(t).startswith(CARNK)]
        # the most specific asserted type: the one with the most superclasses
        types.sort(key=lambda t: (-len(_superclasses(ontology, t)), str(t)))
        ups = _superclasses(ontology, types[0]) if types else set()
        family = next((local for local, _c in DOMAIN_COLOURS if CARNK + local in ups), "CARDomain")
        protein = kg.value(dom, uriref(CARNK + "derivedFromProtein"))
        domains.append(ConstructDomain(
            position=int(pos.toPython()), domain=str(dom), label=label_of(schema, dom),
            kind=label_of(ontology, types[0]) if types else "", family=family,
            protein=label_of(schema, protein) if protein is not None else ""))
    if not domains:
        return None
    domains.sort(key=lambda d: (d.position, d.domain))
    source = kg.value(node, uriref(DCTERMS + "source"))
    return Construct(iri, label_of(kg, node), domains, label_of(schema, source) if source is not None else "")


def find_construct(kg: "Graph", ontology: "Graph", preferred: str = DEFAULT_CONSTRUCT) -> Construct | None:
    """The preferred construct if the graph describes it, else the first (by IRI) that lists domains."""
    found = read_construct(kg, ontology, preferred)
    if found is not None:
        return found
    for s in sorted({str(s) for s in kg.subjects(uriref(CARNK + "hasDomainAt"), None)}):
        found = read_construct(kg, ontology, s)
        if found is not None:
            return found
    return None


#: Text of the hand-drawn construct figure: a fallback list, so text fits where Arimo is missing.
SVG_FONT = "Arimo, 'Liberation Sans', Arial, Helvetica, sans-serif"


def construct_svg(construct: Construct) -> str:
    """One CAR construct as an SVG figure of its domains in order, outside the cell (left) to inside.

    Drawn here rather than by Graphviz: a row of boxes needs no layout engine, so the
    site can draw every construct of a large graph in milliseconds, the same bytes on
    every machine, with nothing to install. Box widths follow the longest line of text
    (an estimate of 6.6 px per character at 11 px, generous for the fallback fonts).
    """
    colours = dict(DOMAIN_COLOURS)
    boxes = []
    for d in construct.domains:
        lines = [f"{d.position}. {d.label}"] + ([f"({d.kind})"] if d.kind else []) + (
            [f"from {d.protein}"] if d.protein else [])
        boxes.append((d, lines, max(60, int(max(len(t) for t in lines) * 6.6) + 16)))
    gap, left, top, height = 10, 70, 34, 62
    width = left + sum(w for _d, _l, w in boxes) + gap * len(boxes) + 70
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="construct" width="{width}" height="{top + height + 14}" '
           f'viewBox="0 0 {width} {top + height + 14}" role="img" aria-label="{esc(construct.label)}: domains in order">',
           f'<title>{esc(construct.label)}: domains from outside the cell (1) inwards</title>',
           f'<g font-family="{esc(SVG_FONT)}" font-size="11" fill="#222222">',
           f'<text x="8" y="16" font-size="12" font-weight="bold">{esc(construct.label)}</text>',
           f'<text x="8" y="{top + height // 2 - 2}">outside</text><text x="8" y="{top + height // 2 + 11}">the cell</text>',
           f'<line x1="{left - 6}" y1="{top + height // 2}" x2="{width - 64}" y2="{top + height // 2}" '
           'stroke="#444444" stroke-width="1.5"/>']
    x = left
    for d, lines, w in boxes:
        out.append(f'<g class="domain" data-position="{d.position}"><title>{esc(d.domain)}</title>'
                   f'<rect x="{x}" y="{top}" width="{w}" height="{height}" rx="6" '
                   f'fill="{colours.get(d.family, "#ffffff")}" stroke="#444444"/>')
        for i, line in enumerate(lines):
            weight = ' font-weight="bold"' if i == 0 else ""
            out.append(f'<text x="{x + w // 2}" y="{top + 18 + 15 * i}" text-anchor="middle"{weight}>{esc(line)}</text>')
        out.append("</g>")
        x += w + gap
    out.append(f'<text x="{x + 4}" y="{top + height // 2 - 2}">inside</text>'
               f'<text x="{x + 4}" y="{top + height // 2 + 11}">the cell</text></g></svg>')
    return "\n".join(out) + "\n"
