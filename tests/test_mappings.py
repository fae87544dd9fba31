"""The SSSOM mapping table (ontology/mappings.sssom.tsv) and the graph's cross-references agree both ways,
and the release carries the table unchanged."""
from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef

from carnk_graph.namespaces import CARNK, PREFIXES
from carnk_graph.project import find_project
from carnk_graph.sources import load_sources

from knowledge_helpers import read_sssom

#: Predicates of a cross-reference to an identifier kept outside this project.
MAPPING_PREDICATES = {
    "skos:exactMatch", "skos:closeMatch", "skos:broadMatch", "skos:narrowMatch", "skos:relatedMatch",
    "oboInOwl:hasDbXref", "rdfs:subClassOf",
}
REQUIRED_COLUMNS = ("subject_id", "predicate_id", "object_id", "mapping_justification")


@pytest.fixture(scope="module")
def paths(project_root):
    return find_project(project_root)


@pytest.fixture(scope="module")
def table(paths):
    assert paths.mappings.is_file(), "ontology/mappings.sssom.tsv is missing"
    return read_sssom(paths.mappings)


@pytest.fixture(scope="module")
def graph(paths) -> Graph:
    """The asserted graph the table describes: ontology plus knowledge graph (not the inferences)."""
    src = load_sources(paths)
    return src.ontology + src.kg


def expand(curie: str, curie_map: dict[str, str]) -> str:
    prefix, sep, local = curie.partition(":")
    prefixes = {**PREFIXES, **curie_map}
    assert sep and prefix in prefixes, f"{curie!r}: prefix not in the curie_map"
    return prefixes[prefix] + local


def is_external(term) -> bool:
    return isinstance(term, URIRef) and not str(term).startswith(CARNK)


def graph_cross_references(g: Graph) -> set[tuple[str, str, str]]:
    """(subject IRI, predicate IRI, object IRI or xref text) for every cross-reference out of the project:
    mapping predicates from a carnk: subject to an external IRI (or an oboInOwl:hasDbXref text)."""
    out = set()
    for curie in MAPPING_PREDICATES:
        p = URIRef(expand(curie, {}))
        for s, o in g.subject_objects(p):
            if not (isinstance(s, URIRef) and str(s).startswith(CARNK)):
                continue
            if is_external(o) or (curie == "oboInOwl:hasDbXref" and isinstance(o, Literal)):
                out.add((str(s), str(p), str(o)))
    return out


def test_the_table_has_the_required_columns_and_rows(table):
    _, rows = table
    assert rows
    for column in REQUIRED_COLUMNS:
        assert all(r.get(column) for r in rows), f"a row lacks {column}"


def test_the_curie_map_agrees_with_the_project_prefixes(table):
    curie_map, _ = table
    for prefix, iri in curie_map.items():
        if prefix in PREFIXES:
            assert iri == PREFIXES[prefix], prefix


def test_every_row_uses_a_known_mapping_predicate(table):
    _, rows = table
    assert sorted({r["predicate_id"] for r in rows} - MAPPING_PREDICATES) == []


def test_no_row_is_listed_twice(table):
    _, rows = table
    keys = [(r["subject_id"], r["predicate_id"], r["object_id"]) for r in rows]
    assert sorted({k for k in keys if keys.count(k) > 1}) == []


def test_every_row_is_a_cross_reference_in_the_graph(table, graph):
    curie_map, rows = table
    found = graph_cross_references(graph)
    missing = []
    for r in rows:
        s, p = expand(r["subject_id"], curie_map), expand(r["predicate_id"], curie_map)
        o = expand(r["object_id"], curie_map)
        if (s, p, o) not in found and (s, p, r["object_id"]) not in found:
            missing.append(f'{r["subject_id"]} {r["predicate_id"]} {r["object_id"]}')
    assert missing == [], "rows with no matching triple in ontology/carnk.ttl or ontology/kg/"


def test_every_cross_reference_in_the_graph_has_a_row(table, graph):
    curie_map, rows = table
    listed = set()
    for r in rows:
        s, p = expand(r["subject_id"], curie_map), expand(r["predicate_id"], curie_map)
        listed.add((s, p, expand(r["object_id"], curie_map)))
        listed.add((s, p, r["object_id"]))
    unlisted = sorted(t for t in graph_cross_references(graph) if t not in listed)
    assert unlisted == [], "cross-references missing from ontology/mappings.sssom.tsv"


def test_a_subject_label_in_the_table_is_the_graphs_label(table, graph):
    from rdflib import RDFS

    curie_map, rows = table
    for r in rows:
        if r.get("subject_label"):
            labels = {str(o) for o in graph.objects(URIRef(expand(r["subject_id"], curie_map)), RDFS.label)}
            assert r["subject_label"] in labels, (r["subject_id"], r["subject_label"], labels)


def test_the_release_carries_the_table_unchanged(built, paths):
    assert (built.dist / "mappings.sssom.tsv").read_bytes() == paths.mappings.read_bytes()


# -- the table is valid SSSOM, read by sssom-py (the reference implementation) without loss ----------

#: The columns of the table: every one a slot of the SSSOM schema (the evidence of a row is its comment).
COLUMNS = ["subject_id", "subject_label", "predicate_id", "object_id", "object_label",
           "mapping_justification", "comment"]


def test_the_header_has_the_set_metadata_sssom_requires(paths):
    import re

    from carnk_graph import __version__

    header = {m.group(1): m.group(2).strip().strip('"') for m in
              re.finditer(r"(?m)^#(\w+):[ \t]*(.*)$", paths.mappings.read_text(encoding="utf-8"))}
    assert header["mapping_set_id"].startswith("https://w3id.org/carnk/")
    assert header["license"].startswith("https://creativecommons.org/licenses/")
    assert header["mapping_set_version"] == __version__, "the mapping set is versioned with the release"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", header["mapping_date"])


def test_every_id_is_a_curie_of_the_curie_map(table):
    curie_map, rows = table
    for r in rows:
        for column in ("subject_id", "predicate_id", "object_id", "mapping_justification"):
            prefix, sep, local = r[column].partition(":")
            assert sep and prefix in curie_map and local, f"{column} {r[column]!r} is not a CURIE of the curie_map"
            assert "_" not in prefix and not local.startswith("/"), r[column]


def test_the_columns_are_sssom_slots(table):
    _, rows = table
    assert list(rows[0]) == COLUMNS


@pytest.fixture(scope="module")
def sssom_py():
    return pytest.importorskip("sssom", reason="sssom-py is in the test extra: pip install -e '.[test]'")


def test_sssom_py_validates_the_table_without_a_warning(sssom_py, paths, caplog):
    import logging

    from sssom.constants import SchemaValidationType
    from sssom.parsers import parse_sssom_table
    from sssom.validators import validate

    with caplog.at_level(logging.WARNING):
        msdf = parse_sssom_table(paths.mappings)
        validate(msdf, [SchemaValidationType.JsonSchema, SchemaValidationType.PrefixMapCompleteness,
                        SchemaValidationType.StrictCurieFormat], fail_on_error=True)
    # sssom-py logs an unknown column ("No attr for source") and drops it instead of failing
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_sssom_py_reads_and_writes_every_row_and_its_evidence(sssom_py, paths, table, tmp_path):
    from sssom.parsers import parse_sssom_table
    from sssom.writers import write_table

    curie_map, rows = table
    written = tmp_path / "roundtrip.sssom.tsv"
    with open(written, "w", encoding="utf-8") as out:
        write_table(parse_sssom_table(paths.mappings), out)
    again_map, again = read_sssom(written)
    key = lambda r: (r["subject_id"], r["predicate_id"], r["object_id"])  # noqa: E731
    assert sorted((key(r), {c: r[c] for c in COLUMNS}) for r in again) == \
        sorted((key(r), {c: r[c] for c in COLUMNS}) for r in rows)
    assert {p: again_map[p] for p in curie_map} == curie_map
