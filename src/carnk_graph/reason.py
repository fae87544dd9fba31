"""The reason stage: what a reasoner concludes that the curators did not write.

HermiT (hermit.py, the jar owlready2 ships) is the reasoner of record; without a
Java runtime, `auto` falls back to an OWL 2 RL materialisation in pure Python
(owl_rl.py), with a one-line warning. Both reasoners' conclusions pass through
one filter, `entailments.new_entailments`, so the two give comparable graphs.

This module chooses the reasoner and turns what goes wrong into one message:
an inconsistent ontology or an unsatisfiable class stops the build with a
ReasonerError (exit 3) that names the classes by label, and, since HermiT says
only "inconsistent", finds out which classes and individuals are to blame.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from .entailments import is_term, new_entailments
from .errors import BadInputError, ReasonerError
from .hermit import find_java, hermit_name, run_hermit
from .namespaces import RDF, RDFS, XSD, prefixed_name
from .owl_rl import disjoint_superclasses, owlrl_closure, owlrl_name
from .terms import label_in

if TYPE_CHECKING:
    from rdflib import Graph

MODES = ("auto", "hermit", "owlrl")

#: Printed (once) when `auto` cannot find Java; the wording is part of the CLI contract.
JAVA_FALLBACK_WARNING = ("Java runtime not found: using OWL 2 RL instead of HermiT; "
                         "install Java 11+ for full DL reasoning")
#: The error of `--reasoner hermit` without Java (exit 3).
JAVA_MISSING_ERROR = ("Java runtime not found: HermiT needs Java 11+ (install it, or point "
                      "CARNK_JAVA at a java executable), or use --reasoner owlrl")

_MAX_CLASHES = 5


@dataclass
class ReasonResult:
    """What the reason stage hands to the build."""

    inferred: "Graph"
    reasoner: str
    warnings: list[str] = field(default_factory=list)


def reason(ontology: "Graph", kg: "Graph", mode: str = "auto", *, java: str | None = None,
           timeout: float | None = None) -> ReasonResult:
    """Reason over ontology + kg and return only the new memberships and subclass links.

    mode "auto" uses HermiT when a Java runtime is found (see `find_java`), else
    OWL 2 RL with `JAVA_FALLBACK_WARNING`; "hermit" insists on HermiT; "owlrl"
    never starts Java. Raises ReasonerError on inconsistency, unsatisfiable
    classes, a missing Java for "hermit", a Java failure, or a `java` that did not run HermiT;
    ReasonerTimeoutError (exit 5) past `timeout` seconds (see `reasoner_timeout`).
    """
    if mode not in MODES:
        raise BadInputError(f"unknown reasoner {mode!r} (use one of {', '.join(MODES)})")
    stated = reasoner_input(ontology, kg)
    if mode == "owlrl":
        return _reason_owlrl(stated)
    exe = find_java(java)
    if exe is None:
        if mode == "hermit":
            raise ReasonerError(JAVA_MISSING_ERROR)
        result = _reason_owlrl(stated)
        result.warnings.append(JAVA_FALLBACK_WARNING)
        return result
    return _reason_hermit(stated, exe, timeout)


# -- input -------------------------------------------------------------------------------------------

def reasoner_input(ontology: "Graph", kg: "Graph") -> "Graph":
    """The union of the TBox and the ABox, without owl:imports (never followed, never fetched)."""
    from rdflib import OWL, Graph

    g = Graph()
    for source in (ontology, kg):
        for t in source:
            if t[1] != OWL.imports:
                g.add(t)
    return g


# -- the two reasoners -----------------------------------------------------------------------------

def _reason_hermit(stated: "Graph", java: str, timeout: float | None = None) -> ReasonResult:
    name = hermit_name()
    run = run_hermit(stated, java, timeout)
    if run.inconsistent:
        raise _diagnose_inconsistency(name, stated, java, timeout)
    if run.unsatisfiable:
        raise _consistency_error(name, stated, run.unsatisfiable, [], inconsistent=False)
    return ReasonResult(new_entailments(stated, stated + run.conclusions), name)


def _diagnose_inconsistency(name: str, stated: "Graph", java: str, timeout: float | None = None) -> ReasonerError:
    """HermiT only says "inconsistent"; find out which classes and individuals are to blame.

    A second HermiT run without the individuals' assertions lists the
    unsatisfiable classes (an individual in one of them makes the whole graph
    inconsistent); a literal check and an OWL 2 RL pass name the individuals
    caught in a clash (a value outside its datatype, two disjoint classes, ...).
    Runs only on the failure path.
    """
    try:
        axioms_run = run_hermit(without_assertions(stated), java, timeout)
        unsat, axioms_inconsistent = axioms_run.unsatisfiable, axioms_run.inconsistent
    except ReasonerError:
        unsat, axioms_inconsistent = [], False
    clashes = datatype_clashes(stated) + owlrl_closure(stated)[1]
    err = _consistency_error(name, stated, unsat, clashes, inconsistent=True)
    if axioms_inconsistent:
        err = ReasonerError(f"{err.detail} (the class and property axioms alone, without any "
                            "individual's types or values, are inconsistent)")
    return err


def without_assertions(graph: "Graph") -> "Graph":
    """The graph without class memberships in project classes and without property values
    of declared object/datatype properties: what is left are the axioms, whose
    unsatisfiable classes HermiT can list even when an individual makes the whole
    graph inconsistent."""
    from rdflib import OWL, RDF, Graph

    props = {s for t in (OWL.ObjectProperty, OWL.DatatypeProperty) for s in graph.subjects(RDF.type, t)}
    out = Graph()
    for s, p, o in graph:
        if (p == RDF.type and is_term(o)) or p in props:
            continue
        out.add((s, p, o))
    return out


def _reason_owlrl(stated: "Graph") -> ReasonResult:
    from rdflib import OWL, RDFS

    name = owlrl_name()
    closure, clashes = owlrl_closure(stated)  # owlrl reports owl:Nothing members itself (cls-nothing2)
    clashes += datatype_clashes(stated)
    unsat = {str(c) for c in closure.subjects(RDFS.subClassOf, OWL.Nothing) if is_term(c)}
    unsat |= {str(c) for c in closure.subjects(OWL.equivalentClass, OWL.Nothing) if is_term(c)}
    unsat |= set(disjoint_superclasses(closure))
    if clashes or unsat:
        raise _consistency_error(name, stated, sorted(unsat), clashes, inconsistent=bool(clashes))
    return ReasonResult(new_entailments(stated, closure), name)


# -- literal values against datatype ranges --------------------------------------------------------

_LANGSTRING = RDF + "langString"
#: Each XSD datatype's base type, enough to accept a value of a derived type (an
#: xsd:int value for an xsd:integer range, a language-tagged string for rdf:PlainLiteral).
_XSD_BASE = {
    **{t: "integer" for t in ("nonNegativeInteger", "nonPositiveInteger", "long")},
    "positiveInteger": "nonNegativeInteger", "unsignedLong": "nonNegativeInteger",
    "unsignedInt": "unsignedLong", "unsignedShort": "unsignedInt", "unsignedByte": "unsignedShort",
    "negativeInteger": "nonPositiveInteger", "int": "long", "short": "int", "byte": "short",
    "integer": "decimal", "normalizedString": "string", "token": "normalizedString",
    "language": "token", "Name": "token", "NMTOKEN": "token", "NCName": "Name",
    "dateTimeStamp": "dateTime",
}
_PLAIN_LITERAL = RDF + "PlainLiteral"
_ANY_LITERAL = {RDFS + "Literal", _PLAIN_LITERAL}


def _datatype_of(lit) -> str:
    if lit.language:
        return _LANGSTRING
    return str(lit.datatype) if lit.datatype is not None else XSD + "string"


def _fits(datatype: str, range_: str) -> bool:
    """Whether a literal of `datatype` lies in the value space of `range_` (XSD derivation only)."""
    if range_ == _PLAIN_LITERAL:
        return datatype in (_LANGSTRING, XSD + "string")
    if range_ in _ANY_LITERAL or datatype == range_:
        return True
    while datatype.startswith(XSD) and datatype[len(XSD):] in _XSD_BASE:
        datatype = XSD + _XSD_BASE[datatype[len(XSD):]]
        if datatype == range_:
            return True
    return False


def datatype_clashes(graph: "Graph") -> list[str]:
    """Values outside their property's datatype range, which make an OWL 2 DL ontology
    inconsistent (HermiT says only "inconsistent") and which OWL 2 RL does not check.

    The usual culprit: a language-tagged string ("..."@en) for a property whose
    range is xsd:string; rdf:langString and xsd:string share no value.
    """
    from rdflib import RDFS, Literal, URIRef

    clashes = []
    for prop, range_ in graph.subject_objects(RDFS.range):
        if not (isinstance(range_, URIRef) and (str(range_).startswith(XSD) or str(range_) in
                                                (_LANGSTRING, *_ANY_LITERAL))):
            continue
        for subj, value in graph.subject_objects(prop):
            if isinstance(value, Literal) and not _fits(_datatype_of(value), str(range_)):
                datatype = _datatype_of(value)
                clashes.append(f"value of {prop} on {subj} is {prefixed_name(datatype) or datatype}, "
                               f"outside the range {prefixed_name(str(range_)) or range_}")
    return sorted(clashes)


# -- messages ----------------------------------------------------------------------------------------

def label_of(graph: "Graph", iri: str) -> str:
    """The rdfs:label a curator gave a term (terms.py's label rule), else its local name."""
    from rdflib import URIRef

    return label_in(graph, URIRef(iri)) or re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri


_IRI = re.compile(r"https?://[^\s,;()'\"<>]+")


def _readable(graph: "Graph", message: str) -> str:
    """A reasoner's message with each IRI replaced by the term's label."""
    return _IRI.sub(lambda m: f'"{label_of(graph, m.group(0))}"', message)


def _consistency_error(name: str, graph: "Graph", unsatisfiable: Iterable[str], clashes: list[str],
                       *, inconsistent: bool) -> ReasonerError:
    """One line: what is wrong, the unsatisfiable classes by label (sorted), a few clashes."""
    parts = []
    if inconsistent:
        parts.append("the ontology and knowledge graph are inconsistent")
    labels = sorted({label_of(graph, iri) for iri in unsatisfiable}, key=str.casefold)
    if labels:
        parts.append("unsatisfiable classes (nothing can belong to them): "
                     + ", ".join(f'"{lb}"' for lb in labels))
    if clashes:
        shown = [_readable(graph, c) for c in clashes[:_MAX_CLASHES]]
        more = len(clashes) - len(shown)
        parts += [f"clash: {text}" for text in shown] + ([f"and {more} more clashes"] if more else [])
    if inconsistent and not labels and not clashes:
        parts.append("no single unsatisfiable class found: look for individuals whose stated "
                     "types or property values contradict disjointness, cardinality or "
                     "functional-property axioms")
    return ReasonerError(f"{name}: " + "; ".join(parts))
