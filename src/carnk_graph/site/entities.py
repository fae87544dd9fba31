"""Which IRIs get a page, where each page lives, and what a page says about its entity.

Every IRI of our namespace that is described in the release gets a page, and so
does every class or property the ontology declares from elsewhere (reused OBO
classes). A page lives at the IRI's path below https://w3id.org/carnk/ (so that
`serve` answers the IRI itself), or under ext/ for IRIs of other namespaces.

What a page shows is drawn from the statements alone: the entity's own
statements grouped by property, each with the sources and evidence level of the
node that makes it (as Wikidata shows references under a statement); statements
only the reasoner made, marked inferred; the qualified facts about it (nodes of
a class the ontology defines as "a qualified fact ...": outcomes, toxicity
associations, domain positions ...) as tables, with claims that disagree set
side by side; and everything else that refers to it.
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field

from ..namespaces import BASE, CARNK, DCTERMS, KG, ONTOLOGY_IRI, OWL, RDF, RDFS, SKOS, XSD, prefixed_name
from ..terms import CLASS_TYPES, PROPERTY_TYPES, RDFS_LABEL
from .graph import RDF_TYPE, SYNONYMS, Node, SiteGraph, Statement

#: Site files that live at the top of the site; an entity may not take their names.
RESERVED = frozenset({"index", "404"})
#: Folders of the site's own pages and assets (no IRI of ours contains them as a first segment
#: with a page below it that would clash: entity files carry a suffix, these are folders).
SITE_FOLDERS = ("browse", "static", "ext")

#: Where a fact comes from: carnk:source (a sub-property of dcterms:source, what the data uses) or
#: dcterms:source itself; where in the source (carnk:locator); how firmly (carnk:evidenceLevel).
SOURCES = (CARNK + "source", DCTERMS + "source")
LOCATOR = CARNK + "locator"
EVIDENCE = CARNK + "evidenceLevel"
#: Shown in the page header rather than in the statement table.
HEADER_PREDICATES = frozenset({RDFS_LABEL, SKOS + "definition", RDFS + "comment", *SYNONYMS})
#: Metadata of a fact: shown as its references, not as one of its values.
REFERENCE_PREDICATES = frozenset({*SOURCES, LOCATOR, EVIDENCE})
#: Predicates whose values name identifiers kept elsewhere (rendered as external links).
ID_LINKS = {CARNK + "doi": ("https://doi.org/{}", "DOI"), CARNK + "pmid": ("https://pubmed.ncbi.nlm.nih.gov/{}/", "PubMed"),
            CARNK + "nctId": ("https://clinicaltrials.gov/study/{}", "registry"),
            CARNK + "registryId": ("https://clinicaltrials.gov/study/{}", "registry")}
#: How a page names the entries that point at it through a schema property.
INVERSE_NAMES = {RDF_TYPE: "instances", RDFS + "subClassOf": "subclasses", RDFS + "subPropertyOf": "sub-properties",
                 RDFS + "domain": "properties whose domain this is", RDFS + "range": "properties whose range this is"}
#: Datatypes whose values read plainly without naming the type (numbers, yes/no, dates, text).
PLAIN_DATATYPES = frozenset(XSD + t for t in ("string", "integer", "decimal", "double", "boolean", "date",
                                                          "nonNegativeInteger", "positiveInteger", "int"))
_SAFE_PATH = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9_.~-]*(?:/[A-Za-z0-9_~-][A-Za-z0-9_.~-]*)*")


# -- where pages live ----------------------------------------------------------------------------

def path_of(iri: str) -> str:
    """The page's path in the site without a suffix: kg/liu2020, NKCell, ext/obo_CL_0000623.

    An IRI of our namespace keeps its own path (so the server can answer the IRI);
    any other IRI goes under ext/ by its prefixed name, or a digest when it has none.
    """
    if iri == ONTOLOGY_IRI:
        return "ontology"
    if iri.startswith(BASE):
        rel = iri[len(BASE):]
        if (_SAFE_PATH.fullmatch(rel) and rel not in RESERVED and rel.split("/", 1)[0] not in SITE_FOLDERS
                and not rel.endswith((".html", ".ttl", ".jsonld", ".nt", ".json", ".js", ".css", ".svg"))):
            return rel
    short = prefixed_name(iri)
    if short and _SAFE_PATH.fullmatch(short.replace(":", "_")):
        return "ext/" + short.replace(":", "_")
    return "ext/iri-" + hashlib.sha1(iri.encode("utf-8")).hexdigest()[:16]


def iri_of_path(path: str) -> str:
    """The IRI a server path names (the inverse of path_of for our namespace)."""
    return BASE + path.lstrip("/")


# -- the entity list -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Entity:
    iri: str
    kind: str          # ontology, class, property, individual
    path: str
    label: str
    synonyms: tuple[str, ...] = ()

    @property
    def node(self) -> Node:
        return Node("iri", self.iri)


KIND_ORDER = ("ontology", "class", "property", "individual")


def kind_of(g: SiteGraph, node: Node) -> str:
    if node.value == ONTOLOGY_IRI:
        return "ontology"
    types = set(g.types(node))
    if types & CLASS_TYPES:
        return "class"
    if types & PROPERTY_TYPES:
        return "property"
    return "individual"


def collect_entities(g: SiteGraph) -> dict[str, Entity]:
    """Every entity with a page, by IRI (ordered by kind, then label)."""
    found = []
    for node, sts in g.out.items():
        if not node.is_iri:
            continue
        kind = kind_of(g, node)
        if not node.value.startswith(BASE) and kind not in ("class", "property"):
            continue  # a DOI or a registry page: linked to, not described
        syn = tuple(s for p in SYNONYMS for s in g.texts(node, p))
        label = g.label(node.value)
        if not g.has_label(node.value):  # the ontology is named by its title
            label = (g.texts(node, DCTERMS + "title") or [label])[0]
            g.set_label(node.value, label)
        found.append(Entity(node.value, kind, path_of(node.value), label, syn))
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    found.sort(key=lambda e: (order[e.kind], e.label.lower(), e.iri))
    # Pages keep the case of their IRI (carnk:CellSource and carnk:cellSource are two pages), as
    # web servers and w3id do; a case-insensitive disk would merge such pairs, so the site is
    # meant to be served from a case-sensitive one (Linux, any web host), not copied to macOS.
    return {e.iri: e for e in found}


# -- what a page shows ---------------------------------------------------------------------------

@dataclass
class Value:
    """One value as the templates show it: a link, a literal, or a class expression."""

    text: str
    href: str = ""          # relative to the site root ('' for literals and unknown IRIs)
    external: str = ""      # an outside URL
    title: str = ""
    note: str = ""          # datatype or language of a literal
    inferred: bool = False
    tokens: list = field(default_factory=list)  # a class expression: Values and operator words


@dataclass
class Reference:
    """Where a fact comes from: a source (its page and outside links) and how firmly."""

    sources: list[Value]
    evidence: list[Value]
    locators: list[str] = field(default_factory=list)
    inferred: bool = False
    ontology: bool = False


@dataclass
class Row:
    prop: Value
    values: list[Value]
    refs: Reference


@dataclass
class FactTable:
    """Qualified facts about an entity, one row per fact node, one column per property."""

    title: str
    via: Value
    columns: list[Value]
    rows: list[dict]            # {"fact": Value, "cells": [[Value]], "refs": Reference}
    disagreements: list[dict]   # {"key": [Value], "claims": [fact Values], "rows": [(prop Value, [[Value]])]}


class Describer:
    """Builds the template data of every page from one SiteGraph."""

    def __init__(self, g: SiteGraph, entities: dict[str, Entity]) -> None:
        self.g = g
        self.entities = entities
        self._pages: dict[str, dict] = {}
        self.fact_roots = qualified_fact_roots(g)
        self.fact_classes = frozenset(c for r in self.fact_roots for c in g.subclasses(r))

    # values ------------------------------------------------------------------------------------

    def link(self, iri: str, inferred: bool = False) -> Value:
        e = self.entities.get(iri)
        short = prefixed_name(iri) or iri
        if e is not None:
            return Value(e.label, href=e.path + ".html", title=short, inferred=inferred)
        label = self.g.label(iri)
        if iri.startswith(("http://", "https://")):
            return Value(label, external=iri, title=iri, inferred=inferred)
        return Value(label, title=iri, inferred=inferred)

    def value(self, node: Node, predicate: str = "", inferred: bool = False) -> Value:
        if node.is_iri:
            return self.link(node.value, inferred)
        if node.kind == "bnode":
            return Value("", tokens=self.expression(node), inferred=inferred)
        note = f"@{node.lang}" if node.lang and node.lang != "en" else ""
        if node.datatype and node.datatype not in PLAIN_DATATYPES:
            note = prefixed_name(node.datatype) or node.datatype
        if predicate in ID_LINKS:
            url, _ = ID_LINKS[predicate]
            return Value(node.value, external=url.format(node.value), note=note, inferred=inferred)
        return Value(node.value, note=note, inferred=inferred)

    def expression(self, node: Node, depth: int = 0) -> list:
        """A class expression as tokens: 'A and (p some B)', '{a, b}', 'p value x'."""
        g = self.g
        if node.is_iri:
            return [self.link(node.value)]
        if depth > 8 or not node.kind == "bnode":
            return ["(nested expression)"]
        one = lambda local: g.value(node, OWL + local)  # noqa: E731

        def sub(n: Node) -> list:
            toks = self.expression(n, depth + 1)
            return ["(", *toks, ")"] if n.kind == "bnode" and one_of(n) is None else toks

        one_of = lambda n: g.value(n, OWL + "oneOf")  # noqa: E731
        for local, word in (("intersectionOf", "and"), ("unionOf", "or")):
            head = one(local)
            if head is not None:
                out: list = []
                for i, m in enumerate(self.rdf_list(head)):
                    out += ([word] if i else []) + sub(m)
                return out
        if one("oneOf") is not None:
            out = ["{"]
            for i, m in enumerate(self.rdf_list(one("oneOf"))):
                out += ([","] if i else []) + [self.value(m)]
            return out + ["}"]
        if one("complementOf") is not None:
            return ["not", *sub(one("complementOf"))]
        prop = one("onProperty")
        if prop is not None:
            p = [self.value(prop)]
            for local, word in (("someValuesFrom", "some"), ("allValuesFrom", "only")):
                if one(local) is not None:
                    return p + [word] + sub(one(local))
            if one("hasValue") is not None:
                return p + ["value", self.value(one("hasValue"))]
            for local, word in (("minQualifiedCardinality", "min"), ("maxQualifiedCardinality", "max"),
                                ("qualifiedCardinality", "exactly"), ("minCardinality", "min"),
                                ("maxCardinality", "max"), ("cardinality", "exactly")):
                n = one(local)
                if n is not None:
                    filler = one("onClass") or one("onDataRange")
                    tail = sub(filler) if filler is not None and "Qualified" in local else []
                    return p + [word, n.value] + tail
        members = g.value(node, OWL + "members")
        if members is not None:
            return ["all different or disjoint:"] + [self.value(m) for m in self.rdf_list(members)]
        return ["(anonymous node)"]

    def rdf_list(self, head: Node) -> list[Node]:
        out, seen = [], set()
        nil = RDF + "nil"
        while head is not None and head.value != nil and head not in seen:
            seen.add(head)
            first = self.g.value(head, RDF + "first")
            if first is not None:
                out.append(first)
            head = self.g.value(head, RDF + "rest")
        return out

    # references --------------------------------------------------------------------------------

    def source_value(self, node: Node) -> Value:
        v = self.value(node)
        v.tokens = [Value(text, external=url) for text, url in self.outside_links(node)]
        return v

    def outside_links(self, node: Node) -> list[tuple[str, str]]:
        """A source's records elsewhere: DOI, PubMed, the trial registry, other pages (text, URL)."""
        urls: dict[str, str] = {}
        for p, (template, _name) in ID_LINKS.items():
            for v in self.g.texts(node, p):
                urls.setdefault(template.format(v), "")
        for o in self.g.objects(node, RDFS + "seeAlso"):
            if o.is_iri:
                urls.setdefault(o.value, "")
        return [(outside_name(u), u) for u in sorted(urls, key=lambda u: (outside_name(u), u))]

    def references(self, node: Node, short: bool = False) -> Reference:
        """A node's sources (with their DOI / PubMed / registry links unless `short`), locators and
        evidence level."""
        found = sorted({n for p in SOURCES for n in self.g.objects(node, p)})
        return Reference(sources=[self.value(n) if short else self.source_value(n) for n in found],
                         evidence=[self.value(n) for n in sorted(set(self.g.objects(node, EVIDENCE)))],
                         locators=self.g.texts(node, LOCATOR))

    # a page ------------------------------------------------------------------------------------

    def is_fact(self, node: Node) -> bool:
        return any(t in self.fact_classes for t in self.g.types(node))

    def describe(self, e: Entity) -> dict:
        """What the entity's page shows (computed once per entity: overviews reuse it)."""
        if e.iri not in self._pages:
            self._pages[e.iri] = self._describe(e)
        return self._pages[e.iri]

    def _describe(self, e: Entity) -> dict:
        g, node = self.g, e.node
        own = g.statements(node)
        refs = self.references(node)
        # each statement names its sources; their records elsewhere (DOI, PubMed ...) are listed once below
        short_sources = [Value(v.text, href=v.href, title=v.title, external=v.external) for v in refs.sources]
        by_pred: dict[str, list[Statement]] = defaultdict(list)
        facts_out: dict[str, list[Node]] = defaultdict(list)
        for st in own:
            if st.predicate in HEADER_PREDICATES or st.predicate in REFERENCE_PREDICATES:
                continue  # shown in the header, or as the sources and evidence of the other statements
            if st.object.is_iri and self.is_fact(st.object) and st.object != node:
                facts_out[st.predicate].append(st.object)
            by_pred[st.predicate].append(st)
        rows = []
        for p in sorted(by_pred, key=lambda p: (p == RDF_TYPE and -1 or 0, g.label(p).lower(), p)):
            sts = by_pred[p]
            values = [self.value(st.object, p, st.inferred) for st in sts]
            asserted_in = {n for st in sts for n in st.graphs}
            rows.append(Row(self.link(p), values, Reference(
                sources=short_sources if "kg" in asserted_in and p not in REFERENCE_PREDICATES else [],
                evidence=refs.evidence if "kg" in asserted_in and p not in REFERENCE_PREDICATES else [],
                locators=refs.locators if "kg" in asserted_in and p not in REFERENCE_PREDICATES else [],
                inferred=all(st.inferred for st in sts), ontology=asserted_in <= {"ontology", "inferred"}
                and "ontology" in asserted_in)))
        facts_in: dict[tuple[str, str], list[Node]] = defaultdict(list)
        referenced: dict[str, list[Value]] = defaultdict(list)
        for st in g.referrers(node):
            if st.subject == node:
                continue
            if st.subject.is_iri and self.is_fact(st.subject) and st.predicate not in REFERENCE_PREDICATES:
                facts_in[(self.fact_class(st.subject), st.predicate)].append(st.subject)
            elif st.subject.is_iri:
                referenced[st.predicate].append(self.link(st.subject.value, st.inferred))
        tables = [self.fact_table(f"{g.label(cls)} ({g.label(p)} this)", p, sorted(set(ns)))
                  for (cls, p), ns in sorted(facts_in.items(), key=lambda kv: (g.label(kv[0][0]).lower(), kv[0]))]
        tables += [self.fact_table(g.label(p), p, sorted(set(ns)))
                   for p, ns in sorted(facts_out.items(), key=lambda kv: (g.label(kv[0]).lower(), kv[0]))]
        return {
            "entity": e,
            "curie": prefixed_name(e.iri) or e.iri,
            "types": [self.link(t, all(st.inferred for st in own if st.predicate == RDF_TYPE and st.object.value == t))
                      for t in sorted(set(g.types(node)), key=lambda t: (g.label(t).lower(), t))],
            "definitions": g.texts(node, SKOS + "definition"),
            "comments": g.texts(node, RDFS + "comment"),
            "synonyms": list(e.synonyms),
            "rows": rows,
            "refs": refs,
            "cited": self.cited(node, tables),
            "tables": tables,
            "referenced": [(self.inverse(p), sorted(vs, key=lambda v: (v.text.lower(), v.href)))
                           for p, vs in sorted(referenced.items(), key=lambda kv: (g.label(kv[0]).lower(), kv[0]))],
        }

    def cited(self, node: Node, tables: list[FactTable]) -> list[Value]:
        """Every source cited on the page (by the entity and by the facts in its tables), once each,
        with its records elsewhere (DOI, PubMed, registry): the page's reference list."""
        found = {n for p in SOURCES for n in self.g.objects(node, p)}
        for t in tables:
            for r in t.rows:
                found |= {n for p in SOURCES for n in self.g.objects(Node("iri", r["node"]), p)}
        return [self.source_value(n) for n in sorted(found, key=lambda n: (self.g.label(n.value).lower(), n.value))]

    def kind_label(self, e: Entity) -> str:
        """What an entity is, for the search results: its most specific asserted class, else its kind."""
        if e.kind != "individual":
            return e.kind
        types = [t for t in self.g.types(e.node) if t.startswith(CARNK)]
        types.sort(key=lambda t: (-len(self.g.superclasses(t)), t))
        return self.g.label(types[0]) if types else e.kind

    def inverse(self, prop: str) -> Value:
        """The heading of the entries that point at a page through `prop` ("instances" for rdf:type)."""
        v = self.link(prop)
        if prop in INVERSE_NAMES:
            v.text = INVERSE_NAMES[prop]
        return v

    def fact_class(self, node: Node) -> str:
        """The kind of fact a node is (the qualified-fact class the ontology defines, e.g. clinical
        outcome), so that facts of one kind share a table whatever subclasses the reasoner adds."""
        roots = sorted({r for t in self.g.types(node) for r in self.g.superclasses(t) if r in self.fact_roots})
        return roots[0]

    def fact_table(self, title: str, via: str, nodes: list[Node]) -> FactTable:
        g = self.g
        skip = {RDF_TYPE, RDFS_LABEL, via, *REFERENCE_PREDICATES}
        preds = sorted({st.predicate for n in nodes for st in g.statements(n)} - skip,
                       key=lambda p: (g.label(p).lower(), p))
        rows = []
        for n in nodes:
            cells = [[self.value(o, p) for o in sorted(set(g.objects(n, p)))] for p in preds]
            rows.append({"node": n.value, "fact": self.link(n.value), "cells": cells, "refs": self.references(n, short=True),
                         # what the fact is about (entities of the knowledge graph: study, endpoint,
                         # toxicity ...) versus what it says (numbers, texts, and the ontology's own values
                         # such as a frequency level): facts about the same things that say different
                         # things disagree
                         "key": tuple((p, tuple(sorted(o.value for o in g.objects(n, p) if is_subject_iri(o))))
                                      for p in preds),
                         "lits": {p: tuple(sorted(o.value for o in g.objects(n, p) if not is_subject_iri(o)))
                                  for p in preds}})
        rows.sort(key=lambda r: tuple(_sort_cell(c) for c in r["cells"]) + (r["fact"].text,))
        return FactTable(title, self.link(via), [self.link(p) for p in preds], rows,
                         self.disagreements(rows, preds))

    def disagreements(self, rows: list[dict], preds: list[str]) -> list[dict]:
        """Facts about the same things (same linked entities) whose figures or texts differ."""
        notes = {SKOS + "note", RDFS + "comment", SKOS + "editorialNote", CARNK + "statement"}
        groups: dict[tuple, list[dict]] = defaultdict(list)
        for r in rows:
            groups[tuple(kv for kv in r["key"] if kv[1])].append(r)
        out = []
        for key, members in sorted(groups.items(), key=lambda kv: kv[0]):
            if len(members) < 2:
                continue
            differing = [p for p in preds if p not in notes
                         and len({m["lits"][p] for m in members}) > 1 and any(m["lits"][p] for m in members)]
            if not differing:
                continue
            out.append({"key": [self.link(i) for _p, iris in key for i in iris],
                        "claims": [{"fact": m["fact"], "refs": m["refs"]} for m in members],
                        "rows": [(self.link(p), [m["cells"][preds.index(p)] for m in members]) for p in differing]})
        return out


def is_subject_iri(node: Node) -> bool:
    """An entity of the knowledge graph (a study, a toxicity): what a fact is about, not what it says."""
    return node.is_iri and node.value.startswith(KG)


def _sort_cell(values: list[Value]) -> tuple:
    if not values:
        return (2, 0.0, "")
    v = values[0]
    try:
        return (0, float(v.text), v.text) if not v.href else (1, 0.0, v.text.lower())
    except ValueError:
        return (1, 0.0, v.text.lower())


def outside_name(url: str) -> str:
    if url.startswith("https://doi.org/"):
        return "DOI " + url[len("https://doi.org/"):]
    if url.startswith("https://pubmed.ncbi.nlm.nih.gov/"):
        return "PubMed " + url.rstrip("/").rsplit("/", 1)[-1]
    if url.startswith("https://clinicaltrials.gov/study/"):
        return "registry " + url.rstrip("/").rsplit("/", 1)[-1]
    m = re.match(r"https?://([^/]+)", url)
    return m.group(1) if m else url


def qualified_fact_roots(g: SiteGraph) -> frozenset[str]:
    """Classes whose members are qualified facts (a fact with its own sources and figures).

    The ontology says so in their definitions ("A qualified fact ..."); their subclasses
    are kinds of the same fact.
    """
    roots = set()
    for node, sts in g.out.items():
        if node.is_iri and any(st.predicate == RDF_TYPE and st.object.value in CLASS_TYPES for st in sts):
            for text in g.texts(node, SKOS + "definition"):
                if re.match(r"\s*an? qualified (fact|statement|claim)", text, re.IGNORECASE):
                    roots.add(node.value)
    return frozenset(roots)
