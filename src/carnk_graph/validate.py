"""SHACL validation: pyshacl over the data, always with the ontology.

The ontology goes in as `ont_graph` so that a shape targeting a class also
reaches instances of its subclasses. Only sh:Violation fails a build;
warnings and infos are reported. Shapes are checked for SERVICE, FROM and
LOAD before anything runs: a shape must never reach the network or a file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import RefusedError
from .namespaces import PREFIXES

if TYPE_CHECKING:
    from rdflib import Graph

SH = PREFIXES["sh"]
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
        value = f" (value {self.value})" if self.value else ""
        return f"{self.severity}: {self.focus} {self.path or '-'}: {self.message}{value} [{self.shape}]"


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

    The check parses the SPARQL (see safety.sparql_refusal), so `?from` or a
    literal "DELETE" pass while `SERVI\\u0043E` or `SERVICE:x` do not.
    """
    from rdflib import URIRef

    from .safety import sparql_refusal

    for prop in ("select", "ask", "construct", "update"):
        for node, text in sorted(shapes.subject_objects(URIRef(SH + prop))):
            keyword = sparql_refusal(str(text))
            if keyword:
                owner = next(iter(sorted(shapes.subjects(None, node))), node)  # the shape, not its blank node
                raise RefusedError(f"shape {_short(owner)} uses {keyword} in its SPARQL "
                                   f"(sh:{prop}); shapes may only read the data graph, refused before running")


_BY_LENGTH = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))


def _short(term) -> str:
    """A prefixed name (longest matching namespace first), else <IRI>, else the literal text."""
    s = str(term)
    for p, iri in _BY_LENGTH:
        if s.startswith(iri) and len(s) > len(iri) and "/" not in s[len(iri):]:
            return f"{p}:{s[len(iri):]}"
    return f"<{s}>" if s.startswith(("http", "urn", "file")) else s


def _path_text(report: "Graph", path) -> str:
    if path is None:
        return ""
    from rdflib import BNode

    if isinstance(path, BNode):
        return " / ".join(f"{_short(p)} {_short(o)}" for p, o in report.predicate_objects(path)) or "(complex path)"
    return _short(path)


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


def validate(data: "Graph", shapes: "Graph", ontology: "Graph") -> ValidationResult:
    """Validate `data` against `shapes` with `ontology` mixed in; inputs are never changed."""
    import pyshacl

    from .safety import disable_rdflib_loading

    check_shapes_safe(shapes)
    disable_rdflib_loading()  # a shape's FROM could otherwise make rdflib read a file
    from rdflib import Graph

    shapes_copy = Graph()  # pyshacl adds triples (owl:Class rdfs:subClassOf rdfs:Class ...) to its shapes graph
    shapes_copy += shapes
    _conforms, report, _text = pyshacl.validate(
        data, shacl_graph=shapes_copy, ont_graph=ontology, inference="none",
        advanced=True, allow_warnings=True, abort_on_first=False, inplace=False,
    )
    return ValidationResult(findings_from_report(report), report)
