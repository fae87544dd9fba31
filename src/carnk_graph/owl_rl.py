"""The reasoner without Java: an OWL 2 RL materialisation in pure Python (owlrl).

Used by `--reasoner owlrl`, by `auto` when no Java runtime is found, and to name
the individuals caught in a clash when HermiT says only "inconsistent". OWL 2 RL
has no rule for a class below two disjoint classes; `disjoint_superclasses`
finds those.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from .entailments import ancestors_of, hierarchy, is_term

if TYPE_CHECKING:
    from rdflib import Graph


def owlrl_name() -> str:
    from importlib.metadata import version
    return f"OWL 2 RL (owlrl {version('owlrl')})"


def owlrl_closure(stated: "Graph") -> tuple["Graph", list[str]]:
    """The OWL 2 RL closure of `stated` (a copy) and owlrl's inconsistency messages."""
    import owlrl
    from owlrl.Namespaces import ERRNS
    from rdflib import RDF, Graph

    closure = Graph()
    closure += stated
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                           datatype_axioms=False).expand(closure)
    messages = sorted(str(m) for node in closure.subjects(RDF.type, ERRNS.ErrorMessage)
                      for m in closure.objects(node, ERRNS.error))
    return closure, messages


def disjoint_superclasses(closure: "Graph") -> Iterator[str]:
    """Named classes below two disjoint classes: unsatisfiable, though OWL 2 RL has no rule to say so."""
    from rdflib import OWL, RDF
    from rdflib.collection import Collection

    pairs: set[frozenset] = set()
    for a, b in closure.subject_objects(OWL.disjointWith):
        pairs.add(frozenset((a, b)))
    for node in closure.subjects(RDF.type, OWL.AllDisjointClasses):
        for head in closure.objects(node, OWL.members):
            members = list(Collection(closure, head))
            pairs |= {frozenset((x, y)) for i, x in enumerate(members) for y in members[i + 1:]}
    if not pairs:
        return
    ancestors = ancestors_of(hierarchy(closure))
    for cls, sups in ancestors.items():
        if not is_term(cls):
            continue
        family = sups | {cls}
        if any(len(p) == 2 and p <= family for p in pairs):
            yield str(cls)
