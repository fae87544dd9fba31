"""Running one saved query on an engine: prepare (check, bind), then run within the deadline, stable order.

The pieces live apart: the catalogue and header language (catalogue.py), the
read-only check and SPARQL scanning (sparql.py), parameters (params.py), the
engines (engines.py), the deadline (timeout.py), result values (results.py) and
output forms (formats.py). Deciding whether to build first is the front door's
job (api.py), not this module's. A prepared query can be kept and reused for the
very same text (prepared.py), so a cold query need not scan its SPARQL again;
the modules that scan and bind are therefore imported where a query is prepared.
"""
from __future__ import annotations

from collections import namedtuple

from .errors import BadInputError
from .timeout import DEFAULT_TIMEOUT, check_timeout

TYPE_CHECKING = False  # typing's flag without importing typing: this module is on the cold query path
if TYPE_CHECKING:
    from typing import Sequence

    from .catalogue import SavedQuery
    from .results import Result, Term


class Prepared(namedtuple("Prepared", "query bindings bound ordered")):
    """A saved query that passed the read-only check, with its parameters bound.

    `query` (the SavedQuery), `bindings` (name -> Term), `bound` (the text pyoxigraph runs, the
    bindings in a VALUES block: text, offset, length; None until an oxigraph engine needs it),
    `ordered` (the query orders its own rows).
    """

    __slots__ = ()


def prepare(query: SavedQuery, params: Sequence[str] = ()) -> Prepared:
    """Check `query` read-only (before any parser sees it) and bind `params` (KEY=VALUE texts)."""
    from .params import bind_params
    from .sparql import check_read_only
    from .structure import has_order_by

    check_read_only(query.text, query.path)
    return Prepared(query, bind_params(query, params), None, has_order_by(query.text))


def execute(query: SavedQuery, engine, params: Sequence[str] = (), timeout: float = DEFAULT_TIMEOUT,
            *, started: float | None = None, isolate: bool = False, prepared: Prepared | None = None) -> Result:
    """Check, bind and run one query on an engine; rows in a stable order.

    The read-only check runs on the text before any parser sees it (`prepare`; a `prepared`
    query passed it already); the engine parses and evaluates inside one deadline of
    `timeout` seconds counted from `started` (default: now), so time already spent opening
    the store counts. `isolate` runs the rdflib engine in a child process that is killed at
    the deadline (the command line's choice; a notebook keeps its one process).
    """
    from .timeout import CancelFlag, run_isolated, run_with_timeout

    timeout = check_timeout(timeout)
    prepared = prepared if prepared is not None else prepare(query, params)
    bindings = prepared.bindings
    check_known_iris(engine, bindings)
    what = f"query {query.name}"
    if isolate and engine.name == "rdflib":
        result = run_isolated(lambda: engine.run(query.text, bindings, CancelFlag(), query.path),
                              timeout, what, started)
    else:
        result = run_with_timeout(lambda cancel: engine.run(query.text, bindings, cancel, query.path,
                                                            bound=prepared.bound),
                                  timeout, what, started)
    if not prepared.ordered or result.triples is not None:
        result.sort()
    result.relabel_blank_nodes()
    return result


def check_known_iris(engine, bindings: dict[str, Term]) -> None:
    """A parameter naming an IRI the graph does not know is a typo: exit 2 with the closest known names."""
    for name, term in bindings.items():
        if term.kind != "uri" or engine.knows(term.value):
            continue
        import difflib

        from .namespaces import compact_iri

        cut = max(term.value.rfind("/"), term.value.rfind("#")) + 1
        candidates = sorted(engine.subjects_in(term.value[:cut])) if cut else []
        close = difflib.get_close_matches(term.value, candidates, n=3, cutoff=0.6)
        hint = (f"; closest known: {', '.join(compact_iri(c) for c in close)}" if close
                else "; no similar name in the graph")
        raise BadInputError(f"parameter {name}: {compact_iri(term.value)} is not in the graph{hint}")
