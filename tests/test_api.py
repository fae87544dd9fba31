"""The notebook API: `import carnk_graph` is cheap; load, query, validate and export return Python values."""
from __future__ import annotations

import subprocess
import sys
import types

import pytest
from rdflib import Graph, Literal, URIRef

import carnk_graph
from carnk_graph.errors import BadInputError
from carnk_graph.namespaces import GRAPH_NAMES, GRAPHS, KG
from carnk_graph.release import FORMATS, parse_release_bytes
from carnk_graph.shacl import ValidationResult

from spine_helpers import MINIMAL, copy_project, named_graph, same_graph

RDFS_LABEL = URIRef("http://www.w3.org/2000/01/rdf-schema#label")


@pytest.fixture(scope="module")
def where(built, project_root):
    """Keyword arguments that point the API at the session build of the real project."""
    return {"root": project_root, "dist": built.dist}


def test_importing_the_package_loads_neither_rdflib_nor_pyoxigraph():
    code = ("import sys, carnk_graph; heavy = [m for m in ('rdflib', 'pyoxigraph', 'pyshacl', 'owlready2') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_the_package_exports_the_four_calls():
    for name in ("load", "query", "validate", "export"):
        assert callable(getattr(carnk_graph, name)), name
    assert {"load", "query", "validate", "export", "Rows"} <= set(carnk_graph.__all__)


def test_validate_stays_the_api_function_after_the_shacl_module_is_imported():
    import importlib

    stage = importlib.import_module("carnk_graph.shacl")
    assert carnk_graph.validate is carnk_graph.api.validate
    assert stage.ValidationResult is ValidationResult


# -- load --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def loaded(where):
    """The session build loaded once for the module's load tests (each load parses the whole release)."""
    return carnk_graph.load(**where)


def test_load_gives_the_three_named_graphs_of_the_release(loaded, release_graphs):
    ds = loaded
    for name in GRAPH_NAMES:
        assert same_graph(named_graph(ds, name), release_graphs[name]), name


def test_the_loaded_dataset_queries_the_union_by_default(loaded):
    ds = loaded
    found = {str(r[0]) for r in ds.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
    assert found >= {GRAPHS["ontology"], GRAPHS["kg"]}
    rows = list(ds.query("ASK { <https://w3id.org/carnk/NKCell> ?p ?o . ?x a <https://w3id.org/carnk/NKCell> }"))
    assert rows == [True]


@pytest.mark.slow  # builds with the default reasoner (the HermiT JVM) in a fresh folder
def test_load_builds_first_when_nothing_is_built(tmp_path):
    project = copy_project(MINIMAL, tmp_path / "p")
    ds = carnk_graph.load(root=project, dist=project / "dist")
    assert (project / "dist" / "build.json").is_file()
    assert len(ds.graph(URIRef(GRAPHS["kg"]))) > 0


# -- query -------------------------------------------------------------------------------------------

def test_query_returns_rows_as_dicts_keyed_by_the_declared_variables(where):
    rows = carnk_graph.query("construct-domains-in-order", construct="carnkkg:liu2020-car", **where)
    assert isinstance(rows, list) and rows
    assert rows.variables == ["position", "domain", "domainKind", "derivedFrom"]
    assert all(set(r) == set(rows.variables) for r in rows)


def test_query_gives_python_values_for_typed_literals(where):
    rows = carnk_graph.query("construct-domains-in-order", construct=URIRef(KG + "liu2020-car"), **where)
    positions = rows.column("position")
    assert positions == sorted(positions) and all(type(p) is int for p in positions)
    assert all(isinstance(d, str) and d.startswith("https://") for d in rows.column("domain"))


def test_query_with_an_undeclared_parameter_is_bad_input(where):
    with pytest.raises(BadInputError, match="unknown parameter"):
        carnk_graph.query("construct-domains-in-order", colour="blue", **where)


def test_query_of_an_unknown_name_is_bad_input(where):
    with pytest.raises(BadInputError):
        carnk_graph.query("no-such-question", **where)


def test_to_dataframe_keeps_the_column_order(monkeypatch):
    captured = {}

    class FakeFrame:
        def __init__(self, data, columns):
            captured.update(data=data, columns=columns)

    monkeypatch.setitem(sys.modules, "pandas", types.SimpleNamespace(DataFrame=FakeFrame))
    rows = carnk_graph.Rows([{"b": 2, "a": 1}], ["b", "a"])
    rows.to_dataframe()
    assert captured == {"data": [{"b": 2, "a": 1}], "columns": ["b", "a"]}


def test_to_dataframe_without_pandas_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    with pytest.raises(ImportError, match="pip install pandas"):
        carnk_graph.Rows([], ["a"]).to_dataframe()


def test_to_dataframe_with_real_pandas(where):
    pd = pytest.importorskip("pandas")
    frame = carnk_graph.query("construct-domains-in-order", **where).to_dataframe()
    assert isinstance(frame, pd.DataFrame) and list(frame.columns)[0] == "position"


# -- validate ----------------------------------------------------------------------------------------

def test_validate_without_a_graph_checks_the_built_graph(tmp_path):
    """On a built copy of the minimal project: the shipped graph's conformance needs no second
    whole-graph validation here (2 s), since its build refuses a graph that does not conform."""
    from carnk_graph.build import build

    project = copy_project(MINIMAL, tmp_path / "p")
    build(project, project / "dist", no_reason=True)
    result = carnk_graph.validate(root=project, dist=project / "dist")
    assert isinstance(result, ValidationResult) and result.conforms


def test_validate_reports_which_shape_a_bad_graph_breaks(tmp_path):
    project = copy_project(MINIMAL, tmp_path / "p")
    bad = Graph()
    bad.add((URIRef(KG + "unlabelled"), URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
             URIRef("https://w3id.org/carnk/NKCell")))
    result = carnk_graph.validate(bad, root=project)
    assert not result.conforms
    assert [f.shape for f in result.violations] == ["carnksh:CellShape-label"]


def test_validate_accepts_a_file_path(tmp_path):
    project = copy_project(MINIMAL, tmp_path / "p")
    good = tmp_path / "good.ttl"
    good.write_text('<https://w3id.org/carnk/kg/x> a <https://w3id.org/carnk/NKCell> ;\n'
                    '    <http://www.w3.org/2000/01/rdf-schema#label> "x" .\n', encoding="utf-8")
    assert carnk_graph.validate(good, root=project).conforms


def test_validate_rejects_what_is_not_a_graph(tmp_path):
    with pytest.raises(BadInputError):
        carnk_graph.validate(42, root=copy_project(MINIMAL, tmp_path / "p"))


# -- export ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_of_all_graphs_is_the_release_file(where, built, fmt):
    assert carnk_graph.export(fmt, **where) == (built.dist / FORMATS[fmt]).read_bytes()


def test_export_of_one_graph_holds_only_that_graph(where, release_graphs):
    data = carnk_graph.export("nq", ["kg"], **where)
    ds = parse_release_bytes(data, "nq")
    names = {str(g.identifier) for g in ds.graphs() if len(g)}
    assert names == {GRAPHS["kg"]}
    kg = Graph()
    for t in ds.graph(URIRef(GRAPHS["kg"])):
        kg.add(t)
    assert same_graph(kg, release_graphs["kg"])


@pytest.mark.parametrize("args", [("xml",), ("ttl", ["kg", "shapes"]), ("ttl", [])])
def test_export_with_an_unknown_format_or_graph_is_bad_input(where, args):
    with pytest.raises(BadInputError):
        carnk_graph.export(*args, **where)


def test_rows_are_plain_lists_for_code_that_expects_one():
    rows = carnk_graph.Rows([{"a": Literal(1).toPython()}], ["a"])
    assert rows == [{"a": 1}] and rows.column("a") == [1]
    with pytest.raises(KeyError):
        rows.column("b")


def test_a_construct_query_returns_an_rdflib_graph(where, tmp_path):
    from rdflib import Graph, URIRef

    path = tmp_path / "labels.rq"
    path.write_text("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
                    "CONSTRUCT { ?c rdfs:label ?l } WHERE { ?c a <https://w3id.org/carnk/NKCell> ; rdfs:label ?l }",
                    encoding="utf-8")
    g = carnk_graph.query(str(path), **where)
    assert isinstance(g, Graph) and len(g) > 0
    assert set(g.predicates()) == {URIRef("http://www.w3.org/2000/01/rdf-schema#label")}


def test_the_query_text_for_another_store_is_part_of_the_api(where):
    from carnk_graph import api

    text = api.query_text("construct-domains-in-order", ["construct=carnkkg:liu2020-car"], root=where["root"])
    assert "VALUES (?construct) { (<https://w3id.org/carnk/kg/liu2020-car>) }" in text
    assert "default-graph-uri" in text


def test_the_command_line_and_the_api_give_the_same_rows(where, capsys):
    """One front door: `carnk-graph query` prints what api.answer() returns."""
    from carnk_graph import api
    from carnk_graph.cli import main
    from carnk_graph.formats import format_csv

    assert main(["query", "study-outcomes-by-source", "--format", "csv", "--root", str(where["root"]),
                 "--dist", str(where["dist"])]) == 0
    printed = capsys.readouterr().out
    assert printed == format_csv(api.answer("study-outcomes-by-source", **where).result)
