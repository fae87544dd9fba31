"""Parse the project's RDF sources strictly (finding them is project.py's job).

rdflib accepts some Turtle that is not RDF 1.1 (and would fetch remote JSON-LD
contexts or expand XML entities); pyoxigraph's parsers do not, so every input
goes through pyoxigraph first and only then becomes an rdflib graph. Every
error names the file and the line.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from .errors import BadInputError, RefusedError
from .limits import DEFAULT_MAX_INPUT_MB, max_input_bytes  # noqa: F401  (re-exported: sources.max_input_bytes)
from .namespaces import CARNK, GRAPH_BASE, KG, ONTOLOGY_IRI, PREFIXES, SHAPES, SKOLEM_BASE
from .results import XSD_STRING
from .terms import ox_to_rdflib

_NOT_TERMS = (KG, SHAPES, GRAPH_BASE, SKOLEM_BASE, ONTOLOGY_IRI + "/")

if TYPE_CHECKING:  # rdflib is heavy: imported inside the functions that need it, never at import time
    from rdflib import Graph

_FORMATS = {
    ".ttl": "turtle", ".turtle": "turtle", ".nt": "ntriples", ".nq": "nquads",
    ".trig": "trig", ".jsonld": "jsonld", ".json": "jsonld", ".owl": "rdfxml",
    ".rdf": "rdfxml", ".xml": "rdfxml",
}

def hash_files(paths: Iterable[Path], *extra: str) -> str:
    """A content hash of files (names and bytes) and extra strings; timestamps play no part.

    Each file is read as `read_regular` reads it: a source that is a FIFO, a device or a folder
    is refused (exit 2) here already, before any build step waits on it or fills memory."""
    import hashlib  # only when hashing: a cold query decides from sizes and mtimes

    h = hashlib.sha256()
    for p in paths:
        h.update(str(p.name).encode() + b"\0")
        h.update(read_regular(p))
        h.update(b"\0")
    for e in extra:
        h.update(e.encode() + b"\0")
    return h.hexdigest()


def _human(size: int) -> str:
    """Bytes as MiB (whole) or, below 1 MiB, KiB with a decimal: '0 MiB' says nothing."""
    return f"{size / 1048576:.0f} MiB" if size >= 1048576 else f"{size / 1024:.1f} KiB"


def format_of(path: str | Path, fmt: str | None = None) -> str:
    if fmt:
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in _FORMATS:
        raise BadInputError(f"unknown RDF file type {suffix!r} (use .ttl, .nt, .nq, .trig, .jsonld or .owl)", path=path)
    return _FORMATS[suffix]


def read_regular(path: str | Path, what: str = "file") -> bytes:
    """A regular file's bytes, at most the input cap; anything else is refused before reading.

    The file is opened without blocking (a FIFO would otherwise wait for a writer forever)
    and checked on the open descriptor (no race with a rename): a folder, a FIFO, a socket
    or a device (a symbolic link to /dev/zero) is exit 2 with one line, and a regular file
    over the cap is refused from its size, never read into memory.
    """
    import stat

    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise BadInputError(f"{what} not found", path=p) from None
    except OSError as e:
        raise BadInputError(f"cannot read {what}: {e.strerror}", path=p) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise BadInputError(f"is a directory, not {'an RDF file' if what == 'file' else 'a ' + what}", path=p)
        if not stat.S_ISREG(st.st_mode):
            kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                    else "a device")
            raise BadInputError(f"is {kind}, not a regular file: only regular files are read", path=p)
        cap = max_input_bytes()
        if st.st_size > cap:
            raise BadInputError(f"file is {_human(st.st_size)}, over the {_human(cap)} input cap "
                                "(set CARNK_MAX_INPUT_MB to raise it)", path=p)
        chunks, total = [], 0
        while total <= cap:
            chunk = os.read(fd, min(1 << 20, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > cap:  # the file grew while it was read
            raise BadInputError(f"more than the {_human(cap)} input cap can be read from it "
                                "(set CARNK_MAX_INPUT_MB to raise it)", path=p)
        return b"".join(chunks)
    except OSError as e:
        raise BadInputError(f"cannot read {what}: {e.strerror}", path=p) from None
    finally:
        os.close(fd)


#: A UTF-8 byte order mark: legal at the start of a text file, and not part of its RDF.
BOM = b"\xef\xbb\xbf"


def read_checked(path: str | Path) -> bytes:
    """Read an RDF file's bytes (`read_regular`) after the checks that need no parser: empty, encoding.

    A leading UTF-8 byte order mark is dropped. NUL and other control bytes are not refused
    here: a literal may hold them (the W3C suites have such files); a file they make
    unparseable is named "binary" by `parse_quads`."""
    p = Path(path)
    data = read_regular(p)
    if data.startswith(BOM):
        data = data[len(BOM):]
    if not data.strip():
        raise BadInputError("file is empty: no RDF statements", path=p, line=1)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        if b"\0" in data[: e.start]:  # NUL bytes and no text encoding: a binary file
            line = data[: data.index(b"\0")].count(b"\n") + 1
            raise BadInputError("binary data (NUL byte): not an RDF text file", path=p, line=line) from None
        line = data[: e.start].count(b"\n") + 1
        raise BadInputError(f"not UTF-8: byte 0x{data[e.start]:02x} cannot be decoded "
                            "(save the file as UTF-8)", path=p, line=line) from None
    return data


#: What a parser could be tricked into expanding or fetching, per format: the pattern that finds it
#: and why it is refused.
_UNSAFE = {
    "rdfxml": (re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE),
               "RDF/XML with a DOCTYPE or ENTITY declaration is refused "
               "(entity expansion and external entities are unsafe)"),
    "jsonld": (re.compile(rb'"@(context|import)"\s*:\s*(\[[^\]]*)?"(https?|file|ftp):', re.IGNORECASE),
               "JSON-LD with a remote @context is refused (it would be fetched over the network); "
               "inline the context"),
}


def _refuse_unsafe(data: bytes, fmt: str, path: Path) -> None:
    """Refuse (exit 4) what a parser could be tricked into expanding or fetching, naming its line."""
    if fmt not in _UNSAFE:
        return
    pattern, why = _UNSAFE[fmt]
    m = pattern.search(data)
    if m:
        raise RefusedError(why, path=path, line=data[: m.start()].count(b"\n") + 1)


#: Deepest nesting of JSON objects/arrays (JSON-LD) and of XML elements (RDF/XML) that is parsed.
#: pyoxigraph's JSON-LD parser is quadratic in depth and overflows its stack near 5,000 levels;
#: its RDF/XML parser is quadratic in depth. Real files nest a few dozen levels.
#: Turtle, TriG, N-Triples and N-Quads need no bound: their parser keeps an explicit stack
#: (200,000 levels of [ ] parse in 0.3 s).
MAX_NESTING = 200

#: Tokens of the nesting scans. Every token that starts also matches (to its end, or to the end of
#: the text when it is unterminated), so the scan never restarts inside one: linear time on any
#: text, hostile or broken (a regex that could fail at an unterminated "<!--" or "\"" would be
#: tried again at every later one: quadratic).
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\(?:.|\Z))*(?:"|\Z)|[\[\]{}]', re.DOTALL)
_XML_TOKENS = re.compile(
    rb"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)|<[?!].*?(?:>|\Z)|</[^>]*(?:>|\Z)"
    rb"|<(?:[^>\"']|\"[^\"]*(?:\"|\Z)|'[^']*(?:'|\Z))*(?:>|\Z)", re.DOTALL)


def check_nesting(data: bytes, fmt: str, path: Path, limit: int = MAX_NESTING) -> None:
    """Refuse JSON-LD or RDF/XML nested deeper than `limit`, in one linear scan before any parser runs."""
    if fmt == "jsonld":
        tokens, kind = _JSON_TOKENS, "JSON objects/arrays"
    elif fmt == "rdfxml":
        tokens, kind = _XML_TOKENS, "XML elements"
    else:
        return
    depth = 0
    for m in tokens.finditer(data):
        tok = m.group()
        if fmt == "jsonld":
            if tok[0] == 0x22:  # a JSON string
                continue
            depth += 1 if tok in (b"{", b"[") else -1
        elif tok.startswith((b"<!", b"<?")):
            continue
        elif tok.startswith(b"</"):
            depth -= 1
            continue
        elif not tok.endswith(b"/>"):
            depth += 1
        if depth > limit:
            line = data[: m.start()].count(b"\n") + 1
            raise BadInputError(f"nested deeper than {limit} levels of {kind}: refused before parsing "
                                "(deep nesting makes the parser slow or crash)", path=path, line=line)


def _ox_format(fmt: str):
    import pyoxigraph as ox
    return {
        "turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
        "nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG,
        "jsonld": ox.RdfFormat.JSON_LD, "rdfxml": ox.RdfFormat.RDF_XML,
    }[fmt]


_OX_LINE = re.compile(r"(?:Parser error )?at line (\d+)(?: between columns (\d+) and \d+| column (\d+))?:?\s*")


def _syntax_error(e: SyntaxError, path: Path) -> BadInputError:
    msg = str(e.msg if getattr(e, "msg", None) else e)
    line, col = getattr(e, "lineno", None), None
    m = _OX_LINE.search(msg)
    if m:
        line = int(m.group(1))
        col = int(m.group(2) or m.group(3)) if (m.group(2) or m.group(3)) else None
        msg = _OX_LINE.sub("", msg, count=1)
    msg = re.sub(r"\s*\(line \d+\)\s*$", "", msg).strip() or "syntax error"
    return BadInputError(f"syntax error: {msg}", path=path, line=line, column=col)


def parse_quads(path: str | Path, fmt: str | None = None, data: bytes | None = None) -> list:
    """Parse a file strictly with pyoxigraph; return its quads (pyoxigraph terms)."""
    import pyoxigraph as ox

    p = Path(path)
    fmt = format_of(p, fmt)
    if data is None:
        data = read_checked(p)
    _refuse_unsafe(data, fmt, p)
    check_nesting(data, fmt, p)
    try:
        quads = list(ox.parse(data, format=_ox_format(fmt)))
    except SyntaxError as e:
        if fmt == "jsonld" and ("remote context" in str(e).lower() or "LoadDocumentCallback" in str(e)):
            # a remote @context the text check above did not see (e.g. a \u0040context key)
            raise RefusedError("JSON-LD with a remote @context is refused (it would be fetched "
                               "over the network); inline the context", path=p) from None
        if b"\0" in data:  # unparseable and holding NUL bytes: most likely not a text file at all
            line = data[: data.index(b"\0")].count(b"\n") + 1
            raise BadInputError("binary data (NUL byte): not an RDF text file", path=p, line=line) from None
        raise _syntax_error(e, p) from None
    except (ValueError, OSError) as e:
        raise BadInputError(f"cannot parse: {e}", path=p) from None
    if not quads:
        raise BadInputError("file holds no RDF statements", path=p, line=1)
    return quads


def _line_of(data: bytes, needle: str) -> int | None:
    i = data.find(needle.encode("utf-8"))
    return data[:i].count(b"\n") + 1 if i >= 0 else None


def check_quads(quads: list, data: bytes, path: Path) -> None:
    """What a strict parse still lets through and a source file must not hold, each with its line.

    Named graphs (a source file is one graph), RDF 1.2 triple terms, and
    ill-typed literals ("abc"^^xsd:integer): syntactically valid, but always a
    curation error here, and one would make HermiT call the whole ontology
    inconsistent instead of naming the bad value. Shared by the rdflib path
    (parse_graph) and the big-data Store path (validate.store_from_files).
    """
    import logging

    import pyoxigraph as ox
    from rdflib import Literal, URIRef

    log = logging.getLogger("rdflib.term")
    previous = log.level
    log.setLevel(logging.CRITICAL)  # rdflib logs every ill-typed literal; we raise instead
    try:
        for q in quads:
            if not isinstance(q.graph_name, ox.DefaultGraph):
                raise BadInputError("named graphs are not allowed in a source file", path=path,
                                    line=_line_of(data, getattr(q.graph_name, "value", "")))
            if any(not hasattr(t, "value") for t in (q.subject, q.object)):  # a triple term (RDF 1.2)
                raise BadInputError("RDF-star / RDF 1.2 triple terms are not supported", path=path,
                                    line=_line_of(data, "<<"))
            o = q.object
            if isinstance(o, ox.Literal) and not o.language and o.datatype.value != XSD_STRING:
                if Literal(o.value, datatype=URIRef(o.datatype.value)).ill_typed:
                    raise BadInputError(f'ill-typed literal "{o.value}"^^<{o.datatype.value}>: not a valid '
                                        f"{o.datatype.value.rsplit('#', 1)[-1]}", path=path,
                                        line=_line_of(data, f'"{o.value}"'))
    finally:
        log.setLevel(previous)


def parse_graph(path: str | Path, fmt: str | None = None, into: "Graph | None" = None) -> "Graph":
    """Parse one file strictly (parse_quads + check_quads) into an rdflib Graph (a new one, or `into`)."""
    from rdflib import Graph

    p = Path(path)
    data = read_checked(p)
    quads = parse_quads(p, fmt, data)
    check_quads(quads, data, p)
    g = into if into is not None else Graph()
    for q in quads:
        g.add((ox_to_rdflib(q.subject), ox_to_rdflib(q.predicate), ox_to_rdflib(q.object)))
    return g


OWL_IMPORTS = PREFIXES["owl"] + "imports"
RDF_TYPE = PREFIXES["rdf"] + "type"

#: Characters XML 1.0 cannot carry, not even as a character reference (&#1; is not well-formed):
#: a literal holding one could not be written to carnk.owl (RDF/XML). Tab, LF and CR are allowed.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _is_term_iri(iri: str) -> bool:
    """A carnk: class, property or value-set individual (not a kg individual, shape, graph or the ontology IRI)."""
    return iri.startswith(CARNK) and not iri.startswith(_NOT_TERMS) and iri != ONTOLOGY_IRI


def _line_of_any(data: bytes, *needles: str) -> int | None:
    for n in needles:
        line = _line_of(data, n)
        if line is not None:
            return line
    return None


@dataclass
class _SourceReader:
    """Reads the project's source files for a build: what `parse_graph` checks, and what only a
    release needs: literals XML can carry, owl:imports taken out (with a warning), and the
    carnk: terms each file uses (the first file and line of each), for the declaration check."""

    warnings: list[str] = field(default_factory=list)
    used: dict[str, tuple[Path, bytes]] = field(default_factory=dict)

    def read(self, path: Path, into: "Graph", kind: str) -> "Graph":
        import pyoxigraph as ox

        data = read_checked(path)
        quads = parse_quads(path, None, data)
        check_quads(quads, data, path)
        for q in quads:
            o = q.object
            if isinstance(o, ox.Literal):
                bad = XML_ILLEGAL.search(o.value)
                if bad:
                    ch = bad.group()
                    prefix = o.value[: bad.start()][-20:]
                    line = _line_of_any(data, ch, f"\\u{ord(ch):04X}", f"\\u{ord(ch):04x}",
                                        f"\\U{ord(ch):08X}", f"\\U{ord(ch):08x}", prefix or o.value)
                    raise BadInputError(f"a literal holds the control character U+{ord(ch):04X}, which no XML 1.0 "
                                        "file (carnk.owl) can carry: remove it", path=path, line=line)
            if q.predicate.value == OWL_IMPORTS:
                target = getattr(o, "value", str(o))
                where = {"ontology": "", "kg": " in a knowledge-graph file"}.get(kind, f" in a {kind} file")
                line = _line_of(data, target)
                self.warnings.append(f"{path}{f':{line}' if line else ''}: owl:imports <{target}>{where} is not "
                                     "followed (imports are never fetched) and is left out of the release")
                continue
            for t in (q.subject, q.predicate, o):
                if isinstance(t, ox.NamedNode) and t.value not in self.used and _is_term_iri(t.value):
                    self.used[t.value] = (path, data)
            into.add((ox_to_rdflib(q.subject), ox_to_rdflib(q.predicate), ox_to_rdflib(o)))
        return into

    def check_declared(self, *graphs: "Graph") -> None:
        """Every carnk: term a source uses is declared (is the subject of an rdf:type) in the sources,
        normally the ontology: a typo such as carnk:expresess fails the build with the file and line
        where it is first used (else the release fails the OWL 2 DL profile check downstream)."""
        from rdflib import RDF, URIRef

        declared = {str(s) for g in graphs for s in g.subjects(RDF.type, None) if isinstance(s, URIRef)}
        for iri in sorted(set(self.used) - declared):
            path, data = self.used[iri]
            local = iri[len(CARNK):]
            raise BadInputError(f"carnk:{local} is used but never declared (no rdf:type for it in "
                                "ontology/carnk.ttl): a typo, or a term to add there",
                                path=path, line=_line_of_any(data, f"carnk:{local}", f"<{iri}>", iri))


@dataclass
class Sources:
    """The parsed sources of a build: the TBox, the ABox, the shapes."""

    paths: ProjectPaths
    ontology: "Graph"
    kg: "Graph"
    shapes: "Graph"
    warnings: list[str] = field(default_factory=list)


def load_sources(paths: ProjectPaths) -> Sources:
    """Parse every source file strictly; owl:imports are reported, never followed, never released;
    every carnk: term used must be declared in the ontology."""
    from rdflib import Graph

    reader = _SourceReader()
    ontology = reader.read(paths.ontology, Graph(), "ontology")
    kg = Graph()
    for f in paths.kg:
        reader.read(f, kg, "kg")
    if paths.tables:  # curation tables become the same qualified nodes as hand-written Turtle
        from .tables import compile_tables
        kg += compile_tables(paths.tables, (ontology, kg))
    shapes = Graph()
    for f in paths.shapes:
        reader.read(f, shapes, "shapes")
    reader.check_declared(ontology, kg)
    return Sources(paths, ontology, kg, shapes, reader.warnings)
