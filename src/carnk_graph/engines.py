"""The two query engines over a built release, behind one small interface.

Dataset semantics, decided once for both: a query's default graph is the union
of the three named graphs (ontology, kg, inferred), and a query may name one of
them with `GRAPH <https://w3id.org/carnk/graph/inferred>`.

- `oxigraph` (default): the embedded store in dist/store, opened read-only. This
  path imports pyoxigraph and the light project modules only (no rdflib), so a
  cold `carnk-graph query` starts in tens of milliseconds.
- `rdflib`: dist/carnk.nq loaded into an rdflib Dataset whose default graph is
  the union. Slower; it exists as an independent second opinion (the tests run
  every saved query on both and compare).

An engine's `run(text, bindings, cancel)` parses and evaluates in one step, inside
the caller's deadline (timeout.py); there is no separate pre-run. Both produce
the neutral `Result` of results.py.
"""
from __future__ import annotations

from .errors import BadInputError
from .namespaces import PREFIXES, sparql_prologue
from .results import Result, Term
from .timeout import Cancelled

TYPE_CHECKING = False  # typing's flag without importing typing: this module is on the cold query path
if TYPE_CHECKING:
    import threading
    from pathlib import Path
    from typing import Iterable, Mapping

ENGINES = ("oxigraph", "rdflib")


class OxigraphEngine:
    """pyoxigraph: the embedded store (or any pyoxigraph Store, e.g. in memory for tests)."""

    name = "oxigraph"

    def __init__(self, store) -> None:
        self.store = store

    @staticmethod
    def _term(t) -> Term | None:
        import pyoxigraph as ox

        if t is None:
            return None
        if isinstance(t, ox.NamedNode):
            return Term.iri(t.value)
        if isinstance(t, ox.BlankNode):
            return Term("bnode", t.value)
        if isinstance(t, ox.Literal):
            return Term.literal(t.value, t.datatype.value, t.language)
        raise BadInputError(f"unsupported RDF term in a result: {t!r} (RDF-star is not supported)")

    @staticmethod
    def native(term: Term):
        from .terms import to_oxigraph

        return to_oxigraph(*term)

    def _query(self, text: str):
        return self.store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)

    @classmethod
    def bind(cls, text: str, bindings: Mapping[str, Term]) -> tuple[str, int, int]:
        """`text` with the parameters bound by a VALUES block, where the block went and its length."""
        from .structure import with_values

        return with_values(text, {k: str(cls.native(v)) for k, v in bindings.items()})

    def run(self, text: str, bindings: Mapping[str, Term], cancel: threading.Event,
            path: Path | str = "<query>", bound: tuple[str, int, int] | None = None) -> Result:
        """Parse and evaluate `text` with the parameters bound by a VALUES block (`bound`, when the
        caller has it already: see queries.Prepared)."""
        import pyoxigraph as ox

        bound, at, added = bound or self.bind(text, bindings)
        try:
            answer = self._query(bound)
        except SyntaxError as e:
            raise oxigraph_syntax_error(e, path, text, at, added) from None
        except (ValueError, RuntimeError, OSError) as e:
            raise BadInputError(f"cannot run query: {e}", path=path) from None
        if isinstance(answer, ox.QueryBoolean):
            return Result([], boolean=bool(answer))
        term = self._term
        if isinstance(answer, ox.QueryTriples):
            triples = []
            for t in answer:
                if cancel.is_set():
                    raise Cancelled()
                triples.append((term(t.subject), term(t.predicate), term(t.object)))
            return Result(["subject", "predicate", "object"], triples=triples)
        variables = [v.value for v in answer.variables]
        rows = []
        for sol in answer:
            if cancel.is_set():
                raise Cancelled()
            rows.append(tuple(term(sol[v]) for v in variables))
        return Result(variables, rows)

    def labels(self, iris: Iterable[str]) -> dict[str, str]:
        import pyoxigraph as ox

        from .terms import RDFS_LABEL, best_labels

        values = " ".join(str(ox.NamedNode(i)) for i in sorted(iris))  # N-Triples form, escaped by pyoxigraph
        if not values:
            return {}
        found = self.store.query(f"SELECT ?s ?l WHERE {{ VALUES ?s {{ {values} }} ?s <{RDFS_LABEL}> ?l }}",
                                 use_default_graph_as_union=True)
        return best_labels((s["s"].value, s["l"].value, s["l"].language) for s in found)

    def knows(self, iri: str) -> bool:
        """True when the IRI is a subject, predicate or object of any triple."""
        import pyoxigraph as ox

        node = ox.NamedNode(iri)
        return any(True for _ in self.store.quads_for_pattern(node, None, None)) or \
            any(True for _ in self.store.quads_for_pattern(None, node, None)) or \
            any(True for _ in self.store.quads_for_pattern(None, None, node))

    def subjects_in(self, namespace: str) -> set[str]:
        """Every IRI subject that starts with `namespace` (the candidates for a typo's close matches)."""
        import pyoxigraph as ox

        return {q.subject.value for q in self.store.quads_for_pattern(None, None, None)
                if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(namespace)}


class RdflibEngine:
    """rdflib: the release's N-Quads in a Dataset whose default graph is the union of the named graphs."""

    name = "rdflib"

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    @classmethod
    def from_nquads(cls, path: Path, graphs: Iterable[str] | None = None) -> "RdflibEngine":
        """Load a release's carnk.nq (optionally only some named graphs, by IRI), read by
        release.release_quads: a missing or unreadable file is its one error."""
        from rdflib import Dataset, URIRef

        from .release import release_quads
        from .terms import ox_to_rdflib

        keep = set(graphs) if graphs is not None else None
        ds = Dataset(default_union=True)
        contexts: dict[str, object] = {}
        for _name, q in release_quads(path):
            g = getattr(q.graph_name, "value", "")
            if keep is not None and g not in keep:
                continue
            if g not in contexts:
                contexts[g] = ds.graph(URIRef(g)) if g else ds.default_context
            contexts[g].add((ox_to_rdflib(q.subject), ox_to_rdflib(q.predicate), ox_to_rdflib(q.object)))
        return cls(ds)

    @staticmethod
    def _term(t) -> Term | None:
        from rdflib import BNode, Literal, URIRef

        if t is None:
            return None
        if isinstance(t, URIRef):
            return Term.iri(str(t))
        if isinstance(t, BNode):
            return Term("bnode", str(t))
        if isinstance(t, Literal):
            return Term.literal(str(t), str(t.datatype) if t.datatype else None, t.language)
        raise BadInputError(f"unsupported RDF term in a result: {t!r}")

    @staticmethod
    def native(term: Term):
        from .terms import to_rdflib

        return to_rdflib(*term)

    def prepare(self, text: str, path: Path | str):
        """Parse with rdflib's parser. What may run was decided before, by sparql.check_read_only (the one
        home of that rule; tests/test_sparql.py checks it agrees with this parser's tree)."""
        import rdflib.plugins.sparql as sparql
        from pyparsing import ParseBaseException

        sparql.SPARQL_LOAD_GRAPHS = False  # never load FROM/GRAPH IRIs as files or URLs
        try:
            prepared = sparql.prepareQuery(text, initNs=PREFIXES)
        except ParseBaseException as e:
            raise BadInputError(f"syntax error: {e.msg}", path=path, line=e.lineno, column=e.col) from None
        except RecursionError:
            raise BadInputError("syntax error: nested too deeply for the rdflib engine", path=path) from None
        except Exception as e:  # rdflib raises plain exceptions for e.g. undefined prefixes
            raise BadInputError(f"syntax error: {e}", path=path) from None
        return prepared

    def run(self, text: str, bindings: Mapping[str, Term], cancel: threading.Event,
            path: Path | str = "<query>", bound: tuple[str, int, int] | None = None) -> Result:
        # `bound` is the oxigraph engine's VALUES form; rdflib binds through initBindings instead
        import rdflib.plugins.sparql as sparql
        from rdflib import Variable

        # initBindings pre-bind the parameters in every part of the query: rdflib joins nested
        # groups eagerly (only the innermost join is lazy), so a VALUES block would reach a
        # later pattern only after that pattern had been evaluated with the variable free.
        prepared = self.prepare(text, path)
        sparql.SPARQL_LOAD_GRAPHS = False
        init = {Variable(k): self.native(v) for k, v in bindings.items()}
        try:
            return self._evaluate(prepared, init, cancel)
        except RecursionError:  # rdflib evaluates the algebra recursively
            raise BadInputError("the query nests too deeply for the rdflib engine", path=path) from None

    def _evaluate(self, prepared, init, cancel: threading.Event) -> Result:
        answer = self.dataset.query(prepared, initBindings=init)
        if answer.type == "ASK":
            return Result([], boolean=bool(answer.askAnswer))
        if answer.type in ("CONSTRUCT", "DESCRIBE"):
            triples = []
            for s, p, o in answer.graph:
                if cancel.is_set():
                    raise Cancelled()
                triples.append((self._term(s), self._term(p), self._term(o)))
            return Result(["subject", "predicate", "object"], triples=triples)
        variables = [str(v) for v in answer.vars]
        rows = []
        for sol in answer:
            if cancel.is_set():
                raise Cancelled()
            rows.append(tuple(self._term(sol[i]) for i in range(len(variables))))
        return Result(variables, rows)

    def labels(self, iris: Iterable[str]) -> dict[str, str]:
        from rdflib import URIRef

        from .terms import RDFS_LABEL, best_labels

        label = URIRef(RDFS_LABEL)
        found = ((i, str(lit), getattr(lit, "language", None))
                 for i in iris for lit in self.dataset.objects(URIRef(i), label))
        return best_labels(found)

    def knows(self, iri: str) -> bool:
        from rdflib import URIRef

        node = URIRef(iri)
        return any(True for _ in self.dataset.triples((node, None, None))) or \
            any(True for _ in self.dataset.triples((None, node, None))) or \
            any(True for _ in self.dataset.triples((None, None, node)))

    def subjects_in(self, namespace: str) -> set[str]:
        from rdflib import URIRef

        return {str(s) for s in self.dataset.subjects() if isinstance(s, URIRef) and str(s).startswith(namespace)}


_OX_POS = r"^error at (\d+):(\d+):\s*"


def oxigraph_syntax_error(e: SyntaxError, path: Path | str, text: str = "", at: int = 0,
                          added: int = 0) -> BadInputError:
    """A one-line syntax error at the most useful position, in the text as written.

    `at`/`added`: where a VALUES block of `added` characters (no line break) was
    inserted; a column after it on that line is moved back. pyoxigraph's PEG
    parser reports where it gave up, which for an error inside an expression is
    often the end of the text; rdflib's parser then points at the clause that
    went wrong. rdflib is imported only here, on the error path, so a query that
    parses never pays for it.
    """
    msg = str(e)
    import re

    m = re.match(_OX_POS, msg)
    if not m:
        return BadInputError(f"syntax error: {msg}", path=path)
    line, column, detail = int(m.group(1)), int(m.group(2)), msg[m.end():]
    if added and text:
        at_line = text.count("\n", 0, at) + 1
        at_col = at - (text.rfind("\n", 0, at) + 1) + 1
        if line == at_line and column > at_col:
            column = max(at_col, column - added)
    if text and line >= text.rstrip().count("\n") + 1:
        where = _rdflib_error_position(text)
        if where is not None and where < (line, column):
            line, column = where
    return BadInputError(f"syntax error: {detail}", path=path, line=line, column=column)


def _rdflib_error_position(text: str) -> tuple[int, int] | None:
    """Where rdflib's SPARQL parser stops on `text` (line, column), or None if it parses."""
    try:
        from rdflib.plugins.sparql.parser import parseQuery
        parseQuery(sparql_prologue() + text)
    except Exception as e:  # pyparsing's ParseException carries lineno/col
        lineno, col = getattr(e, "lineno", None), getattr(e, "col", None)
        if isinstance(lineno, int) and isinstance(col, int):
            return lineno - len(PREFIXES), col
    return None


def open_engine(engine: str, dist: Path):
    """The engine over a built release folder."""
    if engine == "oxigraph":
        from .store import open_store

        return OxigraphEngine(open_store(dist))
    if engine == "rdflib":
        from .layout import Release

        from pathlib import Path

        release = Release(Path(dist))
        dataset = RdflibEngine.from_nquads(release.nquads).dataset  # no built release: exit 2, said there
        from .checks import add_mappings_graph  # what the store holds beside the release graphs

        return RdflibEngine(add_mappings_graph(dataset, release.mappings))
    raise BadInputError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
