"""The reason stage: what a reasoner concludes that the curators did not write.

HermiT (through owlready2) is the reasoner of record: the ontology and the
knowledge graph go to it as N-Triples built in memory (owlready2 cannot read
Turtle), owl:imports removed so that nothing is ever fetched. Without a Java
runtime, `auto` falls back to an OWL 2 RL materialisation in pure Python
(owlrl), with a one-line warning.

Both reasoners' conclusions pass through one filter, `new_entailments`, so the
two give comparable graphs: only rdf:type and rdfs:subClassOf triples between
named terms, entailed and not already stated (every named superclass
included). No owl:Thing, no owl:Nothing, no reflexive links, no blank-node
subjects, no datatype noise.

An inconsistent ontology or an unsatisfiable class stops the build with a
ReasonerError (exit 3) that names the classes by label.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from .errors import BadInputError, ReasonerError
from .namespaces import GRAPH_BASE, PREFIXES

if TYPE_CHECKING:
    from rdflib import Graph, URIRef

MODES = ("auto", "hermit", "owlrl")

#: Printed (once) when `auto` cannot find Java; the wording is part of the CLI contract.
JAVA_FALLBACK_WARNING = ("Java runtime not found: using OWL 2 RL instead of HermiT; "
                         "install Java 11+ for full DL reasoning")
#: The error of `--reasoner hermit` without Java (exit 3).
JAVA_MISSING_ERROR = ("Java runtime not found: HermiT needs Java 11+ (install it, or point "
                      "CARNK_JAVA at a java executable), or use --reasoner owlrl")

#: Path of the java executable to use; overrides PATH and owlready2.JAVA_EXE. A path
#: that does not exist means "no Java" (tests use it to simulate a machine without Java).
JAVA_ENV = "CARNK_JAVA"
#: Maximum JVM heap for HermiT in MiB (owlready2's default is 2000).
JAVA_MEMORY_ENV = "CARNK_JAVA_MEMORY_MB"
DEFAULT_JAVA_MEMORY_MB = 1024
#: JVM flags for a short single run: the JIT's first tier only and the serial
#: collector halve HermiT's wall time on small ontologies; no hsperfdata files.
JVM_OPTIONS = ("-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")

#: The IRI under which owlready2 holds the input while reasoning (never written out).
_INPUT_IRI = GRAPH_BASE + "reasoner-input"
#: Where owlready2 puts what HermiT concludes (owlready2's own, misspelt, constant).
_INFERENCES_IRI = "http://inferrences/"

_W3C = (PREFIXES["rdf"], PREFIXES["rdfs"], PREFIXES["owl"], PREFIXES["xsd"])
_LABEL = PREFIXES["rdfs"] + "label"
_MAX_CLASHES = 5

# owlready2's Java settings and tempfile.tempdir are process globals; one reasoning run at a time.
_LOCK = threading.Lock()


@dataclass
class ReasonResult:
    """What the reason stage hands to the build."""

    inferred: "Graph"
    reasoner: str
    warnings: list[str] = field(default_factory=list)


def reason(ontology: "Graph", kg: "Graph", mode: str = "auto", *, java: str | None = None) -> ReasonResult:
    """Reason over ontology + kg and return only the new memberships and subclass links.

    mode "auto" uses HermiT when a Java runtime is found (see `find_java`), else
    OWL 2 RL with `JAVA_FALLBACK_WARNING`; "hermit" insists on HermiT; "owlrl"
    never starts Java. Raises ReasonerError on inconsistency, unsatisfiable
    classes, a missing Java for "hermit", or a Java failure.
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
    return _reason_hermit(stated, exe)


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


def to_ntriples(graph: "Graph") -> bytes:
    """The graph as N-Triples bytes, without owl:imports: what owlready2 is given to read."""
    from rdflib import OWL, Graph

    if (None, OWL.imports, None) in graph:
        clean = Graph()
        for t in graph:
            if t[1] != OWL.imports:
                clean.add(t)
        graph = clean
    return graph.serialize(format="nt", encoding="utf-8")


# -- Java --------------------------------------------------------------------------------------------

def find_java(java: str | None = None) -> str | None:
    """The java executable HermiT will run with, or None when there is none.

    Looked for in order: the `java` argument, $CARNK_JAVA, owlready2.JAVA_EXE
    (a path, or a name searched on PATH). A path that does not exist or is not
    executable counts as "no Java" rather than an error, so that `auto` can
    fall back.
    """
    candidate = java or os.environ.get(JAVA_ENV) or None
    if candidate is None:
        import owlready2
        candidate = owlready2.JAVA_EXE or "java"
    if os.sep in candidate or (os.altsep and os.altsep in candidate):
        p = Path(candidate)
        return str(p) if p.is_file() and os.access(p, os.X_OK) else None
    return shutil.which(candidate)


def _java_memory_mb() -> int:
    try:
        return max(64, int(os.environ.get(JAVA_MEMORY_ENV, DEFAULT_JAVA_MEMORY_MB)))
    except ValueError:
        return DEFAULT_JAVA_MEMORY_MB


@contextmanager
def _hermit_session(java: str) -> Iterator[Path]:
    """Point owlready2 at `java` and at a private temp folder, and clean both up.

    owlready2 writes HermiT's input to a NamedTemporaryFile in the default temp
    folder and leaves it behind when HermiT fails; routing tempfile (and the
    JVM's java.io.tmpdir) into a private folder that is always removed means no
    file survives a run, successful or not.
    """
    import owlready2
    import owlready2.reasoning

    with _LOCK:
        private = Path(tempfile.mkdtemp(prefix="carnk-reason-"))
        saved = (owlready2.JAVA_EXE, owlready2.reasoning.JAVA_MEMORY, tempfile.tempdir,
                 os.environ.get("JAVA_TOOL_OPTIONS"))
        options = list(JVM_OPTIONS)
        if not re.search(r"\s", str(private)):  # JAVA_TOOL_OPTIONS splits on white space
            options.append(f"-Djava.io.tmpdir={private}")
        if saved[3]:
            options.append(saved[3])  # the user's own options come last and win
        owlready2.JAVA_EXE = java
        owlready2.reasoning.JAVA_MEMORY = _java_memory_mb()
        tempfile.tempdir = str(private)
        os.environ["JAVA_TOOL_OPTIONS"] = " ".join(options)
        try:
            yield private
        finally:
            owlready2.JAVA_EXE, owlready2.reasoning.JAVA_MEMORY, tempfile.tempdir = saved[:3]
            if saved[3] is None:
                os.environ.pop("JAVA_TOOL_OPTIONS", None)
            else:
                os.environ["JAVA_TOOL_OPTIONS"] = saved[3]
            shutil.rmtree(private, ignore_errors=True)


# -- HermiT ------------------------------------------------------------------------------------------

def hermit_name() -> str:
    """The reasoner of record with the versions that made the inferred graph,
    e.g. "HermiT 1.3.8.1099 (owlready2 0.51)"."""
    import zipfile
    from importlib.metadata import version

    import owlready2.reasoning

    hermit = "HermiT"
    jar = Path(owlready2.reasoning.__file__).parent / "hermit" / "HermiT.jar"
    try:
        with zipfile.ZipFile(jar) as z:
            manifest = z.read("META-INF/MANIFEST.MF").decode("utf-8", "replace")
        m = re.search(r"^Implementation-Version:\s*(\S+)", manifest, re.MULTILINE)
        if m:
            hermit += " " + m.group(1)
    except (OSError, KeyError, zipfile.BadZipFile):
        pass
    return f"{hermit} (owlready2 {version('owlready2')})"


@dataclass
class _HermitRun:
    conclusions: "Graph"
    unsatisfiable: list[str]
    inconsistent: bool


def _run_hermit(graph: "Graph", java: str) -> _HermitRun:
    """Load `graph` into a fresh owlready2 World, run HermiT, read back what it concluded.

    HermiT rejects a whole ontology over one value of a datatype it does not
    support (xsd:date, used for publication dates); with
    ignore_unsupported_datatypes it skips those assertions instead, so no
    defined class may depend on an xsd:date value.
    """
    import owlready2
    from rdflib import Graph, URIRef

    nt = to_ntriples(graph)
    with _hermit_session(java):
        world = owlready2.World()  # in memory: no sqlite file
        try:
            try:
                world.get_ontology(_INPUT_IRI).load(fileobj=io.BytesIO(nt), format="ntriples")
            except Exception as e:  # owlready2 raises plain exceptions on input it cannot read
                raise ReasonerError(f"owlready2 could not read the graph: {type(e).__name__}: {e}") from None
            inconsistent = False
            try:
                owlready2.sync_reasoner(world, infer_property_values=True, debug=0,
                                        ignore_unsupported_datatypes=True)
            except owlready2.OwlReadyInconsistentOntologyError:
                inconsistent = True
            except owlready2.OwlReadyJavaError as e:
                raise ReasonerError(f"HermiT failed: {_java_message(str(e))}") from None
            except OSError as e:
                raise ReasonerError(f"cannot run Java at {java}: {e.strerror or e}") from None
            conclusions = Graph()
            if not inconsistent:
                buf = io.BytesIO()
                world.get_ontology(_INFERENCES_IRI).save(buf, format="ntriples")
                conclusions.parse(data=buf.getvalue().decode("utf-8"), format="nt")
            unsatisfiable = sorted({str(c.iri) for c in world.inconsistent_classes()
                                    if _is_term(URIRef(str(getattr(c, "iri", ""))))})
        finally:
            world.close()
    return _HermitRun(conclusions, unsatisfiable, inconsistent)


def _java_message(text: str) -> str:
    """The line of a Java error that says what went wrong (not the JVM's chatter or the stack)."""
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(("Picked up ", "at ", "Java error message is"))]
    return lines[0] if lines else "Java exited with an error"


def _reason_hermit(stated: "Graph", java: str) -> ReasonResult:
    name = hermit_name()
    run = _run_hermit(stated, java)
    if run.inconsistent:
        raise _diagnose_inconsistency(name, stated, java)
    if run.unsatisfiable:
        raise _consistency_error(name, stated, run.unsatisfiable, [], inconsistent=False)
    return ReasonResult(new_entailments(stated, stated + run.conclusions), name)


def _diagnose_inconsistency(name: str, stated: "Graph", java: str) -> ReasonerError:
    """HermiT only says "inconsistent"; find out which classes and individuals are to blame.

    A second HermiT run without the individuals' assertions lists the
    unsatisfiable classes (an individual in one of them makes the whole graph
    inconsistent); a literal check and an OWL 2 RL pass name the individuals
    caught in a clash (a value outside its datatype, two disjoint classes, ...).
    Runs only on the failure path.
    """
    try:
        axioms_run = _run_hermit(without_assertions(stated), java)
        unsat, axioms_inconsistent = axioms_run.unsatisfiable, axioms_run.inconsistent
    except ReasonerError:
        unsat, axioms_inconsistent = [], False
    clashes = datatype_clashes(stated) + _owlrl_closure(stated)[1]
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
        if (p == RDF.type and _is_term(o)) or p in props:
            continue
        out.add((s, p, o))
    return out


# -- OWL 2 RL ----------------------------------------------------------------------------------------

def owlrl_name() -> str:
    from importlib.metadata import version
    return f"OWL 2 RL (owlrl {version('owlrl')})"


def _owlrl_closure(stated: "Graph") -> tuple["Graph", list[str]]:
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


def _reason_owlrl(stated: "Graph") -> ReasonResult:
    from rdflib import OWL, RDFS

    name = owlrl_name()
    closure, clashes = _owlrl_closure(stated)  # owlrl reports owl:Nothing members itself (cls-nothing2)
    clashes += datatype_clashes(stated)
    unsat = {str(c) for c in closure.subjects(RDFS.subClassOf, OWL.Nothing) if _is_term(c)}
    unsat |= {str(c) for c in closure.subjects(OWL.equivalentClass, OWL.Nothing) if _is_term(c)}
    unsat |= set(_disjoint_superclasses(closure))
    if clashes or unsat:
        raise _consistency_error(name, stated, sorted(unsat), clashes, inconsistent=bool(clashes))
    return ReasonResult(new_entailments(stated, closure), name)


def _disjoint_superclasses(closure: "Graph") -> Iterator[str]:
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
    ancestors = _closure(_hierarchy(closure))
    for cls, sups in ancestors.items():
        if not _is_term(cls):
            continue
        family = sups | {cls}
        if any(len(p) == 2 and p <= family for p in pairs):
            yield str(cls)


# -- literal values against datatype ranges --------------------------------------------------------

_XSD = PREFIXES["xsd"]
_LANGSTRING = PREFIXES["rdf"] + "langString"
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
_PLAIN_LITERAL = PREFIXES["rdf"] + "PlainLiteral"
_ANY_LITERAL = {PREFIXES["rdfs"] + "Literal", _PLAIN_LITERAL}


def _datatype_of(lit) -> str:
    if lit.language:
        return _LANGSTRING
    return str(lit.datatype) if lit.datatype is not None else _XSD + "string"


def _fits(datatype: str, range_: str) -> bool:
    """Whether a literal of `datatype` lies in the value space of `range_` (XSD derivation only)."""
    if range_ == _PLAIN_LITERAL:
        return datatype in (_LANGSTRING, _XSD + "string")
    if range_ in _ANY_LITERAL or datatype == range_:
        return True
    while datatype.startswith(_XSD) and datatype[len(_XSD):] in _XSD_BASE:
        datatype = _XSD + _XSD_BASE[datatype[len(_XSD):]]
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
        if not (isinstance(range_, URIRef) and (str(range_).startswith(_XSD) or str(range_) in
                                                (_LANGSTRING, *_ANY_LITERAL))):
            continue
        for subj, value in graph.subject_objects(prop):
            if isinstance(value, Literal) and not _fits(_datatype_of(value), str(range_)):
                clashes.append(f"value of {prop} on {subj} is {_short(_datatype_of(value))}, "
                               f"outside the range {_short(str(range_))}")
    return sorted(clashes)


def _short(iri: str) -> str:
    from .namespaces import prefixed_name

    return prefixed_name(iri) or iri


# -- the filter both reasoners share -----------------------------------------------------------------

def _is_term(node) -> bool:
    """A named term of the project (or a reused vocabulary), not an RDF/RDFS/OWL/XSD built-in."""
    from rdflib import URIRef
    return isinstance(node, URIRef) and not str(node).startswith(_W3C)


def _hierarchy(g: "Graph") -> dict:
    """Direct superclass edges between named classes: rdfs:subClassOf, and owl:equivalentClass both ways."""
    from rdflib import OWL, RDFS

    edges: dict = {}
    for a, b in g.subject_objects(RDFS.subClassOf):
        if _is_term(a) and _is_term(b):
            edges.setdefault(a, set()).add(b)
    for a, b in g.subject_objects(OWL.equivalentClass):
        if _is_term(a) and _is_term(b):
            edges.setdefault(a, set()).add(b)
            edges.setdefault(b, set()).add(a)
    return edges


def _closure(edges: dict) -> dict:
    """Every class's strict ancestors (itself excluded, even inside an equivalence cycle)."""
    out: dict = {}
    for start in edges:
        seen: set = set()
        stack = list(edges[start])
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(edges.get(node, ()))
        seen.discard(start)
        out[start] = seen
    return out


def _types(g: "Graph", ancestors: dict) -> dict:
    """Named individual -> every named class it belongs to under the given hierarchy."""
    from rdflib import RDF

    out: dict = {}
    for s, c in g.subject_objects(RDF.type):
        if _is_term(s) and _is_term(c):
            out.setdefault(s, set()).update({c} | ancestors.get(c, set()))
    return out


def new_entailments(stated: "Graph", entailed: "Graph") -> "Graph":
    """The rdf:type and rdfs:subClassOf triples between named terms that follow
    from `entailed` and are not already written in `stated`.

    This is the one definition of "inferred" for every reasoner. HermiT reports
    direct types and parents only, OWL 2 RL a full closure; walking the
    entailed hierarchy makes the two comparable, and materialising every named
    superclass lets a plain query (`?x a carnk:Immunotherapy`) find what the
    reasoner concluded without a property path. A stated owl:equivalentClass
    between two named classes is not repeated as two subclass links.
    """
    from rdflib import OWL, RDF, RDFS, Graph

    ancestors = _closure(_hierarchy(entailed))
    out = Graph()
    for ind, classes in _types(entailed, ancestors).items():
        for c in classes:
            if (ind, RDF.type, c) not in stated:
                out.add((ind, RDF.type, c))
    for cls, sups in ancestors.items():
        for sup in sups - {cls}:
            if not ((cls, RDFS.subClassOf, sup) in stated or (cls, OWL.equivalentClass, sup) in stated
                    or (sup, OWL.equivalentClass, cls) in stated):
                out.add((cls, RDFS.subClassOf, sup))
    return out


# -- messages ----------------------------------------------------------------------------------------

def label_of(graph: "Graph", iri: str) -> str:
    """The rdfs:label a curator gave a term (English preferred), else its local name."""
    from rdflib import URIRef

    labels = list(graph.objects(URIRef(iri), URIRef(_LABEL)))
    if labels:
        english = [lb for lb in labels if getattr(lb, "language", None) in ("en", None)]
        return str(sorted(english or labels, key=str)[0])
    return re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri


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
