"""Find the project's source files and parse RDF strictly.

rdflib accepts some Turtle that is not RDF 1.1 (and would fetch remote JSON-LD
contexts or expand XML entities); pyoxigraph's parsers do not, so every input
goes through pyoxigraph first and only then becomes an rdflib graph. Every
error names the file and the line.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from .errors import BadInputError, RefusedError
from .limits import DEFAULT_MAX_INPUT_MB, max_input_bytes  # noqa: F401  (re-exported: sources.max_input_bytes)

if TYPE_CHECKING:  # rdflib is heavy: imported inside the functions that need it, never at import time
    from rdflib import Graph

_FORMATS = {
    ".ttl": "turtle", ".turtle": "turtle", ".nt": "ntriples", ".nq": "nquads",
    ".trig": "trig", ".jsonld": "jsonld", ".json": "jsonld", ".owl": "rdfxml",
    ".rdf": "rdfxml", ".xml": "rdfxml",
}

PACKAGE_DATA = Path(__file__).resolve().parent / "_data"
SOURCE_CHECKOUT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ProjectPaths:
    """Where a project's sources live: a clone, or the copy shipped in the wheel."""

    root: Path
    ontology: Path
    kg: tuple[Path, ...]
    shapes: tuple[Path, ...]
    queries: Path
    checks: Path
    mappings: Path
    context: Path
    packaged: bool = False
    tables: tuple[Path, ...] = ()   # curation tables (ontology/tables/*.tsv), compiled into the kg

    def inputs(self) -> list[Path]:
        """Every file whose content determines a build, in a stable order."""
        files = [self.ontology, *self.kg, *self.tables, *self.shapes]
        files += [p for p in (self.mappings, self.context) if p.is_file()]
        return files

    def default_dist(self) -> Path:
        """dist/ beside the sources in a clone; a per-user cache for an installed wheel."""
        if not self.packaged:
            return self.root / "dist"
        from . import __version__
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return cache / "carnk-graph" / __version__ / "dist"


def _is_project(root: Path) -> bool:
    return (root / "ontology" / "carnk.ttl").is_file()


def find_project(root: str | Path | None = None) -> ProjectPaths:
    """Locate the sources: an explicit root, else the nearest ancestor of the
    working directory that holds ontology/carnk.ttl, else the packaged copy."""
    packaged = False
    if root is not None:
        base = Path(root).resolve()
        if not _is_project(base):
            raise BadInputError(f"no ontology/carnk.ttl under {base}", path=base)
    else:
        cwd = Path.cwd().resolve()
        base = next((d for d in (cwd, *cwd.parents) if _is_project(d)), None)
        if base is None:
            if _is_project(PACKAGE_DATA):          # a wheel: the sources ship inside the package
                base, packaged = PACKAGE_DATA, True
            elif _is_project(SOURCE_CHECKOUT):     # an editable install: the clone it points into
                base = SOURCE_CHECKOUT
            else:
                raise BadInputError("no carnk-graph sources found: run inside a clone or pass --root")
    return ProjectPaths(
        root=base,
        ontology=base / "ontology" / "carnk.ttl",
        kg=tuple(sorted((base / "ontology" / "kg").glob("*.ttl"))),
        shapes=tuple(sorted((base / "shapes").glob("*.ttl"))),
        queries=base / "queries",
        checks=base / "queries" / "checks",
        mappings=base / "ontology" / "mappings.sssom.tsv",
        context=base / "ontology" / "context.jsonld",
        packaged=packaged,
        tables=tuple(sorted((base / "ontology" / "tables").glob("*.tsv"))),
    )


def hash_files(paths: Iterable[Path], *extra: str) -> str:
    """A content hash of files (names and bytes) and extra strings; timestamps play no part."""
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p.name).encode() + b"\0")
        h.update(p.read_bytes())
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


def read_checked(path: str | Path) -> bytes:
    """Read a file's bytes after the checks that need no parser: size, binary, encoding."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise BadInputError("file not found", path=p) from None
    except OSError as e:
        raise BadInputError(f"cannot read file: {e.strerror}", path=p) from None
    if p.is_dir():
        raise BadInputError("is a directory, not an RDF file", path=p)
    cap = max_input_bytes()
    if size > cap:
        raise BadInputError(
            f"file is {_human(size)}, over the {_human(cap)} input cap "
            "(set CARNK_MAX_INPUT_MB to raise it)", path=p)
    try:
        with open(p, "rb") as fh:
            data = fh.read(cap + 1)  # bounded: a device such as /dev/zero reports size 0 and never ends
    except OSError as e:
        raise BadInputError(f"cannot read file: {e.strerror}", path=p) from None
    if len(data) > cap:
        raise BadInputError(f"more than the {_human(cap)} input cap can be read from it "
                            "(set CARNK_MAX_INPUT_MB to raise it)", path=p)
    if not data.strip():
        raise BadInputError("file is empty: no RDF statements", path=p, line=1)
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        raise BadInputError("binary data (NUL byte): not an RDF text file", path=p, line=line)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise BadInputError(f"not UTF-8: byte 0x{data[e.start]:02x} cannot be decoded "
                            "(save the file as UTF-8)", path=p, line=line) from None
    return data


_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_REMOTE_CONTEXT = re.compile(rb'"@(context|import)"\s*:\s*(\[[^\]]*)?"(https?|file|ftp):', re.IGNORECASE)


def _refuse_unsafe(data: bytes, fmt: str, path: Path) -> None:
    """Refuse what a parser could be tricked into expanding or fetching."""
    if fmt == "rdfxml":
        m = _DOCTYPE.search(data)
        if m:
            line = data[: m.start()].count(b"\n") + 1
            raise RefusedError("RDF/XML with a DOCTYPE or ENTITY declaration is refused "
                               "(entity expansion and external entities are unsafe)", path=path, line=line)
    if fmt == "jsonld":
        m = _REMOTE_CONTEXT.search(data)
        if m:
            line = data[: m.start()].count(b"\n") + 1
            raise RefusedError("JSON-LD with a remote @context is refused (it would be fetched "
                               "over the network); inline the context", path=path, line=line)


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
    try:
        quads = list(ox.parse(data, format=_ox_format(fmt)))
    except SyntaxError as e:
        if fmt == "jsonld" and ("remote context" in str(e).lower() or "LoadDocumentCallback" in str(e)):
            # a remote @context the text check above did not see (e.g. a \u0040context key)
            raise RefusedError("JSON-LD with a remote @context is refused (it would be fetched "
                               "over the network); inline the context", path=p) from None
        raise _syntax_error(e, p) from None
    except (ValueError, OSError) as e:
        raise BadInputError(f"cannot parse: {e}", path=p) from None
    if not quads:
        raise BadInputError("file holds no RDF statements", path=p, line=1)
    return quads


def _line_of(data: bytes, needle: str) -> int | None:
    i = data.find(needle.encode("utf-8"))
    return data[:i].count(b"\n") + 1 if i >= 0 else None


XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def ox_to_rdflib(term):
    """One pyoxigraph term as the rdflib term that means the same."""
    import pyoxigraph as ox
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        dt = term.datatype.value
        return Literal(term.value) if dt == XSD_STRING else Literal(term.value, datatype=URIRef(dt))
    raise BadInputError(f"unsupported RDF term {term!r} (RDF-star is not supported)")


def rdflib_to_ox(term):
    """One rdflib term as a pyoxigraph term."""
    import pyoxigraph as ox
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


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


OWL_IMPORTS = "http://www.w3.org/2002/07/owl#imports"


@dataclass
class Sources:
    """The parsed sources of a build: the TBox, the ABox, the shapes."""

    paths: ProjectPaths
    ontology: "Graph"
    kg: "Graph"
    shapes: "Graph"
    warnings: list[str] = field(default_factory=list)


def load_sources(paths: ProjectPaths) -> Sources:
    """Parse every source file strictly; owl:imports are reported, never followed."""
    from rdflib import Graph, URIRef

    ontology = parse_graph(paths.ontology)
    kg = Graph()
    for f in paths.kg:
        parse_graph(f, into=kg)
    if paths.tables:  # curation tables become the same qualified nodes as hand-written Turtle
        from .tables import compile_tables
        kg += compile_tables(paths.tables, (ontology, kg))
    shapes = Graph()
    for f in paths.shapes:
        parse_graph(f, into=shapes)
    warnings = [f"{paths.ontology}: owl:imports <{o}> is not followed (imports are never fetched)"
                for o in ontology.objects(None, URIRef(OWL_IMPORTS))]
    return Sources(paths, ontology, kg, shapes, warnings)
