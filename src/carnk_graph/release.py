"""Write a release: six serialisations, byte-identical from build to build.

Determinism comes from two things: blank nodes get canonical labels
(canonical.py: a hash of their surroundings, so the same graph always names
them the same), and every serialiser is fed statements in sorted order
(JSON-LD's own mending lives in jsonld.py). A build writes the files into a
release folder of their own (atomic.py) and switches to it in one step
(layout.py), so an error or a kill at any point leaves the previous release as it was.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

from .errors import BadInputError
from .layout import ARTEFACTS, FORMATS, Release
from .namespaces import GRAPH_NAMES, GRAPHS, PREFIXES

if TYPE_CHECKING:
    from typing import Iterator

    from pyoxigraph import Quad
    from rdflib import Dataset, Graph

QUAD_FORMATS = ("nq", "trig", "jsonld")
RDFLIB_FORMAT = {"ttl": "turtle", "nt": "nt", "nq": "nquads", "trig": "trig", "jsonld": "json-ld", "owl": "xml"}


def ox_quads(graphs: Mapping[str, "Graph"], names: Iterable[str]):
    import pyoxigraph as ox

    from .terms import rdflib_to_ox

    quads = []
    for name in names:
        g = ox.NamedNode(GRAPHS[name])
        quads.extend(ox.Quad(rdflib_to_ox(s), rdflib_to_ox(p), rdflib_to_ox(o), g) for s, p, o in graphs[name])
    return quads


def _sorted_triples(quads) -> list:
    import pyoxigraph as ox

    unique = {str(ox.Triple(q.subject, q.predicate, q.object)): ox.Triple(q.subject, q.predicate, q.object)
              for q in quads}
    return [unique[k] for k in sorted(unique)]


def as_dataset(graphs: Mapping[str, "Graph"], names: Iterable[str] = GRAPH_NAMES) -> "Dataset":
    """An rdflib Dataset holding the named graphs, statements added in sorted order."""
    from rdflib import Dataset, URIRef

    ds = Dataset()
    for p, iri in PREFIXES.items():
        ds.bind(p, iri)
    for name in names:
        g = ds.graph(URIRef(GRAPHS[name]))
        for t in sorted(graphs[name], key=lambda tr: tuple(x.n3() for x in tr)):
            g.add(t)
    return ds


def serialize(graphs: Mapping[str, "Graph"], fmt: str, names: Iterable[str] = GRAPH_NAMES,
              context_file: Path | None = None) -> bytes:
    """One release file's bytes. Triple formats carry the union of `names`; quad formats keep them apart."""
    import pyoxigraph as ox

    names = tuple(names)
    if fmt not in FORMATS:
        raise BadInputError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    quads = ox_quads(graphs, names)
    if fmt == "nq":
        return _sorted_lines(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    if fmt == "nt":
        return _sorted_lines(ox.serialize(_sorted_triples(quads), format=ox.RdfFormat.N_TRIPLES))
    if fmt == "ttl":
        return _plain_local_names(_sorted_prefixes(
            ox.serialize(_sorted_triples(quads), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)))
    if fmt == "trig":
        ordered = sorted(quads, key=lambda q: (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)))
        return _plain_local_names(_sorted_prefixes(ox.serialize(ordered, format=ox.RdfFormat.TRIG, prefixes=PREFIXES)))
    if fmt == "owl":
        # XML parsers turn a raw carriage return into a newline; only &#13; keeps it. The writer
        # emits no CR of its own, so every CR in its output is inside a literal or an attribute.
        data = ox.serialize(_sorted_triples(quads), format=ox.RdfFormat.RDF_XML,
                            prefixes=PREFIXES).replace(b"\r", b"&#13;")
        _refuse_ill_formed_xml(data)
        return data
    # JSON-LD: rdflib compacts with the shipped context; keys sorted for stable bytes.
    from .jsonld import jsonld_bytes

    return jsonld_bytes(as_dataset(graphs, names), context_file)


_XML_ILLEGAL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")


def _refuse_ill_formed_xml(data: bytes) -> None:
    """XML 1.0 cannot carry most C0 control characters, not even as &#1;: RDF/XML holding one is not
    well-formed and no tool reads it. The build refuses such literals in the sources (with file and
    line); this guards every other way in (an export of a graph made elsewhere)."""
    m = _XML_ILLEGAL_BYTES.search(data)
    if m:
        ch = m.group().decode("utf-8")
        raise BadInputError(f"a literal holds the control character U+{ord(ch):04X}, which RDF/XML (XML 1.0) "
                            "cannot carry; choose another format (ttl, nt, nq, trig, jsonld)")


def _sorted_lines(data: bytes) -> bytes:
    """N-Triples / N-Quads statements in sorted order.

    Split on "\n" only: str.splitlines() also splits on U+2028, U+0085 and other
    characters the writers leave unescaped inside literals, which cut a
    statement in two and sorted the halves apart (found by the round trips).
    """
    lines = sorted(line for line in data.decode("utf-8").split("\n") if line)
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


#: One token of the Turtle/TriG writer's output: a string literal or an IRI (skipped as they are),
#: or a prefixed name whose local part holds a backslash escape (carnk:graph\/kg).
_TURTLE_TOKEN = re.compile(rb'"(?:[^"\\\n]|\\.)*"|<[^>\n]*>'
                           rb'|(?<![\w:])([A-Za-z][\w.-]*)?:((?:[^\s\\"<>]|\\.)*\\(?:[^\s\\"<>]|\\.)*)')


def _plain_local_names(data: bytes) -> bytes:
    r"""Write a prefixed name with an escaped local name (carnk:graph\/kg) as a full IRI instead.

    The escapes are legal Turtle, but Virtuoso's loaders keep the backslash in the IRI and the
    OWL API 3.4 (inside HermiT's jar) rejects the file; a full IRI reads the same everywhere.
    The writer emits short strings only ("...", escapes inside), so skipping string and IRI
    tokens leaves exactly the prefixed names."""
    def full(m: re.Match) -> bytes:
        if m.group(2) is None:
            return m.group(0)
        base = PREFIXES.get((m.group(1) or b"").decode("ascii"))
        if base is None:
            return m.group(0)
        local = re.sub(rb"\\(.)", rb"\1", m.group(2))
        return b"<" + base.encode("utf-8") + local + b">"

    return _TURTLE_TOKEN.sub(full, data)


def _sorted_prefixes(data: bytes) -> bytes:
    """Put a Turtle/TriG header's @prefix lines in alphabetical order (the serialiser's order is a hash map's)."""
    lines = data.split(b"\n")
    n = 0
    while n < len(lines) and lines[n].startswith(b"@prefix "):
        n += 1
    return b"\n".join(sorted(lines[:n]) + lines[n:])


def parse_release_bytes(data: bytes, fmt: str) -> "Dataset":
    """Parse a release file back into an rdflib Dataset (for round-trip checks and diffs)."""
    from rdflib import Dataset

    ds = Dataset()
    ds.parse(data=data, format=RDFLIB_FORMAT[fmt])
    return ds


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class ReleaseFiles:
    """The bytes of every file of a release, keyed by file name."""

    files: dict[str, bytes]

    def digests(self) -> dict[str, str]:
        return {name: sha256(data) for name, data in sorted(self.files.items())}


def render_release(graphs: Mapping[str, "Graph"], context_file: Path | None = None) -> ReleaseFiles:
    """Serialise the release in every format, and the ODK-style artefacts (nothing is written yet)."""
    files = {FORMATS[f]: serialize(graphs, f, GRAPH_NAMES, context_file) for f in FORMATS}
    for file_name, names in ARTEFACTS.values():
        files[file_name] = serialize(_as_artefact(graphs, file_name), "owl", names)
    return ReleaseFiles(files)


def _as_artefact(graphs: Mapping[str, "Graph"], file_name: str) -> dict[str, "Graph"]:
    """The graphs with the ontology header renamed for one artefact: its own ontology IRI and
    version IRI (ODK: carnk-base.owl is <.../ontology/carnk-base.owl>, version
    <.../ontology/0.1.0/carnk-base.owl>), so that a tool holding both never confuses them."""
    from rdflib import OWL, Graph, URIRef

    from .namespaces import ONTOLOGY_IRI, artefact_iri, artefact_version_iri

    header, renamed = URIRef(ONTOLOGY_IRI), URIRef(artefact_iri(file_name))
    versions = [str(v) for v in graphs["ontology"].objects(header, OWL.versionInfo)]
    onto = Graph()
    for s, p, o in graphs["ontology"]:
        if s == header:
            s = renamed
            if p == OWL.versionIRI and versions:
                o = URIRef(artefact_version_iri(versions[0], file_name))
        onto.add((s, p, o))
    return {**graphs, "ontology": onto}


def release_quads(path: Path) -> "Iterator[tuple[str | None, Quad]]":
    """Each statement of a release's N-Quads file with the short name of its graph (ontology, kg,
    inferred; None for any other graph), read lazily: the one reading of carnk.nq. No file, or a file
    that does not parse: one BadInputError naming it."""
    import pyoxigraph as ox

    path = Path(path)
    if not path.is_file():
        raise BadInputError("no built release: run `carnk-graph build` first", path=path)
    names = {iri: name for name, iri in GRAPHS.items()}
    try:
        for q in ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS):
            yield names.get(getattr(q.graph_name, "value", None)), q
    except (SyntaxError, OSError, ValueError) as e:
        raise BadInputError(f"cannot read the release: {e}", path=path) from None


def read_release_graphs(release: "Release | Path") -> dict[str, "Graph"]:
    """The named graphs of a built release, read back from its N-Quads file."""
    from rdflib import Graph

    from .terms import ox_to_rdflib

    if not isinstance(release, Release):
        release = Release(Path(release))
    graphs = {name: Graph() for name in GRAPH_NAMES}
    for name, q in release_quads(release.nquads):
        if name is not None:
            graphs[name].add((ox_to_rdflib(q.subject), ox_to_rdflib(q.predicate), ox_to_rdflib(q.object)))
    return graphs


def export_graph(release: "Release | Path", fmt: str, names: Iterable[str], context_file: Path | None = None) -> bytes:
    """Serialise some of a built release's named graphs in one format."""
    return serialize(read_release_graphs(release), fmt, tuple(names), context_file)
