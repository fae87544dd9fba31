"""Quality checks (queries/checks/*.rq): zero rows on the shipped graph, and each can fail.

Every check returns ?entity ?property ?value, runs on Oxigraph and on rdflib with the same answer,
and has a fixture under tests/data/checks/<name>.ttl that makes it return rows about that fixture's
own nodes. The SSSOM mapping table is loaded as triples into <https://w3id.org/carnk/graph/mappings>.
"""
from __future__ import annotations

import re

import pytest
from rdflib import URIRef

import knowledge_helpers as kh

CHECKS = kh.check_files()
ENGINES = sorted(kh.ENGINES)
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


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_every_check_passes_on_the_shipped_graph(check, engine):
    rows = kh.ENGINES[engine](check.read_text(encoding="utf-8"), kh.knowledge_graph(), kh.mappings_graph())
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
        rows = kh.ENGINES[engine](query, kh.ontology_graph() + fixture, kh.mappings_graph())
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


def test_the_mapping_table_loads_as_triples_of_known_prefixes():
    graph = kh.mappings_graph()
    assert len(graph) == len(kh.sssom()[1])
    assert all(isinstance(o, URIRef) and kh.is_external(o) for o in graph.objects())
