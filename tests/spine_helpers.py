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
