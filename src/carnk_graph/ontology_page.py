"""The ontology's documentation page: one entry per term, in the layout LODE and pyLODE made familiar.

The ontology's metadata, a table of contents, then one entry per class,
property and named individual with its label, definition, superclasses, domain
and range (class expressions in a Manchester-like text), external mappings and
source, each under a stable anchor derived from its IRI. The same context
fills the standalone page (`carnk-graph docs`) and the site's ontology page.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from .errors import BadInputError
from .namespaces import CARNK, DCTERMS, OBOINOWL, ONTOLOGY_IRI, OWL, PREFIXES, RDF, RDFS, SKOS, XSD
from .ontology_terms import KIND_ORDER, Term, curie, esc, label_of, text_values, uriref

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

    from .diagrams import Diagram

#: Predicates that state a mapping to an identifier kept outside this ontology, in display order.
MAPPING_PREDICATES = (
    SKOS + "exactMatch", SKOS + "closeMatch", SKOS + "broadMatch", SKOS + "narrowMatch",
    SKOS + "relatedMatch", OBOINOWL + "hasDbXref",
)

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


# -- class expressions (Manchester-like text) ------------------------------------------------------

_BARE_DATATYPES = {XSD + t for t in ("boolean", "integer", "decimal", "double")}


def literal_text(lit) -> str:
    """A literal as Manchester syntax writes it: true, 3, "text"@en, "2020-01-01"^^xsd:date."""
    if lit.datatype is not None and str(lit.datatype) in _BARE_DATATYPES:
        return str(lit)
    text = '"' + str(lit).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if lit.language:
        return f"{text}@{lit.language}"
    if lit.datatype is not None and str(lit.datatype) != XSD + "string":
        return f"{text}^^{curie(str(lit.datatype))}"
    return text


class Linker:
    """Turns IRIs into HTML links: an internal #anchor for documented terms, the IRI otherwise."""

    def __init__(self, graph: "Graph", terms: Iterable[Term]) -> None:
        self.graph = graph
        self.by_iri = {t.iri: t for t in terms}
        self.ontology_title = " ".join(text_values(graph, uriref(ONTOLOGY_IRI), DCTERMS + "title")[:1]) or "this ontology"

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
        o = lambda local: g.value(node, uriref(OWL + local))  # noqa: E731
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
        return f"({text})" if isinstance(node, BNode) and self.graph.value(node, uriref(OWL + "oneOf")) is None else text

    def _list(self, head: "Node") -> list:
        from rdflib.collection import Collection
        return list(Collection(self.graph, head))


# -- the page --------------------------------------------------------------------------------------

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


def _row(name: str, values: list[str]) -> tuple[str, list] | None:
    """One row of an entry's table: a heading and its values (HTML fragments, already escaped)."""
    from markupsafe import Markup

    return (name, [Markup(v) for v in values]) if values else None


def _objects(g: "Graph", s: "Node", p: str) -> list:
    return sorted(g.objects(s, uriref(p)), key=lambda n: (type(n).__name__, str(n)))


def _subjects(g: "Graph", p: str, o: "Node") -> list:
    return sorted(g.subjects(uriref(p), o), key=lambda n: (type(n).__name__, str(n)))


def _named(nodes: Iterable) -> list:
    from rdflib import URIRef
    return [n for n in nodes if isinstance(n, URIRef)]


def all_disjoint_with(g: "Graph", cls: "Node") -> set:
    """Classes declared pairwise disjoint with `cls` by an owl:AllDisjointClasses axiom."""
    from rdflib import RDF
    from rdflib.collection import Collection

    out = set()
    for axiom in g.subjects(uriref(RDF + "type"), uriref(OWL + "AllDisjointClasses")):
        head = g.value(axiom, uriref(OWL + "members"))
        members = list(Collection(g, head)) if head is not None else []
        if cls in members:
            out.update(m for m in members if m != cls)
    return out


def term_entry(term: Term, g: "Graph", linker: Linker) -> dict:
    """One term's entry: the term and the rows of its property table (the template lays it out)."""
    from rdflib import BNode, URIRef

    s = uriref(term.iri)
    link, expr = linker.link, linker.expression
    rows = [_row("Definition", [esc(term.definition)] if term.definition else [])]
    rows.append(_row("Alternative labels", [esc(", ".join(term.alt_labels))] if term.alt_labels else []))
    if term.kind in ("class", "external class"):
        supers = _objects(g, s, RDFS + "subClassOf")
        internal = [n for n in supers if not (isinstance(n, URIRef) and not str(n).startswith(CARNK))]
        rows.append(_row("Superclasses", [expr(n) for n in internal]))
        rows.append(_row("Subclasses", [link(n) for n in _named(_subjects(g, RDFS + "subClassOf", s))]))
        rows.append(_row("Equivalent to", [expr(n) for n in _objects(g, s, OWL + "equivalentClass")]))
        disjoint = set(_objects(g, s, OWL + "disjointWith")) | set(_subjects(g, OWL + "disjointWith", s))
        disjoint |= all_disjoint_with(g, s)
        rows.append(_row("Disjoint with", [link(n) for n in sorted(_named(disjoint), key=str)]))
        rows.append(_row("In domain of", [link(n) for n in _named(_subjects(g, RDFS + "domain", s))]))
        rows.append(_row("In range of", [link(n) for n in _named(_subjects(g, RDFS + "range", s))]))
        rows.append(_row("Instances", [link(n) for n in _named(_subjects(g, RDF + "type", s))]))
        external_supers = [n for n in supers if isinstance(n, URIRef) and not str(n).startswith(CARNK)]
        mappings = [f"rdfs:subClassOf {link(n, show_id=True)}" for n in external_supers]
        if term.external:
            rows.append(_row("Mapped from", [f"{link(n)} {esc(curie(p))}" for p in MAPPING_PREDICATES
                                             for n in _named(_subjects(g, p, s))]))
    else:
        mappings = []
    if term.kind.endswith("property"):
        chars = sorted(curie(str(t)).split(":", 1)[1] for t in g.objects(s, uriref(RDF + "type"))
                       if str(t)[len(OWL):] in CHARACTERISTICS and str(t).startswith(OWL))
        rows.append(_row("Characteristics", [esc(", ".join(chars))] if chars else []))
        rows.append(_row("Sub-property of", [link(n) for n in _objects(g, s, RDFS + "subPropertyOf")]))
        rows.append(_row("Super-property of", [link(n) for n in _named(_subjects(g, RDFS + "subPropertyOf", s))]))
        rows.append(_row("Inverse of", [link(n) for n in _objects(g, s, OWL + "inverseOf")]))
        rows.append(_row("Domain", [expr(n) for n in _objects(g, s, RDFS + "domain")]))
        rows.append(_row("Range", [expr(n) for n in _objects(g, s, RDFS + "range")]))
    if term.kind == "named individual":
        types = [n for n in _objects(g, s, RDF + "type") if str(n) != OWL + "NamedIndividual"]
        rows.append(_row("Type", [expr(n) for n in types]))
        rows.append(_row("Different from", [link(n) for n in _named(set(_objects(g, s, OWL + "differentFrom"))
                                                                   | set(_subjects(g, OWL + "differentFrom", s)))]))
    for p in MAPPING_PREDICATES:
        mappings += [f"{esc(curie(p))} {link(n, show_id=True)}" for n in _objects(g, s, p) if not isinstance(n, BNode)]
    rows.append(_row("External mappings", mappings))
    rows.append(_row("Note", [esc(v) for v in text_values(g, s, SKOS + "note")]))
    rows.append(_row("Example", [esc(v) for v in text_values(g, s, SKOS + "example")]))
    rows.append(_row("Comment", [esc(v) for v in text_values(g, s, RDFS + "comment")]))
    sources = [link(n) for n in _objects(g, s, DCTERMS + "source")]
    sources += [f"defined by {link(n)}" for n in _objects(g, s, RDFS + "isDefinedBy")]
    rows.append(_row("Source", sources))
    return {"term": term, "rows": [r for r in rows if r], "external": term.external}


def _metadata(g: "Graph", linker: Linker) -> list:
    s = uriref(ONTOLOGY_IRI)
    rows = [_row("IRI", [f"<code>{esc(ONTOLOGY_IRI)}</code>"])]
    for name, p in (("Version IRI", OWL + "versionIRI"), ("Licence", DCTERMS + "license")):
        rows.append(_row(name, [linker.link(n) for n in _objects(g, s, p)]))
    for name, p in (("Version", OWL + "versionInfo"), ("Creator", DCTERMS + "creator"),
                    ("Created", DCTERMS + "created"), ("Modified", DCTERMS + "modified"),
                    ("Preferred prefix", PREFIXES["vann"] + "preferredNamespacePrefix"),
                    ("Namespace", PREFIXES["vann"] + "preferredNamespaceUri"),
                    ("Comment", RDFS + "comment")):
        rows.append(_row(name, [esc(v) for v in text_values(g, s, p)]))
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
    onto = uriref(ONTOLOGY_IRI)
    kinds = [k for k in (*KIND_ORDER, "external class") if any(t.kind == k for t in terms)]
    return {
        "doc_title": " ".join(text_values(ontology, onto, DCTERMS + "title")[:1]) or "carnk ontology",
        "description": " ".join(text_values(ontology, onto, DCTERMS + "description")[:1]),
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
