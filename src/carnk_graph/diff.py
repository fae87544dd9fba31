"""`carnk-graph diff OLD NEW`: what changed between two releases, for a curator to read.

OLD and NEW are each one of:
- a release file in any of the six formats (carnk.{ttl,nt,nq,trig,jsonld,owl}), parsed
  strictly (quad formats keep their named graphs; triple formats are one union graph);
- a built dist/ folder (its carnk.nq) or a project folder (built into a temporary dist);
- a git revision of the project (a commit, tag or branch): its sources are exported with
  `git archive` into a temporary folder and built there without reasoning.

The report lists added and removed classes, properties and individuals (by label and IRI),
terms whose statements changed, and added and removed triples per named graph. Blank nodes
are compared by structure (rdflib's canonical labelling), so an unchanged restriction or
list is not reported as removed and re-added.
"""
from __future__ import annotations

import io
import json
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from .errors import BadInputError, NotConformingError
from .layout import Release
from .namespaces import GRAPH_NAMES, GRAPHS, OWL, compact_iri
from .terms import CLASS_TYPES, PROPERTY_TYPES

if TYPE_CHECKING:
    from rdflib import Graph

ALL = "all"  # the one graph of a triple-format file: the union of the named graphs
SOURCE_DIRS = ("ontology", "shapes", "queries")
ENTITY_KINDS = ("classes", "properties", "individuals")


@dataclass
class Side:
    """One side of a comparison: its named graphs (or the single union graph of a triple file)."""

    spec: str
    graphs: dict[str, "Graph"]
    kind: str                      # "file" | "dist" | "project" | "revision"
    notes: list[str] = field(default_factory=list)


# -- reading a side ----------------------------------------------------------------------------------

def _graphs_from_quads(quads) -> dict[str, "Graph"]:
    """Quads into one rdflib Graph per named graph, keyed by short name (ontology/kg/inferred) or IRI."""
    import pyoxigraph as ox
    from rdflib import Graph

    from .terms import ox_to_rdflib

    by_iri = {iri: name for name, iri in GRAPHS.items()}
    out: dict[str, Graph] = {}
    for q in quads:
        if isinstance(q.graph_name, ox.DefaultGraph):
            key = ALL
        else:
            key = by_iri.get(q.graph_name.value, getattr(q.graph_name, "value", str(q.graph_name)))
        out.setdefault(key, Graph()).add((ox_to_rdflib(q.subject), ox_to_rdflib(q.predicate),
                                          ox_to_rdflib(q.object)))
    return out


def read_release_file(path: Path) -> dict[str, "Graph"]:
    """A release file, any of the six formats, parsed strictly (pyoxigraph; errors name file and line)."""
    from .sources import parse_quads

    from rdflib import Graph

    graphs = _graphs_from_quads(parse_quads(path))
    if set(graphs) - {ALL}:  # a quad file: a graph left empty (no inferences) has no quads, but exists
        for name in GRAPH_NAMES:
            graphs.setdefault(name, Graph())
    return graphs


def _git(top: Path, *args: str, binary: bool = False):
    try:
        proc = subprocess.run(["git", "-C", str(top), *args], capture_output=True, timeout=120, check=False)
    except FileNotFoundError:
        raise BadInputError("git is not installed: cannot read revisions (compare two release files instead)") from None
    if proc.returncode != 0:
        msg = " ".join(proc.stderr.decode("utf-8", "replace").split())
        raise BadInputError(f"git {args[0]}: {msg or 'failed'}")
    return proc.stdout if binary else proc.stdout.decode("utf-8").strip()


def _repository(root: Path) -> Path:
    try:
        return Path(_git(root, "rev-parse", "--show-toplevel"))
    except BadInputError:
        raise BadInputError(f"{root} is not in a git repository: give release files or folders, "
                            "not revisions") from None


def export_revision(root: Path, rev: str, dest: Path) -> Path:
    """Write the project's sources as of `rev` into `dest` (git archive; no checkout, no worktree);
    returns the project folder inside `dest`."""
    top = _repository(root)
    try:
        commit = _git(top, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except BadInputError:
        commit = ""
    if not commit:
        raise BadInputError(f"{rev!r} is neither a file, a folder nor a git revision of {top}")
    sub = root.resolve().relative_to(top.resolve()).as_posix()
    prefix = "" if sub == "." else sub + "/"
    present = set(_git(top, "ls-tree", "--name-only", commit, *( [prefix] if prefix else [])).splitlines())
    wanted = [prefix + d for d in SOURCE_DIRS if prefix + d in present]
    if prefix + "ontology" not in present:
        raise BadInputError(f"revision {rev} has no {prefix}ontology/ folder")
    data = _git(top, "archive", "--format=tar", commit, "--", *wanted, binary=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        try:
            tar.extractall(dest, filter="data")
        except TypeError:  # Python without extraction filters (< 3.10.12 / 3.11.4)
            tar.extractall(dest)  # noqa: S202 (our own repository's archive)
    return dest / sub if prefix else dest


def _build_graphs(project: Path, dist: Path, notes: list[str]) -> dict[str, "Graph"]:
    """Build a project without reasoning; when its data does not conform, compare its sources anyway."""
    from .build import build
    from .canonical import canonical
    from .project import find_project
    from .release import read_release_graphs
    from .sources import load_sources

    try:
        build(project, dist, no_reason=True)
        graphs = read_release_graphs(dist)
    except NotConformingError:
        notes.append("does not conform to its shapes; its sources are compared unvalidated")
        src = load_sources(find_project(project))
        graphs = {"ontology": canonical(src.ontology), "kg": canonical(src.kg)}
    graphs.pop("inferred", None)  # built without reasoning: nothing was inferred
    return graphs


def read_side(spec: str, root: str | Path | None, workdir: Path) -> Side:
    """Resolve OLD or NEW: an existing file or folder wins over a revision of the same name."""
    from .project import find_project, is_project

    p = Path(spec)
    if p.is_file():
        return Side(spec, read_release_file(p), "file")
    if p.is_dir():
        nq = Release(p).nquads
        if nq.is_file() and not is_project(p):
            return Side(spec, read_release_file(nq), "dist")
        if is_project(p):
            side = Side(spec, {}, "project")
            side.graphs = _build_graphs(p, workdir / f"dist-{len(list(workdir.iterdir()))}", side.notes)
            return side
        raise BadInputError("folder holds neither a release (carnk.nq) nor a project (ontology/carnk.ttl)", path=p)
    paths = find_project(root)
    if paths.packaged:
        raise BadInputError(f"{spec!r} is not a file or folder, and the packaged sources have no git history")
    dest = Path(tempfile.mkdtemp(prefix="rev-", dir=workdir))
    project = export_revision(paths.root, spec, dest)
    side = Side(spec, {}, "revision")
    side.graphs = _build_graphs(project, dest / "dist", side.notes)
    return side


def align(old: Side, new: Side) -> list[str]:
    """Make both sides comparable graph by graph; returns notes on what was merged or left out."""
    notes = []
    for a, b in ((old, new), (new, old)):
        if ALL in a.graphs and set(b.graphs) != {ALL}:
            b.graphs = {ALL: _union(b.graphs.values())}
            notes.append(f"{a.spec} is a triple file without named graphs: graphs compared as one union")
    if old.kind in ("revision", "project") or new.kind in ("revision", "project"):
        for side in (old, new):
            if side.graphs.pop("inferred", None) is not None:
                notes.append("revisions and project folders are built without reasoning: "
                             "the inferred graph is left out of the comparison")
    return sorted(set(notes))


def _union(graphs: Iterable["Graph"]) -> "Graph":
    from rdflib import Graph

    out = Graph()
    for g in graphs:
        for t in g:
            out.add(t)
    return out


# -- comparing ---------------------------------------------------------------------------------------

@dataclass
class Entity:
    iri: str
    label: str

    def to_json(self) -> dict:
        return {"iri": self.iri, "label": self.label}


@dataclass
class Diff:
    """The whole comparison, ready to print as text or JSON."""

    old: str
    new: str
    entities: dict[str, dict[str, list[Entity]]]   # kind -> added/removed -> entities
    changed: list[dict]                             # same IRI, statements added/removed
    triples: dict[str, dict[str, list[str]]]        # graph -> added/removed -> N-Triples-like lines
    notes: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not any(v["added"] or v["removed"] for v in self.triples.values())

    def to_json(self) -> dict:
        return {
            "old": self.old, "new": self.new, "identical": self.identical, "notes": self.notes,
            "entities": {k: {c: [e.to_json() for e in v[c]] for c in ("added", "removed")}
                         for k, v in self.entities.items()},
            "changed": self.changed,
            "graphs": {g: {"added": v["added"], "removed": v["removed"]} for g, v in self.triples.items()},
        }

    def text(self, limit: int = 50) -> str:
        """A report a curator reads top to bottom: what appeared, what went, then the statements."""
        out = [f"carnk-graph diff {self.old} -> {self.new}"]
        out += [f"note: {n}" for n in self.notes]
        if self.identical:
            out.append("no differences")
            return "\n".join(out) + "\n"
        for kind in ENTITY_KINDS:
            added, removed = self.entities[kind]["added"], self.entities[kind]["removed"]
            out.append(f"\n{kind}: {len(added)} added, {len(removed)} removed")
            out += [f"  + {e.label}  <{e.iri}>" for e in _cut(added, limit)] + _more(added, limit)
            out += [f"  - {e.label}  <{e.iri}>" for e in _cut(removed, limit)] + _more(removed, limit)
        out.append(f"\nchanged (same IRI, statements added or removed): {len(self.changed)}")
        out += [f"  ~ {c['label']}  <{c['iri']}>  +{c['added']} -{c['removed']}" for c in _cut(self.changed, limit)]
        out += _more(self.changed, limit)
        for g, v in self.triples.items():
            out.append(f"\ntriples in {g}: {len(v['added'])} added, {len(v['removed'])} removed")
            out += [f"  + {t}" for t in _cut(v["added"], limit)] + _more(v["added"], limit)
            out += [f"  - {t}" for t in _cut(v["removed"], limit)] + _more(v["removed"], limit)
        return "\n".join(out) + "\n"


def _cut(items: list, limit: int) -> list:
    return items if limit <= 0 else items[:limit]


def _more(items: list, limit: int) -> list[str]:
    return [f"  ... and {len(items) - limit} more (--limit 0 shows all)"] if 0 < limit < len(items) else []


def short(term) -> str:
    """A term as a curator reads it: prefixed name, "literal"@lang, or _:b for a blank node."""
    from rdflib import BNode, Literal

    if isinstance(term, BNode):
        return f"_:{str(term)[:12]}"
    if isinstance(term, Literal):
        text = term.n3()
        if term.datatype is not None:
            text = f'"{term}"^^{short(term.datatype)}'
        return text
    return compact_iri(str(term))


def entities(graph: "Graph", kg: "Graph | None" = None) -> dict[str, set[str]]:
    """Classes, properties and individuals (named) of a graph; individuals are typed subjects that are
    neither classes nor properties (owl:NamedIndividual, and everything typed in the kg graph)."""
    from rdflib import RDF, URIRef

    def typed(types) -> set[str]:
        return {str(s) for t in types for s in graph.subjects(RDF.type, URIRef(t)) if isinstance(s, URIRef)}

    classes, props = typed(CLASS_TYPES), typed(PROPERTY_TYPES)
    individuals = typed([OWL + "NamedIndividual"])
    if kg is not None:
        individuals |= {str(s) for s in kg.subjects(RDF.type, None) if isinstance(s, URIRef)}
    individuals -= classes | props | typed([OWL + "Ontology"])
    return {"classes": classes, "properties": props, "individuals": individuals}


def _labels(*graphs: "Graph") -> dict[str, str]:
    """One label per IRI: the first graph that labels it, and there terms.py's label rule."""
    from rdflib import RDFS, Literal, URIRef

    from .terms import best_labels

    out: dict[str, str] = {}
    for g in graphs:
        found = best_labels((str(s), str(o), o.language) for s, o in g.subject_objects(RDFS.label)
                            if isinstance(s, URIRef) and isinstance(o, Literal))
        for iri, text in found.items():
            out.setdefault(iri, text)
    return out


def compare(old: Side, new: Side) -> Diff:
    """Added and removed entities and triples, graph by graph."""
    from rdflib import URIRef
    from rdflib.compare import graph_diff, to_isomorphic

    notes = [*(f"{old.spec}: {n}" for n in old.notes), *(f"{new.spec}: {n}" for n in new.notes), *align(old, new)]
    names = [g for g in (*GRAPH_NAMES, ALL) if g in old.graphs or g in new.graphs]
    names += sorted((set(old.graphs) | set(new.graphs)) - set(names))
    from rdflib import Graph

    triples: dict[str, dict[str, list[str]]] = {}
    subjects_changed: dict[str, list[int]] = {}
    for name in names:
        a, b = old.graphs.get(name, Graph()), new.graphs.get(name, Graph())
        _both, only_old, only_new = graph_diff(to_isomorphic(a), to_isomorphic(b))
        triples[name] = {"added": sorted(" ".join(short(x) for x in t) + " ." for t in only_new),
                         "removed": sorted(" ".join(short(x) for x in t) + " ." for t in only_old)}
        for t in only_new:
            if isinstance(t[0], URIRef):
                subjects_changed.setdefault(str(t[0]), [0, 0])[0] += 1
        for t in only_old:
            if isinstance(t[0], URIRef):
                subjects_changed.setdefault(str(t[0]), [0, 0])[1] += 1
    old_all, new_all = _union(old.graphs.values()), _union(new.graphs.values())
    ents_old = entities(old_all, old.graphs.get("kg", old_all if ALL in old.graphs else None))
    ents_new = entities(new_all, new.graphs.get("kg", new_all if ALL in new.graphs else None))
    labels = _labels(new_all, old_all)
    label = lambda iri: labels.get(iri, short(URIRef(iri)))  # noqa: E731
    order = lambda iris: sorted(iris, key=lambda i: (label(i).lower(), i))  # noqa: E731
    ents = {k: {"added": [Entity(i, label(i)) for i in order(ents_new[k] - ents_old[k])],
                "removed": [Entity(i, label(i)) for i in order(ents_old[k] - ents_new[k])]}
            for k in ENTITY_KINDS}
    appeared = {i for k in ENTITY_KINDS for i in (ents_new[k] ^ ents_old[k])}
    changed = [{"iri": i, "label": label(i), "added": c[0], "removed": c[1]}
               for i, c in sorted(subjects_changed.items(), key=lambda kv: (label(kv[0]).lower(), kv[0]))
               if i not in appeared]
    return Diff(old.spec, new.spec, ents, changed, triples, notes)


def diff(old: str, new: str, root: str | Path | None = None) -> Diff:
    """Compare two releases (files, folders or git revisions of the project at `root`)."""
    with tempfile.TemporaryDirectory(prefix="carnk-diff-") as tmp:
        work = Path(tmp)
        a = read_side(old, root, work)
        b = read_side(new, root, work)
        return compare(a, b)


def render(result: Diff, fmt: str = "text", limit: int = 50) -> str:
    if fmt == "json":
        return json.dumps(result.to_json(), indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if fmt == "text":
        return result.text(limit)
    raise BadInputError(f"unknown diff format {fmt!r} (choose from text, json)")
