"""A saved query as text to run on another store (`carnk-graph query NAME --print`).

Decision (issue 14.5): the text stays FROM-free and the dataset travels as the
SPARQL 1.1 Protocol's `default-graph-uri` parameters, written as comment lines
at the top of the text. Why not rewrite the patterns into GRAPH blocks: our
queries read the union of three graphs, and a property path or a join may cross
graphs (a class in the ontology, its instances in the knowledge graph), which
per-graph GRAPH patterns cannot express without changing answers or
duplicating rows. Why not FROM: `query` refuses FROM, and a printed text should
be one the tool itself would run. The protocol parameters are portable
(Oxigraph, Virtuoso, Fuseki, GraphDB take them) and give exactly the union.

Parameters are bound the way the runner binds them: a VALUES block opening the
WHERE group, with terms in N-Triples form. Every prefix the query uses but does
not declare is declared, so the text runs where our prefixes are unknown.
"""
from __future__ import annotations

from typing import Iterable, Mapping
from urllib.parse import quote

from .catalogue import SavedQuery
from .namespaces import GRAPH_NAMES, GRAPHS, PREFIXES
from .results import Term
from .sparql import tokens
from .structure import declared_prefixes, with_values


def used_prefixes(text: str) -> set[str]:
    """Prefixes of the prefixed names a query uses."""
    return {t.text.split(":", 1)[0] for t in tokens(text) if t.kind == "pname"}


def portable_text(query: SavedQuery, bindings: Mapping[str, Term], graphs: Iterable[str] | None = None) -> str:
    """The query with its parameters bound, undeclared project prefixes declared, and the dataset
    (the named graphs a `carnk-graph load` writes) as default-graph-uri lines in a leading comment."""
    graph_iris = list(graphs) if graphs is not None else [GRAPHS[g] for g in GRAPH_NAMES]
    text, _, _ = with_values(query.text, {k: v.n3() for k, v in bindings.items()})
    missing = sorted(p for p in used_prefixes(text) - set(declared_prefixes(text)) if p in PREFIXES)
    prologue = "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in missing)
    protocol = "&".join("default-graph-uri=" + quote(g, safe="") for g in graph_iris)
    note = ("# carnk-graph query " + query.name + ": runnable on any SPARQL 1.1 store after `carnk-graph load`.\n"
            "# Its default graph must be the union of these graphs (SPARQL 1.1 Protocol), FROM-free:\n"
            + "".join(f"#   default-graph-uri = {g}\n" for g in graph_iris)
            + f"# e.g. GET <endpoint>?query=...&{protocol}\n"
            "# (Oxigraph: or start `oxigraph serve --union-default-graph`.)\n")
    return note + prologue + text.rstrip("\n") + "\n"
