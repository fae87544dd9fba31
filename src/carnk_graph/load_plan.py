"""What a load sends: the release as skolemised N-Triples per graph, target IRIs and chunks.

Computed without touching the network (`carnk-graph load --dry-run` prints it).
Blank nodes become IRIs under ``namespaces.SKOLEM_BASE`` built from the release's
canonical labels, so a reload replaces them instead of adding copies.
"""
from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from .errors import BadInputError
from .namespaces import GRAPH_BASE, GRAPH_NAMES, SKOLEM_BASE

#: Chunk limits per upload method. Virtuoso 7 compiles INSERT DATA into SQL and refuses
#: more than 10 000 lines of it ("SP031"), about 1 500 triples of distinct terms, and its
#: parser runs out of memory near 5 000; its Graph Store POST took 50 000 triples (5 MB)
#: in under a second. A chunk a store still refuses (HTTP 400/413) is split in half and
#: retried (remote.py), so a stricter store only costs a few extra requests.
CHUNK_TRIPLES = {"update": 500, "gsp": 10_000}
CHUNK_BYTES = {"update": 1_000_000, "gsp": 4_000_000}


def skolem_iri(label: str) -> str:
    """The IRI a blank node of the release becomes in a remote store (stable across builds)."""
    return SKOLEM_BASE + urllib.parse.quote(label, safe="")


def _nt_term(term) -> str:
    """N-Triples text of a pyoxigraph term, blank nodes replaced by their skolem IRIs."""
    import pyoxigraph as ox

    if isinstance(term, ox.BlankNode):
        return f"<{skolem_iri(term.value)}>"
    if isinstance(term, ox.Triple):
        raise BadInputError("RDF-star triple terms cannot be loaded into a remote store")
    return str(term)


def read_release(dist: Path) -> dict[str, list[str]]:
    """The release's triples per named-graph name, as sorted, skolemised N-Triples lines."""
    from .layout import Release
    from .release import release_quads

    lines: dict[str, set[str]] = {name: set() for name in GRAPH_NAMES}
    for name, q in release_quads(Release(Path(dist)).nquads):
        if name is not None:
            lines[name].add(f"{_nt_term(q.subject)} {_nt_term(q.predicate)} {_nt_term(q.object)} .")
    return {name: sorted(lines[name]) for name in GRAPH_NAMES}


@dataclass
class GraphLoad:
    """One named graph of the release and where it goes."""

    name: str
    target: str
    chunks: list[list[str]]
    triples: int

    @property
    def bytes(self) -> int:
        return sum(len(line.encode("utf-8")) + 1 for chunk in self.chunks for line in chunk)


@dataclass
class LoadPlan:
    """What a load sends: computed without touching the network, printed by --dry-run."""

    graphs: list[GraphLoad]
    method: str  # "update" (INSERT DATA) or "gsp" (Graph Store POST)

    @property
    def bytes(self) -> int:
        return sum(g.bytes for g in self.graphs)

    def describe(self) -> list[str]:
        how = "Graph Store HTTP POST" if self.method == "gsp" else "SPARQL Update INSERT DATA"
        out = [f"would load {len(self.graphs)} graph(s), {sum(g.triples for g in self.graphs)} triples, "
               f"{self.bytes} bytes of N-Triples, via {how} into staging graphs, then swap in one update:"]
        for g in self.graphs:
            out.append(f"  {g.name}: {g.triples} triples in {len(g.chunks)} chunk(s) -> <{g.target}>")
        return out


def target_iris(names: Sequence[str], prefix: str | None) -> dict[str, str]:
    """Target graph IRI per graph name: the release's own, or `prefix` + name."""
    base = prefix if prefix else GRAPH_BASE
    if not urllib.parse.urlsplit(base).scheme or any(c in base for c in '<>"{}|\\^` \n'):
        raise BadInputError(f"--graph-prefix must be an absolute IRI: {base!r}")
    return {name: base + name for name in names}


def chunk(lines: Sequence[str], max_triples: int = CHUNK_TRIPLES["update"],
          max_bytes: int = CHUNK_BYTES["update"]) -> list[list[str]]:
    """Split N-Triples lines into chunks under both limits (a single huge line gets its own chunk)."""
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for line in lines:
        n = len(line.encode("utf-8")) + 1
        if current and (len(current) >= max_triples or size + n > max_bytes):
            chunks.append(current)
            current, size = [], 0
        current.append(line)
        size += n
    if current:
        chunks.append(current)
    return chunks


def plan_load(release: Mapping[str, Sequence[str]], names: Iterable[str] | None = None,
              prefix: str | None = None, method: str = "update",
              max_triples: int | None = None, max_bytes: int | None = None) -> LoadPlan:
    """Decide graphs, target IRIs and chunks for `release` (graph name -> N-Triples lines)."""
    if method not in CHUNK_TRIPLES:
        raise BadInputError(f"unknown upload method {method!r}")
    max_triples = max_triples or CHUNK_TRIPLES[method]
    max_bytes = max_bytes or CHUNK_BYTES[method]
    wanted = [n for n in GRAPH_NAMES if n in set(names or GRAPH_NAMES)]
    targets = target_iris(wanted, prefix)
    graphs = [GraphLoad(n, targets[n], chunk(release[n], max_triples, max_bytes), len(release[n])) for n in wanted]
    return LoadPlan(graphs, method)
