"""Load the knowledge sources (ontology, knowledge graph, shapes, mapping table) for the knowledge tests.

Plain rdflib and pyoxigraph, parsed straight from the repository, so the content can be tested on its
own. Each loader parses once per test session (cached); callers must not mutate what they get back
(copy first: `graph + Graph()` or `copy_graph`).
"""
from __future__ import annotations

import csv
import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, OWL, SKOS

REPO = Path(__file__).resolve().parents[1]
ONTOLOGY_FILE = REPO / "ontology" / "carnk.ttl"
KG_DIR = REPO / "ontology" / "kg"
SHAPES_DIR = REPO / "shapes"
CHECKS_DIR = REPO / "queries" / "checks"
MAPPINGS_FILE = REPO / "ontology" / "mappings.sssom.tsv"
DATA = REPO / "tests" / "data"

CARNK = "https://w3id.org/carnk/"
KG = CARNK + "kg/"
SHAPES = CARNK + "shapes/"
ONTOLOGY_IRI = URIRef(CARNK + "ontology")
GRAPH_ONTOLOGY = URIRef(CARNK + "graph/ontology")
GRAPH_KG = URIRef(CARNK + "graph/kg")
GRAPH_MAPPINGS = URIRef(CARNK + "graph/mappings")

#: Namespaces of external identifiers that must come from the verified reference table.
EXTERNAL_NAMESPACES = (
    "http://purl.obolibrary.org/obo/",
    "http://www.ebi.ac.uk/efo/",
    "http://purl.uniprot.org/uniprot/",
    "https://www.cellosaurus.org/",
)


def kg_files() -> list[Path]:
    return sorted(KG_DIR.glob("*.ttl"))


def shape_files() -> list[Path]:
    return sorted(SHAPES_DIR.glob("*.ttl"))


def check_files() -> list[Path]:
    return sorted(CHECKS_DIR.glob("*.rq"))


def parse(*paths: Path) -> Graph:
    g = Graph()
    for p in paths:
        g.parse(p, format="turtle")
    return g


@functools.lru_cache(maxsize=None)
def ontology_graph() -> Graph:
    return parse(ONTOLOGY_FILE)


@functools.lru_cache(maxsize=None)
def kg_graph() -> Graph:
    """The Turtle knowledge graph plus the nodes compiled from the curation tables (as the build does)."""
    from carnk_graph.tables import compile_tables, table_files

    g = parse(*kg_files())
    return g + compile_tables(table_files(REPO), (ontology_graph(), g))


@functools.lru_cache(maxsize=None)
def shapes_graph() -> Graph:
    return parse(*shape_files())


@functools.lru_cache(maxsize=None)
def knowledge_graph() -> Graph:
    """Ontology and knowledge graph together (what the build reasons over and validates)."""
    return ontology_graph() + kg_graph()


def is_external(iri) -> bool:
    return isinstance(iri, URIRef) and str(iri).startswith(EXTERNAL_NAMESPACES)


# --- the SSSOM mapping table ---------------------------------------------------------------------

def read_sssom(path: Path) -> tuple[dict[str, str], tuple[dict[str, str], ...]]:
    """(curie_map, rows) of an SSSOM/TSV file: '#' lines are the YAML header, the rest a TSV table."""
    curie_map: dict[str, str] = {}
    body: list[str] = []
    in_map = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            meta = line[1:]
            if meta.strip() == "curie_map:":  # "#curie_map:" and sssom-py's "# curie_map:"
                in_map = True
            elif in_map and meta.startswith("  ") and ":" in meta:
                prefix, _, iri = meta.strip().partition(":")
                curie_map[prefix.strip()] = iri.strip().strip("\"'")
            else:
                in_map = False
        elif line.strip():
            body.append(line)
    return curie_map, tuple(csv.DictReader(body, delimiter="\t"))


@functools.lru_cache(maxsize=None)
def sssom() -> tuple[dict[str, str], tuple[dict[str, str], ...]]:
    """(curie_map, rows) of ontology/mappings.sssom.tsv."""
    return read_sssom(MAPPINGS_FILE)


def expand(curie: str) -> URIRef:
    curie_map, _ = sssom()
    prefix, _, local = curie.partition(":")
    if prefix not in curie_map:
        raise KeyError(f"prefix {prefix!r} of {curie!r} is not in the SSSOM curie_map")
    return URIRef(curie_map[prefix] + local)


@functools.lru_cache(maxsize=None)
def mappings_graph() -> Graph:
    """The SSSOM rows as triples (subject_id predicate_id object_id)."""
    g = Graph()
    for row in sssom()[1]:
        g.add((expand(row["subject_id"]), expand(row["predicate_id"]), expand(row["object_id"])))
    return g


# --- datasets and engines for the quality checks -----------------------------------------------------

def rdflib_dataset(default: Graph, mappings: Graph | None = None) -> Dataset:
    """A dataset whose default graph is the union of its named graphs, as the build's stores are."""
    ds = Dataset(default_union=True)
    g = ds.graph(GRAPH_KG)
    for t in default:
        g.add(t)
    if mappings is not None:
        m = ds.graph(GRAPH_MAPPINGS)
        for t in mappings:
            m.add(t)
    return ds


def run_rdflib(query: str, default: Graph, mappings: Graph | None = None) -> list[tuple]:
    ds = rdflib_dataset(default, mappings)
    return [tuple(row) for row in ds.query(query)]


def run_oxigraph(query: str, default: Graph, mappings: Graph | None = None) -> list[tuple]:
    import pyoxigraph as ox

    store = ox.Store()

    def to_ox(term):
        if isinstance(term, URIRef):
            return ox.NamedNode(str(term))
        if isinstance(term, Literal):
            if term.language:
                return ox.Literal(str(term), language=term.language)
            if term.datatype:
                return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
            return ox.Literal(str(term))
        return ox.BlankNode(str(term))

    def load(graph: Graph, name: URIRef):
        gn = ox.NamedNode(str(name))
        store.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), gn) for s, p, o in graph)

    load(default, GRAPH_KG)
    if mappings is not None:
        load(mappings, GRAPH_MAPPINGS)
    return [tuple(solution) for solution in store.query(query, use_default_graph_as_union=True)]


ENGINES = {"rdflib": run_rdflib, "oxigraph": run_oxigraph}


# --- reasoning ----------------------------------------------------------------------------------

def java_available() -> bool:
    return shutil.which("java") is not None


def hermit(graph: Graph):
    """Run HermiT (owlready2) over `graph`; return (consistent, world, unsatisfiable class IRIs)."""
    import owlready2
    from owlready2 import World, sync_reasoner

    with tempfile.TemporaryDirectory() as tmp:
        nt = Path(tmp) / "input.nt"
        graph.serialize(nt, format="nt", encoding="utf-8")
        world = World()
        world.get_ontology(nt.as_uri()).load()
        try:
            sync_reasoner(world, infer_property_values=True, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            return False, world, []
        unsat = [c.iri for c in world.inconsistent_classes()]
        return True, world, unsat


def types_of(world, iri: str) -> set[str]:
    """Every named class an individual belongs to after reasoning (ancestors included)."""
    ind = world[iri]
    out: set[str] = set()
    for c in ind.is_a:
        for a in getattr(c, "ancestors", lambda: set())():
            if hasattr(a, "iri"):
                out.add(a.iri)
    return out


def label_of(graph: Graph, iri) -> str | None:
    value = graph.value(URIRef(str(iri)), RDFS.label)
    return None if value is None else str(value)


__all__ = [name for name in dir() if not name.startswith("_")] + ["RDF", "RDFS", "OWL", "SKOS", "os", "subprocess"]
