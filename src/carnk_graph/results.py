"""Engine-neutral query answers: `Term` (one RDF term) and `Result` (rows, a boolean or triples).

Both engines (engines.py) turn their native terms into these, so formatting,
sorting and the Python API never see pyoxigraph or rdflib objects.

Both are plain classes (a named tuple, a class with slots) rather than dataclasses: the
cold query path does not import `dataclasses`, whose `inspect` import alone costs about
5 ms, a sixth of the whole `oxigraph query` it is measured against (benchmarks/run.py).
"""
from __future__ import annotations

from collections import namedtuple

from .namespaces import RDF, XSD

#: The datatypes of a simple and of a language-tagged literal, defined here for the whole package.
XSD_STRING = XSD + "string"
RDF_LANGSTRING = RDF + "langString"


class Term(namedtuple("Term", "kind value datatype lang", defaults=(None, None))):
    """An RDF term, independent of the engine that produced it: `kind`, `value`, `datatype`, `lang`.

    `kind` uses the SPARQL JSON results names: "uri", "bnode" or "literal".
    A simple literal carries datatype xsd:string; a language-tagged one has `lang`.
    """

    __slots__ = ()

    @classmethod
    def iri(cls, value: str) -> "Term":
        return cls("uri", value)

    @classmethod
    def literal(cls, value: str, datatype: str | None = None, lang: str | None = None) -> "Term":
        if lang:
            return cls("literal", value, RDF_LANGSTRING, lang.lower())
        return cls("literal", value, datatype or XSD_STRING, None)

    def n3(self) -> str:
        """The N-Triples form, every control character escaped (TSV and N-Triples output, label look-ups)."""
        if self.kind == "uri":
            return f"<{escape_iri(self.value)}>"
        if self.kind == "bnode":
            return f"_:{self.value}"
        text = '"' + escape_string(self.value) + '"'
        if self.lang:
            return f"{text}@{self.lang}"
        if self.datatype and self.datatype != XSD_STRING:
            return f"{text}^^<{escape_iri(self.datatype)}>"
        return text


_STRING_ESCAPES = {ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t",
                   **{c: f"\\u{c:04X}" for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]
                      if c not in (0x09, 0x0A, 0x0D)},
                   # bidirectional overrides and line separators: they reorder or break what a terminal shows
                   **{c: f"\\u{c:04X}" for c in [0x200E, 0x200F, *range(0x202A, 0x202F), 0x2028, 0x2029,
                                                 *range(0x2066, 0x206A)]}}


def escape_string(value: str) -> str:
    """A string's body in N-Triples: quotes, backslashes and every control character escaped (UCHAR,
    so the term stays the same)."""
    return value.translate(_STRING_ESCAPES)


def escape_iri(value: str) -> str:
    return "".join(c if c not in '<>"{}|^`\\' and ord(c) > 0x20 and not 0x7F <= ord(c) < 0xA0
                   else f"\\u{ord(c):04X}" for c in value)


_NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long", "short",
                              "nonNegativeInteger", "positiveInteger", "nonPositiveInteger",
                              "negativeInteger", "unsignedInt", "unsignedLong")}


def _sort_key(term: Term | None) -> tuple:
    """A total order over terms: unbound, numbers (by value), IRIs, blank nodes, other literals."""
    if term is None:
        return (0, 0.0, "", "")
    if term.kind == "literal" and term.datatype in _NUMERIC:
        try:
            return (1, float(term.value), term.value, "")
        except ValueError:
            pass
    group = {"uri": 2, "bnode": 3}.get(term.kind, 4)
    return (group, 0.0, term.value, (term.datatype or "") + "@" + (term.lang or ""))


class Result:
    """A query's answer: variables and rows (SELECT), a boolean (ASK) or triples (CONSTRUCT, DESCRIBE)."""

    __slots__ = ("variables", "rows", "boolean", "triples")

    def __init__(self, variables: list[str], rows: list[tuple[Term | None, ...]] | None = None,
                 boolean: bool | None = None, triples: list[tuple[Term, Term, Term]] | None = None) -> None:
        self.variables = variables
        self.rows = [] if rows is None else rows
        self.boolean = boolean
        self.triples = triples

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Result):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self.__slots__)

    __hash__ = None  # mutable, like the dataclass it replaces

    def __repr__(self) -> str:
        return f"Result({', '.join(f'{a}={getattr(self, a)!r}' for a in self.__slots__)})"

    @property
    def is_graph(self) -> bool:
        return self.triples is not None

    def sort(self) -> None:
        """Put rows (or triples) in a stable order (for queries without ORDER BY)."""
        self.rows.sort(key=lambda row: tuple(_sort_key(t) for t in row))
        if self.triples is not None:
            self.triples = sorted(set(self.triples), key=lambda row: tuple(_sort_key(t) for t in row))

    def relabel_blank_nodes(self) -> None:
        """Name blank nodes b0, b1… by first appearance, so output does not depend on the engine."""
        names: dict[str, str] = {}

        def rename(t: Term | None) -> Term | None:
            if t is None or t.kind != "bnode":
                return t
            return t._replace(value=names.setdefault(t.value, f"b{len(names)}"))

        self.rows = [tuple(rename(t) for t in row) for row in self.rows]
        if self.triples is not None:
            self.triples = [tuple(rename(t) for t in row) for row in self.triples]  # type: ignore[misc]

    def iris(self) -> set[str]:
        rows = self.rows if self.triples is None else self.triples
        return {t.value for row in rows for t in row if t is not None and t.kind == "uri"}
