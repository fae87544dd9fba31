"""HermiT, the reasoner of record: finding Java and running HermiT's command line.

The input is N-Triples on a file descriptor with no name on disk (owl:imports
removed, so nothing is ever fetched), plus a small canary puzzle: HermiT's
answer must include the canary's conclusion, so a `java` that exits 0 without
running HermiT is an error, not a release labelled HermiT. The JVM has a time
limit (exit 5) and dies with the build. What the conclusions mean, and what
becomes of an inconsistency, is decided by reason.py.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .entailments import is_term
from .errors import BadInputError, ReasonerError, ReasonerTimeoutError
from .namespaces import GRAPH_BASE, OWL, RDF, RDFS

if TYPE_CHECKING:
    from rdflib import Graph

#: Path of the java executable to use; overrides PATH and owlready2.JAVA_EXE. A path
#: that does not exist means "no Java" (tests use it to simulate a machine without Java).
JAVA_ENV = "CARNK_JAVA"
#: Maximum JVM heap for HermiT in MiB (owlready2's default is 2000).
JAVA_MEMORY_ENV = "CARNK_JAVA_MEMORY_MB"
DEFAULT_JAVA_MEMORY_MB = 1024
#: JVM flags for a short single run: the JIT's first tier only and the serial
#: collector halve HermiT's wall time on small ontologies; no hsperfdata files.
JVM_OPTIONS = ("-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")

# One JVM start at a time: subprocess's preexec_fn (PR_SET_PDEATHSIG) is not safe to run from
# several threads at once.
_LOCK = threading.Lock()


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

def find_java(java: str | None = None, *, search_owlready2: bool = True) -> str | None:
    """The java executable HermiT will run with, or None when there is none.

    Looked for in order: the `java` argument, $CARNK_JAVA, owlready2.JAVA_EXE
    (a path, or a name searched on PATH). A path that does not exist or is not
    executable counts as "no Java" rather than an error, so that `auto` can
    fall back. `search_owlready2=False` skips owlready2 (importing it costs more
    than the rest) and looks for `java` on PATH instead: the build's cheap guess,
    recorded in its options so that installing Java triggers a rebuild.
    """
    candidate = java or os.environ.get(JAVA_ENV) or None
    if candidate is None and search_owlready2:
        import owlready2
        candidate = owlready2.JAVA_EXE
    candidate = candidate or "java"
    if os.sep in candidate or (os.altsep and os.altsep in candidate):
        p = Path(candidate)
        return str(p) if p.is_file() and os.access(p, os.X_OK) else None
    return shutil.which(candidate)


def _java_memory_mb() -> int:
    try:
        return max(64, int(os.environ.get(JAVA_MEMORY_ENV, DEFAULT_JAVA_MEMORY_MB)))
    except ValueError:
        return DEFAULT_JAVA_MEMORY_MB


# -- HermiT ---------------------------------------------------------------------------------------

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
class HermitRun:
    """What one HermiT run concluded (the canary left out), or that the input is inconsistent."""

    conclusions: "Graph"
    unsatisfiable: list[str]
    inconsistent: bool


#: A tiny puzzle added to every input: a correct HermiT run must conclude that the canary
#: individual is a canary:Bird (from the domain of canary:sings), which nobody stated. A `java`
#: that exits 0 without running HermiT (a wrapper, a stub, another program) cannot print it, so
#: a release is never labelled "HermiT" without HermiT's answer. Its terms never leave this module.
_CANARY = GRAPH_BASE + "reasoner-canary/"  # not SKOLEM_BASE: the OWL API reads .well-known/genid IRIs as blank nodes
_CANARY_NT = (f"<{_CANARY}sings> <{RDF}type> <{OWL}ObjectProperty> .\n"
              f"<{_CANARY}Bird> <{RDF}type> <{OWL}Class> .\n"
              f"<{_CANARY}sings> <{RDFS}domain> <{_CANARY}Bird> .\n"
              f"<{_CANARY}tweety> <{_CANARY}sings> <{_CANARY}song> .\n").encode("ascii")
_CANARY_PROOF = f"Type( <{_CANARY}tweety> <{_CANARY}Bird> )"

#: Seconds HermiT may run before its JVM is killed and the build stops with exit 5
#: (a timeout, as for queries). Override with --reasoner-timeout or CARNK_REASONER_TIMEOUT.
REASONER_TIMEOUT_ENV = "CARNK_REASONER_TIMEOUT"
DEFAULT_REASONER_TIMEOUT = 600.0

_HERMIT_LINE = re.compile(r"^(SubClassOf|Type|EquivalentClasses)\( ((?:<[^>]+>\s*)+)\)$", re.MULTILINE)
_OWL_NOTHING = OWL + "Nothing"


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


def run_hermit(graph: "Graph", java: str, timeout: float | None = None) -> HermitRun:
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
        raise ReasonerTimeoutError(f"HermiT ran longer than {limit:g} s and was stopped (raise the limit with "
                                   f"--reasoner-timeout or {REASONER_TIMEOUT_ENV}, or use --reasoner owlrl)") from None
    except BaseException:
        _kill(proc, signal)
        raise
    finally:
        os.close(fd)
    output = out.decode("utf-8", "replace").replace("\r", "")
    if proc.returncode == 1 and "Inconsistent ontology" in output + err.decode("utf-8", "replace"):
        return HermitRun(Graph(), [], True)
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
                unsat |= {t for t in terms if t != _OWL_NOTHING and is_term(URIRef(t))}
            else:
                for a in terms:
                    for b in terms:
                        if a != b:
                            conclusions.add((URIRef(a), OWL.equivalentClass, URIRef(b)))
    return HermitRun(conclusions, sorted(unsat), False)


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
