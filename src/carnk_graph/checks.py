"""Quality checks on a release: every `queries/checks/*.rq` must return zero rows.

A check is a read-only SELECT returning `?entity ?property ?value`, one row per problem. The
build runs all of them on the new release's store before that release becomes current, and
refuses the release (exit 1, naming each failing check and its first rows) if any returns rows.

Some checks compare the graph with the SSSOM mapping table (ontology/mappings.sssom.tsv). The
table is not RDF, so the build turns it into a small named graph of its own,
<https://w3id.org/carnk/graph/mappings>, stored beside the release's three graphs: the mapping
set lists each external identifier with `<https://w3id.org/carnk/mappings> rdfs:seeAlso <IRI>`.
That form adds no triple the other graphs already hold, so a saved query over the union of the
graphs counts nothing twice; and because the store carries it, `carnk-graph query
checks/<name>` answers exactly as the build's run does.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .errors import BadInputError, NotConformingError
from .namespaces import BASE, GRAPH_BASE, PREFIXES, RDFS

#: The named graph holding the mapping table's identifiers, and the mapping set's own IRI.
MAPPINGS_GRAPH = GRAPH_BASE + "mappings"
MAPPING_SET = BASE + "mappings"
_SEE_ALSO = RDFS + "seeAlso"

#: How many rows of a failing check the error message shows.
SHOWN_ROWS = 5

_CURIE_MAP_LINE = re.compile(r'^#\s+([A-Za-z_][\w.-]*):\s*"?([^"\s]+)"?\s*$')


@dataclass(frozen=True)
class CheckResult:
    """One check's name and its rows (each row entity, property, value as text)."""

    name: str
    rows: tuple[tuple[str, str, str], ...]

    @property
    def passed(self) -> bool:
        return not self.rows


def mapped_identifiers(path: Path) -> list[str]:
    """The full IRIs of every object_id of an SSSOM table, expanded with its own curie_map.

    Raises BadInputError naming the file and line for a CURIE whose prefix the table does not declare.
    """
    curie_map: dict[str, str] = {}
    header: list[str] | None = None
    found: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("#"):
            m = _CURIE_MAP_LINE.match(line)
            if m:
                curie_map[m.group(1)] = m.group(2)
            continue
        if not line.strip():
            continue
        cells = line.split("\t")
        if header is None:
            header = cells
            if "object_id" not in header:
                raise BadInputError("the mapping table has no object_id column", path=path, line=number)
            continue
        curie = cells[header.index("object_id")].strip() if len(cells) > header.index("object_id") else ""
        prefix, sep, local = curie.partition(":")
        if not sep or prefix not in curie_map:
            raise BadInputError(f"object_id {curie!r} uses a prefix the curie_map does not declare",
                                path=path, line=number)
        found.add(curie_map[prefix] + local)
    return sorted(found)


def mapping_quads(path: Path) -> list:
    """The mappings graph as pyoxigraph quads (empty when the project has no mapping table)."""
    import pyoxigraph as ox

    if not path.is_file():
        return []
    graph, subject, see_also = ox.NamedNode(MAPPINGS_GRAPH), ox.NamedNode(MAPPING_SET), ox.NamedNode(_SEE_ALSO)
    return [ox.Quad(subject, see_also, ox.NamedNode(iri), graph) for iri in mapped_identifiers(path)]


def add_mappings_graph(dataset, path: Path):
    """Add the mappings graph to an rdflib Dataset (the rdflib engine's view of a release)."""
    from rdflib import URIRef

    if path.is_file():
        graph, subject, see_also = dataset.graph(URIRef(MAPPINGS_GRAPH)), URIRef(MAPPING_SET), URIRef(_SEE_ALSO)
        for iri in mapped_identifiers(path):
            graph.add((subject, see_also, URIRef(iri)))
    return dataset


def check_files(queries_dir: Path) -> list[Path]:
    """Every check of a project, in name order."""
    folder = queries_dir / "checks"
    return sorted(folder.glob("*.rq")) if folder.is_dir() else []


def _text(term) -> str:
    return getattr(term, "value", None) or str(term)


def run_checks(store, queries_dir: Path) -> list[CheckResult]:
    """Run every check on a pyoxigraph store whose default graph is the union of its graphs."""
    from .catalogue import read_query_text
    from .sparql import check_read_only

    results = []
    for path in check_files(queries_dir):
        text = read_query_text(path)
        check_read_only(text, path)  # the one read-only rule: pyoxigraph would call a SERVICE from Rust
        try:
            answer = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
        except (SyntaxError, ValueError) as e:
            raise BadInputError(f"cannot run quality check: {e}", path=path) from None
        rows = tuple(tuple(_text(sol[v]) if sol[v] is not None else "" for v in ("entity", "property", "value"))
                     for sol in answer)
        results.append(CheckResult(path.stem, rows))
    return results


def failure_message(results: Iterable[CheckResult]) -> str:
    """One line per failing check: its name, how many rows, and the first rows."""
    parts = []
    for r in results:
        if r.passed:
            continue
        shown = "; ".join(" ".join(row) for row in r.rows[:SHOWN_ROWS])
        more = f"; … {len(r.rows) - SHOWN_ROWS} more" if len(r.rows) > SHOWN_ROWS else ""
        parts.append(f"check {r.name} found {len(r.rows)} problem(s): {shown}{more}")
    return " | ".join(parts)


def require_clean(store, queries_dir: Path) -> list[CheckResult]:
    """Run the checks; raise NotConformingError (exit 1) naming every failing check and its rows."""
    results = run_checks(store, queries_dir)
    message = failure_message(results)
    if message:
        raise NotConformingError("quality checks failed, previous release kept: " + message)
    return results
