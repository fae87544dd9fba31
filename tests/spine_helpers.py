"""Small helpers for tests of the build line on throw-away copies of a project."""
from __future__ import annotations

import shutil
from pathlib import Path

MINIMAL = Path(__file__).resolve().parent / "data" / "projects" / "minimal"


def copy_project(src: Path, dest: Path) -> Path:
    """A writable copy of a project's sources (ontology/, shapes/, queries/) under dest."""
    for part in ("ontology", "shapes", "queries"):
        if (src / part).is_dir():
            shutil.copytree(src / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def named_graph(ds, name: str):
    """One named graph (ontology, kg, inferred) of a parsed release as a plain rdflib Graph."""
    from rdflib import Graph, URIRef

    from carnk_graph.namespaces import GRAPHS

    g = Graph()
    for t in ds.graph(URIRef(GRAPHS[name])):
        g.add(t)
    return g


def release_snapshot(dist: Path) -> dict[str, bytes]:
    """Every release file's bytes (the store is compared separately)."""
    return {p.name: p.read_bytes() for p in sorted(dist.iterdir()) if p.is_file()}


def same_graph(a, b) -> bool:
    """Whether two rdflib graphs are isomorphic (the same triples up to blank-node labels): what
    rdflib.compare.isomorphic decides, in milliseconds instead of a second on the shipped ontology.

    Both graphs are relabelled by the release's own canonical form (carnk_graph.canonical: blank-node
    labels derived from content, rdflib's canonicalisation where content cannot tell blank nodes
    apart) and compared as sets. The relabelling must keep every triple and every blank node distinct, or the answer is
    rdflib's."""
    from rdflib import BNode
    from rdflib.compare import isomorphic

    from carnk_graph.canonical import canonical

    if len(a) != len(b):
        return False
    ca, cb = canonical(a), canonical(b)

    def bnodes(g) -> int:
        return len({t for triple in g for t in triple if isinstance(t, BNode)})

    if len(ca) != len(a) or len(cb) != len(b) or bnodes(ca) != bnodes(a) or bnodes(cb) != bnodes(b):
        return isomorphic(a, b)  # not a one-to-one relabelling: let rdflib decide
    return set(ca) == set(cb)
