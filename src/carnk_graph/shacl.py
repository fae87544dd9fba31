"""SHACL validation of the data, always together with the ontology.

The ontology is validated *with* the data (their union is the data graph), so
that a shape targeting a class also reaches instances of its subclasses and so
that shapes about the ontology's own terms (labels, definitions) see them whole.
pyshacl's `ont_graph` is not used: it copies only RDFS/OWL axioms of the
ontology into the data graph ("inoculation"), so a term's skos:definition was
invisible and every term looked undefined.

Two engines, one result type:
- pyshacl, the reference, always available;
- pyshacl-turbo, a Rust engine with a pySHACL-compatible API (optional extra
  `fast`), used for big data: it is fed a pyoxigraph Store, never an rdflib
  graph (converting an rdflib graph costs more than pyshacl's own run).
`engine="auto"` (the default, or CARNK_SHACL_ENGINE) picks pyshacl below
FAST_MIN_TRIPLES triples and pyshacl-turbo above when it is installed.
tests/test_shacl_differential.py proves both engines report the same results
(focus node, path, shape, severity) on the shipped graph and every shape
fixture; where they ever disagree, pyshacl is right (benchmarks/README.md).

Only sh:Violation fails a build; warnings and infos are reported. Shapes are
checked for SERVICE, FROM and LOAD before anything runs: a shape must never
reach the network or a file.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from .errors import BadInputError, RefusedError, printable
from .namespaces import PREFIXES, compact_iri

if TYPE_CHECKING:
    import pyoxigraph
    from rdflib import Graph

SH = PREFIXES["sh"]
ENGINES = ("auto", "pyshacl", "turbo")
#: Environment variable that picks the engine when the caller does not (auto, pyshacl, turbo).
ENGINE_ENV = "CARNK_SHACL_ENGINE"
#: Data at least this big goes to pyshacl-turbo under engine="auto" (when it is installed).
#: Below it pyshacl takes about a second or less and, as the reference, is preferred.
FAST_MIN_TRIPLES = 20_000
_SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}


@dataclass(frozen=True, order=True)
class Finding:
    """One validation result, reduced to what a curator needs to act on it."""

    severity: str   # Violation | Warning | Info
    focus: str
    path: str
    message: str
    shape: str
    value: str = ""

    def line(self) -> str:
        """One line, whatever the data holds (a value with a newline or an escape is written escaped)."""
        value = f" (value {self.value})" if self.value else ""
        return printable(f"{self.severity}: {self.focus} {self.path or '-'}: {self.message}{value} [{self.shape}]")


@dataclass
class ValidationResult:
    """What a validation found; `conforms` ignores warnings and infos."""

    findings: list[Finding] = field(default_factory=list)
    report: "Graph | None" = None

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    @property
    def conforms(self) -> bool:
        return not self.violations

    def counts(self) -> dict[str, int]:
        out = {"Violation": 0, "Warning": 0, "Info": 0}
        for f in self.findings:
            out[f.severity] = out.get(f.severity, 0) + 1
        return out

    def text(self) -> str:
        c = self.counts()
        head = (f"{'Conforms' if self.conforms else 'Does not conform'}: "
                f"{c['Violation']} violations, {c['Warning']} warnings, {c['Info']} infos")
        return "\n".join([head, *(f.line() for f in self.findings)]) + "\n"


def check_shapes_safe(shapes: "Graph") -> None:
    """Refuse SPARQL-based constraints or rules that could reach out of the graph or change it.

    The text checked is the text pySHACL runs: the `PREFIX p: <ns>` lines it
    builds from every sh:declare (sh:prefixes) and then the query. So a
    declaration must be a real prefix and an IRI (a namespace holding `>` and
    SPARQL would inject a query into those lines: refused, exit 4), the whole
    text goes through the one read-only rule of sparql.py (exit 4), and it must
    parse with rdflib's SPARQL parser, which runs it (else exit 2, naming the shape).
    """
    from rdflib import URIRef

    from .sparql import find_refusal

    prologue = _declared_prefix_lines(shapes)
    for prop in ("select", "ask", "construct", "update"):
        for node, text in sorted(shapes.subject_objects(URIRef(SH + prop))):
            owner = next(iter(sorted(shapes.subjects(None, node))), node)  # the shape, not its blank node
            full = prologue + "\n" + str(text)
            where = f"shape {_short(owner)}"
            try:
                refusal = find_refusal(full, where)
            except BadInputError as e:
                raise BadInputError(f"{where}: its SPARQL (sh:{prop}) cannot be read: {e.detail}") from None
            if refusal:
                raise RefusedError(f"{where} uses {refusal.keyword} in its SPARQL "
                                   f"(sh:{prop}); shapes may only read the data graph, refused before running")
            _must_parse(full, prop == "update", f"{where}: its SPARQL (sh:{prop})")


#: An absolute IRI as SPARQL's IRIREF may hold it (scheme, colon, no space, quote, brace or bracket).
_ABSOLUTE_IRIREF = re.compile(r'[A-Za-z][A-Za-z0-9+.-]*:[^<>"{}|^`\\\x00-\x20]*')


def _declared_prefix_lines(shapes: "Graph") -> str:
    """The PREFIX lines pySHACL may prepend: every sh:declare of the shapes graph, each checked."""
    from rdflib import URIRef

    from .sparql import is_prefix_name

    lines = []
    for decl in sorted(set(shapes.subjects(URIRef(SH + "namespace"), None))
                       | set(shapes.subjects(URIRef(SH + "prefix"), None))):
        prefixes = [str(p) for p in shapes.objects(decl, URIRef(SH + "prefix"))]
        owner = _short(next(iter(sorted(shapes.subjects(URIRef(SH + "declare"), decl))), decl))
        for prefix in prefixes:
            if not is_prefix_name(prefix):
                raise RefusedError(f"sh:prefix {prefix!r} declared by {owner} is not a SPARQL prefix name: "
                                   "refused (pySHACL pastes it into the query)")
        for ns in shapes.objects(decl, URIRef(SH + "namespace")):
            if not _ABSOLUTE_IRIREF.fullmatch(str(ns)):
                raise RefusedError(f"sh:namespace {str(ns)!r} declared by {owner} is not an absolute IRI: refused "
                                   "(pySHACL pastes it into the query as <...>)")
            lines += [f"PREFIX {prefix}: <{ns}>" for prefix in prefixes]
    return "\n".join(sorted(set(lines)))


def _must_parse(text: str, update: bool, what: str) -> None:
    """Parse a shape's SPARQL with rdflib's parser (the one pySHACL runs it with): exit 2 if it fails."""
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    try:
        (parseUpdate if update else parseQuery)(text)
    except RecursionError:
        raise BadInputError(f"{what} is nested too deeply to parse") from None
    except Exception as e:  # noqa: BLE001 - pyparsing raises several types
        detail = getattr(e, "msg", None) or str(e)
        raise BadInputError(f"{what} does not parse: {detail}") from None


def _short(term) -> str:
    """An IRI as people read it (namespaces.compact_iri: a prefixed name, else <IRI>); any other value
    as its text, except that a value that looks like an IRI (http…, urn…, file…) is shown like one."""
    s = str(term)
    return compact_iri(s) if s.startswith(("http", "urn", "file")) else s


def _path_text(report: "Graph", path) -> str:
    """A SHACL property path as SPARQL-like text: `a / b`, `a | b`, `^a`, `a*`, `a+`, `a?`.

    Rendered from the path's structure, never from blank-node labels, so that two engines
    (and two runs) print the same text for the same path."""
    if path is None:
        return ""
    from rdflib import RDF, BNode, URIRef
    from rdflib.collection import Collection

    if not isinstance(path, BNode):
        return _short(path)

    def sub(node) -> str:
        text = _path_text(report, node)
        return f"({text})" if isinstance(node, BNode) and (" / " in text or " | " in text) else text

    if report.value(path, RDF.first) is not None:  # a sequence path is an RDF list
        return " / ".join(sub(step) for step in Collection(report, path))
    alternatives = report.value(path, URIRef(SH + "alternativePath"))
    if alternatives is not None:
        return " | ".join(sub(step) for step in Collection(report, alternatives))
    for prop, fmt in (("inversePath", "^{}"), ("zeroOrMorePath", "{}*"), ("oneOrMorePath", "{}+"),
                      ("zeroOrOnePath", "{}?")):
        inner = report.value(path, URIRef(SH + prop))
        if inner is not None:
            return fmt.format(sub(inner))
    return "(complex path)"


def findings_from_report(report: "Graph") -> list[Finding]:
    """Read sh:ValidationResult nodes into sorted `Finding`s (sorted so output is stable)."""
    from rdflib import RDF, URIRef

    sh = lambda local: URIRef(SH + local)  # noqa: E731
    out = []
    for r in report.subjects(RDF.type, sh("ValidationResult")):
        sev = report.value(r, sh("resultSeverity"))
        msgs = sorted(str(m) for m in report.objects(r, sh("resultMessage")))
        value = report.value(r, sh("value"))
        out.append(Finding(
            severity=str(sev).rsplit("#", 1)[-1] if sev else "Violation",
            focus=_short(report.value(r, sh("focusNode"))),
            path=_path_text(report, report.value(r, sh("resultPath"))),
            message=msgs[0] if msgs else "constraint violated",
            shape=_short(report.value(r, sh("sourceShape"))),
            value=_short(value) if value is not None else "",
        ))
    out.sort(key=lambda f: (_SEVERITY_ORDER.get(f.severity, 9), f.focus, f.path, f.shape, f.message, f.value))
    return out


def turbo_available() -> bool:
    """True when the optional fast engine (pyshacl-turbo, extra `fast`) can be imported."""
    import importlib.util

    return importlib.util.find_spec("pyshacl_turbo") is not None


def _size(data) -> int:
    return len(data)


def choose_engine(engine: str | None, data) -> str:
    """The engine that will run: an explicit choice, else CARNK_SHACL_ENGINE, else auto
    (pyshacl-turbo for data of at least FAST_MIN_TRIPLES triples when installed, else pyshacl)."""
    wanted = (engine or os.environ.get(ENGINE_ENV) or "auto").strip().lower()
    if wanted not in ENGINES:
        raise BadInputError(f"unknown SHACL engine {wanted!r} (use one of {', '.join(ENGINES)})")
    if wanted == "turbo" and not turbo_available():
        raise BadInputError("SHACL engine 'turbo' needs pyshacl-turbo: pip install 'carnk-graph[fast]' "
                            "(Python 3.11 or later)")
    if wanted == "auto":
        return "turbo" if _size(data) >= FAST_MIN_TRIPLES and turbo_available() else "pyshacl"
    return wanted


def validate(data: "Graph | pyoxigraph.Store", shapes: "Graph", ontology: "Graph", *,
             engine: str | None = None) -> ValidationResult:
    """Validate `data` (an rdflib Graph, or a pyoxigraph Store for big data) together with
    `ontology` against `shapes`; inputs are never changed. `engine`: see choose_engine."""
    from .safety import disable_rdflib_loading

    check_shapes_safe(shapes)
    disable_rdflib_loading()  # a shape's FROM could otherwise make rdflib read a file
    from rdflib import Graph

    shapes_copy = Graph()  # both engines may add triples (owl:Class rdfs:subClassOf rdfs:Class ...) to it
    shapes_copy += shapes
    if choose_engine(engine, data) == "turbo":
        report = _run_turbo(data, shapes_copy, ontology)
    else:
        report = _run_pyshacl(data, shapes_copy, ontology)
    return ValidationResult(findings_from_report(report), report)


def _run_pyshacl(data, shapes: "Graph", ontology: "Graph") -> "Graph":
    """pyshacl on a fresh union of data and ontology (validated in place: it is our own copy)."""
    import pyshacl
    from rdflib import Graph

    union = Graph()
    if _is_store(data):
        from .terms import ox_to_rdflib

        for q in data:
            union.add((ox_to_rdflib(q.subject), ox_to_rdflib(q.predicate), ox_to_rdflib(q.object)))
    else:
        for t in data.triples((None, None, None)):  # a Dataset's default union too
            union.add(t)
    union += ontology
    _conforms, report, _text = pyshacl.validate(
        union, shacl_graph=shapes, inference="none",
        advanced=True, allow_warnings=True, abort_on_first=False, inplace=True,
    )
    return report


def _run_turbo(data, shapes: "Graph", ontology: "Graph") -> "Graph":
    """pyshacl-turbo on a fresh in-memory Store holding data and ontology in the default graph."""
    import pyoxigraph as ox
    import pyshacl_turbo

    from .terms import rdflib_to_ox

    store = ox.Store()
    if _is_store(data):
        store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object) for q in data)
    else:
        store.bulk_extend(ox.Quad(rdflib_to_ox(s), rdflib_to_ox(p), rdflib_to_ox(o))
                          for s, p, o in data.triples((None, None, None)))
    store.bulk_extend(ox.Quad(rdflib_to_ox(s), rdflib_to_ox(p), rdflib_to_ox(o)) for s, p, o in ontology)
    _conforms, report, _text = pyshacl_turbo.validate(
        store, shacl_graph=shapes, advanced=True, allow_warnings=True, abort_on_first=False,
        do_owl_imports=False,
    )
    return report


def _is_store(data) -> bool:
    return type(data).__module__.split(".")[0] == "pyoxigraph"


def store_from_files(files: Iterable[str | Path], extra: Iterable["Graph"] = ()) -> "pyoxigraph.Store":
    """Parse data files strictly (as sources.parse_graph does: size cap, refusals, ill-typed
    literals with their line) straight into an in-memory pyoxigraph Store, plus `extra` graphs.

    This is the big-data path: no rdflib graph of the data is ever built."""
    import pyoxigraph as ox

    from .progress import Progress
    from .sources import check_quads, parse_quads, read_checked
    from .terms import rdflib_to_ox

    store = ox.Store()
    for f in files:
        p = Path(f)
        data = read_checked(p)
        with Progress(f"parse {p.name}", len(data), unit="B") as bar:
            quads = parse_quads(p, data=data)
            bar.update(len(data))
        check_quads(quads, data, p)
        store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object) for q in quads)
    for g in extra:
        store.bulk_extend(ox.Quad(rdflib_to_ox(s), rdflib_to_ox(p), rdflib_to_ox(o)) for s, p, o in g)
    return store
