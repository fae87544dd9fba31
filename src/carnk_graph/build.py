"""The build line: load (strict) -> reason -> validate -> release -> store.

Each stage is a call into its own module; this module only sequences them,
times them and decides whether anything needs redoing. A build is skipped when
the content hash of its inputs (and options) matches the stamp the last good
build left in dist/build.json; timestamps play no part.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import __version__
from .errors import NotConformingError
from .layout import (MAPPINGS, REPORT_TTL, REPORT_TXT, STAMP, STORE_DIR, Release, is_current, source_stats,
                     sources_hash)
from .namespaces import GRAPH_NAMES, PREFIXES
from .project import ProjectPaths, find_project


@dataclass
class BuildSummary:
    """What a build produced, as printed by the CLI and stored in dist/build.json."""

    dist: Path
    sources_hash: str
    options: dict
    triples: dict[str, int] = field(default_factory=dict)
    classes: int = 0
    properties: int = 0
    individuals: int = 0
    shapes: int = 0
    violations: int = 0
    warnings: int = 0
    reasoner: str = "none"
    timings: dict[str, float] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    up_to_date: bool = False
    messages: list[str] = field(default_factory=list)
    paths: ProjectPaths | None = None

    @property
    def release(self) -> Release:
        """The release this build wrote (or found up to date)."""
        return Release(self.dist, self.paths)

    def to_json(self) -> dict:
        return {
            "version": __version__, "sources_hash": self.sources_hash, "options": self.options,
            "triples": self.triples, "classes": self.classes, "properties": self.properties,
            "individuals": self.individuals, "shapes": self.shapes, "violations": self.violations,
            "warnings": self.warnings, "reasoner": self.reasoner, "files": self.files,
        }

    @classmethod
    def from_json(cls, dist: Path, data: dict, paths: ProjectPaths | None = None) -> "BuildSummary":
        keys = ("triples", "classes", "properties", "individuals", "shapes", "violations", "warnings",
                "reasoner", "files")
        return cls(dist=dist, sources_hash=data.get("sources_hash", ""), options=data.get("options", {}),
                   paths=paths, **{k: data[k] for k in keys if k in data})

    def lines(self) -> list[str]:
        out = [f"release {__version__} in {self.dist}" + (" (up to date, nothing rebuilt)" if self.up_to_date else "")]
        out.append("triples: " + ", ".join(f"{g} {self.triples.get(g, 0)}" for g in GRAPH_NAMES)
                   + f" (total {sum(self.triples.values())})")
        out.append(f"classes {self.classes}, properties {self.properties}, individuals {self.individuals}, "
                   f"shapes {self.shapes}")
        out.append(f"validation: {self.violations} violations, {self.warnings} warnings; reasoner: {self.reasoner}")
        if self.timings:
            out.append("time: " + ", ".join(f"{k} {v:.2f}s" for k, v in self.timings.items())
                       + f" (total {sum(self.timings.values()):.2f}s)")
        return out


def read_stamp(dist: Path) -> dict | None:
    return Release(dist).stamp()


def _counts(graphs) -> dict[str, int]:
    from rdflib import OWL, RDF, URIRef

    union = graphs["ontology"] + graphs["kg"] + graphs["inferred"]
    classes = {s for s in union.subjects(RDF.type, OWL.Class) if isinstance(s, URIRef)}
    props = {s for t in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
             for s in union.subjects(RDF.type, t) if isinstance(s, URIRef)}
    individuals = {s for s in union.subjects(RDF.type, OWL.NamedIndividual) if isinstance(s, URIRef)}
    individuals |= {s for s, o in graphs["kg"].subject_objects(RDF.type) if isinstance(s, URIRef)}
    return {"classes": len(classes), "properties": len(props), "individuals": len(individuals - classes - props)}


def build(root: str | Path | None = None, dist: str | Path | None = None, *, reasoner: str = "auto",
          no_reason: bool = False, force: bool = False, reasoner_timeout: float | None = None,
          progress: Callable[[str], None] | None = None) -> BuildSummary:
    """Run the whole line and write dist/. Raises NotConformingError (after writing the
    report, without a release) when the knowledge graph violates the shapes."""
    from .atomic import write_files
    from .release import render_release
    from .sources import load_sources
    from .shacl import validate

    paths = find_project(root)
    out = Path(dist) if dist is not None else paths.default_dist()
    _refuse_source_folder(paths, out)
    options = {"reasoner": "none" if no_reason else reasoner}
    if not no_reason and reasoner == "auto":
        # auto's result depends on whether Java is there: installing Java must trigger a rebuild.
        # A cheap guess ($CARNK_JAVA or java on PATH), without importing owlready2.
        from .hermit import find_java

        options["java"] = find_java(search_owlready2=False) is not None
    if not no_reason:
        from .hermit import reasoner_timeout as checked_timeout
        reasoner_timeout = checked_timeout(reasoner_timeout)  # nan, inf, 0, -1: exit 2 before any work
    digest = sources_hash(paths)
    say = progress or (lambda _msg: None)
    # a release without the freshness record (written by an older layout) is rebuilt once, so that
    # readers stop falling back to digests on every cold query
    if not force and is_current(paths, out, options) and Release(out).freshness() is not None:
        summary = BuildSummary.from_json(out, read_stamp(out) or {}, paths)
        summary.up_to_date = True
        return summary

    summary = BuildSummary(dist=out, sources_hash=digest, options=options, paths=paths)
    fingerprint = source_stats(paths.inputs())  # before reading: an edit during the build is seen next time
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        summary.timings[stage] = now - clock
        clock = now
        say(f"{stage} done in {summary.timings[stage]:.2f}s")

    src = load_sources(paths)
    summary.messages.extend(src.warnings)
    lap("load")

    from rdflib import Graph
    if no_reason:
        inferred, summary.reasoner = Graph(), "none"
    else:
        from .reason import reason
        say(f"reasoning (--reasoner {reasoner}) ...")  # the slowest stage: show that it is working
        result = reason(src.ontology, src.kg, mode=reasoner, timeout=reasoner_timeout)
        inferred, summary.reasoner = result.inferred, result.reasoner
        summary.messages.extend(result.warnings)
    lap("reason")

    result = validate(src.kg + inferred, src.shapes, src.ontology)
    counts = result.counts()
    summary.violations, summary.warnings = counts["Violation"], counts["Warning"]
    from rdflib import RDF, URIRef
    sh = PREFIXES["sh"]
    summary.shapes = len({s for t in ("NodeShape", "PropertyShape")
                          for s in src.shapes.subjects(RDF.type, URIRef(sh + t))})
    lap("validate")

    from .canonical import canonical
    from .release import ox_quads, serialize
    report_graph = canonical(result.report) if result.report is not None else Graph()
    report_files = {
        REPORT_TTL: serialize({"kg": report_graph}, "ttl", ("kg",)),
        REPORT_TXT: (f"reasoner: {summary.reasoner}\n" + result.text()).encode("utf-8"),
    }
    if not result.conforms:
        from .layout import locked
        with locked(out):
            write_files(out, report_files)
        first = result.violations[0]
        raise NotConformingError(
            f"knowledge graph does not conform: {summary.violations} violations "
            f"(first: {first.focus} {first.path}: {first.message} [{first.shape}]); "
            f"report in {out / REPORT_TXT}; previous release kept")

    graphs = {"ontology": canonical(src.ontology), "kg": canonical(src.kg), "inferred": canonical(inferred)}
    summary.triples = {name: len(graphs[name]) for name in GRAPH_NAMES}
    for k, v in _counts(graphs).items():
        setattr(summary, k, v)
    release = render_release(graphs, paths.context)
    release.files.update(report_files)
    if paths.mappings.is_file():
        release.files[MAPPINGS] = paths.mappings.read_bytes()
    summary.files = release.digests()
    lap("serialise")

    from .checks import mapping_quads, require_clean
    from .progress import track
    quads = ox_quads(graphs, GRAPH_NAMES) + mapping_quads(paths.mappings)  # checks compare with the table

    def checked(store) -> None:  # the quality checks run on the new store before it becomes current
        require_clean(store, paths.queries)

    _publish(out, release.files, track(quads, "store", total=len(quads)), summary, fingerprint,  # a bar only on a terminal
             verify=checked, force=force)
    lap("write")
    return summary


def _publish(out: Path, files: dict[str, bytes], quads, summary: BuildSummary, sources_stat: list,
             verify: Callable[[object], None] | None = None, force: bool = False) -> None:
    """Write the release into a folder of its own beside the current one, then switch to it in one
    step (layout.switch); clean up what earlier (killed) builds left. Under a lock on dist/.
    `verify` sees the new store before the switch; if it raises, the new folder is dropped.
    Without `force`, a release identical to this one that a concurrent build published while
    this one waited for the lock is kept as it is (two cold queries after an edit build once)."""
    import shutil

    from . import layout
    from .store import fill_store, open_store

    with layout.locked(out):
        layout.clean(out)
        current = Release(out)
        if (not force and current.stamp() == summary.to_json() and current.files_intact(summary.to_json())
                and current.freshness() is not None):
            return  # a concurrent build of the same sources finished while this one waited for the lock
        layout.refuse_blocked_names(out, [*files, STORE_DIR, STAMP])
        folder = layout.new_release_folder(out)
        try:
            layout.write_into(folder, files)
            fill_store(folder, quads)
            if verify is not None:
                verify(open_store(folder))
            stamp = (json.dumps(summary.to_json(), indent=1, sort_keys=True) + "\n").encode()
            layout.write_into(folder, {STAMP: stamp})
            layout.write_freshness(folder, [*files, STAMP], sources_stat)
            layout.switch(out, folder, [*files, STORE_DIR, STAMP])
        except BaseException:
            if Release(out).current_folder() != folder:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        layout.clean(out)  # the previous release


def _refuse_source_folder(paths: ProjectPaths, out: Path) -> None:
    """A release written into a folder of sources would overwrite them (--dist ontology
    replaces the hand-edited carnk.ttl with the release of the same name)."""
    from .errors import BadInputError

    target = out.resolve()
    for f in paths.inputs():
        if f.resolve().parent == target:
            raise BadInputError(f"--dist must not be a folder of sources ({f.name} is there and "
                                "would be overwritten); use dist/ or an empty folder", path=out)
