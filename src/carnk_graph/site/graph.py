"""The release, read once into the indexes the site is drawn from.

The site needs, for every entity, its own statements, the statements that point
at it, its labels and types, and which named graph (ontology, kg, inferred)
holds each statement; and, for the overview pages, a few SPARQL queries. One
pass over dist/carnk.nq fills plain dictionaries (linear in the size of the
graph) and an in-memory pyoxigraph store for the queries; nothing is looked
up more than once per page.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import BadInputError
from ..namespaces import GRAPHS, OBOINOWL, RDF, RDFS, SKOS, prefixed_name
from ..terms import RDFS_LABEL, best_labels

RDF_TYPE = RDF + "type"
SUBCLASS = RDFS + "subClassOf"

#: Predicates whose values are other names for the subject (shown and searched as synonyms).
SYNONYMS = (SKOS + "altLabel", OBOINOWL + "hasExactSynonym", OBOINOWL + "hasRelatedSynonym",
            OBOINOWL + "hasBroadSynonym", OBOINOWL + "hasNarrowSynonym")

_GRAPH_NAMES = {iri: name for name, iri in GRAPHS.items()}


@dataclass(frozen=True, order=True)
class Node:
    """An RDF term, engine-neutral and orderable: kind is 'iri', 'bnode' or 'literal'."""

    kind: str
    value: str
    datatype: str = ""
    lang: str = ""

    @property
    def is_iri(self) -> bool:
        return self.kind == "iri"

    @property
    def is_literal(self) -> bool:
        return self.kind == "literal"


@dataclass(frozen=True, order=True)
class Statement:
    """One triple and the named graphs it is in."""

    subject: Node
    predicate: str
    object: Node
    graphs: tuple[str, ...]

    @property
    def inferred(self) -> bool:
        """Only the reasoner says this (it is in the inferred graph and nowhere else)."""
        return self.graphs == ("inferred",)


def _node(term) -> Node:
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return Node("iri", term.value)
    if isinstance(term, ox.BlankNode):
        return Node("bnode", term.value)
    if isinstance(term, ox.Literal):
        return Node("literal", term.value, term.datatype.value if not term.language else "", term.language or "")
    raise BadInputError(f"the release holds an RDF term the site cannot show: {term!r}")


@dataclass
class SiteGraph:
    """Statements by subject and by object, plus labels and types, and a store for SPARQL."""

    out: dict[Node, list[Statement]] = field(default_factory=dict)
    inc: dict[Node, list[Statement]] = field(default_factory=dict)
    store: object = None
    triples_per_graph: dict[str, int] = field(default_factory=dict)
    _labels: dict[str, str] = field(default_factory=dict)
    _supers: dict[str, frozenset] = field(default_factory=dict)
    _subs: dict[str, frozenset] = field(default_factory=dict)

    # -- reading ---------------------------------------------------------------------------------

    @classmethod
    def from_nquads(cls, path: Path) -> "SiteGraph":
        """Read a release's carnk.nq (every statement with its named graph)."""
        from ..release import release_quads

        return cls.from_quads([q for _name, q in release_quads(path)])

    @classmethod
    def from_quads(cls, quads: Iterable) -> "SiteGraph":
        import pyoxigraph as ox

        quads = list(quads)
        where: dict[tuple, list[str]] = defaultdict(list)
        counts: dict[str, int] = defaultdict(int)
        for q in quads:
            name = _GRAPH_NAMES.get(getattr(q.graph_name, "value", ""), "other")
            where[(q.subject, q.predicate, q.object)].append(name)
            counts[name] += 1
        g = cls(triples_per_graph=dict(sorted(counts.items())))
        out: dict[Node, list[Statement]] = defaultdict(list)
        inc: dict[Node, list[Statement]] = defaultdict(list)
        order = {"ontology": 0, "kg": 1, "inferred": 2}
        for (s, p, o), names in where.items():
            st = Statement(_node(s), p.value, _node(o), tuple(sorted(set(names), key=lambda n: (order.get(n, 9), n))))
            out[st.subject].append(st)
            if not st.object.is_literal:
                inc[st.object].append(st)
        g.out = {k: sorted(v) for k, v in out.items()}
        g.inc = {k: sorted(v) for k, v in inc.items()}
        store = ox.Store()
        store.bulk_extend(quads)
        g.store = store
        g._labels = g._all_labels()
        return g

    # -- look-ups --------------------------------------------------------------------------------

    def statements(self, subject: Node) -> list[Statement]:
        return self.out.get(subject, [])

    def referrers(self, obj: Node) -> list[Statement]:
        return self.inc.get(obj, [])

    def objects(self, subject: Node, predicate: str) -> list[Node]:
        return [st.object for st in self.out.get(subject, ()) if st.predicate == predicate]

    def subjects(self, predicate: str, obj: Node) -> list[Node]:
        return [st.subject for st in self.inc.get(obj, ()) if st.predicate == predicate]

    def value(self, subject: Node, predicate: str) -> Node | None:
        found = self.objects(subject, predicate)
        return found[0] if found else None

    def types(self, subject: Node) -> list[str]:
        return [o.value for o in self.objects(subject, RDF_TYPE) if o.is_iri]

    def texts(self, subject: Node, predicate: str) -> list[str]:
        """Literal values, English (or untagged) first, each once."""
        vals = [o for o in self.objects(subject, predicate) if o.is_literal]
        vals.sort(key=lambda o: (o.lang not in ("en", ""), o.value))
        seen: list[str] = []
        for v in vals:
            if v.value not in seen:
                seen.append(v.value)
        return seen

    def _all_labels(self) -> dict[str, str]:
        return best_labels((node.value, st.object.value, st.object.lang) for node, sts in self.out.items()
                           if node.is_iri for st in sts if st.predicate == RDFS_LABEL and st.object.is_literal)

    def label(self, iri: str) -> str:
        """The English label, else the prefixed name, else the IRI."""
        return self._labels.get(iri) or prefixed_name(iri) or iri

    def set_label(self, iri: str, label: str) -> None:
        self._labels[iri] = label

    def has_label(self, iri: str) -> bool:
        return iri in self._labels

    def superclasses(self, cls: str) -> frozenset[str]:
        """Named superclasses of a class, itself included (transitive; computed once per class)."""
        if cls not in self._supers:
            self._supers[cls] = frozenset(self._closure(cls, up=True))
        return self._supers[cls]

    def subclasses(self, cls: str) -> frozenset[str]:
        """Named subclasses of a class, itself included (transitive; computed once per class)."""
        if cls not in self._subs:
            self._subs[cls] = frozenset(self._closure(cls, up=False))
        return self._subs[cls]

    def subproperties(self, prop: str) -> frozenset[str]:
        """A property and all its sub-properties (transitive; computed once per property)."""
        key = "property " + prop
        if key not in self._subs:
            self._subs[key] = frozenset(self._closure(prop, up=False, via=RDFS + "subPropertyOf"))
        return self._subs[key]

    def values(self, subject: Node, prop: str) -> list[Node]:
        """Values of a property or of any of its sub-properties (carnk:patientsEvaluated counts as
        carnk:denominator), sorted."""
        props = self.subproperties(prop)
        return sorted({st.object for st in self.out.get(subject, ()) if st.predicate in props})

    def _closure(self, cls: str, up: bool, via: str = SUBCLASS) -> set[str]:
        seen: set[str] = set()
        todo = [cls]
        while todo:
            c = todo.pop()
            if c in seen:
                continue
            seen.add(c)
            nxt = self.objects(Node("iri", c), via) if up else self.subjects(via, Node("iri", c))
            todo.extend(n.value for n in nxt if n.is_iri)
        return seen

    def instances(self, cls: str) -> list[Node]:
        """Members of a class or of any of its subclasses (asserted or inferred), sorted by label."""
        found = {s for c in self.subclasses(cls) for s in self.subjects(RDF_TYPE, Node("iri", c)) if s.is_iri}
        return sorted(found, key=lambda n: (self.label(n.value).lower(), n.value))

    def is_a(self, node: Node, cls: str) -> bool:
        return any(cls in self.superclasses(t) for t in self.types(node))
