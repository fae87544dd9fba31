"""The two test lanes: what runs in `pytest -m "not slow"` and what only in the full run.

The full run (`python -m pytest -q`, the README's command) runs everything. The fast lane leaves out
tests marked `slow`: those that start a server (oxigraph serve, Virtuoso, chromium) or the JVM
(HermiT), run the installed command over a whole corpus, or repeat one behaviour over a big family
(every shape fixture, every W3C suite). A big family keeps a few representatives in the fast lane,
so every unit behaviour is still exercised there; the rest of the family is marked slow, with no
test code duplicated.

tests/conftest.py holds the guard that keeps the lanes honest (a test not marked slow that starts a
server or the JVM fails, naming the program); this module holds the helpers that choose.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import pytest

ROOT = Path(__file__).resolve().parents[1]
SH = "http://www.w3.org/ns/shacl#"

#: SHACL constraint parameters (SHACL 4.x and 5): a shape using one of them exercises that constraint kind.
CONSTRAINT_PARAMETERS = tuple(SH + p for p in (
    "class", "datatype", "nodeKind", "minCount", "maxCount", "minExclusive", "minInclusive", "maxExclusive",
    "maxInclusive", "minLength", "maxLength", "pattern", "languageIn", "uniqueLang", "equals", "disjoint",
    "lessThan", "lessThanOrEquals", "not", "and", "or", "xone", "node", "qualifiedValueShape", "closed",
    "hasValue", "in", "sparql",
))


def few_fast(values: Iterable[Any], fast: Callable[[Any], bool], ids: Callable[[Any], str] | None = None) -> list:
    """`values` as parametrize parameters: those `fast` picks run in both lanes, the others only when
    slow tests run (each keeps its id, so `-k` still finds it)."""
    out = []
    for v in values:
        marks = () if fast(v) else (pytest.mark.slow,)
        out.append(pytest.param(v, marks=marks, id=ids(v) if ids else None))
    return out


def first_with_each(items: Iterable[Any], features: Mapping[str, Callable[[Any], bool]]) -> frozenset:
    """For each feature, the first of `items` (in their order) that has it: the representatives a
    family keeps in the fast lane, chosen by what the items do, so that an item bringing a feature
    no earlier item has joins the fast lane without editing a list."""
    items = list(items)
    return frozenset(next(i for i in items if has(i)) for has in features.values() if any(has(i) for i in items))


@functools.lru_cache(maxsize=None)
def representative_shapes() -> frozenset[str]:
    """Local names of the shapes whose fixtures the fast lane validates: for each SHACL constraint
    parameter the shapes use, the first shape (by name) that uses it, and that shape's node shape;
    the same for the first shape with a complex path (a sequence or alternative).
    A new kind of constraint brings its first shape into the fast lane without editing a test."""
    from rdflib import Graph, URIRef

    g = Graph()
    for f in sorted((ROOT / "shapes").glob("*.ttl")):
        g.parse(f, format="turtle")
    prop = URIRef(SH + "property")
    chosen: set[str] = set()
    for parameter in CONSTRAINT_PARAMETERS:
        users = sorted(str(s) for s in g.subjects(URIRef(parameter), None) if isinstance(s, URIRef))
        if users:
            first = URIRef(users[0])
            chosen.add(first)
            chosen.update(str(n) for n in g.subjects(prop, first) if isinstance(n, URIRef))
    complex_paths = sorted(str(s) for s, path in g.subject_objects(URIRef(SH + "path"))
                           if isinstance(s, URIRef) and not isinstance(path, URIRef))
    for first in complex_paths[:1]:  # a sequence or alternative path: how findings print it
        chosen.add(first)
        chosen.update(str(n) for n in g.subjects(prop, URIRef(first)) if isinstance(n, URIRef))
    return frozenset(iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1] for iri in chosen)
