"""`carnk-graph docs`: an HTML documentation page of the ontology, with diagrams.

The page follows the usual ontology-documentation layout (the one LODE and
pyLODE made familiar): the ontology's metadata, a table of contents, then one
entry per class, property and named individual with its label, definition,
superclasses, domain and range, external mappings and source, each under a
stable anchor derived from its IRI so that links into the page keep working
from release to release.

It is generated here rather than with pyLODE: pyLODE 3.6 needs Python 3.12
(this package supports 3.10), brings httpx, dominate, markdown, html5lib and
tqdm, and can fetch remote vocabularies; this module needs nothing beyond
rdflib and html.escape, never touches the network, and writes the same bytes
for the same ontology, which is what lets a test keep the committed README
figure honest.

Diagrams are written as Graphviz DOT and rendered to SVG and PNG by the
`graphviz-pure` command (the `docs` extra: a self-contained binary from PyPI
that gives the same bytes on every platform) or, failing that, a system `dot`.
Without either, the HTML and the .dot files are still written and one warning
says how to get the pictures.
"""
from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from .errors import BadInputError
from .namespaces import CARNK, KG, ONTOLOGY_IRI, PREFIXES

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

#: Files the README shows; `carnk-graph docs --update-readme-figure` rewrites them in the clone.
README_FIGURE_DIR = "docs"
README_FIGURE_STEM = "overview"

#: The construct drawn by default: Liu et al. 2020's anti-CD19 CAR-NK construct.
DEFAULT_CONSTRUCT = KG + "liu2020-car"

RENDERER_HINT = ("no Graphviz renderer found; install one with `pip install 'carnk-graph[docs]'` "
                 "(graphviz-pure) or `apt-get install graphviz`, then rerun `carnk-graph docs` for the "
                 "SVG and PNG diagrams (the .dot files are written)")

RDF_NS = PREFIXES["rdf"]
RDFS_NS = PREFIXES["rdfs"]
OWL_NS = PREFIXES["owl"]
SKOS_NS = PREFIXES["skos"]
DCT_NS = PREFIXES["dcterms"]
OBOINOWL_NS = PREFIXES["oboInOwl"]

#: Predicates that state a mapping to an identifier kept outside this ontology, in display order.
MAPPING_PREDICATES = (
    SKOS_NS + "exactMatch", SKOS_NS + "closeMatch", SKOS_NS + "broadMatch", SKOS_NS + "narrowMatch",
    SKOS_NS + "relatedMatch", OBOINOWL_NS + "hasDbXref",
)

KIND_ORDER = ("class", "object property", "datatype property", "annotation property", "named individual")
KIND_TYPES = {
    OWL_NS + "Class": "class", OWL_NS + "ObjectProperty": "object property",
    OWL_NS + "DatatypeProperty": "datatype property", OWL_NS + "AnnotationProperty": "annotation property",
    OWL_NS + "NamedIndividual": "named individual",
}
SECTION_IDS = {
    "ontology": "sec-ontology", "toc": "sec-toc", "diagrams": "sec-diagrams", "namespaces": "sec-namespaces",
    "class": "sec-classes", "object property": "sec-object-properties",
    "datatype property": "sec-datatype-properties", "annotation property": "sec-annotation-properties",
    "named individual": "sec-named-individuals", "external class": "sec-external-classes",
}
SECTION_TITLES = {
    "ontology": "Ontology", "toc": "Contents", "diagrams": "Diagrams", "namespaces": "Namespaces",
    "class": "Classes", "object property": "Object properties", "datatype property": "Datatype properties",
    "annotation property": "Annotation properties", "named individual": "Named individuals",
    "external class": "External classes reused",
}
CHARACTERISTICS = ("FunctionalProperty", "InverseFunctionalProperty", "TransitiveProperty",
                   "SymmetricProperty", "AsymmetricProperty", "ReflexiveProperty", "IrreflexiveProperty")


# -- names, anchors, links ---------------------------------------------------------------------------

_BY_LENGTH = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))


def curie(iri: str) -> str:
    """A prefixed name for an IRI in a project namespace (longest namespace first), else the IRI."""
    for prefix, ns in _BY_LENGTH:
        if iri.startswith(ns) and len(iri) > len(ns) and re.fullmatch(r"[A-Za-z0-9_.\-]+", iri[len(ns):]):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


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


# -- reading the ontology ----------------------------------------------------------------------------

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


def _u(iri: str):
    from rdflib import URIRef
    return URIRef(iri)


def label_of(graph: "Graph", node: "Node", fallback: bool = True) -> str:
    """The English rdfs:label (else any label, else the prefixed name)."""
    from rdflib import Literal

    labels = [o for o in graph.objects(node, _u(RDFS_NS + "label")) if isinstance(o, Literal)]
    for wanted in ("en", None):
        hits = sorted(str(o) for o in labels if (o.language or None) == wanted)
        if hits:
            return hits[0]
    if labels:
        return sorted(str(o) for o in labels)[0]
    return curie(str(node)) if fallback else ""


def _text_values(graph: "Graph", node: "Node", predicate: str) -> list[str]:
    """Literal values of a predicate, English first, sorted for stable output."""
    from rdflib import Literal

    vals = [o for o in graph.objects(node, _u(predicate)) if isinstance(o, Literal)]
    return [str(o) for o in sorted(vals, key=lambda o: (o.language not in ("en", None), str(o)))]


def collect_terms(ontology: "Graph") -> list[Term]:
    """Every class, property and named individual the ontology declares, by kind then label.

    Classes outside the carnk: namespace (reused OBO/EFO classes) form their own kind,
    'external class', so the page says plainly which terms are ours.
    """
    from rdflib import RDF, URIRef

    seen: dict[str, Term] = {}
    for type_iri, kind in KIND_TYPES.items():
        for s in ontology.subjects(RDF.type, _u(type_iri)):
            if not isinstance(s, URIRef) or str(s) in seen:
                continue
            iri = str(s)
            external = kind == "class" and not iri.startswith(CARNK)
            seen[iri] = Term(
                iri=iri, kind="external class" if external else kind, label=label_of(ontology, s),
                definition=" ".join(_text_values(ontology, s, SKOS_NS + "definition")[:1]),
                alt_labels=_text_values(ontology, s, SKOS_NS + "altLabel"), external=external)
    order = {k: i for i, k in enumerate((*KIND_ORDER, "external class"))}
    return sorted(seen.values(), key=lambda t: (order[t.kind], t.label.lower(), t.iri))


# -- class expressions (Manchester-like text) --------------------------------------------------------

_BARE_DATATYPES = {PREFIXES["xsd"] + t for t in ("boolean", "integer", "decimal", "double")}


def literal_text(lit) -> str:
    """A literal as Manchester syntax writes it: true, 3, "text"@en, "2020-01-01"^^xsd:date."""
    if lit.datatype is not None and str(lit.datatype) in _BARE_DATATYPES:
        return str(lit)
    text = '"' + str(lit).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if lit.language:
        return f"{text}@{lit.language}"
    if lit.datatype is not None and str(lit.datatype) != PREFIXES["xsd"] + "string":
        return f"{text}^^{curie(str(lit.datatype))}"
    return text


class Linker:
    """Turns IRIs into HTML links: an internal #anchor for documented terms, the IRI otherwise."""

    def __init__(self, graph: "Graph", terms: Iterable[Term]) -> None:
        self.graph = graph
        self.by_iri = {t.iri: t for t in terms}
        self.ontology_title = " ".join(_text_values(graph, _u(ONTOLOGY_IRI), DCT_NS + "title")[:1]) or "this ontology"

    def link(self, node: "Node", show_id: bool = False) -> str:
        """A link to a term; `show_id` adds the prefixed name (for mappings, where the ID is the point)."""
        from rdflib import Literal, URIRef

        if isinstance(node, Literal):
            return f"<code>{esc(literal_text(node))}</code>"
        if not isinstance(node, URIRef):
            return "<em>(anonymous)</em>"
        iri = str(node)
        if iri == ONTOLOGY_IRI:
            return f'<a href="#sec-ontology" title="{esc(iri)}">{esc(self.ontology_title)}</a>'
        term = self.by_iri.get(iri)
        if term is not None:
            shown = f"{esc(term.label)} ({esc(curie(iri))})" if show_id else esc(term.label)
            return f'<a href="#{esc(term.anchor)}" title="{esc(curie(iri))}">{shown}</a>'
        label = label_of(self.graph, node, fallback=False)
        text = f"{esc(label)} ({esc(curie(iri))})" if label else esc(curie(iri))
        if iri.startswith(("http://", "https://")):
            return f'<a class="external" href="{esc(iri)}">{text}</a>'
        return f"<code>{text}</code>"

    def expression(self, node: "Node", depth: int = 0) -> str:
        """A class expression as readable HTML: 'A and (p some B)', '{a, b}', 'p value x'."""
        from rdflib import BNode

        g = self.graph
        if not isinstance(node, BNode):
            return self.link(node)
        if depth > 8:
            return "<em>(nested expression)</em>"
        o = lambda local: g.value(node, _u(OWL_NS + local))  # noqa: E731
        sub = lambda n: self._wrapped(n, depth + 1)  # noqa: E731
        for local, joiner in (("intersectionOf", " <b>and</b> "), ("unionOf", " <b>or</b> ")):
            members = o(local)
            if members is not None:
                return joiner.join(sub(m) for m in self._list(members))
        if o("oneOf") is not None:
            return "{" + ", ".join(self.link(m) for m in self._list(o("oneOf"))) + "}"
        if o("complementOf") is not None:
            return "<b>not</b> " + sub(o("complementOf"))
        prop = o("onProperty")
        if prop is not None:
            p = self.link(prop)
            for local, word in (("someValuesFrom", "some"), ("allValuesFrom", "only")):
                if o(local) is not None:
                    return f"{p} <b>{word}</b> {sub(o(local))}"
            if o("hasValue") is not None:
                return f"{p} <b>value</b> {self.link(o('hasValue'))}"
            if o("hasSelf") is not None:
                return f"{p} <b>Self</b>"
            for local, word in (("minQualifiedCardinality", "min"), ("maxQualifiedCardinality", "max"),
                                ("qualifiedCardinality", "exactly"), ("minCardinality", "min"),
                                ("maxCardinality", "max"), ("cardinality", "exactly")):
                if o(local) is not None:
                    filler = o("onClass") if o("onClass") is not None else o("onDataRange")
                    tail = f" {sub(filler)}" if filler is not None and "Qualified" in local else ""
                    return f"{p} <b>{word}</b> {esc(o(local))}{tail}"
        return "<em>(anonymous class)</em>"

    def _wrapped(self, node: "Node", depth: int) -> str:
        from rdflib import BNode

        text = self.expression(node, depth)
        return f"({text})" if isinstance(node, BNode) and self.graph.value(node, _u(OWL_NS + "oneOf")) is None else text

    def _list(self, head: "Node") -> list:
        from rdflib.collection import Collection
        return list(Collection(self.graph, head))


# -- diagrams ----------------------------------------------------------------------------------------

def dot_string(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _class_members(graph: "Graph", node: "Node") -> list:
    """Named classes a domain or range stands for (a union is expanded; other expressions are skipped)."""
    from rdflib import BNode, URIRef
    from rdflib.collection import Collection

    if isinstance(node, URIRef):
        return [node]
    if isinstance(node, BNode):
        union = graph.value(node, _u(OWL_NS + "unionOf"))
        if union is not None:
            return [m for m in Collection(graph, union) if isinstance(m, URIRef)]
    return []


def overview_edges(ontology: "Graph") -> list[tuple[str, str, str]]:
    """(domain class, property, range class) for every object property with both a domain and a range."""
    from rdflib import RDF

    edges = set()
    for prop in ontology.subjects(RDF.type, _u(OWL_NS + "ObjectProperty")):
        domains = [c for d in ontology.objects(prop, _u(RDFS_NS + "domain")) for c in _class_members(ontology, d)]
        ranges = [c for r in ontology.objects(prop, _u(RDFS_NS + "range")) for c in _class_members(ontology, r)]
        for d in domains:
            for r in ranges:
                edges.add((str(d), str(prop), str(r)))
    return sorted(edges)


_DOT_HEAD = ('  graph [fontname="Arimo", fontsize=11, bgcolor="white", pad=0.2];\n'
             '  node [fontname="Arimo", fontsize=11];\n'
             '  edge [fontname="Arimo", fontsize=9, color="#555555", fontcolor="#333333"];\n')


def overview_dot(ontology: "Graph") -> str:
    """The schema overview: classes joined by the object properties between them (via domain/range),
    plus subclass links (hollow arrows) among the classes drawn."""
    from rdflib import URIRef

    edges = overview_edges(ontology)
    nodes = sorted({e[0] for e in edges} | {e[2] for e in edges})
    node_set = set(nodes)
    subclass = sorted((str(s), str(o)) for s, o in ontology.subject_objects(_u(RDFS_NS + "subClassOf"))
                      if isinstance(s, URIRef) and isinstance(o, URIRef)
                      and str(s) in node_set and str(o) in node_set)
    title = label_of(ontology, _u(ONTOLOGY_IRI), fallback=False) or "carnk ontology"
    out = [f"digraph overview {{\n  // {title}: classes and the object properties between them\n",
           '  graph [rankdir=LR, nodesep=0.25, ranksep=0.9, concentrate=false];\n', _DOT_HEAD,
           '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", color="#3b6ea8"];\n']
    for iri in nodes:
        fill = "" if iri.startswith(CARNK) else ', fillcolor="#f4f4f4", color="#888888"'
        out.append(f"  {dot_string(curie(iri))} [label={dot_string(label_of(ontology, _u(iri)))}, "
                   f"URL={dot_string('#' + anchor(iri))}, tooltip={dot_string(iri)}{fill}];\n")
    for d, p, r in edges:
        out.append(f"  {dot_string(curie(d))} -> {dot_string(curie(r))} "
                   f"[label={dot_string(label_of(ontology, _u(p)))}, tooltip={dot_string(curie(p))}];\n")
    for s, o in subclass:
        out.append(f"  {dot_string(curie(s))} -> {dot_string(curie(o))} "
                   '[arrowhead=onormal, style=dashed, color="#999999", tooltip="subClassOf"];\n')
    out.append("}\n")
    return "".join(out)


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
        todo.extend(o for o in ontology.objects(c, _u(RDFS_NS + "subClassOf")) if isinstance(o, URIRef))
    return out


def read_construct(kg: "Graph", ontology: "Graph", iri: str) -> Construct | None:
    """A CAR construct's domains in order, from its carnk:hasDomainAt / carnk:position / carnk:domain nodes."""
    from rdflib import RDF, Literal

    schema = ontology + kg
    node = _u(iri)
    domains = []
    for rec in kg.objects(node, _u(CARNK + "hasDomainAt")):
        pos, dom = kg.value(rec, _u(CARNK + "position")), kg.value(rec, _u(CARNK + "domain"))
        if not isinstance(pos, Literal) or dom is None:
            continue
        types = [t for t in kg.objects(dom, RDF.type) if str(t).startswith(CARNK)]
        # the most specific asserted type: the one with the most superclasses
        types.sort(key=lambda t: (-len(_superclasses(ontology, t)), str(t)))
        ups = _superclasses(ontology, types[0]) if types else set()
        family = next((local for local, _c in DOMAIN_COLOURS if CARNK + local in ups), "CARDomain")
        protein = kg.value(dom, _u(CARNK + "derivedFromProtein"))
        domains.append(ConstructDomain(
            position=int(pos.toPython()), domain=str(dom), label=label_of(schema, dom),
            kind=label_of(ontology, types[0]) if types else "", family=family,
            protein=label_of(schema, protein) if protein is not None else ""))
    if not domains:
        return None
    domains.sort(key=lambda d: (d.position, d.domain))
    source = kg.value(node, _u(DCT_NS + "source"))
    return Construct(iri, label_of(kg, node), domains, label_of(schema, source) if source is not None else "")


def find_construct(kg: "Graph", ontology: "Graph", preferred: str = DEFAULT_CONSTRUCT) -> Construct | None:
    """The preferred construct if the graph describes it, else the first (by IRI) that lists domains."""
    found = read_construct(kg, ontology, preferred)
    if found is not None:
        return found
    for s in sorted({str(s) for s in kg.subjects(_u(CARNK + "hasDomainAt"), None)}):
        found = read_construct(kg, ontology, s)
        if found is not None:
            return found
    return None


def construct_dot(construct: Construct) -> str:
    """One CAR construct as a chain of its domains, outside the cell (left) to inside (right)."""
    colours = dict(DOMAIN_COLOURS)
    title = construct.label + (f"\nsource: {construct.source}" if construct.source else "")
    out = [f"digraph construct {{\n  // {curie(construct.iri)}: domains in order, outside to inside\n",
           f"  graph [rankdir=LR, nodesep=0.3, ranksep=0.35, labelloc=t, label={dot_string(title)}];\n",
           _DOT_HEAD, '  node [shape=box, style="rounded,filled", color="#444444"];\n',
           '  outside [shape=plaintext, style="", label="outside\\nthe cell"];\n',
           '  inside [shape=plaintext, style="", label="inside\\nthe cell"];\n']
    ids = []
    for d in construct.domains:
        nid = f"d{d.position}"
        ids.append(nid)
        lines = [f"{d.position}. {d.label}"]
        if d.kind:
            lines.append(f"({d.kind})")
        if d.protein:
            lines.append(f"from {d.protein}")
        out.append(f"  {nid} [label={dot_string(chr(10).join(lines))}, "
                   f"fillcolor={dot_string(colours.get(d.family, '#ffffff'))}, tooltip={dot_string(d.domain)}];\n")
    chain = ["outside", *ids, "inside"]
    out.append("  " + " -> ".join(chain) + ' [arrowhead=none, penwidth=1.5];\n')
    out.append("  { rank=same; " + "; ".join(chain) + "; }\n}\n")
    return "".join(out)


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


@dataclass(frozen=True)
class Renderer:
    """A Graphviz command line: graphviz-pure (preferred) or a system `dot`."""

    path: str
    name: str

    def render(self, dot: str, fmt: str) -> bytes:
        """Lay out and draw DOT text as 'svg' or 'png' bytes (SVG made deterministic)."""
        try:
            proc = subprocess.run([self.path, f"-T{fmt}"], input=dot.encode("utf-8"),
                                  capture_output=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise BadInputError(f"{self.name} failed to run: {e}") from None
        if proc.returncode != 0 or not proc.stdout:
            msg = " ".join(proc.stderr.decode("utf-8", "replace").split())[:300]
            raise BadInputError(f"{self.name} could not render the diagram: {msg or 'no output'}")
        return normalise_svg(proc.stdout) if fmt == "svg" else proc.stdout


def find_renderer() -> Renderer | None:
    """graphviz-pure beside this Python (a venv's bin/ need not be on PATH) or on PATH; else `dot`."""
    if os.environ.get("CARNK_NO_GRAPHVIZ"):  # lets a test see the no-renderer path on any machine
        return None
    exe = "graphviz-pure.exe" if sys.platform == "win32" else "graphviz-pure"
    beside = Path(sys.executable).parent / exe
    if beside.is_file() and os.access(beside, os.X_OK):
        return Renderer(str(beside), "graphviz-pure")
    for name in ("graphviz-pure", "dot"):
        found = shutil.which(name)
        if found:
            return Renderer(found, name)
    return None


_GENERATOR_COMMENT = re.compile(rb"<!-- Generated by graphviz[^>]*?-->\s*", re.DOTALL)


def normalise_svg(data: bytes) -> bytes:
    """Drop the generator comment (it names the renderer's version) so equal drawings are equal bytes,
    and give every text the construct figure's font fallback list: the layout was measured with Arimo,
    and a viewer without it should fall back to a metric-compatible face, not to a wider serif."""
    data = _GENERATOR_COMMENT.sub(b"", data)
    return data.replace(b'font-family="Arimo"', b'font-family="' + SVG_FONT.encode() + b'"')


# -- the HTML page -----------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #3b6ea8;padding-bottom:.2rem;margin-top:2.5rem}
section.term{border:1px solid #d8dee8;border-radius:6px;padding:.6rem 1rem;margin:1rem 0}
section.term h3{margin:.2rem 0}.kind{font-size:.75rem;background:#3b6ea8;color:#fff;border-radius:3px;padding:.05rem .35rem;margin-left:.5rem;vertical-align:middle}
.iri{font-family:monospace;font-size:.85rem;color:#555}table.props{border-collapse:collapse;margin-top:.4rem}
table.props th{text-align:left;vertical-align:top;padding:.15rem 1rem .15rem 0;white-space:nowrap;color:#444;font-weight:600}
table.props td{padding:.15rem 0}table.meta th{text-align:left;padding-right:1rem}
nav ul{columns:3}figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #eee}
a.external::after{content:" \\2197";font-size:.7em}code{font-size:.9em}
"""


@dataclass
class Diagram:
    """A diagram's DOT text and, when a renderer was found, its pictures."""

    stem: str
    caption: str
    dot: str
    svg: bytes | None = None
    png: bytes | None = None


def _row(name: str, values: list[str]) -> tuple[str, list] | None:
    """One row of an entry's table: a heading and its values (HTML fragments, already escaped)."""
    from markupsafe import Markup

    return (name, [Markup(v) for v in values]) if values else None


def _objects(g: "Graph", s: "Node", p: str) -> list:
    return sorted(g.objects(s, _u(p)), key=lambda n: (type(n).__name__, str(n)))


def _subjects(g: "Graph", p: str, o: "Node") -> list:
    return sorted(g.subjects(_u(p), o), key=lambda n: (type(n).__name__, str(n)))


def _named(nodes: Iterable) -> list:
    from rdflib import URIRef
    return [n for n in nodes if isinstance(n, URIRef)]


def all_disjoint_with(g: "Graph", cls: "Node") -> set:
    """Classes declared pairwise disjoint with `cls` by an owl:AllDisjointClasses axiom."""
    from rdflib import RDF
    from rdflib.collection import Collection

    out = set()
    for axiom in g.subjects(RDF.type, _u(OWL_NS + "AllDisjointClasses")):
        head = g.value(axiom, _u(OWL_NS + "members"))
        members = list(Collection(g, head)) if head is not None else []
        if cls in members:
            out.update(m for m in members if m != cls)
    return out


def term_entry(term: Term, g: "Graph", linker: Linker) -> dict:
    """One term's entry: the term and the rows of its property table (the template lays it out)."""
    from rdflib import RDF, BNode, URIRef

    s = _u(term.iri)
    link, expr = linker.link, linker.expression
    rows = [_row("Definition", [esc(term.definition)] if term.definition else [])]
    rows.append(_row("Alternative labels", [esc(", ".join(term.alt_labels))] if term.alt_labels else []))
    if term.kind in ("class", "external class"):
        supers = _objects(g, s, RDFS_NS + "subClassOf")
        internal = [n for n in supers if not (isinstance(n, URIRef) and not str(n).startswith(CARNK))]
        rows.append(_row("Superclasses", [expr(n) for n in internal]))
        rows.append(_row("Subclasses", [link(n) for n in _named(_subjects(g, RDFS_NS + "subClassOf", s))]))
        rows.append(_row("Equivalent to", [expr(n) for n in _objects(g, s, OWL_NS + "equivalentClass")]))
        disjoint = set(_objects(g, s, OWL_NS + "disjointWith")) | set(_subjects(g, OWL_NS + "disjointWith", s))
        disjoint |= all_disjoint_with(g, s)
        rows.append(_row("Disjoint with", [link(n) for n in sorted(_named(disjoint), key=str)]))
        rows.append(_row("In domain of", [link(n) for n in _named(_subjects(g, RDFS_NS + "domain", s))]))
        rows.append(_row("In range of", [link(n) for n in _named(_subjects(g, RDFS_NS + "range", s))]))
        rows.append(_row("Instances", [link(n) for n in _named(_subjects(g, RDF_NS + "type", s))]))
        external_supers = [n for n in supers if isinstance(n, URIRef) and not str(n).startswith(CARNK)]
        mappings = [f"rdfs:subClassOf {link(n, show_id=True)}" for n in external_supers]
        if term.external:
            rows.append(_row("Mapped from", [f"{link(n)} {esc(curie(p))}" for p in MAPPING_PREDICATES
                                             for n in _named(_subjects(g, p, s))]))
    else:
        mappings = []
    if term.kind.endswith("property"):
        chars = sorted(curie(str(t)).split(":", 1)[1] for t in g.objects(s, RDF.type)
                       if str(t)[len(OWL_NS):] in CHARACTERISTICS and str(t).startswith(OWL_NS))
        rows.append(_row("Characteristics", [esc(", ".join(chars))] if chars else []))
        rows.append(_row("Sub-property of", [link(n) for n in _objects(g, s, RDFS_NS + "subPropertyOf")]))
        rows.append(_row("Super-property of", [link(n) for n in _named(_subjects(g, RDFS_NS + "subPropertyOf", s))]))
        rows.append(_row("Inverse of", [link(n) for n in _objects(g, s, OWL_NS + "inverseOf")]))
        rows.append(_row("Domain", [expr(n) for n in _objects(g, s, RDFS_NS + "domain")]))
        rows.append(_row("Range", [expr(n) for n in _objects(g, s, RDFS_NS + "range")]))
    if term.kind == "named individual":
        types = [n for n in _objects(g, s, RDF_NS + "type") if str(n) != OWL_NS + "NamedIndividual"]
        rows.append(_row("Type", [expr(n) for n in types]))
        rows.append(_row("Different from", [link(n) for n in _named(set(_objects(g, s, OWL_NS + "differentFrom"))
                                                                   | set(_subjects(g, OWL_NS + "differentFrom", s)))]))
    for p in MAPPING_PREDICATES:
        mappings += [f"{esc(curie(p))} {link(n, show_id=True)}" for n in _objects(g, s, p) if not isinstance(n, BNode)]
    rows.append(_row("External mappings", mappings))
    rows.append(_row("Note", [esc(v) for v in _text_values(g, s, SKOS_NS + "note")]))
    rows.append(_row("Example", [esc(v) for v in _text_values(g, s, SKOS_NS + "example")]))
    rows.append(_row("Comment", [esc(v) for v in _text_values(g, s, RDFS_NS + "comment")]))
    sources = [link(n) for n in _objects(g, s, DCT_NS + "source")]
    sources += [f"defined by {link(n)}" for n in _objects(g, s, RDFS_NS + "isDefinedBy")]
    rows.append(_row("Source", sources))
    return {"term": term, "rows": [r for r in rows if r], "external": term.external}


def _metadata(g: "Graph", linker: Linker) -> list:
    s = _u(ONTOLOGY_IRI)
    rows = [_row("IRI", [f"<code>{esc(ONTOLOGY_IRI)}</code>"])]
    for name, p in (("Version IRI", OWL_NS + "versionIRI"), ("Licence", DCT_NS + "license")):
        rows.append(_row(name, [linker.link(n) for n in _objects(g, s, p)]))
    for name, p in (("Version", OWL_NS + "versionInfo"), ("Creator", DCT_NS + "creator"),
                    ("Created", DCT_NS + "created"), ("Modified", DCT_NS + "modified"),
                    ("Preferred prefix", PREFIXES["vann"] + "preferredNamespacePrefix"),
                    ("Namespace", PREFIXES["vann"] + "preferredNamespaceUri"),
                    ("Comment", RDFS_NS + "comment")):
        rows.append(_row(name, [esc(v) for v in _text_values(g, s, p)]))
    return [r for r in rows if r]


def figure_data(d: Diagram, base: str = "", formats: Iterable[str] = ("svg", "png", "dot")) -> dict:
    """What the template shows of a diagram: its picture (when drawn) and links to its files."""
    drawn = d.svg is not None
    return {"id": f"fig-{d.stem}", "caption": d.caption, "src": f"{base}{d.stem}.svg" if drawn else "",
            "links": [(f.upper(), f"{base}{d.stem}.{f}") for f in formats if drawn or f == "dot"]}


def docs_context(ontology: "Graph", terms: list[Term], figures: list[dict]) -> dict:
    """Everything the ontology page's template needs (the standalone page and the site's page alike)."""
    linker = Linker(ontology, terms)
    anchors = [t.anchor for t in terms] + list(SECTION_IDS.values())
    dupes = sorted({a for a in anchors if anchors.count(a) > 1})
    if dupes:
        raise BadInputError(f"two documented terms share the anchor(s) {', '.join(dupes)}")
    onto = _u(ONTOLOGY_IRI)
    kinds = [k for k in (*KIND_ORDER, "external class") if any(t.kind == k for t in terms)]
    return {
        "doc_title": " ".join(_text_values(ontology, onto, DCT_NS + "title")[:1]) or "carnk ontology",
        "description": " ".join(_text_values(ontology, onto, DCT_NS + "description")[:1]),
        "metadata": _metadata(ontology, linker),
        "toc": [(SECTION_IDS[k], SECTION_TITLES[k], sum(t.kind == k for t in terms)) for k in kinds],
        "figures": figures,
        "sections": [(SECTION_IDS[k], SECTION_TITLES[k],
                      [term_entry(t, ontology, linker) for t in terms if t.kind == k]) for k in kinds],
        "namespaces": list(PREFIXES.items()),
    }


def render_html(ontology: "Graph", terms: list[Term], diagrams: list[Diagram]) -> str:
    """The standalone documentation page (`carnk-graph docs`), from the same template as the site's."""
    from .site.templating import environment

    ctx = docs_context(ontology, terms, [figure_data(d) for d in diagrams])
    return environment().get_template("docs.html.j2").render(css=CSS, **ctx)


# -- the command -------------------------------------------------------------------------------------

@dataclass
class DocsResult:
    """What `docs` wrote and anything the user should know."""

    directory: Path
    files: list[str]
    terms: int
    construct: str | None
    renderer: str | None
    figure_dir: Path | None = None
    warnings: list[str] = field(default_factory=list)


def diagrams_for(ontology: "Graph", kg: "Graph", renderer: Renderer | None,
                 construct_iri: str | None = None) -> tuple[list[Diagram], Construct | None]:
    """The overview and (when the graph has one) the construct diagram, rendered if possible."""
    from rdflib import RDF

    drawn = {p for _d, p, _r in overview_edges(ontology)}
    total = len(set(ontology.subjects(RDF.type, _u(OWL_NS + "ObjectProperty"))))
    diagrams = [Diagram("overview", "Schema overview: classes and the object properties between them "
                        "(solid arrows, from domain to range) and subclass links (dashed); "
                        f"{len(drawn)} of the {total} object properties have both a domain and a range "
                        "and are drawn", overview_dot(ontology))]
    if construct_iri is None:
        construct = find_construct(kg, ontology)
    else:
        iri = expand_curie(construct_iri)
        construct = read_construct(kg, ontology, iri)
        if construct is None:
            raise BadInputError(f"--construct {construct_iri}: the knowledge graph has no CAR construct "
                                "with carnk:hasDomainAt records under that IRI")
    if construct is not None:
        diagrams.append(Diagram("construct", f"A CAR construct with its domains in order, outside to inside: "
                                f"{construct.label}", construct_dot(construct)))
    if renderer is not None:
        for d in diagrams:
            d.svg, d.png = renderer.render(d.dot, "svg"), renderer.render(d.dot, "png")
    return diagrams, construct


def overview_files(ontology: "Graph", renderer: Renderer | None) -> dict[str, bytes]:
    """The README figure: overview.dot always, .svg and .png when a renderer is available."""
    dot = overview_dot(ontology)
    files = {f"{README_FIGURE_STEM}.dot": dot.encode("utf-8")}
    if renderer is not None:
        files[f"{README_FIGURE_STEM}.svg"] = renderer.render(dot, "svg")
        files[f"{README_FIGURE_STEM}.png"] = renderer.render(dot, "png")
    return files


def build_docs(root: str | Path | None = None, dist: str | Path | None = None, *,
               update_readme_figure: bool = False, construct: str | None = None,
               renderer: Renderer | None | Callable[[], Renderer | None] = find_renderer) -> DocsResult:
    """Write <dist>/docs/: index.html, overview.{dot,svg,png}, construct.{dot,svg,png}.

    Reads the sources (strictly), not a build: the documentation describes what the
    curators wrote, and needs neither the reasoner nor the store.
    """
    from .atomic import write_files
    from .project import find_project
    from .sources import load_sources

    paths = find_project(root)
    out = (Path(dist) if dist is not None else paths.default_dist()) / "docs"
    src = load_sources(paths)
    gv = renderer() if callable(renderer) else renderer
    warnings = [] if gv is not None else [RENDERER_HINT]
    terms = collect_terms(src.ontology)
    diagrams, found = diagrams_for(src.ontology, src.kg, gv, construct)
    if found is None:
        warnings.append("no CAR construct with carnk:hasDomainAt records in the knowledge graph: "
                        "the construct diagram is left out")
    files = {"index.html": render_html(src.ontology, terms, diagrams).encode("utf-8")}
    for d in diagrams:
        files[f"{d.stem}.dot"] = d.dot.encode("utf-8")
        if d.svg is not None and d.png is not None:
            files[f"{d.stem}.svg"], files[f"{d.stem}.png"] = d.svg, d.png
    write_files(out, files)
    figure_dir = None
    if update_readme_figure:
        if paths.packaged:
            raise BadInputError("--update-readme-figure needs a clone (the packaged sources are read-only)")
        if gv is None:
            raise BadInputError("--update-readme-figure needs a Graphviz renderer: " + RENDERER_HINT.split(";")[1].strip())
        figure_dir = paths.root / README_FIGURE_DIR
        write_files(figure_dir, overview_files(src.ontology, gv))
    return DocsResult(out, sorted(files), len(terms), found.iri if found else None,
                      gv.name if gv else None, figure_dir, warnings)
