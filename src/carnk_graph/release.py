"""Write a release: six serialisations, byte-identical from build to build.

Determinism comes from two things: blank nodes get canonical labels (a hash
of their surroundings, so the same graph always names them the same), and
every serialiser is fed statements in sorted order. A build writes the
files into a release folder of their own and switches to it in one step
(layout.py), so an error or a kill at any point leaves the previous release as it was.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

from .errors import BadInputError
from .layout import ARTEFACTS, FORMATS, Release
from .namespaces import GRAPH_NAMES, GRAPHS, PREFIXES

if TYPE_CHECKING:
    from rdflib import Dataset, Graph

QUAD_FORMATS = ("nq", "trig", "jsonld")
RDFLIB_FORMAT = {"ttl": "turtle", "nt": "nt", "nq": "nquads", "trig": "trig", "jsonld": "json-ld", "owl": "xml"}


def _content_labels(graph: "Graph") -> dict | None:
    """Blank-node labels from a hash of what each blank node says (its outgoing
    statements, recursively): linear time for the tree-shaped blank nodes of OWL
    (restrictions, lists). None when that does not tell every blank node apart
    (cycles, or two blank nodes saying the same thing), so the caller falls back
    to full canonicalisation."""
    import hashlib
    from collections import defaultdict

    from rdflib import BNode

    edges: dict = defaultdict(list)
    nodes: set = set()
    for s, p, o in graph:
        if isinstance(s, BNode):
            edges[s].append((p, o))
            nodes.add(s)
        if isinstance(o, BNode):
            nodes.add(o)
    memo: dict = {}
    expanded: set = set()  # expanded but not yet hashed: exactly the blank nodes on the current path
    # Depth-first, children before parents, with an explicit stack: a long rdf:List is a chain
    # of thousands of blank nodes, deeper than Python's recursion limit.
    for root in nodes:
        stack = [root]
        while stack:
            b = stack[-1]
            if b in memo:
                stack.pop()
                continue
            if b not in expanded:
                expanded.add(b)
                children = [o for _, o in edges[b] if isinstance(o, BNode) and o not in memo]
                if any(o in expanded for o in children):
                    return None  # a cycle
                if children:
                    stack.extend(children)
                    continue
            parts = [f"{p.n3()} {'_:' + memo[o] if isinstance(o, BNode) else o.n3()}" for p, o in edges[b]]
            memo[b] = hashlib.sha256("\n".join(sorted(parts)).encode("utf-8")).hexdigest()
            expanded.discard(b)
            stack.pop()
    labels = {b: memo[b] for b in nodes}
    # Blank nodes that say the same thing (one restriction written under two
    # classes) are told apart by who points at them; refine until stable.
    inbound: dict = defaultdict(list)
    for s, p, o in graph:
        if isinstance(o, BNode):
            inbound[o].append((s, p))
    for _ in range(len(nodes)):
        if len(set(labels.values())) == len(labels):
            return labels
        refined = {}
        for b, label in labels.items():
            ctx = sorted(f"{'_:' + labels[s] if isinstance(s, BNode) else s.n3()} {p.n3()}" for s, p in inbound[b])
            refined[b] = hashlib.sha256((label + "\n" + "\n".join(ctx)).encode("utf-8")).hexdigest()
        if len(set(refined.values())) == len(set(labels.values())):
            return None  # no progress: truly symmetric blank nodes
        labels = refined
    return labels if len(set(labels.values())) == len(labels) else None


def canonical(graph: "Graph") -> "Graph":
    """A copy of `graph` whose blank nodes carry labels derived from the graph's content.

    Content hashes serve where they tell every blank node apart (the usual case,
    and fast); otherwise rdflib's canonicalisation (RDFC-style, slower) decides.
    Labels are short prefixes of the hashes; the full hash is used if a prefix
    would collide.
    """
    from rdflib import BNode, Graph
    from rdflib.compare import to_canonical_graph

    out = Graph()
    labels = _content_labels(graph)
    if labels is not None:
        source, key = graph, lambda t: labels[t]
    else:
        source, key = list(to_canonical_graph(graph)), lambda t: str(t)[2:]
    ids = sorted({key(t) for tr in source for t in (tr[0], tr[2]) if isinstance(t, BNode)})
    short = {i: "b" + i[:12] for i in ids}
    if len(set(short.values())) != len(ids):
        short = {i: "b" + i for i in ids}
    relabel = lambda t: BNode(short[key(t)]) if isinstance(t, BNode) else t  # noqa: E731
    for s, p, o in sorted(((relabel(s), p, relabel(o)) for s, p, o in source),
                          key=lambda tr: tuple(x.n3() for x in tr)):
        out.add((s, p, o))
    return out


def ox_quads(graphs: Mapping[str, "Graph"], names: Iterable[str]):
    import pyoxigraph as ox

    from .sources import rdflib_to_ox

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


def _jsonld_context(context_file: Path | None) -> dict:
    """The shipped JSON-LD context (inlined, never referenced remotely), or the project prefixes.

    The shipped context declares no "@version": 1.1: it uses no JSON-LD 1.1 feature, and the
    declaration alone makes JSON-LD 1.0 processors (jsonld-java in Jena, pyld in 1.0 mode) refuse
    the whole file (tests/test_release.py reads the release with pyld in 1.0 mode)."""
    if context_file is not None and context_file.exists():
        from .sources import check_nesting, read_regular

        data = read_regular(context_file)  # a FIFO or a link to /dev/zero: exit 2, not a hang
        check_nesting(data, "jsonld", context_file)  # json.loads recurses: deep nesting would crash it
        try:
            ctx = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise BadInputError(f"not a JSON-LD context: {e}", path=context_file) from None
        ctx = ctx.get("@context", ctx) if isinstance(ctx, dict) else None
        if not isinstance(ctx, dict):
            raise BadInputError("not a JSON-LD context: expected an object (or {\"@context\": {...}})",
                                path=context_file)
        return ctx
    return dict(PREFIXES)


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
    ds = as_dataset(graphs, names)
    return (json.dumps(_stable_json(_jsonld_object(ds, _jsonld_context(context_file))), indent=1,
                       sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


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


def _jsonld_object(ds: "Dataset", context: dict):
    """What rdflib's JSON-LD serializer writes (compacted, native types), without its data loss.

    rdflib 7.x loses statements in two ways, both found by the hypothesis round
    trips (tests/test_roundtrip_properties.py) and both mended by the subclass:
    it starts its walk only from IRI subjects and from blank nodes that are
    never objects, so a blank node in a cycle of blank nodes (or a self-loop
    `_:b p _:b`) is never reached; and a second value of a property replaces a
    first value that is "", 0 or false.
    """
    from rdflib import BNode, URIRef
    from rdflib.plugins.serializers.jsonld import Converter
    from rdflib.plugins.shared.jsonld.context import Context

    class CompleteConverter(Converter):
        def from_graph(self, graph):
            nodemap: dict = {}
            subjects = sorted(set(graph.subjects()), key=lambda t: t.n3())
            roots = [s for s in subjects
                     if isinstance(s, URIRef) or (isinstance(s, BNode) and not any(graph.subjects(None, s)))]
            self._pending: list = []
            for s in roots:
                self.process_subject(graph, s, nodemap)
                self._drain(graph, nodemap)
            for s in _unreachable_bnodes(graph, roots, subjects):
                if s.n3() not in nodemap:
                    self.process_subject(graph, s, nodemap)
                    self._drain(graph, nodemap)
            return list(nodemap.values())

        def _drain(self, graph, nodemap) -> None:
            while self._pending:
                b = self._pending.pop()
                if b.n3() not in nodemap:
                    self.process_subject(graph, b, nodemap)

        def to_raw_value(self, graph, s, o, nodemap):
            # rdflib writes every blank node at the top level and refers to it by @id, but it gets
            # there by recursion, one Python frame per level of nesting; a chain of a few thousand
            # blank nodes overflowed the stack. Same output, with a work list instead.
            if isinstance(o, BNode) and self.to_collection(graph, o) is None:
                if o.n3() not in nodemap:
                    self._pending.append(o)
                return {self.context.id_key: o.n3()}
            return super().to_raw_value(graph, s, o, nodemap)

        def add_to_node(self, graph, s, p, o, s_node, nodemap):
            # rdflib tests `if value:` before appending a second value, so a first value that is
            # falsy ("", 0, false) is overwritten by the second one; put both back.
            falsy = {k: v for k, v in s_node.items() if isinstance(v, (str, int, float)) and not v}
            super().add_to_node(graph, s, p, o, s_node, nodemap)
            for key, old in falsy.items():
                new = s_node.get(key)
                if new is not old:
                    s_node[key] = [old, *(new if isinstance(new, list) else [new])]

    ctx = Context(context)
    result = CompleteConverter(ctx, True, False).convert(ds)
    if ctx.active:
        if isinstance(result, list):
            result = {ctx.get_key("@graph"): result}
        result["@context"] = context
    return result


def _unreachable_bnodes(graph, roots, subjects) -> list:
    """Blank-node subjects no path of object links leads to from `roots` (only cycles of blank nodes)."""
    from rdflib import BNode

    seen = set(roots)
    todo = list(roots)
    while todo:
        for o in graph.objects(todo.pop(), None):
            if isinstance(o, BNode) and o not in seen:
                seen.add(o)
                todo.append(o)
    missing = []
    for s in subjects:
        if isinstance(s, BNode) and s not in seen:
            missing.append(s)  # process it: everything it reaches is emitted with it
            seen.add(s)
            todo = [s]
            while todo:
                for o in graph.objects(todo.pop(), None):
                    if isinstance(o, BNode) and o not in seen:
                        seen.add(o)
                        todo.append(o)
    return missing


def _sorted_lines(data: bytes) -> bytes:
    """N-Triples / N-Quads statements in sorted order.

    Split on "\n" only: str.splitlines() also splits on U+2028, U+0085 and other
    characters the writers leave unescaped inside literals, which cut a
    statement in two and sorted the halves apart (found by the round trips).
    """
    lines = sorted(line for line in data.decode("utf-8").split("\n") if line)
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def _stable_json(node, ordered: bool = False):
    """JSON-LD with every unordered array sorted (rdflib emits nodes in hash order).

    Arrays under @list are RDF collections whose order is meaning, so they keep it.
    """
    if isinstance(node, dict):
        return {k: _stable_json(v, ordered=(k == "@list")) for k, v in node.items()}
    if isinstance(node, list):
        items = [_stable_json(v) for v in node]
        return items if ordered else sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return node


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


def write_files(directory: Path, files: Mapping[str, bytes]) -> None:
    """Write every file to a temporary name in `directory`, then rename them all into place.

    If any write fails (or anything else interrupts it), the temporaries are
    removed and no file is replaced.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadInputError(f"cannot create output directory: {e.strerror}", path=directory) from None
    for name in files:
        if (directory / name).is_dir():  # checked first: a rename over a folder fails half-way through
            raise BadInputError("is a directory; cannot write a file there", path=directory / name)
    temps: list[tuple[str, Path]] = []
    try:
        for name, data in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
            temps.append((name, Path(tmp)))
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a release is for everyone to read
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for name, tmp in temps:
            os.replace(tmp, directory / name)
    except BaseException as e:
        for _, tmp in temps:
            tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise BadInputError(f"cannot write {_names(files)}: {e.strerror or e}", path=directory) from None
        raise


def _names(files: Mapping[str, bytes]) -> str:
    names = list(files)
    return names[0] if len(names) == 1 else f"the release ({len(names)} files)"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: bytes) -> None:
    """Write one file atomically (temporary file in the same folder, then rename).

    A device or a pipe (/dev/stdout, /dev/full, a FIFO) is written in place:
    renaming a temporary file over it would replace the device node itself.
    A symbolic link to a regular file keeps being a link; its target is replaced.
    """
    import stat

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as e:
        raise BadInputError(f"cannot write: {e.strerror}", path=path) from None
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        try:
            with open(path, "wb") as fh:
                fh.write(data)
                fh.flush()
        except OSError as e:
            raise BadInputError(f"cannot write: {e.strerror or e}", path=path) from None
        return
    if mode is not None and path.is_symlink():
        path = Path(os.path.realpath(path))
    write_files(path.parent, {path.name: data})


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


def read_release_graphs(release: "Release | Path") -> dict[str, "Graph"]:
    """The named graphs of a built release, read back from its N-Quads file."""
    import pyoxigraph as ox
    from rdflib import Graph

    from .sources import ox_to_rdflib

    if not isinstance(release, Release):
        release = Release(Path(release))
    graphs = {name: Graph() for name in GRAPH_NAMES}
    by_iri = {GRAPHS[name]: graphs[name] for name in GRAPH_NAMES}
    for q in ox.parse(path=str(release.nquads), format=ox.RdfFormat.N_QUADS):
        g = by_iri.get(getattr(q.graph_name, "value", None))
        if g is not None:
            g.add((ox_to_rdflib(q.subject), ox_to_rdflib(q.predicate), ox_to_rdflib(q.object)))
    return graphs


def export_graph(release: "Release | Path", fmt: str, names: Iterable[str], context_file: Path | None = None) -> bytes:
    """Serialise some of a built release's named graphs in one format."""
    return serialize(read_release_graphs(release), fmt, tuple(names), context_file)
