"""The release in other tools' readers (issue 14.1, 14.9): Virtuoso's own Turtle/TriG loader and the
OWL API 3.4 inside HermiT's jar, with its OWL 2 DL profile check.

Both start a server or a JVM, so the tests are marked slow; they skip, saying why, where Virtuoso
or a Java compiler is missing (.ci/run installs both). rdflib and a JSON-LD 1.0 processor (pyld)
read the release in tests/test_release.py.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from carnk_graph import __version__
from carnk_graph.layout import ARTEFACTS, FORMATS, Release
from carnk_graph.namespaces import GRAPHS, ONTOLOGY_IRI, version_iri

from stores import isql, sparql_select, start_virtuoso

pytestmark = pytest.mark.slow

OWL2DL = Path(__file__).resolve().parent / "data" / "owl2dl" / "DLProfileCheck.java"


def triples_in(path: Path, fmt) -> int:
    import pyoxigraph as ox

    return sum(1 for _ in ox.parse(path=str(path), format=fmt))


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    folder = tmp_path_factory.mktemp("virtuoso-loader")
    store = start_virtuoso(folder)
    port = int(re.search(r"^ServerPort\s*=\s*127\.0\.0\.1:(\d+)", (folder / "virtuoso.ini").read_text(), re.M)[1])
    yield store, port
    store.stop()


def test_virtuoso_loads_the_turtle_with_every_iri_as_written(built, virtuoso):
    """Virtuoso's TTLP keeps the backslash of an escaped local name (carnk:ontology\\/0.1.0);
    the release writes full IRIs, so the versionIRI and every IRI arrive as they are."""
    import pyoxigraph as ox

    store, port = virtuoso
    src = Release(built.dist).file("ttl")
    shutil.copyfile(src, store.folder / "carnk.ttl")  # DirsAllowed: the store's folder
    graph = "urn:carnk:test:ttl-loader"
    isql(port, f"DB.DBA.TTLP(file_to_string_output('{store.folder / 'carnk.ttl'}'), '', '{graph}', 0);")
    n = int(sparql_select(store.query, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")[0]["n"]["value"])
    assert n == triples_in(src, ox.RdfFormat.TURTLE)
    backslashed = sparql_select(store.query, f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} "
                                "FILTER(CONTAINS(STR(?s), '\\\\') || CONTAINS(STR(?p), '\\\\') "
                                "|| (isIRI(?o) && CONTAINS(STR(?o), '\\\\'))) }")
    assert backslashed == []
    version = sparql_select(store.query, f"SELECT ?v WHERE {{ GRAPH <{graph}> {{ <{ONTOLOGY_IRI}> "
                                         "<http://www.w3.org/2002/07/owl#versionIRI> ?v } }")
    assert [r["v"]["value"] for r in version] == [version_iri(__version__)]


def test_virtuoso_loads_the_trig_into_the_three_named_graphs(built, virtuoso):
    import pyoxigraph as ox

    store, port = virtuoso
    src = Release(built.dist).file("trig")
    shutil.copyfile(src, store.folder / "carnk.trig")
    isql(port, f"DB.DBA.TTLP(file_to_string_output('{store.folder / 'carnk.trig'}'), '', 'urn:carnk:unused', 256);")
    counts = {r["g"]["value"]: int(r["n"]["value"]) for r in sparql_select(
        store.query, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
    expected: dict[str, int] = {}
    for q in ox.parse(path=str(src), format=ox.RdfFormat.TRIG):
        expected[q.graph_name.value] = expected.get(q.graph_name.value, 0) + 1
    assert set(expected) <= set(GRAPHS.values())
    assert {g: counts.get(g) for g in expected} == expected


@pytest.fixture(scope="module")
def profile_checker(tmp_path_factory):
    """DLProfileCheck compiled against the OWL API 3.4 in owlready2's HermiT.jar."""
    import owlready2

    from carnk_graph.hermit import find_java

    javac = shutil.which("javac")
    if javac is None or find_java() is None:
        pytest.skip("the OWL 2 DL profile check needs a Java compiler and runtime (.ci/run installs them)")
    jar = Path(owlready2.__file__).parent / "hermit" / "HermiT.jar"
    work = tmp_path_factory.mktemp("owl2dl")
    shutil.copy(OWL2DL, work)
    subprocess.run([javac, "-cp", str(jar), OWL2DL.name], cwd=work, check=True, capture_output=True)
    return [find_java(), "-cp", f"{jar}{os.pathsep}{work}", "DLProfileCheck"]


@pytest.mark.parametrize("name", [FORMATS["owl"], FORMATS["ttl"], *(f for f, _ in ARTEFACTS.values())])
def test_the_owl_api_reads_the_release_and_finds_it_in_the_owl2_dl_profile(built, profile_checker, name):
    """The OWL API 3.4 rejected the Turtle with escaped local names; an undeclared carnk: term
    (a typo) would show here as a profile violation, which the build now refuses first."""
    out = subprocess.run([*profile_checker, str(built.dist / name)], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "in profile", (out.stdout + out.stderr)[-3000:]
