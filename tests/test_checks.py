"""Quality checks (queries/checks/*.rq): zero rows on the shipped graph, and each can fail.

Every check returns ?entity ?property ?value, runs on Oxigraph and on rdflib with the same answer,
and has a fixture under tests/data/checks/<name>.ttl that makes it return rows about that fixture's
own nodes. The product (carnk_graph.checks) turns the SSSOM mapping table into the named graph
<https://w3id.org/carnk/graph/mappings> that the build stores, and the build refuses a release on
which any check returns rows (issue 12.15).
"""
from __future__ import annotations

import re
import shutil

import pytest
from rdflib import Graph, URIRef

import knowledge_helpers as kh
from carnk_graph import checks as product_checks
from carnk_graph import queries as Q
from carnk_graph.catalogue import load_query
from carnk_graph.engines import open_engine
from carnk_graph.cli import main

from lanes import few_fast
from spine_helpers import MINIMAL, copy_project

CHECKS = kh.check_files()


def mappings() -> Graph:
    """The mappings graph exactly as the build stores it."""
    from rdflib import Dataset

    ds = product_checks.add_mappings_graph(Dataset(), kh.MAPPINGS_FILE)
    return ds.graph(URIRef(product_checks.MAPPINGS_GRAPH))
ENGINES = sorted(kh.ENGINES)
#: On the whole graph rdflib takes seconds per check: the fast lane runs those on Oxigraph only (the
#: two engines are compared on every check's fixture in both lanes).
WHOLE_GRAPH_ENGINES = few_fast(ENGINES, lambda engine: engine == "oxigraph")
HEADER = re.compile(r"^#\s*(title|description|returns)\s*:\s*(.+)$", re.MULTILINE)


def header(path) -> dict[str, str]:
    return {k: v.strip() for k, v in HEADER.findall(path.read_text(encoding="utf-8"))}


def as_text(rows) -> set[tuple[str, ...]]:
    """Rows of either engine as comparable strings (IRIs and literal lexical forms)."""
    out = set()
    for row in rows:
        out.add(tuple(getattr(x, "value", None) or str(x) for x in row))
    return out


def test_there_are_checks():
    assert len(CHECKS) >= 6


@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_every_check_has_a_title_a_description_and_returns_entity_property_value(check):
    h = header(check)
    assert h.get("title") and h.get("description")
    assert h.get("returns") == "?entity ?property ?value"
    assert re.search(r"SELECT\s+(DISTINCT\s+)?\?entity\s+\?property\s+\?value\s", check.read_text(encoding="utf-8"))


@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_every_check_is_a_read_only_query_of_the_local_graph(check):
    words = set(re.sub(r"#.*", "", check.read_text(encoding="utf-8")).upper().split())
    assert not words & {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "SERVICE", "FROM"}


@pytest.mark.parametrize("engine", WHOLE_GRAPH_ENGINES)
@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_every_check_passes_on_the_shipped_graph(check, engine):
    rows = kh.ENGINES[engine](check.read_text(encoding="utf-8"), kh.knowledge_graph(), mappings())
    assert rows == [], f"{check.stem} found {len(rows)} problems, e.g. {rows[:3]}"


@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_every_check_has_a_failing_fixture(check):
    assert (kh.DATA / "checks" / f"{check.stem}.ttl").is_file()


@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_every_check_fails_on_its_fixture_about_the_fixture_only(check):
    fixture = kh.parse(kh.DATA / "checks" / f"{check.stem}.ttl")
    query = check.read_text(encoding="utf-8")
    answers = {}
    for engine in ENGINES:
        rows = kh.ENGINES[engine](query, kh.ontology_graph() + fixture, mappings())
        assert rows, f"{check.stem} found nothing on its fixture ({engine})"
        answers[engine] = as_text(rows)
    assert answers["oxigraph"] == answers["rdflib"]
    fixture_subjects = {str(s) for s in fixture.subjects()}
    assert {row[0] for row in answers["rdflib"]} <= fixture_subjects


def test_the_namespace_check_allows_exactly_the_project_namespaces():
    from carnk_graph.namespaces import ALLOWED_NAMESPACES

    text = (kh.CHECKS_DIR / "iris-outside-allowed-namespaces.rq").read_text(encoding="utf-8")
    pattern = re.search(r'REGEX\(STR\(\?iri\), "\^\((.*?)\)"\)', text).group(1)
    listed = {alternative.replace("[.]", ".") for alternative in pattern.split("|")}
    assert listed == set(ALLOWED_NAMESPACES)


def test_the_mapping_check_covers_every_external_namespace():
    text = (kh.CHECKS_DIR / "external-iris-not-in-mappings.rq").read_text(encoding="utf-8")
    listed = {a.replace("[.]", ".") for a in re.search(r'"\^\((.*?)\)"', text).group(1).split("|")}
    assert listed == set(kh.EXTERNAL_NAMESPACES)


def test_the_mappings_graph_lists_every_external_identifier_of_the_table_once():
    graph = mappings()
    objects = {URIRef(kh.expand(row["object_id"])) for row in kh.sssom()[1]}
    assert set(graph.objects()) == objects and len(graph) == len(objects)
    assert all(isinstance(o, URIRef) and kh.is_external(o) for o in graph.objects())


# --- the checks through the product (issue 12.15) ----------------------------------------------------

@pytest.mark.parametrize("engine", WHOLE_GRAPH_ENGINES)
@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_every_check_gives_no_rows_through_carnk_graph_query(check, engine, built):
    """What the tests see is what a user sees: the build stores the mappings graph the checks need."""
    result = Q.execute(load_query(check), open_engine(engine, built.dist))
    assert result.rows == [], f"{check.stem} ({engine}): {result.rows[:3]}"


def test_the_build_ran_every_check_on_the_release(built):
    from carnk_graph.store import open_store

    results = product_checks.run_checks(open_store(built.dist), kh.REPO / "queries")
    assert [r.name for r in results] == [c.stem for c in CHECKS]
    assert all(r.passed for r in results)


@pytest.fixture
def checked_project(tmp_path):
    """The minimal project with one real check (IRIs outside the allowed namespaces)."""
    root = copy_project(MINIMAL, tmp_path / "project")
    (root / "queries" / "checks").mkdir(parents=True)
    shutil.copy(kh.CHECKS_DIR / "iris-outside-allowed-namespaces.rq", root / "queries" / "checks")
    return root


def test_a_release_on_which_a_check_finds_rows_is_refused_naming_the_check_and_its_rows(checked_project, capsys):
    args = ["build", "--root", str(checked_project), "--dist", str(checked_project / "dist"), "--no-reason"]
    assert main(args) == 0
    before = (checked_project / "dist" / "carnk.nq").read_bytes()
    (checked_project / "ontology" / "kg" / "elsewhere.ttl").write_text(
        "@prefix carnk: <https://w3id.org/carnk/> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        '<https://w3id.org/carnk/kg/wanderer> a carnk:NKCell ; rdfs:label "wanderer"@en ;\n'
        "    rdfs:seeAlso <http://example.org/not-allowed> .\n", encoding="utf-8")
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "iris-outside-allowed-namespaces" in err
    assert "https://w3id.org/carnk/kg/wanderer" in err and "http://example.org/not-allowed" in err
    assert (checked_project / "dist" / "carnk.nq").read_bytes() == before, "the previous release is kept"


def test_a_mapping_table_with_an_undeclared_prefix_names_file_and_line(tmp_path):
    table = tmp_path / "m.sssom.tsv"
    table.write_text('#curie_map:\n#  CL: "http://purl.obolibrary.org/obo/CL_"\n'
                     "subject_id\tpredicate_id\tobject_id\tmapping_justification\n"
                     "carnk:NKCell\trdfs:subClassOf\tXX:1\tsemapv:ManualMappingCuration\n", encoding="utf-8")
    with pytest.raises(product_checks.BadInputError) as e:
        product_checks.mapped_identifiers(table)
    assert str(e.value).startswith(f"{table}:4: ")
