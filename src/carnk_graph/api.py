"""The core: the Python API that the command line (cli.py) also goes through.

Four calls cover what the command line does, returning Python values instead
of printing: `load()` the built dataset, `query()` a saved question as rows of
dicts, `validate()` a graph against the shapes, `export()` the release in one
format as bytes. Each builds first, transparently, when the sources changed
since the last build (the one place that decides it), and raises the package's
typed errors (`carnk_graph.errors.CarnkError` and subclasses) on bad input.
`answer()` and `query_text()` are the query path's core, shared by `query()` and
`carnk-graph query`, which only formats and prints what they return.

pandas is optional: `query(...).to_dataframe()` imports it only when called.
"""
from __future__ import annotations

import os
import time

from .errors import BadInputError
from .namespaces import GRAPH_NAMES

TYPE_CHECKING = False  # typing's flag without importing typing (1.8 ms): a cold query goes through here
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Callable, Iterable

    from rdflib import Dataset, Graph

    from .build import BuildSummary
    from .catalogue import SavedQuery
    from .layout import Release
    from .project import ProjectPaths
    from .results import Result
    from .shacl import ValidationResult

__all__ = ["load", "query", "validate", "export", "stats", "build", "Rows", "ensure_built"]


class Rows(list):
    """A query's answer: a list of dicts (variable -> Python value), in the query's order.

    IRIs come back as `str`, typed literals as their Python value (int, float,
    Decimal, bool, datetime.date, ...), other literals as `str`, unbound as None.
    `variables` keeps the column order; `to_dataframe()` needs pandas.
    """

    def __init__(self, rows: Iterable[dict] = (), variables: Iterable[str] = ()) -> None:
        super().__init__(rows)
        self.variables = list(variables)

    def to_dataframe(self):
        """The rows as a pandas DataFrame, columns in the query's order."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Rows.to_dataframe() needs pandas, which carnk-graph does not install: "
                              "pip install pandas") from None
        return pd.DataFrame(list(self), columns=self.variables)

    def column(self, name: str) -> list:
        """One column's values, in row order."""
        if name not in self.variables:
            raise KeyError(f"no column {name!r} (columns: {', '.join(self.variables)})")
        return [row.get(name) for row in self]


def build(root: str | Path | None = None, dist: str | Path | None = None, *, reasoner: str = "auto",
          no_reason: bool = False, force: bool = False, reasoner_timeout: float | None = None,
          progress: Callable[[str], None] | None = None) -> BuildSummary:
    """Build the release (load, reason, validate, write, fill the store); skipped when the sources are
    unchanged, unless `force`. Returns the figures `carnk-graph build` prints (`.lines()`, `.messages`).
    Raises NotConformingError (exit 1) when the data violates a shape, ReasonerError (exit 3) when the
    ontology is inconsistent."""
    from .build import build as run_build

    return run_build(root, dist, reasoner=reasoner, no_reason=no_reason, force=force,
                     reasoner_timeout=reasoner_timeout, progress=progress)


def ensure_built(root: str | Path | None = None, dist: str | Path | None = None,
                 progress: Callable[[str], None] | None = None) -> Release:
    """The current release, built first (transparently) when the sources changed since dist/ was built.

    The one place that decides to build for a reader (every API call, every command but
    `build`). Decided from sizes and mtimes (`layout.is_fresh`): a cold query reads no
    release file and imports no part of the build line unless it must build."""
    from .project import find_project

    return _current(find_project(root), dist, progress)


def _current(paths: ProjectPaths, dist: str | Path | None, progress: Callable[[str], None] | None = None) -> Release:
    """`ensure_built` for sources already found."""
    from pathlib import Path

    from .layout import Release

    return Release(Path(_current_dist(paths.parts(), paths.packaged, dist, progress)), paths)


def _current_dist(parts: dict, packaged: bool, dist: str | os.PathLike | None,
                  progress: Callable[[str], None] | None = None) -> str:
    """`ensure_built` on strings (`parts` as project.listing gives them): the dist folder, built first
    when the sources changed. The query path's form: it needs no `pathlib` (see project.py)."""
    from .layout import fresh
    from .project import default_dist

    out = os.fspath(dist) if dist is not None else default_dist(parts["root"], packaged)
    if not fresh(parts, out):
        if progress:
            progress("sources changed since the last build: building first")
        from .build import build

        build(parts["root"], out, progress=progress)
    return out


def load(root: str | Path | None = None, dist: str | Path | None = None) -> "Dataset":
    """The built release as an rdflib Dataset with three named graphs
    (https://w3id.org/carnk/graph/{ontology,kg,inferred}), building first if needed.

    Its default graph is the union of the three (`default_union`), so
    `ds.query("SELECT ...")` sees everything and `GRAPH <...>` picks one.
    """
    from .release import as_dataset, read_release_graphs

    ds = as_dataset(read_release_graphs(ensure_built(root, dist)))
    ds.default_union = True
    return ds


def _param_text(value: Any) -> str:
    """A keyword argument as the KEY=VALUE text the query runner binds (IRIs in <>, booleans lower-case)."""
    import datetime
    import decimal

    from rdflib import Literal, URIRef

    if isinstance(value, URIRef):
        return f"<{value}>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Literal):
        return str(value)
    if isinstance(value, (int, float, decimal.Decimal, str, datetime.date)):
        return value.isoformat() if isinstance(value, datetime.date) else str(value)
    raise BadInputError(f"query parameter value {value!r} is not a string, number, date or IRI")


def _python_value(term) -> Any:
    """A query result term as a plain Python value."""
    if term is None:
        return None
    if term.kind == "uri":
        return term.value
    if term.kind == "bnode":
        return "_:" + term.value
    if term.lang or not term.datatype or term.datatype.endswith("#string"):
        return term.value
    from rdflib import Literal, URIRef

    value = Literal(term.value, datatype=URIRef(term.datatype)).toPython()
    return term.value if isinstance(value, Literal) else value


class Answer:
    """A query's result and the engine that produced it (which looks up labels for the table)."""

    __slots__ = ("query", "result", "engine")

    def __init__(self, query: SavedQuery, result: Result, engine: Any) -> None:
        self.query, self.result, self.engine = query, result, engine

    def labels(self) -> dict[str, str]:
        return self.engine.labels(self.result.iris())


def _saved(name: str, queries: str | os.PathLike) -> SavedQuery:
    """A saved query by name (or a .rq path), checked read-only before anything is built or opened."""
    from .catalogue import resolve
    from .sparql import check_read_only

    saved = resolve(name, queries)
    check_read_only(saved.text, saved.path)
    return saved


def answer(name: str, params: Iterable[str] = (), *, engine: str = "oxigraph", timeout: float | None = None,
           root: str | Path | None = None, dist: str | Path | None = None, progress=None,
           isolate: bool = False) -> Answer:
    """Resolve, check, build if the sources changed, open the engine, run: the query path's core.

    `params` are `KEY=VALUE` texts as on the command line. `timeout` (seconds,
    default 60) is wall-clock from here to the last row, opening the store included;
    `isolate=True` (the command line) holds it even for rdflib's REGEX, in a child process.
    A saved query run with its default parameters on the embedded store is kept prepared
    (prepared.py): the next cold run of the same text skips the scanning, not the check's verdict.
    """
    from .engines import open_engine
    from .project import listing, locate
    from .queries import execute, prepare
    from .timeout import DEFAULT_TIMEOUT, check_timeout

    started = time.monotonic()
    limit = check_timeout(DEFAULT_TIMEOUT if timeout is None else timeout)
    params = list(params)
    base, packaged = locate(root)
    parts = listing(base)
    keep = engine == "oxigraph" and not params and _plain_name(name)
    out = os.fspath(dist) if dist is not None else None
    ready = None
    if keep:
        from . import prepared as kept
        from .catalogue import saved_query_file
        from .project import default_dist

        out = out if out is not None else default_dist(base, packaged)
        ready = kept.load(name, saved_query_file(name, parts["queries"]), out)
    if ready is None:
        ready = prepare(_saved(name, parts["queries"]), params)
        if keep:
            kept.save(out, ready)
    eng = open_engine(engine, _current_dist(parts, packaged, out, progress))
    result = execute(ready.query, eng, params, limit, started=started, isolate=isolate, prepared=ready)
    return Answer(ready.query, result, eng)


def _plain_name(name: str) -> bool:
    """A saved query's name (not a path), usable as a file name in dist/.prepared."""
    from .catalogue import looks_like_path

    return bool(name) and not looks_like_path(name) and not name.startswith(".") and "\0" not in name


def query_text(name: str, params: Iterable[str] = (), *, root: str | Path | None = None,
               graphs: Iterable[str] | None = None) -> str:
    """The runnable text of a saved query for another store: parameters bound, prefixes declared,
    and the dataset spelled out (see `portable.py`). Nothing is built or run."""
    from .params import bind_params
    from .portable import portable_text

    from .project import find_project

    saved = _saved(name, find_project(root).queries)
    return portable_text(saved, bind_params(saved, list(params)), graphs)


def query(name: str, *, root: str | Path | None = None, dist: str | Path | None = None,
          engine: str = "oxigraph", timeout: float | None = None, **params: Any) -> "Rows | bool | Graph":
    """Run a saved query (`queries/<name>.rq`, or a path to a .rq file) with keyword parameters.

    `query("construct-domains-in-order", construct="carnkkg:liu2020-car")` binds the
    query's declared parameter `construct` (prefixed names, <IRIs>, URIRefs, numbers
    and dates are accepted as the header declares). Returns `Rows` for SELECT, a bool
    for ASK, an rdflib Graph for CONSTRUCT and DESCRIBE.
    """
    raw = [f"{k}={_param_text(v)}" for k, v in params.items()]
    result = answer(name, raw, engine=engine, timeout=timeout, root=root, dist=dist).result
    if result.boolean is not None:
        return result.boolean
    if result.triples is not None:
        return _graph(result)
    rows = [{v: _python_value(t) for v, t in zip(result.variables, row)} for row in result.rows]
    return Rows(rows, result.variables)


def _graph(result: "Result") -> "Graph":
    """A graph result as an rdflib Graph."""
    from rdflib import Graph

    from .terms import to_rdflib

    g = Graph()
    for triple in result.triples or ():
        g.add(tuple(to_rdflib(*t) for t in triple))
    return g


def validate(graph: "Graph | str | Path | Iterable[str | Path] | None" = None, *, root: str | Path | None = None,
             dist: str | Path | None = None, with_kg: bool = False, engine: str | None = None,
             progress: Callable[[str], None] | None = None) -> ValidationResult:
    """Check data against the project's SHACL shapes (with the ontology, as the build does).

    `graph` is an rdflib Graph, or the path of an RDF file, or a list of paths (parsed
    strictly, straight into a pyoxigraph store: no rdflib graph of big data is built);
    None checks the built knowledge graph and its inferences. `with_kg=True` adds the
    shipped knowledge graph to your data, so it may point at the individuals the graph
    names. `engine`: "pyshacl", "turbo" or None (chosen by size; see shacl.choose_engine).
    Returns the `carnk_graph.shacl.ValidationResult` (`.conforms`, `.findings`, `.text()`).
    """
    from pathlib import Path

    from rdflib import Graph

    from .project import find_project
    from .shacl import store_from_files
    from .shacl import validate as run_shacl
    from .sources import load_sources

    paths = find_project(root)
    src = load_sources(paths)
    extra = (src.kg,) if with_kg else ()
    if graph is None:
        from .release import read_release_graphs

        built = read_release_graphs(_current(paths, dist, progress))
        data = built["kg"] + built["inferred"]
        for g in extra:
            data += g
    elif isinstance(graph, (str, Path)):
        data = store_from_files([graph], extra=extra)
    elif isinstance(graph, Graph):
        data = Graph()
        for t in graph.triples((None, None, None)):  # a Dataset's default union too
            data.add(t)
        for g in extra:
            data += g
    elif isinstance(graph, (list, tuple)) and graph and all(isinstance(f, (str, Path)) for f in graph):
        data = store_from_files(graph, extra=extra)
    else:
        raise BadInputError("validate() takes an rdflib Graph, a file path or a list of file paths, "
                            f"not {type(graph).__name__}")
    return run_shacl(data, src.shapes, src.ontology, engine=engine)


def stats(*, root: str | Path | None = None, dist: str | Path | None = None,
          progress: Callable[[str], None] | None = None) -> BuildSummary:
    """The figures of the current release (triples per graph, terms, validation, reasoner), building
    first if needed; `.lines()` is what `carnk-graph stats` prints."""
    from .build import BuildSummary

    release = ensure_built(root, dist, progress)
    return BuildSummary.from_json(release.dist, release.stamp() or {})


def export(format: str, graphs: Iterable[str] | str = GRAPH_NAMES, *, root: str | Path | None = None,
           dist: str | Path | None = None, progress: Callable[[str], None] | None = None) -> bytes:
    """The release (or some of its named graphs) in one format: ttl, nt, nq, trig, jsonld or owl.

    Triple formats carry the union of the chosen graphs; quad formats keep them apart.
    All three graphs give exactly the bytes of the release file in dist/.
    """
    from .release import FORMATS, export_graph

    if format not in FORMATS:
        raise BadInputError(f"unknown format {format!r} (choose from {', '.join(FORMATS)})")
    names = (graphs,) if isinstance(graphs, str) else tuple(graphs)
    unknown = [g for g in names if g not in GRAPH_NAMES]
    if unknown or not names:
        raise BadInputError(f"unknown graph(s) {', '.join(unknown) or '(none given)'} "
                            f"(choose from {', '.join(GRAPH_NAMES)})")
    release = ensure_built(root, dist, progress)
    if set(names) == set(GRAPH_NAMES):
        return release.file(format).read_bytes()
    ordered = tuple(g for g in GRAPH_NAMES if g in names)
    return export_graph(release, format, ordered, release.paths.context)
