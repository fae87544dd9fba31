"""The pages a researcher starts from: clinical programmes, products, constructs, toxicities, sources.

Each overview is found by class (every member of carnk:ClinicalStudy, of
carnk:CellTherapyProduct, ...; subclasses and inferred memberships included) and
filled from the properties the ontology defines, so new programmes and products
appear without changes here. A column whose property the graph does not use
stays empty rather than failing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..constructs import DOMAIN_COLOURS, Construct, ConstructDomain
from ..namespaces import CARNK, DCTERMS
from .entities import EVIDENCE, LOCATOR, SOURCES, Describer, Value
from .graph import RDF_TYPE, Node

C = CARNK
#: The toxicity columns of the programmes table: heading and the class a finding's toxicity falls in.
TOXICITY_COLUMNS = (("CRS", C + "CytokineReleaseSyndrome"), ("ICANS / neurotoxicity", C + "Neurotoxicity"),
                    ("GvHD", C + "GraftVersusHostDisease"))


@dataclass
class Table:
    """An overview table: a heading per column, a list of Values per cell, a sort key per cell."""

    columns: list[str]
    rows: list[list[list[Value]]] = field(default_factory=list)

    def sort_keys(self) -> list[list[str]]:
        return [[_sort_key(cell) for cell in row] for row in self.rows]


def grade_text(lo: str, hi: str) -> str:
    """'grade 3', 'grade ≥3', 'grade ≤2', 'grade 2-3', or '' for any grade (1 to 5, or unstated)."""
    lo, hi = (lo if lo != "1" else ""), (hi if hi != "5" else "")
    if lo and hi:
        return f"grade {lo}" if lo == hi else f"grade {lo}-{hi}"
    return f"grade ≥{lo}" if lo else f"grade ≤{hi}" if hi else ""


def _sort_key(cell: list[Value]) -> str:
    """What the sortable table sorts a cell by: a zero-padded number when the cell starts with one."""
    text = " ".join(v.text for v in cell).strip().lower()
    head = text.split("/", 1)[0].split(" ", 1)[0]
    try:
        return f"{float(head):012.3f}"
    except ValueError:
        return text


class Overviews:
    """Builds the overview tables from a Describer (which knows the graph and the pages)."""

    def __init__(self, d: Describer) -> None:
        self.d = d
        self.g = d.g

    def links(self, node: Node, prop: str) -> list[Value]:
        return [self.d.value(o, prop) for o in sorted(set(self.g.objects(node, prop)))]

    def facts_about(self, node: Node, prop: str) -> list[Node]:
        """Qualified-fact nodes that point at `node` through `prop` (e.g. outcomes of a study)."""
        return sorted({s for s in self.g.subjects(prop, node) if s.is_iri and self.d.is_fact(s)})

    def short_source(self, fact: Node) -> str:
        found = sorted({n.value for p in SOURCES for n in self.g.objects(fact, p)})
        return ", ".join(self.g.label(s) for s in found)

    # -- clinical programmes -----------------------------------------------------------------------

    def studies(self) -> list[Node]:
        return self.g.instances(C + "ClinicalStudy")

    def programme_row(self, study: Node) -> list[list[Value]]:
        g, d = self.g, self.d
        products = sorted(set(g.objects(study, C + "evaluatesProduct")))
        constructs = sorted({c for p in products for c in g.objects(p, C + "hasConstruct")})
        source = sorted({s for p in products for s in g.objects(p, C + "cellSource")})
        targets = sorted({t for c in constructs for t in g.objects(c, C + "targetsAntigen")})
        row = [[d.link(study.value)], [d.link(p.value) for p in products], [d.link(s.value) for s in source],
               [d.link(t.value) for t in targets], [d.link(c.value) for c in constructs],
               self.links(study, C + "studiesCondition"), [Value(t) for t in g.texts(study, C + "phase")],
               self.patients(study), self.responses(study)]
        for _head, cls in TOXICITY_COLUMNS:
            row.append(self.toxicity_cell(study, cls))
        return row

    def number(self, fact: Node, prop: str) -> str:
        found = self.g.values(fact, prop)
        return found[0].value if found and found[0].is_literal else ""

    def figure_text(self, fact: Node) -> str:
        """'8/11', '73%', '8/11 (73%)', with the subgroup and time point when the fact has them."""
        num, den, pct = (self.number(fact, C + p) for p in ("numerator", "denominator", "percentage"))
        text = f"{num}/{den}" if num and den else num
        if pct:
            text = f"{text} ({pct}%)" if text else f"{pct}%"
        when, unit = self.number(fact, C + "timePointValue"), self.g.value(fact, C + "timePointUnit")
        if when:
            text += f" at {when} {self.g.label(unit.value) if unit is not None else ''}".rstrip()
        sub = "; ".join(self.g.texts(fact, C + "subgroup"))
        return text + (f" [{sub}]" if sub else "")

    def patients(self, study: Node) -> list[Value]:
        """Patient counts the sources give (enrolled, treated, evaluable), else the largest denominator
        of a response figure."""
        g, d = self.g, self.d
        out = []
        for f in self.facts_about(study, C + "study"):
            count = self.number(f, C + "patientCount")
            if count:
                kinds = ", ".join(g.label(k.value) for k in g.values(f, C + "figureKind") if k.is_iri)
                out.append(Value(count, href=d.link(f.value).href, note=f"{kinds} · {self.short_source(f)}".strip(" ·")))
        if out:
            return out
        dens = [int(n) for f in self.facts_about(study, C + "study")
                for n in [self.number(f, C + "denominator")] if n.isdigit()]
        return [Value(str(max(dens)), note="patients evaluated")] if dens else []

    def responses(self, study: Node) -> list[Value]:
        """Every response figure of the study: endpoint, figure, source."""
        g, d = self.g, self.d
        out = []
        for f in self.facts_about(study, C + "study"):
            if self.number(f, C + "patientCount") or g.values(f, C + "toxicity"):
                continue
            kinds = [k for k in g.values(f, C + "figureKind") if k.is_iri]
            figure = self.figure_text(f)
            median = self.number(f, C + "medianValue")
            if median:
                unit = g.value(f, C + "medianUnit")
                figure = (figure + " " if figure else "") + f"median {median} {g.label(unit.value) if unit else ''}".rstrip()
            if not kinds or not figure:
                continue
            out.append(Value(f"{', '.join(g.label(k.value) for k in kinds)} {figure}", href=d.link(f.value).href,
                             note=self.short_source(f)))
        return out

    def toxicity_cell(self, study: Node, cls: str) -> list[Value]:
        g, d = self.g, self.d
        out = []
        for f in self.facts_about(study, C + "study"):
            toxes = [t for t in g.objects(f, C + "toxicity") if t.is_iri and self._falls_in(t, cls)]
            if not toxes:
                continue
            level = ", ".join(g.label(x.value) for x in g.objects(f, C + "frequencyLevel"))
            lo, hi = self.number(f, C + "minimumGrade"), self.number(f, C + "maximumGrade")
            grades = grade_text(lo, hi)
            notes = [x for x in [grades, *g.texts(f, C + "gradeNote")] if x]
            text = " ".join(x for x in (level, self.figure_text(f)) if x)
            text = (text + (f" ({'; '.join(notes)})" if notes else "")).strip() or g.label(f.value)
            out.append(Value(text, href=d.link(f.value).href, note=self.short_source(f)))
        return out

    def _falls_in(self, tox: Node, cls: str) -> bool:
        """A toxicity individual belongs to a column's class by its type or the kind it represents."""
        kinds = set(self.g.types(tox)) | {o.value for o in self.g.objects(tox, C + "representsKind") if o.is_iri}
        return any(cls in self.g.superclasses(k) for k in kinds)

    def programmes(self) -> Table:
        t = Table(["study", "product", "NK cell source", "target", "construct", "disease", "phase", "patients",
                   "responses", *(h for h, _ in TOXICITY_COLUMNS)])
        t.rows = [self.programme_row(s) for s in self.studies()]
        return t

    # -- products ----------------------------------------------------------------------------------

    def products(self) -> Table:
        g, d = self.g, self.d
        t = Table(["product", "therapy type", "cell type", "NK cell source", "donor setting", "construct",
                   "target", "studies", "classes"])
        for p in g.instances(C + "CellTherapyProduct"):
            constructs = sorted(set(g.objects(p, C + "hasConstruct")))
            targets = sorted({x for c in constructs for x in g.objects(c, C + "targetsAntigen")})
            classes = [d.link(st.object.value, st.inferred) for st in g.statements(p)
                       if st.predicate == RDF_TYPE and st.object.is_iri]
            t.rows.append([[d.link(p.value)], self.links(p, C + "ofTherapyType"), self.links(p, C + "containsCellType"),
                           self.links(p, C + "cellSource"), self.links(p, C + "donorSetting"),
                           [d.link(c.value) for c in constructs], [d.link(x.value) for x in targets],
                           [d.link(s.value) for s in sorted(set(g.subjects(C + "evaluatesProduct", p)))],
                           sorted(classes, key=lambda v: v.text.lower())])
        return t

    # -- constructs --------------------------------------------------------------------------------

    def construct(self, node: Node) -> Construct | None:
        """A construct's domains in order, from its position records (carnk:position, carnk:domain)."""
        g = self.g
        domains = []
        for rec in g.objects(node, C + "hasDomainAt"):
            pos, dom = g.value(rec, C + "position"), g.value(rec, C + "domain")
            if pos is None or dom is None or not pos.value.lstrip("-").isdigit():
                continue
            types = sorted((t for t in g.types(dom) if t.startswith(C)),
                           key=lambda t: (-len(g.superclasses(t)), t))
            ups = g.superclasses(types[0]) if types else frozenset()
            family = next((local for local, _c in DOMAIN_COLOURS if C + local in ups), "CARDomain")
            protein = g.value(dom, C + "derivedFromProtein")
            domains.append(ConstructDomain(int(pos.value), dom.value, g.label(dom.value),
                                           g.label(types[0]) if types else "", family,
                                           g.label(protein.value) if protein is not None else ""))
        if not domains:
            return None
        domains.sort(key=lambda x: (x.position, x.domain))
        return Construct(node.value, g.label(node.value), domains)

    def constructs(self) -> list[dict]:
        g, d = self.g, self.d
        out = []
        for c in g.instances(C + "CARConstruct"):
            out.append({"link": d.link(c.value), "construct": self.construct(c),
                        "targets": self.links(c, C + "targetsAntigen"),
                        "products": [d.link(p.value) for p in sorted(set(g.subjects(C + "hasConstruct", c)))],
                        "classes": [d.link(t) for t in sorted(set(g.types(c)))]})
        return out

    # -- toxicities --------------------------------------------------------------------------------

    def toxicities(self) -> list[dict]:
        out = []
        for t in self.g.instances(C + "Toxicity"):
            e = self.d.entities.get(t.value)
            if e is None:
                continue
            page = self.d.describe(e)
            out.append({"link": self.d.link(t.value), "definitions": page["definitions"] + page["comments"],
                        "tables": page["tables"]})
        return out

    # -- sources -----------------------------------------------------------------------------------

    def sources(self) -> Table:
        g, d = self.g, self.d
        t = Table(["source", "kind", "citation", "records elsewhere", "facts citing it"])
        for s in g.instances(C + "InformationSource"):
            citing = {st.subject for st in g.referrers(s) if st.predicate in SOURCES and st.subject != s}
            kinds = [d.link(k) for k in sorted(set(g.types(s))) if k.startswith(C)]
            cite = g.texts(s, DCTERMS + "bibliographicCitation") or g.texts(s, DCTERMS + "title")
            t.rows.append([[d.link(s.value)], kinds, [Value(x) for x in cite[:1]],
                           [Value(text, external=url) for text, url in d.outside_links(s)],
                           [Value(str(len(citing)))]])
        return t


__all__ = ["Overviews", "Table", "TOXICITY_COLUMNS", "EVIDENCE", "LOCATOR"]
