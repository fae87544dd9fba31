"""The documentation's diagrams: Graphviz DOT text for the schema overview and a CAR construct,
and the Graphviz command line that draws them as SVG and PNG.

The renderer is the `graphviz-pure` command (the `docs` extra: a self-contained
binary from PyPI that gives the same bytes on every platform) or, failing that,
a system `dot`. SVG output is made deterministic (no generator comment) and
given the construct figure's font fallback list.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .constructs import DOMAIN_COLOURS, SVG_FONT, Construct
from .errors import BadInputError
from .namespaces import CARNK, ONTOLOGY_IRI, OWL, RDF, RDFS
from .ontology_terms import anchor, curie, label_of, uriref

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

RENDERER_HINT = ("no Graphviz renderer found; install one with `pip install 'carnk-graph[docs]'` "
                 "(graphviz-pure) or `apt-get install graphviz`, then rerun `carnk-graph docs` for the "
                 "SVG and PNG diagrams (the .dot files are written)")


@dataclass
class Diagram:
    """A diagram's DOT text and, when a renderer was found, its pictures."""

    stem: str
    caption: str
    dot: str
    svg: bytes | None = None
    png: bytes | None = None


def dot_string(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _class_members(graph: "Graph", node: "Node") -> list:
    """Named classes a domain or range stands for (a union is expanded; other expressions are skipped)."""
    from rdflib import BNode, URIRef
    from rdflib.collection import Collection

    if isinstance(node, URIRef):
        return [node]
    if isinstance(node, BNode):
        union = graph.value(node, uriref(OWL + "unionOf"))
        if union is not None:
            return [m for m in Collection(graph, union) if isinstance(m, URIRef)]
    return []


def overview_edges(ontology: "Graph") -> list[tuple[str, str, str]]:
    """(domain class, property, range class) for every object property with both a domain and a range."""
    edges = set()
    for prop in ontology.subjects(uriref(RDF + "type"), uriref(OWL + "ObjectProperty")):
        domains = [c for d in ontology.objects(prop, uriref(RDFS + "domain")) for c in _class_members(ontology, d)]
        ranges = [c for r in ontology.objects(prop, uriref(RDFS + "range")) for c in _class_members(ontology, r)]
        for d in domains:
            for r in ranges:
                edges.add((str(d), str(prop), str(r)))
    return sorted(edges)


_DOT_HEAD = ('  graph [fontname="Arimo", fontsize=11, bgcolor="white", pad=0.2];\n'
             '  node [fontname="Arimo", fontsize=11];\n'
             '  edge [fontname="Arimo", fontsize=9, color="#555555", fontcolor="#333333"];\n')


def overview_dot(ontology: "Graph") -> str:
    """The schema overview: classes joined by the object properties between them (via domain/range),
    plus subclass links (hollow arrows) among the classes drawn."""
    from rdflib import URIRef

    edges = overview_edges(ontology)
    nodes = sorted({e[0] for e in edges} | {e[2] for e in edges})
    node_set = set(nodes)
    subclass = sorted((str(s), str(o)) for s, o in ontology.subject_objects(uriref(RDFS + "subClassOf"))
                      if isinstance(s, URIRef) and isinstance(o, URIRef)
                      and str(s) in node_set and str(o) in node_set)
    title = label_of(ontology, uriref(ONTOLOGY_IRI), fallback=False) or "carnk ontology"
    out = [f"digraph overview {{\n  // {title}: classes and the object properties between them\n",
           '  graph [rankdir=LR, nodesep=0.25, ranksep=0.9, concentrate=false];\n', _DOT_HEAD,
           '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", color="#3b6ea8"];\n']
    for iri in nodes:
        fill = "" if iri.startswith(CARNK) else ', fillcolor="#f4f4f4", color="#888888"'
        out.append(f"  {dot_string(curie(iri))} [label={dot_string(label_of(ontology, uriref(iri)))}, "
                   f"URL={dot_string('#' + anchor(iri))}, tooltip={dot_string(iri)}{fill}];\n")
    for d, p, r in edges:
        out.append(f"  {dot_string(curie(d))} -> {dot_string(curie(r))} "
                   f"[label={dot_string(label_of(ontology, uriref(p)))}, tooltip={dot_string(curie(p))}];\n")
    for s, o in subclass:
        out.append(f"  {dot_string(curie(s))} -> {dot_string(curie(o))} "
                   '[arrowhead=onormal, style=dashed, color="#999999", tooltip="subClassOf"];\n')
    out.append("}\n")
    return "".join(out)


def construct_dot(construct: Construct) -> str:
    """One CAR construct as a chain of its domains, outside the cell (left) to inside (right)."""
    colours = dict(DOMAIN_COLOURS)
    title = construct.label + (f"\nsource: {construct.source}" if construct.source else "")
    out = [f"digraph construct {{\n  // {curie(construct.iri)}: domains in order, outside to inside\n",
           f"  graph [rankdir=LR, nodesep=0.3, ranksep=0.35, labelloc=t, label={dot_string(title)}];\n",
           _DOT_HEAD, '  node [shape=box, style="rounded,filled", color="#444444"];\n',
           '  outside [shape=plaintext, style="", label="outside\\nthe cell"];\n',
           '  inside [shape=plaintext, style="", label="inside\\nthe cell"];\n']
    ids = []
    for d in construct.domains:
        nid = f"d{d.position}"
        ids.append(nid)
        lines = [f"{d.position}. {d.label}"]
        if d.kind:
            lines.append(f"({d.kind})")
        if d.protein:
            lines.append(f"from {d.protein}")
        out.append(f"  {nid} [label={dot_string(chr(10).join(lines))}, "
                   f"fillcolor={dot_string(colours.get(d.family, '#ffffff'))}, tooltip={dot_string(d.domain)}];\n")
    chain = ["outside", *ids, "inside"]
    out.append("  " + " -> ".join(chain) + ' [arrowhead=none, penwidth=1.5];\n')
    out.append("  { rank=same; " + "; ".join(chain) + "; }\n}\n")
    return "".join(out)


@dataclass(frozen=True)
class Renderer:
    """A Graphviz command line: graphviz-pure (preferred) or a system `dot`."""

    path: str
    name: str

    def render(self, dot: str, fmt: str) -> bytes:
        """Lay out and draw DOT text as 'svg' or 'png' bytes (SVG made deterministic)."""
        try:
            proc = subprocess.run([self.path, f"-T{fmt}"], input=dot.encode("utf-8"),
                                  capture_output=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise BadInputError(f"{self.name} failed to run: {e}") from None
        if proc.returncode != 0 or not proc.stdout:
            msg = " ".join(proc.stderr.decode("utf-8", "replace").split())[:300]
            raise BadInputError(f"{self.name} could not render the diagram: {msg or 'no output'}")
        return normalise_svg(proc.stdout) if fmt == "svg" else proc.stdout


def find_renderer() -> Renderer | None:
    """graphviz-pure beside this Python (a venv's bin/ need not be on PATH) or on PATH; else `dot`."""
    if os.environ.get("CARNK_NO_GRAPHVIZ"):  # lets a test see the no-renderer path on any machine
        return None
    exe = "graphviz-pure.exe" if sys.platform == "win32" else "graphviz-pure"
    beside = Path(sys.executable).parent / exe
    if beside.is_file() and os.access(beside, os.X_OK):
        return Renderer(str(beside), "graphviz-pure")
    for name in ("graphviz-pure", "dot"):
        found = shutil.which(name)
        if found:
            return Renderer(found, name)
    return None


_GENERATOR_COMMENT = re.compile(rb"<!-- Generated by graphviz[^>]*?-->\s*", re.DOTALL)


def normalise_svg(data: bytes) -> bytes:
    """Drop the generator comment (it names the renderer's version) so equal drawings are equal bytes,
    and give every text the construct figure's font fallback list: the layout was measured with Arimo,
    and a viewer without it should fall back to a metric-compatible face, not to a wider serif."""
    data = _GENERATOR_COMMENT.sub(b"", data)
    return data.replace(b'font-family="Arimo"', b'font-family="' + SVG_FONT.encode() + b'"')
