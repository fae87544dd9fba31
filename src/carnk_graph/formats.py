"""Result formatting: a table for people, W3C SPARQL CSV/TSV/JSON for programs, RDF for graph results.

No control character from the data reaches a terminal: the table and CSV show
them as visible escapes (`\\x1b`), TSV and N-Triples use the syntax's own
`\\u001B` escapes (the same term), JSON escapes them as JSON does. JSON is the
lossless form for literals that hold control characters.
"""
from __future__ import annotations

from .errors import BadInputError
from .namespaces import compact_iri
from .results import XSD, XSD_STRING, Result, Term

TYPE_CHECKING = False  # typing's flag without importing typing: this module is on the cold query path
if TYPE_CHECKING:
    from typing import Mapping

FORMATS = ("table", "csv", "tsv", "json")
GRAPH_FORMATS = ("table", "ttl", "nt", "jsonld")

#: C0 and C1 controls (tab, line feed and carriage return kept) and the bidirectional overrides
#: that reorder what a terminal shows: written as visible escapes in text meant for a terminal.
#: A translation table, not a pattern: CSV, the cold query's usual form, then needs no `re`.
_UNSAFE = {c: chr(c).encode("unicode_escape").decode("ascii")
           for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0),
                     0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def visible(text: str) -> str:
    """`text` with terminal-controlling characters written as escapes (`\\x1b`, `\\u202e`)."""
    return text.translate(_UNSAFE)


def csv_row(cells: list[str]) -> str:
    """One CSV record as Python's csv.writer writes it (minimal quoting, CRLF): a cell holding a comma,
    a quote or a line break is quoted, quotes doubled; a lone empty cell is `""`, so the record is not
    mistaken for an empty line. Written out so that a cold query does not import `csv` (and `re`)."""
    line = ",".join('"' + c.replace('"', '""') + '"' if ("," in c or '"' in c or "\r" in c or "\n" in c) else c
                    for c in cells)
    return (line if line or len(cells) != 1 else '""') + "\r\n"


def format_csv(result: Result) -> str:
    """W3C SPARQL 1.1 CSV results: IRIs in full, literals as their lexical form, CRLF line ends."""
    if result.boolean is not None:
        return ("true" if result.boolean else "false") + "\r\n"
    out = [csv_row(list(result.variables))]
    for row in result.rows:
        out.append(csv_row(["" if t is None else visible(f"_:{t.value}" if t.kind == "bnode" else t.value)
                            for t in row]))
    return "".join(out)


_TSV_BARE = {XSD + "integer": r"^[+-]?\d+$", XSD + "decimal": r"^[+-]?\d*\.\d+$", XSD + "boolean": r"^(true|false)$"}


def format_tsv(result: Result) -> str:
    """W3C SPARQL 1.1 TSV results: terms in N-Triples/Turtle form, numbers and booleans bare."""
    import re  # here, not at the top: CSV and the table need no pattern

    if result.boolean is not None:
        return ("true" if result.boolean else "false") + "\n"
    lines = ["\t".join("?" + v for v in result.variables)]
    for row in result.rows:
        cells = []
        for t in row:
            if t is None:
                cells.append("")
            elif t.kind == "literal" and t.datatype in _TSV_BARE and re.match(_TSV_BARE[t.datatype], t.value):
                cells.append(t.value)
            else:
                cells.append(t.n3())
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def _json_term(t: Term) -> dict[str, str]:
    cell: dict[str, str] = {"type": t.kind, "value": t.value}
    if t.lang:
        cell["xml:lang"] = t.lang
    elif t.kind == "literal" and t.datatype and t.datatype != XSD_STRING:
        cell["datatype"] = t.datatype
    return cell


def format_json(result: Result) -> str:
    """SPARQL 1.1 Query Results JSON."""
    import json

    if result.boolean is not None:
        return json.dumps({"head": {}, "boolean": result.boolean}) + "\n"
    bindings = [{var: _json_term(t) for var, t in zip(result.variables, row) if t is not None}
                for row in result.rows]
    doc = {"head": {"vars": result.variables}, "results": {"bindings": bindings}}
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def display(t: Term | None, labels: Mapping[str, str]) -> str:
    """A cell for people: an IRI's label, else its prefixed name; a literal's text on one line."""
    if t is None:
        return ""
    if t.kind == "uri":
        text = labels.get(t.value) or compact_iri(t.value)
    elif t.kind == "bnode":
        text = f"_:{t.value}"
    else:
        text = t.value
    text = " ".join(text.split()) if any(c in text for c in "\n\r\t") else text
    return visible(text)


def _table(head: list[str], body: list[list[str]], unit: str) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(head)]
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    lines = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in body]
    n = len(body)
    lines.append(f"({n} {unit}{'s' if n != 1 else ''})")
    return "\n".join(lines) + "\n"


def format_table(result: Result, labels: Mapping[str, str]) -> str:
    """An aligned text table with labels instead of IRIs; a row count at the end."""
    if result.boolean is not None:
        return ("yes" if result.boolean else "no") + "\n"
    if result.triples is not None:
        body = [[display(t, labels) for t in triple] for triple in result.triples]
        return _table(["subject", "predicate", "object"], body, "triple")
    return _table(list(result.variables), [[display(t, labels) for t in row] for row in result.rows], "row")


def format_nt(result: Result) -> str:
    """A graph result as N-Triples (sorted, one triple a line)."""
    return "".join(f"{s.n3()} {p.n3()} {o.n3()} .\n" for s, p, o in result.triples or ())


def format_ttl(result: Result) -> str:
    """A graph result as Turtle with the project's prefixes, written by pyoxigraph."""
    import pyoxigraph as ox

    from .namespaces import PREFIXES

    iris = {t.value for triple in result.triples or () for t in triple if t.kind == "uri"} | {
        t.datatype for triple in result.triples or () for t in triple if t.kind == "literal" and t.datatype}
    used = {p: ns for p, ns in PREFIXES.items() if any(i.startswith(ns) for i in iris)}  # only what is used
    return ox.serialize(_ox_triples(result), format=ox.RdfFormat.TURTLE, prefixes=used).decode("utf-8")


def format_jsonld(result: Result) -> str:
    """A graph result as JSON-LD (expanded form, readable by JSON-LD 1.0 and 1.1 processors)."""
    import json

    nodes: dict[str, dict] = {}
    for s, p, o in result.triples or ():
        sid = s.value if s.kind == "uri" else f"_:{s.value}"
        node = nodes.setdefault(sid, {"@id": sid})
        if o.kind == "uri":
            value: dict = {"@id": o.value}
        elif o.kind == "bnode":
            value = {"@id": f"_:{o.value}"}
        else:
            value = {"@value": o.value}
            if o.lang:
                value["@language"] = o.lang
            elif o.datatype and o.datatype != XSD_STRING:
                value["@type"] = o.datatype
        node.setdefault(p.value, []).append(value)
    return json.dumps(list(nodes.values()), ensure_ascii=False, indent=1) + "\n"


def _ox_triples(result: Result) -> list:
    import pyoxigraph as ox

    from .terms import to_oxigraph

    return [ox.Triple(*(to_oxigraph(*t) for t in triple)) for triple in result.triples or ()]


def render(result: Result, fmt: str, labels: Mapping[str, str] | None = None) -> str:
    """The result in one output format (the table shows `labels` for IRIs)."""
    if result.triples is not None:
        graph = {"nt": format_nt, "ttl": format_ttl, "jsonld": format_jsonld}
        if fmt in graph:
            return graph[fmt](result)
        if fmt == "table":
            return format_table(result, labels or {})
        raise BadInputError(f"--format {fmt} is for SELECT and ASK answers; a CONSTRUCT or DESCRIBE "
                            f"gives a graph: choose from {', '.join(GRAPH_FORMATS)}")
    if fmt == "csv":
        return format_csv(result)
    if fmt == "tsv":
        return format_tsv(result)
    if fmt == "json":
        return format_json(result)
    if fmt == "table":
        return format_table(result, labels or {})
    if fmt in GRAPH_FORMATS:
        raise BadInputError(f"--format {fmt} is for CONSTRUCT and DESCRIBE graphs; a SELECT or ASK "
                            f"answer takes one of {', '.join(FORMATS)}")
    raise BadInputError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
