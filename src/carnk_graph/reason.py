"""The reason stage: what a reasoner concludes that the curators did not write.

HermiT (the jar owlready2 ships) is the reasoner of record: its command line
reads the ontology and the knowledge graph as N-Triples from a file descriptor
with no name on disk, owl:imports removed so that nothing is ever fetched.
Its answer must include the conclusion of a small canary puzzle, so a `java`
that exits 0 without running HermiT is an error, not a release labelled
HermiT. The JVM has a time limit (exit 5) and dies with the build. Without a
Java runtime, `auto` falls back to an OWL 2 RL materialisation in pure Python
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

import os
import re
import shutil
import tempfile
import threading
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

# One JVM start at a time: subprocess's preexec_fn (PR_SET_PDEATHSIG) is not safe to run from
# several threads at once.
_LOCK = threading.Lock()


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


#: A tiny puzzle added to every input: a correct HermiT run must conclude that the canary
#: individual is a canary:Bird (from the domain of canary:sings), which nobody stated. A `java`
#: that exits 0 without running HermiT (a wrapper, a stub, another program) cannot print it, so
#: a release is never labelled "HermiT" without HermiT's answer. Its terms never leave this module.
_CANARY = GRAPH_BASE + "reasoner-canary/"  # not SKOLEM_BASE: the OWL API reads .well-known/genid IRIs as blank nodes
_RDF, _RDFS, _OWL = PREFIXES["rdf"], PREFIXES["rdfs"], PREFIXES["owl"]
_CANARY_NT = (f"<{_CANARY}sings> <{_RDF}type> <{_OWL}ObjectProperty> .\n"
              f"<{_CANARY}Bird> <{_RDF}type> <{_OWL}Class> .\n"
              f"<{_CANARY}sings> <{_RDFS}domain> <{_CANARY}Bird> .\n"
              f"<{_CANARY}tweety> <{_CANARY}sings> <{_CANARY}song> .\n").encode("ascii")
_CANARY_PROOF = f"Type( <{_CANARY}tweety> <{_CANARY}Bird> )"

#: Seconds HermiT may run before its JVM is killed and the build stops with exit 5
#: (a timeout, as for queries). Override with --reasoner-timeout or CARNK_REASONER_TIMEOUT.
REASONER_TIMEOUT_ENV = "CARNK_REASONER_TIMEOUT"
DEFAULT_REASONER_TIMEOUT = 600.0

_HERMIT_LINE = re.compile(r"^(SubClassOf|Type|EquivalentClasses)\( ((?:<[^>]+>\s*)+)\)$", re.MULTILINE)
_OWL_NOTHING = PREFIXES["owl"] + "Nothing"


def reasoner_timeout(value: float | None = None) -> float:
    """The reasoner's time limit in seconds: the argument, else $CARNK_REASONER_TIMEOUT, else 600."""
    import math

    if value is None:
        raw = os.environ.get(REASONER_TIMEOUT_ENV)
        if raw is None:
            return DEFAULT_REASONER_TIMEOUT
        try:
            value = float(raw)
        except ValueError:
            raise BadInputError(f"{REASONER_TIMEOUT_ENV}={raw!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise BadInputError(f"the reasoner timeout must be a positive number of seconds, not {value!r}")
    return value


def _die_with_parent() -> None:
    """In the JVM's process, before exec: SIGKILL when the build process dies (even by SIGKILL),
    so a killed build leaves no JVM behind (Linux prctl PR_SET_PDEATHSIG; elsewhere a no-op)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort on platforms without prctl
        pass


def _hermit_input(nt: bytes):
    """HermiT's input as a file descriptor that has no name on disk (a memfd on Linux; elsewhere
    an unlinked temporary file), read by the JVM as /proc/self/fd/N or /dev/fd/N. Nothing is left
    to clean up, whenever and however the build stops."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("carnk-hermit-input", 0)
    else:
        fd, name = tempfile.mkstemp(prefix="carnk-hermit-")
        os.unlink(name)
    os.write(fd, nt)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _run_hermit(graph: "Graph", java: str, timeout: float | None = None) -> _HermitRun:
    """Run HermiT's command line on `graph` (plus the canary) and read what it concluded.

    HermiT rejects a whole ontology over one value of a datatype it does not support
    (xsd:date, used for publication dates); with --ignoreUnsupportedDatatypes it skips
    those assertions instead, so no defined class may depend on an xsd:date value.
    The JVM dies with the build (PR_SET_PDEATHSIG) and is killed at the time limit.
    """
    import signal
    import subprocess

    import owlready2.reasoning
    from rdflib import OWL, RDF, RDFS, Graph, URIRef

    limit = reasoner_timeout(timeout)
    fd = _hermit_input(to_ntriples(graph) + _CANARY_NT)
    proc_dir = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
    command = [java, *JVM_OPTIONS, f"-Xmx{_java_memory_mb()}M", "-cp", owlready2.reasoning._HERMIT_CLASSPATH,
               "org.semanticweb.HermiT.cli.CommandLine", "-c", "-O", "-D", "-I", "--ignoreUnsupportedDatatypes",
               f"file://{proc_dir}/{fd}"]
    try:
        with _LOCK:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, pass_fds=(fd,), start_new_session=True,
                                    preexec_fn=_die_with_parent if os.name == "posix" else None)
    except OSError as e:
        os.close(fd)
        raise ReasonerError(f"cannot run Java at {java}: {e.strerror or e}") from None
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        _kill(proc, signal)
        from .errors import ReasonerTimeoutError
        raise ReasonerTimeoutError(f"HermiT ran longer than {limit:g} s and was stopped (raise the limit with "
                                   f"--reasoner-timeout or {REASONER_TIMEOUT_ENV}, or use --reasoner owlrl)") from None
    except BaseException:
        _kill(proc, signal)
        raise
    finally:
        os.close(fd)
    output = out.decode("utf-8", "replace").replace("\r", "")
    if proc.returncode == 1 and "Inconsistent ontology" in output + err.decode("utf-8", "replace"):
        return _HermitRun(Graph(), [], True)
    if proc.returncode != 0:
        raise ReasonerError(f"HermiT failed: {_java_message(err.decode('utf-8', 'replace') or output)}")
    if _CANARY_PROOF not in output:
        raise ReasonerError(f"{java} exited 0 but did not give HermiT's answer (its check conclusion is "
                            "missing): the release is not labelled HermiT without HermiT; check the java "
                            "executable (CARNK_JAVA) or use --reasoner owlrl")
    conclusions, unsat = Graph(), set()
    for relation, iris in _HERMIT_LINE.findall(output):
        terms = [t for t in re.findall(r"<([^>]+)>", iris)]
        if any(t.startswith(_CANARY) for t in terms):
            continue
        if relation == "SubClassOf" and len(terms) == 2:
            conclusions.add((URIRef(terms[0]), RDFS.subClassOf, URIRef(terms[1])))
        elif relation == "Type" and len(terms) == 2:
            conclusions.add((URIRef(terms[0]), RDF.type, URIRef(terms[1])))
        elif relation == "EquivalentClasses":
            if _OWL_NOTHING in terms:
                unsat |= {t for t in terms if t != _OWL_NOTHING and _is_term(URIRef(t))}
            else:
                for a in terms:
                    for b in terms:
                        if a != b:
                            conclusions.add((URIRef(a), OWL.equivalentClass, URIRef(b)))
    return _HermitRun(conclusions, sorted(unsat), False)


def _kill(proc, signal) -> None:
    """Kill the JVM (its whole process group) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    proc.wait()


def _java_message(text: str) -> str:
    """The line of a Java error that says what went wrong (not the JVM's chatter or the stack)."""
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(("Picked up ", "at ", "Java error message is"))]
    return lines[0] if lines else "Java exited with an error"


def _reason_hermit(stated: "Graph", java: str, timeout: float | None = None) -> ReasonResult:
    name = hermit_name()
    run = _run_hermit(stated, java, timeout)
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
        axioms_run = _run_hermit(without_assertions(stated), java, timeout)
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
